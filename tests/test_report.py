"""The coverage report: every figure against values worked out by hand for a fixed table."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxonomy.errors import TaxonomyError
from taxonomy.io.records import title_hash
from taxonomy.io.writers import read_table
from taxonomy.labels.categories import parse_taxonomy
from taxonomy.report.figures import (
    build_report,
    month_of,
    over_time,
    paper_link,
    prepare,
    uncertain,
)
from taxonomy.report.render import summary_table, write_report

TAXONOMY = parse_taxonomy(b"""
[[category]]
id = "memory"
name = "Memory"
definition = "Less memory."

[[category]]
id = "communication"
name = "Communication"
definition = "Less communication."

[[category]]
id = "data"
name = "Data selection"
definition = "Fewer or better examples."
""")
THRESHOLDS = {"memory": 0.5, "communication": 0.5, "data": 0.3}
ARXIV_A, ARXIV_B = "https://arxiv.org/abs/2301.00001", "https://arxiv.org/abs/2301.00002"
URL_C = "https://example.org/c?a=1&b=2"

# id, title, date, labels, memory, communication, data, source, url
ROWS = [
    ("2301.00001", "Paper A", "2023-01-05", "memory", 0.9, 0.1, 0.1, "model", ""),
    ("2301.00002v2", "Paper B <b>&", "2023-01-20", "memory;communication",
     0.55, 0.7, 0.1, "hand", ""),
    ("p3", "Paper C", "2023-03-02", "communication", 0.3, 0.95, 0.05, "model", URL_C),
    ("p4", "Paper D", "", "", 0.45, 0.2, 0.27, "model", ""),
    ("p5", "Paper E", "2023-03-15", None, 0.1, 0.3, 0.05, "hand", None),
    ("p6", "Paper F", "2023-05-01", "data", 0.2, 0.1, 0.34, "model", ""),
    ("p7", "Paper G", "2024-01-10", "memory;data", 0.7, 0.1, 0.9, "model", ""),
    ("p8", "Paper H", None, "data", 0.1, 0.1, 0.6, "hand", ""),
    ("p9", "Paper I", "2024-01-31", "memory;communication;data", 0.58, 0.9, 0.8, "model", ""),
    ("p10", "Paper J", "unknown", "memory;communication", 0.75, 0.65, 0.02, "model", ""),
]


def _tags(rows=ROWS) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["id", "title", "date", "labels", "score_memory",
                                        "score_communication", "score_data", "source", "url"])
    frame.insert(8, "top_terms", "")
    return frame.assign(model="efficiency", model_version="abc123")


def _older() -> pd.DataFrame:
    return pd.DataFrame({"id": ["2301.00001", "2301.00002v2", "p3", "p4", "p5", "gone"],
                         "title": ["A", "B", "C", "D", "E", "Gone"],
                         "labels": ["memory", "memory", "data", "", "communication",
                                    "data;retired_category"]})


@pytest.fixture
def report():
    return build_report(_tags(), TAXONOMY, THRESHOLDS, label_support={"memory": 12,
                        "communication": 3}, compare=_older(), top_n=2)


def test_totals(report):
    assert (report.papers, report.covered, report.by_hand, report.by_model) == (10, 8, 3, 7)
    assert report.models == ["efficiency abc123"]


def test_categories(report):
    table = report.categories
    assert list(table["id"]) == ["memory", "communication", "data"]
    assert list(table["name"]) == ["Memory", "Communication", "Data selection"]
    assert list(table["papers"]) == [5, 4, 4]
    assert list(table["share"]) == pytest.approx([0.5, 0.4, 0.4])
    assert list(table["hand"]) == [1, 1, 1]
    assert list(table["model"]) == [4, 3, 3]
    means = [(0.9 + 0.55 + 0.7 + 0.58 + 0.75) / 5, (0.7 + 0.95 + 0.9 + 0.65) / 4,
             (0.34 + 0.9 + 0.6 + 0.8) / 4]
    assert list(table["mean_score"]) == pytest.approx(means)


def test_top_papers(report):
    top = report.top_papers
    assert list(zip(top["category"], top["rank"], top["id"], strict=True)) == [
        ("memory", 1, "2301.00001"), ("memory", 2, "p10"),
        ("communication", 1, "p3"), ("communication", 2, "p9"),
        ("data", 1, "p7"), ("data", 2, "p9")]
    assert list(top["score"]) == pytest.approx([0.9, 0.75, 0.95, 0.9, 0.9, 0.8])
    assert list(top["link"]) == [ARXIV_A, "", URL_C, "", "", ""]


def test_uncovered(report):
    table = report.uncovered
    assert list(table["id"]) == ["p4", "p5"]
    assert list(table["best_category"]) == ["memory", "communication"]
    assert list(table["best_score"]) == pytest.approx([0.45, 0.3])


def test_uncertain_is_the_ranked_review_queue(report):
    table = report.uncertain
    # Model-tagged only (hand-labeled B, E, H never), ranked by informativeness: the largest
    # closeness to a threshold plus half the second largest (worked out by hand).
    assert list(table["id"]) == ["p4", "p6", "p9", "p10", "p7", "p3", "2301.00001"]
    assert list(table["informativeness"]) == pytest.approx(
        [1.35, 1.1429, 0.9829, 0.95, 0.7, 0.6833, 0.4333], abs=1e-4)
    # D is as close to memory's threshold (0.45 vs 0.5) as to data's (0.27 vs 0.3).
    assert {table["category"][0], table["also_near"][0]} == {"memory", "data"}
    assert list(table["category"][1:4]) == ["data", "memory", "communication"]
    assert list(table["score"][1:4]) == pytest.approx([0.34, 0.58, 0.65])
    assert list(table["distance"][1:4]) == pytest.approx([0.04, 0.08, 0.15])
    assert list(table["assigned"][:4]) == [False, True, True, True]
    assert list(table["also_near"][1:4]) == ["", "", "memory"]  # J is near memory's too


def test_uncertain_is_capped():
    table = uncertain(prepare(_tags(), TAXONOMY), TAXONOMY, THRESHOLDS, top=3)
    assert list(table["id"]) == ["p4", "p6", "p9"]


def test_uncertain_needs_every_threshold():
    with pytest.raises(TaxonomyError, match="no threshold for category 'data'"):
        build_report(_tags(), TAXONOMY, {"memory": 0.5, "communication": 0.5})


def test_cooccurrence(report):
    matrix = report.cooccurrence
    assert list(matrix.index) == list(matrix.columns) == ["memory", "communication", "data"]
    assert matrix.to_numpy().tolist() == [[5, 3, 2], [3, 4, 1], [2, 1, 4]]


def test_over_time(report):
    table = report.over_time
    assert list(table.columns) == ["month", "papers", "uncovered", "memory", "communication",
                                   "data"]
    assert table.to_numpy().tolist() == [
        ["2023-01", 2, 0, 2, 1, 0],
        ["2023-03", 2, 1, 0, 1, 0],
        ["2023-05", 1, 0, 0, 0, 1],
        ["2024-01", 2, 0, 2, 1, 2],
        ["undated", 3, 1, 1, 1, 1],
    ]


def test_over_time_puts_undated_last_whatever_the_digits():
    # A year in non-ASCII digits is a month too, and sorts after 'undated' as text.
    tags = pd.DataFrame({"date": ["\u0662\u0660\u0662\u0664-03-15", "", "2024-01-02"]})
    matrix = np.zeros((3, len(TAXONOMY.ids)), dtype=bool)
    assert list(over_time(tags, matrix, TAXONOMY)["month"]) == [
        "2024-01", "\u0662\u0660\u0662\u0664-03", "undated"]


@pytest.mark.parametrize(("date", "month"), [
    ("2023-01-05", "2023-01"), ("2023-01", "2023-01"), ("2024-12-31 00:00:00", "2024-12"),
    ("", "undated"), ("unknown", "undated"), ("2023-13-01", "undated"), ("NaT", "undated")])
def test_month_of(date, month):
    assert month_of(date) == month


def test_label_support(report):
    table = report.label_support
    assert list(table["hand_labels"]) == [12, 3, 0]
    assert list(table["warning"]) == ["", "fewer than 10 hand labels",
                                      "fewer than 10 hand labels"]


def test_reading_list(report):
    memory = report.reading_list[report.reading_list["category"] == "memory"]
    # Newest first, undated last.
    assert list(memory["id"]) == ["p9", "p7", "2301.00002v2", "2301.00001", "p10"]
    assert list(memory["link"]) == ["", "", ARXIV_B, ARXIV_A, ""]
    communication = report.reading_list[report.reading_list["category"] == "communication"]
    assert list(communication["id"]) == ["p9", "p3", "2301.00002v2", "p10"]
    assert list(communication["link"]) == ["", URL_C, ARXIV_B, ""]
    assert len(report.reading_list) == 5 + 4 + 4


@pytest.mark.parametrize(("paper_id", "url", "link"), [
    ("2301.00001", "", ARXIV_A), ("2301.00002v2", "", ARXIV_B),
    ("cs/0601001", "", "https://arxiv.org/abs/cs/0601001"),
    ("2301.00001", "https://example.org/x", "https://example.org/x"),
    ("33956ebe090e", "", ""), ("p3", "", "")])
def test_paper_link(paper_id, url, link):
    assert paper_link(paper_id, url) == link


def test_compare(report):
    table = report.compare
    assert list(table["then"]) == [2, 1, 2]  # the retired category of 'gone' is ignored
    assert list(table["now"]) == [5, 4, 4]
    assert list(table["change"]) == [3, 3, 2]
    assert list(report.new_papers["id"]) == ["p6", "p7", "p8", "p9", "p10"]
    assert report.papers_then == 6


def test_optional_sections_are_omitted(tmp_path):
    report = build_report(_tags(), TAXONOMY, THRESHOLDS)
    assert report.label_support is None and report.compare is None
    names = {p.name for p in write_report(report, tmp_path)}
    assert not names & {"label_support.csv", "compare.csv", "new_papers.csv"}


def test_unknown_category_is_an_error():
    rows = [("x", "X", "", "memory;speed", 0.9, 0.0, 0.0, "model", "")]
    with pytest.raises(TaxonomyError, match="row 1 .* unknown category 'speed'"):
        build_report(_tags(rows), TAXONOMY, THRESHOLDS)


def test_missing_columns_are_an_error():
    with pytest.raises(TaxonomyError, match="lacks column.*score_data"):
        build_report(_tags().drop(columns="score_data"), TAXONOMY, THRESHOLDS)


def test_empty_table(tmp_path):
    report = build_report(_tags([]), TAXONOMY, THRESHOLDS)
    assert report.papers == 0 and list(report.categories["papers"]) == [0, 0, 0]
    assert list(report.categories["share"]) == [0.0, 0.0, 0.0]
    assert report.over_time.empty and report.uncovered.empty and report.uncertain.empty
    html = (tmp_path / "coverage.html")
    write_report(report, tmp_path)
    assert html.read_text(encoding="utf-8").count("<svg") == 3


def test_write_report_files_round_trip(report, tmp_path):
    out = tmp_path / "reports"
    written = write_report(report, out)
    assert sorted(p.name for p in written) == sorted([
        "categories.csv", "top_papers.csv", "uncovered.csv", "uncertain.csv",
        "cooccurrence.csv", "over_time.csv", "label_support.csv", "reading_list.csv",
        "compare.csv", "new_papers.csv", "coverage.md", "coverage.html"])
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    categories = pd.concat(read_table(out / "categories.csv"))
    assert list(categories["papers"]) == [5, 4, 4]
    assert list(categories["mean_score"]) == pytest.approx([0.696, 0.8, 0.66], abs=1e-4)
    cooccurrence = pd.concat(read_table(out / "cooccurrence.csv"))
    assert cooccurrence.set_index("category").to_numpy().tolist() == [[5, 3, 2], [3, 4, 1],
                                                                       [2, 1, 4]]
    over_time = pd.concat(read_table(out / "over_time.csv"))
    assert list(over_time["month"]) == ["2023-01", "2023-03", "2023-05", "2024-01", "undated"]


def test_html_is_self_contained(report, tmp_path):
    write_report(report, tmp_path)
    page = (tmp_path / "coverage.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 3
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert "@import" not in page and not re.search(r"url\((?!#)", page)  # only url(#clip)
    links = {ARXIV_A, ARXIV_B, URL_C.replace("&", "&amp;")}
    found = re.findall(r"https?://[^\s\"'<>)]+", page)
    assert set(found) <= links and found
    assert f'<a href="{URL_C.replace("&", "&amp;")}">Paper C</a>' in page
    assert "Paper B &lt;b&gt;&amp;" in page and "Paper B <b>" not in page


def test_markdown_has_category_rows(report, tmp_path):
    write_report(report, tmp_path)
    text = (tmp_path / "coverage.md").read_text(encoding="utf-8")
    for row in ("| Memory | 5 | 50.0% | 1 | 4 | 0.70 |",
                "| Communication | 4 | 40.0% | 1 | 3 | 0.80 |",
                "| Data selection | 4 | 40.0% | 1 | 3 | 0.66 |",
                "| Memory | 2 | 5 | +3 |",
                "| Memory | 5 | 3 | 2 |",
                "| 2023-01 | 2 | 0 | 2 | 1 | 0 |"):
        assert row in text
    assert "**10** papers · **8** in a category (80.0%)" in text
    assert f"[Paper B \\<b\\>&]({ARXIV_B})" in text


def test_long_lists_are_cut_in_markdown_not_in_csv(tmp_path):
    rows = [(f"u{i:02d}", f"Uncovered {i}", "", "", 0.1, 0.1, 0.1, "hand", "")
            for i in range(60)]
    write_report(build_report(_tags(rows), TAXONOMY, THRESHOLDS), tmp_path)
    text = (tmp_path / "coverage.md").read_text(encoding="utf-8")
    assert "| Uncovered 49 |" in text and "| Uncovered 50 |" not in text
    assert "… and 10 more in `uncovered.csv`." in text
    assert len(pd.concat(read_table(tmp_path / "uncovered.csv"))) == 60
    assert (tmp_path / "coverage.html").read_text(encoding="utf-8").count("Uncovered ") == 60


def test_summary_table(report):
    lines = summary_table(report).splitlines()
    assert lines[0] == ("10 papers, 8 in a category (80.0%), 2 in none, 3 by hand label, "
                        "7 by model, 7 to review")
    assert lines[3].split() == ["Memory", "5", "50.0%", "1", "4", "0.70", "2", "+3"]
    assert lines[5].split() == ["Data", "selection", "4", "40.0%", "1", "3", "0.66", "2", "+2"]
    assert "5 papers new since the older table (6 papers)" in lines
    assert "warning: Data selection has 0 hand labels (fewer than 10)" in lines


def _near(image: np.ndarray, hex_colour: str, tolerance: float = 0.02) -> int:
    """Pixels of ``image`` (RGB floats 0..1) within ``tolerance`` of a colour."""
    target = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(image - target) <= tolerance).all(axis=-1).sum())


@pytest.mark.slow
def test_html_renders_in_chromium(report, tmp_path):
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed")
    import matplotlib.image

    write_report(report, tmp_path / "out")
    html, png = tmp_path / "out" / "coverage.html", tmp_path / "page.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2000",
                    f"--screenshot={png}", f"file://{html}"],
                   check=True, capture_output=True, timeout=120)
    image = matplotlib.image.imread(png)[..., :3]
    assert image.shape[:2] == (2000, 1280)
    assert (image < 0.95).any(axis=-1).mean() > 0.1
    assert len(np.unique((image * 255).round().reshape(-1, 3), axis=0)) > 50
    # Category colours of the coverage chart's solid (hand-label) bars and the heatmap's
    # darkest cell: in chips alone they would cover only a few hundred pixels.
    assert _near(image, "#ff7f0e") > 500
    assert _near(image, "#2ca02c") > 500
    assert _near(image, "#08306b") > 500


# -- tagged tables given to `taxonomy report` are checked row by row ----------------------------

@pytest.fixture(scope="module")
def tagged_csv(tmp_path_factory):
    """A real `taxonomy tag` table of the first bundled dump."""
    from conftest import DUMPS

    from taxonomy.cli import main

    out = tmp_path_factory.mktemp("tagged") / "tags.csv"
    assert main(["tag", str(DUMPS[0]), "-o", str(out), "-q"]) == 0
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def _report(cli, tmp_path, frame):
    frame.to_csv(tmp_path / "t.csv", index=False)
    return cli("report", "t.csv", "-o", "out", cwd=tmp_path)


def test_report_skips_repeated_ids_and_bad_scores_at_their_lines(cli, tmp_path, tagged_csv):
    frame = tagged_csv.copy()
    frame.loc[3, "id"] = frame.loc[1, "id"]
    frame.loc[5, "score_memory"] = "abc"
    frame.loc[6, "score_architecture"] = "7.5"
    result = _report(cli, tmp_path, frame)
    assert result.returncode == 0, result.stderr
    assert (f"t.csv:5 (id '{frame.loc[1, 'id']}' repeats line 3)" in result.stderr)
    assert "t.csv:7 (score_memory is 'abc', not a number from 0 to 1)" in result.stderr
    assert "t.csv:8 (score_architecture is '7.5', not a number from 0 to 1)" in result.stderr
    assert result.stdout.startswith(f"{len(frame) - 3} papers")


def test_report_blanks_impossible_and_future_dates_with_a_warning(cli, tmp_path, tagged_csv):
    frame = tagged_csv.copy()
    frame["labels"] = "memory"  # every paper in the reading list of one category
    frame.loc[0, "date"], frame.loc[1, "date"] = "2024-02-31", "yesterday"
    frame.loc[2, "date"] = "3024-01-01"
    result = _report(cli, tmp_path, frame)
    assert result.returncode == 0, result.stderr
    assert "warning: treated 3 date(s) as undated: t.csv:2 ('2024-02-31' is not a date" \
        in result.stderr
    assert "t.csv:4 ('3024-01-01' is in the future)" in result.stderr
    reading = pd.read_csv(tmp_path / "out" / "reading_list.csv", dtype=str,
                          keep_default_na=False)
    assert "3024" not in reading["date"].iloc[0]
    assert not reading["date"].str.startswith(("3024", "2024-02-31")).any()


def test_report_unknown_category_names_the_file_and_line(cli, tmp_path, tagged_csv):
    frame = tagged_csv.copy()
    frame.loc[4, "labels"] = "memory;speedy"
    result = _report(cli, tmp_path, frame)
    assert result.returncode == 2
    assert result.stderr.startswith("taxonomy: error: t.csv:6: unknown category 'speedy'")


@settings(max_examples=60)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                 st.text(alphabet="0123456789.-e abn", max_size=6), st.integers(-3, 3)))
def test_a_row_is_kept_exactly_when_its_score_is_a_number_from_0_to_1(tmp_path_factory, value):
    from taxonomy.io.readlog import ReadLog
    from taxonomy.report.run import checked_table

    path = tmp_path_factory.mktemp("score") / "t.csv"
    rows = _tags(ROWS[:2]).astype(object)
    rows.loc[1, "score_data"] = value
    rows.to_csv(path, index=False)
    log = ReadLog()
    kept = checked_table(path, TAXONOMY, log, [])
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    good = 0 <= number <= 1
    assert len(kept) == (2 if good else 1)
    assert [line for _, line, _ in log.skipped] == ([] if good else [3])


def test_a_missing_score_in_a_nullable_parquet_column_skips_its_row(tmp_path):
    from taxonomy.io.readlog import ReadLog
    from taxonomy.report.run import checked_table

    rows = _tags(ROWS[:2])
    rows["score_data"] = pd.array([0.5, None], dtype="Float64")
    rows.to_parquet(tmp_path / "t.parquet")
    log = ReadLog()
    assert len(checked_table(tmp_path / "t.parquet", TAXONOMY, log, [])) == 1
    assert log.skipped == [(str(tmp_path / "t.parquet"), 2, "score_data is empty, not a number "
                                                           "from 0 to 1")]


def test_threshold_is_shown_so_that_assignment_can_be_read_off():
    from taxonomy.report.render import Column, _plain

    score, threshold = 0.6799, 0.679912
    shown = (_plain(score, Column("", "", "precise"), {}),
             _plain(threshold, Column("", "", "threshold"), {}))
    assert shown == ("0.6799", "0.6800")  # not assigned, and the page says why
    assert _plain(0.68, Column("", "", "threshold"), {}) == "0.6800"


def test_report_of_a_dump_tells_what_tagging_it_cut_and_renamed(cli, tmp_path):
    """The log of tagging a raw dump once reached the report without its cuts and notes."""
    abstract = "We halve the memory of training large models with a new optimizer state."
    rows = [{"id": "x1", "title": "T" * 2_001, "abstract": abstract},
            {"id": "x1", "title": "Another paper", "abstract": abstract}]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows),
                                      encoding="utf-8")
    result = cli("report", "d.jsonl", "-o", "out", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "warning: d.jsonl:2: id x1 is also the id of a different paper at d.jsonl:1 (another "
        f"title); this one is kept as {title_hash('Another paper')}",
        "warning: cut 1 over-long title(s) or abstract(s) to 2,000 and 1,048,576 characters: "
        "d.jsonl:1"]
