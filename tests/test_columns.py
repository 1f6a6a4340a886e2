"""The columnar readers (Arrow) against the row-by-row readers they stand in for: the same
papers, the same skips with the same line numbers, on any input."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxonomy.io import ReadLog, read_file
from taxonomy.io import jsonl as jsonl_module
from taxonomy.io import sniff as sniff_module
from taxonomy.io.columns import _maybe_unclean, from_table
from taxonomy.io.fields import from_fields
from taxonomy.io.jsonl import read_jsonl
from taxonomy.io.records import clean_text, title_key
from taxonomy.io.sniff import decoded_lines

REFERENCE = dt.date(2026, 11, 22)
_SETTINGS = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])

_KEYS = st.sampled_from([
    "title", "Title", " title", "abstract", "summary", "id", "arxiv_id", "url", "link", "date",
    "published", "update_date", "versions", "authors", "authors_parsed", "n_authors",
    "upvotes", "organization", "comments"])
_SCALARS = (st.none() | st.booleans() | st.integers(-10**14, 10**14) | st.floats()
            | st.text(max_size=20) | st.sampled_from([
                "2024-03-05", "Mar 5, 2024", "Mar 5", "2023-02-30", "Mon, 2 Apr 2007 19:18 GMT",
                "1706.03762v2", "cs/0112017", "https://arxiv.org/abs/2401.00001", " a  b ",
                "x\u00a0y", "A, B and C", "Ünïcode title", "\t"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["created", "version", "name"]), inner, max_size=2), max_leaves=6)
_RECORDS = st.dictionaries(_KEYS, _VALUES, max_size=8)
# Papers most records should make, in their usual types (so the Arrow path gets exercised).
_PAPERS = st.fixed_dictionaries(
    {"title": st.text(min_size=1, max_size=30), "abstract": st.text(min_size=1, max_size=60)},
    optional={"id": st.sampled_from(["2401.00001", "x1", "", " 2402.12345v3 "]),
              "versions": st.lists(st.fixed_dictionaries(
                  {"created": st.sampled_from(["Mon, 2 Apr 2007 19:18:42 GMT", "", "junk"])}),
                  max_size=2),
              "authors_parsed": st.lists(st.lists(st.text(max_size=3), max_size=2), max_size=3),
              "update_date": st.sampled_from(["2024-03-05", "", "2024-13-01"]),
              "upvotes": st.integers(0, 10**13)})
_LINES = (_PAPERS.map(json.dumps) | _RECORDS.map(lambda r: json.dumps(r, ensure_ascii=False))
          | st.sampled_from(["null", "[1]", "", "  ", "{}", '{"title": "t", "abstract": "a"}{}',
                             '{"title": "t", "abstract": "a", "x": -Inf}',
                             '{"title": "Inference", "abstract": "a", "x": NaN}',
                             '{"title": "t\\"}", "abstract": "a\\\\", "y": [[{"z": 1}]]}',
                             '{"title": "t", "abstract": "a"} ', "\r", "{bad", '"a"',
                             '{"title": "t", "abstract":', '{"title": "t", "title": "u"}'])
          | st.text(max_size=12))
_BYTE_LINES = _LINES.map(lambda line: line.encode("utf-8", "surrogatepass")) | st.sampled_from(
    [b'{"title": "t\xff", "abstract": "a"}', b"\xef\xbb\xbf{}", b'{"title": "t", "a": "\xc3"}'])


def _line_by_line(path: Path) -> tuple[list, list]:
    log = ReadLog()
    papers = list(read_jsonl(decoded_lines(path, log), str(path), log, REFERENCE))
    return papers, log.skipped


def _columnar(path: Path) -> tuple[list, list]:
    log = ReadLog()
    try:
        papers = list(read_file(path, log=log, reference_date=REFERENCE, fmt="jsonl"))
    except Exception as exc:  # a file with no paper: the same error as the line reader's
        return [type(exc).__name__], log.skipped
    return papers, log.skipped


@_SETTINGS
@given(lines=st.lists(_BYTE_LINES, min_size=1, max_size=12),
       block=st.sampled_from([16, 64, 300, 1 << 20]),
       end=st.sampled_from([b"\n", b"\r\n", b"\r"]),
       final_newline=st.booleans())
def test_jsonl_blocks_read_as_the_line_reader_does(lines, block, end, final_newline,
                                                    tmp_path_factory, monkeypatch):
    monkeypatch.setattr(sniff_module, "_BLOCK", block)  # blocks that end mid-line
    monkeypatch.setattr(jsonl_module, "ARROW_FROM", 1)  # Arrow reads even the smallest
    path = tmp_path_factory.mktemp("jsonl") / "dump.jsonl"
    path.write_bytes(end.join(lines) + (end if final_newline else b""))
    try:
        want = _line_by_line(path)
    except Exception as exc:  # noqa: BLE001 - compared by kind below
        want = ([type(exc).__name__], None)
    got = _columnar(path)
    if want[1] is None:
        assert got[0] == want[0]
        return
    if not want[0]:  # no paper at all: read_file raises the no-usable-papers error
        assert got[0] == ["DumpError"]
        assert got[1] == want[1]
        return
    assert got == want
    assert [p.source for p in got[0]] == [p.source for p in want[0]]


def test_clean_jsonl_takes_the_arrow_path(tmp_path, monkeypatch):
    """A dump of well-formed records never reaches the line reader (else this module's
    equality tests would only ever compare the line reader with itself)."""
    path = tmp_path / "arxiv.jsonl"
    records = [{"id": f"2401.{i:05d}", "title": f"Paper {i}", "abstract": f"About {i}.  ",
                "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
                "authors_parsed": [["A", "B", ""]] * (i % 3), "update_date": "2024-03-05"}
               for i in range(3_000)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    def refuse(*args, **kwargs):
        raise AssertionError("the line reader was used")

    monkeypatch.setattr(jsonl_module, "read_jsonl", refuse)
    papers = list(read_file(path, reference_date=REFERENCE))
    assert len(papers) == 3_000
    assert papers[7].id == "2401.00007" and papers[7].abstract == "About 7."
    assert papers[7].date == "2007-04-02" and papers[7].n_authors == 1
    assert papers[7].source == f"{path}:8"


def test_a_first_line_that_is_null_is_skipped_not_fatal(tmp_path, monkeypatch):
    """Arrow's JSON reader crashes on a stream that starts with null; such a block is the line
    reader's."""
    monkeypatch.setattr(jsonl_module, "ARROW_FROM", 1)
    path = tmp_path / "dump.jsonl"
    path.write_text('null\n{"title": "T", "abstract": "A"}\n', encoding="utf-8")
    log = ReadLog()
    papers = list(read_file(path, log=log, reference_date=REFERENCE))
    assert [p.title for p in papers] == ["T"]
    assert log.skipped == [(str(path), 1, "not a JSON object")]


@_SETTINGS
@given(records=st.lists(_PAPERS | _RECORDS, min_size=1, max_size=8))
def test_tables_read_as_the_row_reader_does(records):
    """``from_table`` (Parquet row groups, JSON blocks) gives what ``from_fields`` gives row
    by row, or declines the table."""
    try:
        table = pa.Table.from_pylist(records)
    except (pa.ArrowException, OverflowError):
        return  # Arrow cannot hold these together (the JSON reader then reads line by line)
    if table.num_rows != len(records):
        return  # only empty records: a table without columns has no rows
    lines = range(1, len(records) + 1)
    log = ReadLog()
    batch = from_table(table, "t", lines, log, REFERENCE)
    if batch is None:
        return
    want_log = ReadLog()
    want = [p for line, row in zip(lines, table.to_pylist(), strict=True)
            if (p := from_fields(row, "t", line, want_log, REFERENCE)) is not None]
    assert batch.papers() == want
    assert [p.source for p in batch.papers()] == [p.source for p in want]
    assert log.skipped == want_log.skipped


def test_parquet_batches_match_the_row_reader(tmp_path):
    records = [{"ID": f"x{i}", "Title": f" Title  {i}", "abstract": "" if i % 7 == 0 else "A b",
                "upvotes": float(i) / 2, "update_date": "2024-01-0" + str(1 + i % 9)}
               for i in range(50)]
    path = tmp_path / "dump.parquet"
    pq.write_table(pa.Table.from_pylist(records), path)
    log = ReadLog()
    papers = list(read_file(path, log=log, reference_date=REFERENCE))
    want_log = ReadLog()
    want = [p for i, row in enumerate(records, 1)
            if (p := from_fields(row, str(path), i, want_log, REFERENCE)) is not None]
    assert papers == want and log.skipped == want_log.skipped
    assert len(papers) == 42


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.none() | st.text(st.sampled_from("ab \t~\x7f\u00a0é\x1f"), max_size=6),
                       min_size=1, max_size=8),
       large=st.booleans(), cut=st.integers(0, 3))
def test_text_marked_clean_is_clean(values, large, cut):
    column = pa.array(values, type=pa.large_string() if large else pa.string())[cut:]
    for value, maybe in zip(column.to_pylist(), _maybe_unclean(column), strict=True):
        if not maybe:
            assert clean_text(value or "") == (value or "")


@pytest.mark.parametrize("text", ["A  b", " A", "A ", "A\tb", "Ä", "a\x7f"])
def test_text_that_needs_cleaning_is_marked(text):
    assert _maybe_unclean(pa.array(["ok", text, None]))[1]


@settings(max_examples=300, deadline=None)
@given(title=st.text(max_size=30) | st.text(st.characters(max_codepoint=127), max_size=30))
def test_title_keys_take_the_byte_table_only_where_it_agrees(title):
    reference = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", title).casefold())
    assert title_key(title) == reference


@pytest.mark.parametrize("value", ["-Inf", "Inf", "-NaN", "NaN", "Infinity",
                                   "[" * 400 + "]" * 400, "[" * 20_000 + "]" * 20_000])
def test_values_arrow_would_read_otherwise_go_to_the_line_reader(tmp_path, value):
    """Arrow takes Inf and -NaN, which Python's json module refuses, and crashes on deep
    nesting; a block holding either is read line by line, as before."""
    lines = [json.dumps({"id": f"x{i}", "title": f"Inference {i}", "abstract": "Networks."})
             for i in range(300)]
    lines[9] = '{"id": "odd", "title": "T", "abstract": "A", "x": ' + value + "}"
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _columnar(path) == _line_by_line(path)


def test_a_lone_surrogate_becomes_a_replacement_character(tmp_path):
    path = tmp_path / "dump.jsonl"
    path.write_text('{"title": "Half \\ud800 a pair", "abstract": "A"}\n', encoding="utf-8")
    (paper,) = read_file(path, reference_date=REFERENCE)
    assert paper.title == "Half \ufffd a pair"
