"""Fault injection into inputs: files with randomly corrupted records.

Invariant: every good record is kept (exactly as written), every bad one is reported with
the line it starts on, and nothing is reported inside a good record. Hypothesis generates the
files; the number of cases tried is printed at the end of the run.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SEED_LABELS, count_cases, to_listing_text
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from taxonomy.errors import DumpError, TaxonomyError
from taxonomy.io import ReadLog, read_file
from taxonomy.io import readers as readers_module
from taxonomy.io import sniff as sniff_module
from taxonomy.io.readers import check_inputs
from taxonomy.io.records import Paper, clean_text
from taxonomy.labels.categories import load_taxonomy
from taxonomy.labels.labelfile import check_labels, read_records

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé0123456789", min_size=1, max_size=9)
# Text inside a field: words, with commas, quotes and (for abstracts) line breaks between them,
# never at the start (a field that starts with a delimiter or a quote is quoting itself).
INNER = st.sampled_from([" ", " ", " ", ", ", ' "', '" ', "; ", ". "])


@st.composite
def _text(draw, words: tuple[int, int], breaks: bool) -> str:
    parts = [draw(WORDS)]
    for _ in range(draw(st.integers(*words)) - 1):
        parts.append(draw(st.sampled_from(["\n", " "])) if breaks and draw(st.booleans())
                     else draw(INNER))
        parts.append(draw(WORDS))
    return "".join(parts)


@dataclass
class Record:
    id: str
    title: str
    abstract: str
    corruption: str  # "" for a good record


CORRUPTIONS = {
    "csv": ["", "", "", "missing_field", "unterminated", "not_utf8", "empty_abstract"],
    "jsonl": ["", "", "", "truncated", "not_object", "not_utf8", "empty_abstract"],
    "listing": ["", "", "", "no_abstract"],
}


@st.composite
def dumps(draw, kind: str):
    n = draw(st.integers(1, 12))
    records = []
    for i in range(n):
        title = draw(_text((3, 8), breaks=False))
        # Abstracts are longer than titles, as a listing page's reader expects.
        abstract = "Abstract " + draw(_text((30, 45), breaks=kind == "csv"))
        # Lines before a listing page's first paper are its header: a first record without
        # an abstract is indistinguishable from one, so only later ones are corrupted there.
        corruption = "" if kind == "listing" and i == 0 else \
            draw(st.sampled_from(CORRUPTIONS[kind]))
        records.append(Record(f"id{i:03d}", f"Title {i} {title}", abstract, corruption))
    return records


def _csv(records: list[Record], delimiter: str) -> tuple[bytes, dict[str, int]]:
    """The file, and the line each record starts on."""
    out, starts, line = io.BytesIO(), {}, 1
    head = io.StringIO()
    csv.writer(head, delimiter=delimiter, lineterminator="\n").writerow(
        ["id", "title", "abstract", "date"])
    out.write(head.getvalue().encode())
    for record in records:
        line += 1
        starts[record.id] = line
        buffer = io.StringIO()
        row = [record.id, record.title, record.abstract, "2024-01-02"]
        if record.corruption == "empty_abstract":
            row[2] = ""
        csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerow(row)
        text = buffer.getvalue()
        # A bad record: too few fields, even when its broken quote is read as text.
        bare = record.title.replace('"', "").replace(delimiter, "")
        if record.corruption == "missing_field":
            text = f"{record.id}{delimiter}{bare}\n"
        elif record.corruption == "unterminated":
            text = f'{record.id}{delimiter}"{bare}\n'
        data = text.encode()
        if record.corruption == "not_utf8":
            data = data.replace(b"Title", b"T\xffitle", 1)
        out.write(data)
        line += text.count("\n") - 1
    return out.getvalue(), starts


def _jsonl(records: list[Record]) -> tuple[bytes, dict[str, int]]:
    out, starts = io.BytesIO(), {}
    for line, record in enumerate(records, 1):
        starts[record.id] = line
        text = json.dumps({"id": record.id, "title": record.title,
                           "abstract": "" if record.corruption == "empty_abstract"
                           else record.abstract})
        if record.corruption == "truncated":
            text = text[: len(text) // 2]
        elif record.corruption == "not_object":
            text = json.dumps([record.title, record.abstract])
        data = text.encode()
        if record.corruption == "not_utf8":
            data = data.replace(b"Title", b"T\xffitle", 1)
        out.write(data + b"\n")
    return out.getvalue(), starts


def _listing(records: list[Record]) -> tuple[bytes, dict[str, int]]:
    papers = [Paper(id=r.id, title=r.title, abstract=r.abstract) for r in records]
    text = to_listing_text(papers)
    lines = text.split("\n")
    starts = {}
    for record in records:
        starts[record.id] = lines.index(record.title) + 1
    for record in records:
        if record.corruption == "no_abstract":
            at = lines.index(record.title)
            lines[at + 2] = ""  # the abstract paragraph is gone
    return "\n".join(lines).encode(), starts


def _check(records: list[Record], data: bytes, starts: dict[str, int], tmp_path,
           name: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    log = ReadLog()
    good = [r for r in records if not r.corruption]
    try:
        kept = list(read_file(path, log=log))
    except Exception as exc:  # a file with no good record at all is one clear error
        assert not good, exc
        assert type(exc).__name__ == "DumpError"
        return
    assert [(p.title, p.abstract) for p in kept] == [
        (clean_text(r.title), clean_text(r.abstract)) for r in good]
    reported = {line for _, line, _ in log.skipped}
    bad_starts = {starts[r.id] for r in records if r.corruption}
    assert bad_starts <= reported, (bad_starts, log.skipped)
    good_lines = set()
    for record in good:
        first = starts[record.id]
        good_lines |= set(range(first, first + 1 + record.abstract.count("\n")))
    assert not reported & good_lines, log.skipped


CASES = settings(max_examples=120, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.slow
@pytest.mark.parametrize("delimiter", [",", "\t", ";"], ids=["csv", "tsv", "semicolon"])
@CASES
@given(records=dumps("csv"))
def test_delimited_files_keep_every_good_record(delimiter, records, tmp_path):
    count_cases("corrupted CSV/TSV files")
    data, starts = _csv(records, delimiter)
    _check(records, data, starts, tmp_path, "dump.csv")


@pytest.mark.slow
@CASES
@given(records=dumps("jsonl"))
def test_json_lines_keep_every_good_record(records, tmp_path):
    count_cases("corrupted JSON Lines files")
    data, starts = _jsonl(records)
    _check(records, data, starts, tmp_path, "dump.jsonl")


@pytest.mark.slow
@CASES
@given(records=dumps("listing"))
def test_listing_pages_keep_every_good_record(records, tmp_path):
    count_cases("corrupted listing pages")
    data, starts = _listing(records)
    _check(records, data, starts, tmp_path, "dump.txt")


def test_json_lines_whose_bad_records_are_arrays_stay_json_lines(tmp_path):
    """One good object among array lines is still a JSON Lines file (found by hypothesis)."""
    path = tmp_path / "dump.jsonl"
    path.write_text('{"id": "a", "title": "Title A", "abstract": "Abstract A."}\n'
                    '["Title B", "Abstract B."]\n["Title C", "Abstract C."]\n', encoding="utf-8")
    log = ReadLog()
    assert [p.title for p in read_file(path, log=log)] == ["Title A"]
    assert [line for _, line, _ in log.skipped] == [2, 3]


def test_a_title_starting_with_a_quote_keeps_the_rest_of_a_tsv(tmp_path):
    """The issue's reproduction: a 20-row TSV whose 3rd title starts with a quote."""
    quote = '"'
    rows = ["id\ttitle\tabstract"] + [
        f"{i}\t{quote if i == 3 else ''}Title {i}\tAn abstract long enough to count, number {i}"
        for i in range(1, 21)]
    path = tmp_path / "export.tsv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    log = ReadLog()
    papers = list(read_file(path, log=log))
    assert len(papers) == 20 and log.skipped == []
    assert papers[2].title == '"Title 3'


def test_an_unterminated_quote_is_reported_where_its_record_starts(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id,title,abstract,date\n"
                    "1,One,An abstract long enough to count as one for the reader,2024\n"
                    '2,"Two is broken,An abstract\n'
                    "3,Three,Another abstract long enough to count as one for it,2024\n"
                    '4,Four,"A quoted abstract, with a comma, long enough to count",2024\n',
                    encoding="utf-8")
    log = ReadLog()
    papers = list(read_file(path, log=log))
    assert [p.title for p in papers] == ["One", "Three", "Four"]
    assert [(line, why) for _, line, why in log.skipped] == [
        (3, "malformed CSV (',' expected after '\"')")]


def test_a_labels_file_with_a_bad_byte_on_its_last_line_keeps_the_rest(tmp_path, seed_labels):
    """The issue's reproduction: one non-UTF-8 byte on the last line of a labels file."""
    source = tmp_path / "seed.csv"
    lines = SEED_LABELS.read_bytes().split(b"\n")
    while not lines[-1]:
        lines.pop()
    lines[-1] = lines[-1].replace(b"a", b"\xe9", 1)
    source.write_bytes(b"\n".join(lines) + b"\n")
    papers, problems = check_labels(source, load_taxonomy())
    assert len(papers) == len(seed_labels) - 1
    assert problems == [f"{source}:{len(lines)}: not UTF-8; re-save the file as UTF-8"]


# Streams, damaged bytes, duplicate headers and huge records: each a class of inputs, each
# generated.

def _dump(kind: str, records: list[Record]) -> tuple[bytes, dict[str, int]]:
    return {"csv": lambda r: _csv(r, ","), "jsonl": _jsonl, "listing": _listing}[kind](records)


def _titles(papers) -> list[tuple[str, str]]:
    return [(p.title, p.abstract) for p in papers]


def _fifo_writer(path, data: bytes) -> threading.Thread:
    def write() -> None:
        with open(path, "wb") as fifo:
            fifo.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["csv", "jsonl", "listing"]), data=st.data(),
       compressed=st.booleans(), via=st.sampled_from(["fifo", "stdin"]),
       padding=st.sampled_from([0, 100_000]))
def test_a_stream_reads_as_its_file_does(kind, data, compressed, via, padding, tmp_path):
    """A FIFO or standard input ('-'), maybe gzipped, maybe longer than what is peeked: the
    same papers as the file, checked first and read after without losing the peeked bytes,
    and read again from the spool for two-pass commands."""
    count_cases("streams (FIFO, stdin, gzip)")
    records = [r for r in data.draw(dumps(kind)) if not r.corruption]
    assume(records)  # an empty file is refused, stream or not
    for record in records:
        record.corruption = ""
    content, _ = _dump(kind, records)
    if kind == "jsonl":  # long enough that the reader goes past the peeked bytes
        content += b"\n" * padding
    plain = tmp_path / f"dump.{kind}"
    plain.write_bytes(content)
    expected = _titles(read_file(plain))
    sent = gzip.compress(content) if compressed else content
    with pytest.MonkeyPatch.context() as patch:
        if via == "fifo":
            name = Path(tempfile.mkdtemp(dir=tmp_path)) / "pipe"
            os.mkfifo(name)
            writer = _fifo_writer(name, sent)
        else:
            name = "-"
            patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(sent)))
        [source] = check_inputs([name])
        assert _titles(read_file(source)) == expected
        assert _titles(read_file(source)) == expected  # the second pass reads the spool
        if via == "fifo":
            writer.join(5)


def test_a_fifo_nobody_writes_to_is_refused_not_waited_on(tmp_path, monkeypatch):
    monkeypatch.setattr(sniff_module, "FIFO_WAIT_SECONDS", 0.2)
    os.mkfifo(tmp_path / "p.jsonl")
    with pytest.raises(DumpError) as caught:
        check_inputs([tmp_path / "p.jsonl"])
    assert str(caught.value) == (f"{tmp_path / 'p.jsonl'}: nothing was written to it within "
                                 "0.2 s; start the program that writes to it first")


def test_parquet_on_standard_input_is_refused_with_the_reason(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"PAR1" + b"\0" * 100)))
    with pytest.raises(DumpError, match=r"^-: is Parquet, which cannot be read from a stream"):
        check_inputs(["-"])


class _NothingYet(io.RawIOBase):
    """A non-blocking pipe with nothing written to it yet: each read returns None."""

    def readable(self):
        return True

    def readinto(self, buffer):
        return None


def test_a_non_blocking_empty_standard_input_is_refused_in_one_line(monkeypatch):
    stdin = io.TextIOWrapper(io.BufferedReader(_NothingYet()))
    monkeypatch.setattr(sys, "stdin", stdin)
    with pytest.raises(DumpError, match=r"^-: file is empty"):
        check_inputs(["-"])


DAMAGE = st.binary(min_size=0, max_size=12).map(
    lambda b: bytes(c for c in b if c not in b'\n\r",') + b"\x00")


@pytest.mark.slow
@CASES
@given(kind=st.sampled_from(["csv", "jsonl"]), records=st.data(), damage=DAMAGE,
       where=st.integers(0, 10_000))
def test_a_few_damaged_bytes_cost_one_record(kind, records, damage, where, tmp_path):
    """NUL or random bytes inside one line: that record is reported, every other kept, and
    the file is not taken for binary."""
    count_cases("damaged bytes inside one record")
    drawn = [r for r in records.draw(dumps(kind)) if not r.corruption]
    if len(drawn) < 2:
        return
    victim = drawn[where % len(drawn)]
    victim.corruption = "damaged"
    data, starts = _dump(kind, drawn)
    lines = data.split(b"\n")
    at = starts[victim.id] - 1
    middle = len(lines[at]) // 2
    lines[at] = lines[at][:middle] + damage + lines[at][middle:]
    _check(drawn, b"\n".join(lines), starts, tmp_path, f"dump.{kind}")


@CASES
@given(names=st.lists(st.sampled_from(["id", "title", "abstract", "labels", "date", "x y"]),
                      min_size=2, max_size=6).filter(lambda n: len(set(n)) < len(n)),
       delimiter=st.sampled_from([",", "\t"]))
def test_a_header_naming_a_column_twice_is_refused(names, delimiter, tmp_path):
    """Dumps and labels files: one error at line 1 naming the first repeated column."""
    count_cases("headers naming a column twice")
    columns = ["title", "abstract", *names] if "title" not in names else names
    twice = next(n for i, n in enumerate(columns) if n in columns[:i])
    path = tmp_path / "dump.csv"
    path.write_text(delimiter.join(columns) + "\n" + delimiter.join(["v"] * len(columns))
                    + "\n", encoding="utf-8")
    for read in (lambda: check_inputs([path], fmt="csv"), lambda: read_records(path)):
        with pytest.raises(TaxonomyError) as caught:
            read()
        assert str(caught.value) == (f"{path}:1: the header names column {twice!r} twice; "
                                     "rename or drop one of them")


@CASES
@given(kind=st.sampled_from(["csv", "jsonl", "listing"]),
       sizes=st.lists(st.sampled_from([10, 300, 600, 5_000]), min_size=1, max_size=8))
def test_huge_records_are_cut_or_skipped_and_counted(kind, sizes, tmp_path):
    """With the caps lowered: an abstract over its cap is cut to it and counted; a line over
    the line cap is skipped and reported at its number; every other record is kept whole."""
    count_cases("huge records")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sniff_module, "MAX_LINE_BYTES", 2_000)
        patch.setattr(readers_module, "MAX_ABSTRACT_CHARS", 500)
        records = [Record(f"id{i:03d}", f"Title {i}",
                          " ".join(["Abstract"] * (size // 9 + 12)), "")
                   for i, size in enumerate(sizes)]
        data, starts = _dump(kind, records)
        path = tmp_path / "dump"
        path.write_bytes(data)
        log = ReadLog()
        try:
            papers = list(read_file(path, log=log))
        except DumpError:
            assert all(len(r.abstract) > 1_900 for r in records)
            return
    skipped = {line for _, line, _ in log.skipped}
    ends = [starts[r.id] for r in records[1:]] + [10**9]
    hit = {r.id for r, end in zip(records, ends, strict=True)
           if any(starts[r.id] <= line < end for line in skipped)}  # one of its lines skipped
    kept = [r for r in records if r.id not in hit]
    assert all(len(r.abstract) > 1_900 for r in records if r.id in hit)
    assert [p.title for p in papers] == [r.title for r in kept]
    assert [p.abstract for p in papers] == [r.abstract[:500] for r in kept]
    assert len(log.truncated) == sum(len(r.abstract) > 500 for r in kept)


@pytest.mark.slow
def test_one_200_mb_record_reads_in_little_memory(tmp_path):
    path = tmp_path / "huge.jsonl"
    good = json.dumps({"title": "Good", "abstract": "An abstract long enough to count. " * 3})
    with open(path, "w", encoding="utf-8") as out:
        out.write(good + "\n")
        out.write('{"title": "Huge", "abstract": "')
        for _ in range(200):
            out.write("word " * 200_000)  # 1 MB
        out.write('"}\n' + good.replace("Good", "Also good") + "\n")
    # The peak is measured in a fresh process of its own: RUSAGE_CHILDREN of this one would
    # also hold any larger run this test process waited for before.
    measure = ("import resource, subprocess, sys; "
               "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "sys.stderr.write(done.stderr); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); "
               "sys.exit(done.returncode)")
    done = subprocess.run([sys.executable, "-c", measure, sys.executable, "-m", "taxonomy",
                           "parse", str(path), "-o", str(tmp_path / "out.csv")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "huge.jsonl:2 (a line longer than 8 MB)" in done.stderr
    peak_mb = float(done.stdout)
    assert peak_mb < 500, peak_mb
