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


# -- outputs reached through symbolic links ---------------------------------------------------

LINKS = st.fixed_dictionaries({
    "hops": st.integers(1, 3),  # a link to a link to ... the target
    "relative": st.booleans(),  # the link holds a relative or an absolute name
    "target_exists": st.booleans(),  # a dangling link is written through too
    "target_elsewhere": st.booleans(),  # the target in another folder than the link
    "fmt": st.sampled_from([".csv", ".jsonl", ".parquet"]),
})


def _link_chain(base, case) -> tuple:
    import os

    folder = base / ("other" if case["target_elsewhere"] else "here")
    folder.mkdir(parents=True, exist_ok=True)
    (base / "here").mkdir(exist_ok=True)
    target = folder / f"target{case['fmt']}"
    if case["target_exists"]:
        target.write_text("old\n", encoding="utf-8")
    points_to = target
    for hop in range(case["hops"]):
        link = base / "here" / f"link{hop}{case['fmt']}"
        link.symlink_to(os.path.relpath(points_to, link.parent) if case["relative"]
                        else points_to)
        points_to = link
    return points_to, target


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=LINKS)
def test_tables_are_written_through_symbolic_links(case, tmp_path_factory):
    count_cases("symlinked outputs")
    import pandas as pd

    link, target = _link_chain(tmp_path_factory.mktemp("links"), case)
    frame = pd.DataFrame({"id": ["1"], "title": ["@SUM(A1)"]})
    write_frame(link, frame)
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert pd.concat(read_table(target))["title"].tolist() == ["@SUM(A1)"]
    assert sorted(p.name for p in link.parent.iterdir() if p.name.startswith(".")) == []


def test_tag_and_report_write_through_symbolic_links(cli, tmp_path):
    dump = tmp_path / "dump.jsonl"
    dump.write_text(json.dumps({"title": "ZeRO-Offload", "abstract": "We offload optimizer "
                                "states to CPU memory."}) + "\n", encoding="utf-8")
    (tmp_path / "target.csv").write_text("stale\n", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to("target.csv")
    (tmp_path / "reports-real").mkdir()
    (tmp_path / "reports").symlink_to("reports-real")
    assert cli("tag", dump, "-o", "link.csv", "-q").returncode == 0
    assert cli("report", "link.csv", "-o", "reports", "-q").returncode == 0
    assert (tmp_path / "link.csv").is_symlink() and (tmp_path / "reports").is_symlink()
    assert "ZeRO-Offload" in (tmp_path / "target.csv").read_text(encoding="utf-8")
    assert (tmp_path / "reports-real" / "coverage.md").exists()


# -- a failed write names the destination -----------------------------------------------------


def test_a_failed_write_names_the_destination_and_removes_folders_it_made(tmp_path):
    import errno

    import pytest

    from taxonomy.errors import OutputError
    from taxonomy.io.atomic import atomic_dir, atomic_path

    out = tmp_path / "new" / "deeper" / "model.joblib"
    with pytest.raises(OutputError) as failed, atomic_path(out) as tmp:
        tmp.write_bytes(b"x")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert str(failed.value).startswith(f"{out}: write failed (No space left on device)")
    assert not (tmp_path / "new").exists()
    folder = tmp_path / "made" / "reports"
    with pytest.raises(OutputError) as failed, atomic_dir(folder, owned=lambda n: True) as tmp:
        write_frame(tmp / "categories.csv", __import__("pandas").DataFrame({"a": [1]}))
        with atomic_path(tmp / "coverage.md"):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert str(failed.value).startswith(f"{folder / 'coverage.md'}: write failed")
    assert list(tmp_path.iterdir()) == []


# -- values of the wrong type -----------------------------------------------------------------

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                         st.floats(allow_nan=False, allow_infinity=False),
                         st.text(alphabet="abc xyz", min_size=1, max_size=8))
JSON_VALUES = st.one_of(JSON_SCALARS, st.lists(JSON_SCALARS, max_size=3),
                        st.dictionaries(st.sampled_from("ab"), JSON_SCALARS, max_size=2))
TYPED = {"title": (str,), "abstract": (str,), "url": (str,), "organization": (str,),
         "id": (str, int, float)}


def _fits(name: str, value: object) -> bool:
    return value is None or (not isinstance(value, bool) and isinstance(value, TYPED[name]))


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.fixed_dictionaries(
    {"title": st.one_of(st.text(alphabet="abc xyz", min_size=1, max_size=8), JSON_VALUES),
     "abstract": st.one_of(st.just("We offload states."), JSON_VALUES)},
    optional={name: JSON_VALUES for name in ("id", "url", "organization")}),
    min_size=1, max_size=8))
def test_json_values_of_the_wrong_type_are_skipped_at_their_line(records, tmp_path_factory):
    count_cases("JSON values of the wrong type")
    from taxonomy.io import ReadLog, read_file

    records = [*records, {"title": "good", "abstract": "ok"}]  # a file of no paper is an error
    path = tmp_path_factory.mktemp("types") / "dump.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    log = ReadLog()
    kept = list(read_file(path, log=log))
    typed = [i for i, r in enumerate(records, 1) if all(_fits(k, v) for k, v in r.items())]
    readable = [i for i in typed if isinstance(records[i - 1]["title"], str)
                and records[i - 1]["title"].strip()
                and isinstance(records[i - 1]["abstract"], str)]
    assert [int(p.source.rsplit(":", 1)[1]) for p in kept] == readable
    skipped = {line: why for _, line, why in log.skipped}
    assert sorted(skipped) == sorted(set(range(1, len(records) + 1)) - set(readable))
    for line in set(range(1, len(records) + 1)) - set(typed):
        assert "of type" in skipped[line]


def test_the_api_refuses_values_of_the_wrong_type():
    import pytest

    from taxonomy.tagging.tagger import _as_papers

    for record, why in (({"title": b"t", "abstract": "a"}, "a title of type bytes"),
                        ({"title": "t", "abstract": {"a": 1}}, "an abstract of type object"),
                        ({"title": 12345, "abstract": "a"}, "a title of type number")):
        with pytest.raises(ValueError, match=f"row 1 has {why}"):
            _as_papers([record])


def test_a_parquet_text_column_of_another_type_is_refused_by_name(cli, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"title": [1, 2], "abstract": ["a", "b"]}), tmp_path / "d.parquet")
    result = cli("parse", tmp_path / "d.parquet")
    assert result.returncode == 2
    assert result.stderr == (f"taxonomy: error: {tmp_path / 'd.parquet'}: Parquet column "
                             "'title' holds int64, not text; re-export it as a string column\n")


# -- papers that share an id ------------------------------------------------------------------

PAPER_IDS = st.sampled_from(["", "1", "2", "2401.00001", "2401.00002",
                            "https://arxiv.org/abs/2401.00001"])
PAPER_TITLES = st.sampled_from(["Alpha paper", "alpha  PAPER", "Beta work", "???", "!!!"])


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(PAPER_IDS, PAPER_TITLES), min_size=1, max_size=8))
def test_papers_are_merged_only_on_evidence(rows):
    """Two records are one paper only for the same arXiv id, or the same non-empty
    normalized title without conflicting arXiv ids; a paper whose id a different one holds
    is kept under an id of its own, with a line naming both places."""
    count_cases("colliding ids")
    from taxonomy.io.records import Deduplicator, Paper, arxiv_id, paper_id, title_key

    papers = [Paper(paper_id(given, title), title, f"abstract {i}", source=f"d.csv:{i + 2}")
              for i, (given, title) in enumerate(rows)]
    dedupe = Deduplicator()
    kept = list(dedupe(papers))
    assert len({p.id for p in kept}) == len(kept)  # no two kept papers share an id
    for paper in papers:
        firsts = [k for k in kept if k.source == paper.source]
        if firsts:
            continue  # kept itself
        # a dropped record is a repeat of a kept one by the evidence
        # (a kept paper's id is the arXiv id a repeat brought it, when it had none)
        final = [dedupe.updated(k.to_dict())["id"] for k in kept]
        assert any((arxiv_id(paper.id) and kid == paper.id) or (
            title_key(paper.title) and title_key(k.title) == title_key(paper.title)
            and not (arxiv_id(paper.id) and arxiv_id(kid) and kid != paper.id))
            for k, kid in zip(kept, final, strict=True)), paper
    renamed = [k for k, p in zip(kept, [p for p in papers if p.source in
                                        {k.source for k in kept}], strict=True) if k.id != p.id]
    assert len(dedupe.notes) == len(renamed)
    assert all(note.startswith("d.csv:") and " at d.csv:" in note for note in dedupe.notes)


def test_tag_keeps_two_papers_with_one_id_apart(cli, tmp_path):
    (tmp_path / "jan.csv").write_text("id,title,abstract\n1,Alpha paper,We offload "
                                      "optimizer states.\n", encoding="utf-8")
    (tmp_path / "feb.csv").write_text("id,title,abstract\n1,Beta work,We prune the "
                                      "training data.\n", encoding="utf-8")
    result = cli("tag", "jan.csv", "feb.csv", "-o", "tags.csv", "-q")
    assert result.returncode == 0
    assert result.stderr == ("warning: feb.csv:2: id 1 is also the id of a different paper at "
                             "jan.csv:2 (another title); this one is kept as 291320dd796b\n")
    assert cli("tag", "jan.csv", "-o", "only.csv", "-q").returncode == 0
    result = cli("tag", "feb.csv", "--only-new", "only.csv", "-q")
    assert result.returncode == 0 and "291320dd796b" in result.stderr
    for name in ("tags.csv", "only.csv"):
        ids = [row["id"] for row in csv.DictReader(open(tmp_path / name, encoding="utf-8"))]
        assert ids == ["1", "291320dd796b"]


def test_a_hand_label_applies_only_to_its_own_paper(seed_labels):
    from taxonomy.io.records import Paper
    from taxonomy.tagging.hand import HandLabels

    hand = HandLabels.from_papers(seed_labels)
    seed_id, seed_title = seed_labels.ids[0], seed_labels.titles[0]
    assert hand.get(Paper(seed_id, seed_title, "x")) is not None
    assert hand.get(Paper(seed_id, "A stranger's paper", "x")) is None
    assert hand.get(Paper("999", seed_title, "x")) is not None  # the same title: same paper
