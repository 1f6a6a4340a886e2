"""JSON Lines and Parquet records: lines are read as Python's json module reads them (orjson
parses, json decides what orjson refuses), and every format maps a record's fields alike."""

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
from taxonomy.io import sniff as sniff_module
from taxonomy.io.fields import from_fields
from taxonomy.io.records import title_key
from taxonomy.io.sniff import decoded_lines, sniff

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
# An integer beyond 64 bits is read as json reads it where it is a field's whole value.
_RECORDS = st.dictionaries(_KEYS, _VALUES | st.integers(2**63, 2**70) | st.integers(
    -2**70, -2**63 - 1), max_size=8)
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
                             '{"title": "t", "abstract":', '{"title": "t", "title": "u"}',
                             '{"title": 123456789012345678901234567890, "abstract": "a"}'])
          | st.text(max_size=12))
_BYTE_LINES = _LINES.map(lambda line: line.encode("utf-8", "surrogatepass")) | st.sampled_from(
    [b'{"title": "t\xff", "abstract": "a"}', b"\xef\xbb\xbf{}", b'{"title": "t", "a": "\xc3"}'])


def _by_the_json_module(path: Path) -> tuple[list, list]:
    """What the reader should make of a JSON Lines file: each line as ``json.loads`` reads it."""
    log = ReadLog()
    papers = []
    for number, text in decoded_lines(sniff(path, fmt="jsonl"), log):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except (ValueError, RecursionError):
            log.skip(str(path), number, "not valid JSON")
            continue
        if not isinstance(row, dict):
            log.skip(str(path), number, "not a JSON object")
            continue
        if (paper := from_fields(row, str(path), number, log, REFERENCE)) is not None:
            papers.append(paper)
    return papers, log.skipped


def _read(path: Path) -> tuple[list, list]:
    log = ReadLog()
    try:
        papers = list(read_file(path, log=log, reference_date=REFERENCE, fmt="jsonl"))
    except Exception as exc:  # a file with no paper: one error
        return [type(exc).__name__], log.skipped
    return papers, log.skipped


@_SETTINGS
@given(lines=st.lists(_BYTE_LINES, min_size=1, max_size=12),
       block=st.sampled_from([16, 64, 300, 1 << 20]),
       end=st.sampled_from([b"\n", b"\r\n", b"\r"]),
       final_newline=st.booleans())
def test_json_lines_read_as_the_json_module_reads_them(lines, block, end, final_newline,
                                                       tmp_path_factory, monkeypatch):
    monkeypatch.setattr(sniff_module, "_BLOCK", block)  # blocks that end mid-line
    path = tmp_path_factory.mktemp("jsonl") / "dump.jsonl"
    path.write_bytes(end.join(lines) + (end if final_newline else b""))
    try:
        want = _by_the_json_module(path)
    except Exception as exc:  # noqa: BLE001 - compared by kind below
        want = ([type(exc).__name__], None)
    got = _read(path)
    if want[1] is None:
        assert got[0] == want[0]
        return
    if not want[0]:  # no paper at all: read_file raises the no-usable-papers error
        assert got == (["DumpError"], want[1])
        return
    assert got == want
    assert [p.source for p in got[0]] == [p.source for p in want[0]]


def test_a_first_line_that_is_null_is_skipped_not_fatal(tmp_path):
    path = tmp_path / "dump.jsonl"
    path.write_text('null\n{"title": "T", "abstract": "A"}\n', encoding="utf-8")
    log = ReadLog()
    papers = list(read_file(path, log=log, reference_date=REFERENCE))
    assert [p.title for p in papers] == ["T"]
    assert log.skipped == [(str(path), 1, "not a JSON object")]


@pytest.mark.parametrize(("value", "kept"), [
    ("-Inf", False), ("Inf", False), ("-NaN", False), ("NaN", True), ("Infinity", True),
    ("-Infinity", True), ("[" * 400 + "]" * 400, True), ("[" * 20_000 + "]" * 20_000, False),
    ("123456789012345678901234567890", True)])
def test_values_orjson_refuses_are_read_as_the_json_module_reads_them(tmp_path, value, kept):
    """orjson refuses NaN and Infinity and nesting past 1,024, which Python's json module
    takes (up to its recursion limit); the line is read as json reads it."""
    lines = [json.dumps({"id": f"x{i}", "title": f"Inference {i}", "abstract": "Networks."})
             for i in range(20)]
    lines[9] = '{"id": "odd", "title": "T", "abstract": "A", "x": ' + value + "}"
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    papers, skipped = _read(path)
    assert len(papers) == (20 if kept else 19)
    assert skipped == ([] if kept else [(str(path), 10, "not valid JSON")])


def test_a_number_beyond_64_bits_is_read_as_its_digits(tmp_path):
    path = tmp_path / "dump.jsonl"
    path.write_text('{"id": 123456789012345678901234567890, "title": "T", "abstract": "A"}\n',
                    encoding="utf-8")
    (paper,) = read_file(path, reference_date=REFERENCE)
    assert paper.id == "123456789012345678901234567890"


def test_a_lone_surrogate_becomes_a_replacement_character(tmp_path):
    path = tmp_path / "dump.jsonl"
    path.write_text('{"title": "Half \\ud800 a pair", "abstract": "A"}\n', encoding="utf-8")
    (paper,) = read_file(path, reference_date=REFERENCE)
    assert paper.title == "Half \ufffd a pair"


def test_parquet_rows_map_as_every_record_does(tmp_path):
    records = [{"ID": f"x{i}", "Title": f" Title  {i}", "abstract": "" if i % 7 == 0 else "A b",
                "upvotes": float(i) / 2, "update_date": "2024-01-0" + str(1 + i % 9)}
               for i in range(50)]
    path = tmp_path / "dump.parquet"
    pq.write_table(pa.Table.from_pylist(records), path, row_group_size=16)
    log = ReadLog()
    papers = list(read_file(path, log=log, reference_date=REFERENCE))
    want_log = ReadLog()
    want = [p for i, row in enumerate(records, 1)
            if (p := from_fields(row, str(path), i, want_log, REFERENCE)) is not None]
    assert papers == want and log.skipped == want_log.skipped
    assert [p.source for p in papers] == [p.source for p in want]
    assert len(papers) == 42


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.dictionaries(_KEYS, st.text(max_size=3), max_size=4), max_size=6))
def test_keys_are_matched_whatever_their_case_and_spaces(rows):
    """Rows whose keys need no lower-casing skip it; the papers are those of lower-cased keys."""
    for i, row in enumerate(rows):
        lowered = {str(k).strip().lower(): v for k, v in row.items()}
        assert from_fields(row, "t", i, ReadLog(), REFERENCE) == \
            from_fields(lowered, "t", i, ReadLog(), REFERENCE)


@settings(max_examples=300, deadline=None)
@given(title=st.text(max_size=30) | st.text(st.characters(max_codepoint=127), max_size=30))
def test_title_keys_take_the_byte_table_only_where_it_agrees(title):
    reference = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", title).casefold())
    assert title_key(title) == reference
