"""Fault injection into outputs: text that a spreadsheet would run as a formula, papers
that share an id, values of the wrong type and outputs reached through symbolic links.
The number of generated cases is printed at the end of the run."""

from __future__ import annotations

import csv
import json

from conftest import count_cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxonomy.io.cells import FORMULA_STARTS
from taxonomy.io.writers import read_table, write_frame

# Text cells that start like a formula (after any quotes), and ordinary ones. A carriage
# return inside a cell is left out: readers collapse white space in titles and abstracts, and
# Python 3.11's csv writer leaves such a cell unquoted.
FORMULA_TEXT = st.builds(
    lambda quotes, start, rest: "'" * quotes + start + rest,
    st.integers(0, 2), st.sampled_from([*(s for s in FORMULA_STARTS if s != "\r"), "", "a"]),
    st.text(alphabet='=+-@\t"\',ab1 ()', max_size=12).map(lambda t: t + "x"))


def _csv_cells(path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [cell for row in list(csv.reader(handle))[1:] for cell in row]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(titles=st.lists(FORMULA_TEXT, min_size=1, max_size=6))
def test_csv_tables_hold_no_formula_and_read_back_as_written(titles, tmp_path):
    count_cases("formula cells in tables")
    import pandas as pd

    frame = pd.DataFrame({"id": [f"p{i}" for i in range(len(titles))], "title": titles,
                          "score": [0.5] * len(titles)})
    out = tmp_path / "t.csv"
    write_frame(out, frame)
    assert not any(cell.startswith(FORMULA_STARTS) for cell in _csv_cells(out))
    back = pd.concat(read_table(out))
    assert back["title"].tolist() == titles
    jsonl = tmp_path / "t.jsonl"
    write_frame(jsonl, frame)
    assert [json.loads(line)["title"] for line in jsonl.open(encoding="utf-8")] == titles


def test_tag_table_and_review_queue_guard_formula_titles(cli, tmp_path):
    dump = tmp_path / "dump.jsonl"
    titles = ['=HYPERLINK("http://x","y")', "@SUM(A1)"]
    dump.write_text("".join(json.dumps({"title": t, "abstract": "We offload optimizer states "
                                        "to CPU memory to train larger models."}) + "\n"
                            for t in titles), encoding="utf-8")
    assert cli("tag", dump, "-o", tmp_path / "tags.csv", "-q").returncode == 0
    assert cli("review", dump, "-o", tmp_path / "queue.csv", "-q").returncode == 0
    for name in ("tags.csv", "queue.csv"):
        cells = _csv_cells(tmp_path / name)
        assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)
        assert "'" + titles[0] in cells
    import pandas as pd

    assert sorted(pd.concat(read_table(tmp_path / "tags.csv"))["title"]) == sorted(titles)
