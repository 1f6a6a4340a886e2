"""`taxonomy parse`, run in-process: outputs, warnings, and one-line errors."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from taxonomy.io.papers import parse_papers
from taxonomy.io.readers import read_file
from taxonomy.io.records import PAPER_COLUMNS

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "readers"
DUMPS = [ROOT / "data" / "dumps" / "000_b1094c3f7ed4a1c2.txt",
         ROOT / "data" / "dumps" / "003_3554e63a31bf0460.txt"]
BAD = sorted(p for p in (DATA / "bad").iterdir() if p.suffix != ".error")
REFERENCE = ["--reference-date", "2026-11-22"]


def _assert_one_error_line(result, message: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"taxonomy: error: {message}\n"
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def seed_papers():
    papers, log = parse_papers(DUMPS, reference_date=dt.date(2026, 11, 22))
    assert (len(papers), log.repeats) == (208, 4)
    return [p.to_dict() for p in papers]


# -- outputs ------------------------------------------------------------------------------------

def test_parse_to_jsonl_writes_208_records_matching_the_dumps(cli, tmp_path, seed_papers):
    out = tmp_path / "out.jsonl"
    result = cli("parse", *DUMPS, "-o", out, *REFERENCE)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"wrote 208 papers to {out} (4 repeats merged)\n"
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows == seed_papers
    lines = {ln for path in DUMPS for ln in path.read_text(encoding="utf-8").split("\n")}
    assert all(row["title"] in lines and row["abstract"] in lines for row in rows)
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temp file left behind


def _csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for column in ("n_authors", "upvotes"):
            row[column] = int(row[column]) if row[column] else None
    return rows


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_parse_to_csv_and_parquet_writes_the_same_records(cli, suffix, tmp_path, seed_papers):
    out = tmp_path / f"out{suffix}"
    result = cli("parse", *DUMPS, "-o", out, *REFERENCE)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"wrote 208 papers to {out} (4 repeats merged)\n"
    if suffix == ".csv":
        with open(out, encoding="utf-8", newline="") as handle:
            assert next(csv.reader(handle)) == list(PAPER_COLUMNS)
        rows = _csv_rows(out)
    else:
        rows = pq.read_table(out).to_pylist()
    assert rows == seed_papers
    # the output is itself a dump the readers take back, with the same ids
    again = list(read_file(out, reference_date=dt.date(2026, 11, 22)))
    assert [p.to_dict() | {"source": ""} for p in again] == [
        r | {"source": ""} for r in seed_papers]


def test_parse_without_output_prints_a_table_and_the_count(cli):
    result = cli("parse", *DUMPS, *REFERENCE)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.split("\n")
    assert lines[0] == "id             date       title"
    assert lines[-2:] == ["208 papers (4 repeats merged)", ""]
    assert len(lines) == 211
    assert lines[1] == ("33956ebe090e   2025-03-07 Training and Inference Efficiency of "
                        "Encoder-Decoder Speech Models")
    assert "5a016e64a3f3   2026-01-20 Jet-RL: Enabling On-Policy FP8 Reinforcement Learning with "\
           "Unified Tr…" in lines
    assert "83f80633b0c8   -          Boosting Large-scale Parallel Training Efficiency with C4: "\
           "A Communic…" in lines


def test_bad_records_are_kept_out_and_reported_with_file_and_line(cli, tmp_path):
    sample = DATA / "hf_papers.jsonl"
    out = tmp_path / "out.jsonl"
    result = cli("parse", sample, "-o", out, *REFERENCE)
    assert result.returncode == 0
    assert result.stdout == f"wrote 4 papers to {out}\n"
    assert result.stderr == (f"warning: skipped 3 bad record(s): {sample}:5 (not valid JSON), "
                             f"{sample}:6 (not a JSON object), {sample}:7 (no abstract)\n")
    expected = json.loads(sample.with_suffix(".expected.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r | {"source": ""} for r in rows] == [
        r | {"source": ""} for r in expected["records"]]


def test_gzipped_dumps_without_gz_names_parse_the_same(cli, tmp_path, seed_papers):
    copies = []
    for path in DUMPS:
        copy = tmp_path / path.name  # still named .txt
        copy.write_bytes(gzip.compress(path.read_bytes(), mtime=0))
        copies.append(copy)
    out = tmp_path / "out.jsonl"
    result = cli("parse", *copies, "-o", out, *REFERENCE)
    assert (result.returncode, result.stderr) == (0, "")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r | {"source": ""} for r in rows] == [r | {"source": ""} for r in seed_papers]


# -- bad input: one line on stderr naming the file, exit code 2, no traceback ----------------------

@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_input_file_is_one_error_line(cli, path):
    message = path.with_suffix(".error").read_text(encoding="utf-8").strip()
    _assert_one_error_line(cli("parse", path), message.format(path=path))


def _truncated_gzip(path: Path) -> None:
    data = gzip.compress(DUMPS[1].read_bytes(), mtime=0)
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: None, "no such file; check the path"),
    (lambda p: p.mkdir(), "is a directory; give the dump files inside it"),
    (_truncated_gzip, "gzip data is truncated or corrupt; re-download the dump"),
], ids=["missing", "directory", "truncated-gzip"])
def test_unreadable_input_is_one_error_line(cli, make, message, tmp_path):
    path = tmp_path / "dump.txt"
    make(path)
    _assert_one_error_line(cli("parse", path), f"{path}: {message}")


def test_a_bad_second_input_stops_the_run_after_the_first_was_read(cli, tmp_path):
    # the first dump reads fine; the run still fails as a whole and writes nothing
    out = tmp_path / "out.jsonl"
    bad = DATA / "bad" / "binary.png"
    result = cli("parse", DUMPS[0], bad, "-o", out)
    _assert_one_error_line(result, f"{bad}: looks binary, not a text dump; give a listing page, "
                                   "JSONL or CSV")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_is_one_error_line(cli, tmp_path):
    (tmp_path / "a-file").write_text("not a directory\n", encoding="utf-8")
    out = tmp_path / "a-file" / "out.csv"
    result = cli("parse", DUMPS[1], "-o", out)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"taxonomy: error: {out}: cannot write here (")
    assert result.stderr.endswith("); choose a writable location\n")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(("name", "message"), [
    ("out.xlsx", "unknown output type '.xlsx'; name the file *.csv, *.jsonl or *.parquet"),
    ("out", "unknown output type '(none)'; name the file *.csv, *.jsonl or *.parquet"),
    ("folder.csv", "is a directory; give a file name"),
    ("folder", "is a directory; give a file name"),
])
def test_bad_output_name_is_one_error_line(cli, name, message, tmp_path):
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "folder").mkdir()
    out = tmp_path / name
    _assert_one_error_line(cli("parse", DUMPS[1], "-o", out), f"{out}: {message}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "folder.csv"]


def test_a_symlink_loop_is_called_one(cli, tmp_path):
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    _assert_one_error_line(cli("parse", tmp_path / "loop.txt", "-o", tmp_path / "o.csv"),
                           f"{tmp_path / 'loop.txt'}: is a symlink loop; point the link at a "
                           "real file")


def test_a_format_the_file_does_not_have_says_check_format(cli, tmp_path):
    path = tmp_path / "dump.csv"
    path.write_text("title,abstract\nA title,An abstract of a few words\n", encoding="utf-8")
    _assert_one_error_line(cli("parse", "--format", "jsonl", path, "-o", tmp_path / "o.csv"),
                           f"{path}:1: does not look like JSON Lines (no JSON object in its "
                           "first lines); check --format")


@pytest.mark.slow
def test_standard_input_is_read_as_a_stream(entry_point, tmp_path):
    """'-' on the real command, gzipped, longer than what is peeked, read twice by parse."""
    import gzip

    dump = DUMPS[0].read_bytes()
    result = entry_point("parse", "-", "-o", tmp_path / "o.csv",
                         input=gzip.compress(dump * 40).decode("latin-1"),
                         encoding="latin-1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote ") and "repeats merged" in result.stdout


@pytest.mark.parametrize("inputs", [
    ["missing.txt"],
    [DUMPS[0], DATA / "bad" / "latin1.txt"],
    [DUMPS[0], DUMPS[1], DATA / "bad" / "no_abstract.csv"],
], ids=["missing", "latin1-second", "no-abstract-third"])
def test_failed_run_leaves_an_existing_output_untouched(cli, inputs, tmp_path):
    out = tmp_path / "out.csv"
    before = b"id,title\nkeep,these exact bytes\r\n"
    out.write_bytes(before)
    result = cli("parse", *inputs, "-o", out, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("taxonomy: error: ") and result.stderr.count("\n") == 1
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_dump_whose_only_problem_is_a_cut_title_gets_its_warning(cli, tmp_path):
    """The warning line once showed only with skipped records, so a cut alone went untold."""
    dump = tmp_path / "long.jsonl"
    dump.write_text(json.dumps({"id": "x1", "title": "T" * 2_001, "abstract": "An abstract."})
                    + "\n", encoding="utf-8")
    result = cli("parse", dump, "-o", tmp_path / "out.csv")
    assert result.returncode == 0
    assert result.stderr == ("warning: cut 1 over-long title(s) or abstract(s) to 2,000 and "
                             f"1,048,576 characters: {dump}:1\n")
