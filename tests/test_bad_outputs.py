"""Outputs and inputs that used to lose data or end in a traceback: each is now one line on
stderr with exit code 2, or the complete right result."""

from __future__ import annotations

import socket
import threading

import pandas as pd
import pytest
from conftest import DUMPS, ROOT, SEED_LABELS


def _one_line(result, *parts: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("taxonomy: error: ")
    for part in parts:
        assert part in result.stderr
    assert "Traceback" not in result.stderr


def test_only_new_refuses_a_table_with_other_columns(cli, tmp_path):
    out = tmp_path / "tags.csv"
    assert cli("tag", DUMPS[1], "-o", out, "-q").returncode == 0
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    table.drop(columns="score_memory").to_csv(out, index=False)  # an older taxonomy's table
    before = out.read_bytes()
    _one_line(cli("tag", DUMPS[0], "--only-new", out), "has other columns than this model",
              "it lacks score_memory", "tag into a new file with -o")
    assert out.read_bytes() == before
    parsed = tmp_path / "papers.csv"
    assert cli("parse", DUMPS[1], "-o", parsed, "-q").returncode == 0
    _one_line(cli("tag", DUMPS[0], "--only-new", parsed), "is not a table written by "
              "'taxonomy tag'")


@pytest.mark.parametrize("content", [b"PAR1 not really parquet", b"\x00\x01binary\xff\xfe"],
                         ids=["corrupt-parquet", "binary-csv"])
def test_only_new_refuses_a_damaged_table(cli, tmp_path, content):
    out = tmp_path / ("tags.parquet" if content.startswith(b"PAR1") else "tags.csv")
    out.write_bytes(content)
    _one_line(cli("tag", DUMPS[1], "--only-new", out), str(out))
    assert out.read_bytes() == content


@pytest.mark.parametrize("command", ["tag", "parse"])
def test_an_output_that_is_an_input_is_refused(cli, tmp_path, command):
    dump = tmp_path / "d.jsonl"
    dump.write_text('{"title": "A title", "abstract": "An abstract of twelve words or more '
                    'so that it reads as one."}\n', encoding="utf-8")
    before = dump.read_bytes()
    _one_line(cli(command, dump, "-o", dump), "is also an input")
    assert dump.read_bytes() == before


def test_a_report_folder_holding_an_input_is_refused(cli, tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    tags = folder / "tags.csv"
    assert cli("tag", DUMPS[1], "-o", tags, "-q").returncode == 0
    _one_line(cli("report", tags, "-o", folder), "is also an input")
    assert tags.exists()


def test_a_report_folder_with_other_files_is_never_replaced(cli, tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n")
    _one_line(cli("report", DUMPS[1], "-o", tmp_path), "holds files this command did not "
              "write (notes.txt)", "give an empty or new folder")
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


def test_a_missing_compare_table_is_named_as_missing(cli, tmp_path):
    _one_line(cli("report", DUMPS[1], "--compare", tmp_path / "old.csv", "-o",
                  tmp_path / "r"), "old.csv: no such file")


def test_every_input_is_checked_before_any_work(cli, tmp_path):
    bad = tmp_path / "second.csv"
    bad.write_bytes(b"")
    missing = tmp_path / "third.jsonl"
    _one_line(cli("tag", DUMPS[0], bad, missing, "-o", tmp_path / "t.csv"),
              f"{bad}: file is empty", "and 1 more input(s) with problems")
    assert not (tmp_path / "t.csv").exists()


@pytest.mark.parametrize("header", ["name,text", "id\tsummary\tyear", "paper_id;body"])
def test_a_table_without_title_is_refused_before_the_other_inputs_are_read(cli, tmp_path,
                                                                           header):
    bad = tmp_path / "bad.csv"
    delimiter = "\t" if "\t" in header else ";" if ";" in header else ","
    row = delimiter.join(["x"] * (header.count(delimiter) + 1))
    bad.write_text("\n".join([header, row, row, row]) + "\n", encoding="utf-8")
    _one_line(cli("tag", DUMPS[0], bad, "-o", tmp_path / "t.csv"),
              f"{bad}:1: CSV header has no 'title'")
    assert not (tmp_path / "t.csv").exists()


def test_a_small_input_without_papers_is_refused_by_the_check(tmp_path):
    from taxonomy.errors import DumpError
    from taxonomy.io.readers import check_inputs

    bad = tmp_path / "notes.txt"
    bad.write_text("just a note\n\nanother short line\n", encoding="utf-8")
    with pytest.raises(DumpError, match=r"no papers found \(expected a copied paper-listing"):
        check_inputs([DUMPS[0], bad])


def test_utf16_and_semicolon_exports_read(cli, tmp_path):
    text = ("id;title;abstract\n"
            "1;Ünïcode title;An abstract with enough words to be read as the paper's one\n")
    utf16 = tmp_path / "excel.csv"
    utf16.write_bytes(text.encode("utf-16"))
    result = cli("parse", utf16)
    assert result.returncode == 0, result.stderr
    assert "Ünïcode title" in result.stdout
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(text.encode("latin-1"))
    _one_line(cli("parse", latin1), "(not UTF-8)", "--encoding latin-1")
    assert "Ünïcode title" in cli("parse", latin1, "--encoding", "latin-1").stdout


def test_train_refuses_labels_without_a_single_positive(cli, tmp_path):
    labels = pd.read_csv(SEED_LABELS, dtype=str, keep_default_na=False)
    labels["labels"] = ""
    labels.to_csv(tmp_path / "empty.csv", index=False)
    _one_line(cli("train", "--labels", tmp_path / "empty.csv", "-o", tmp_path / "m"),
              "cannot train: no paper is labeled memory, communication")
    assert not (tmp_path / "m" / "efficiency.joblib").exists()


def _silent_server() -> tuple[socket.socket, int]:
    """A TCP port that accepts connections and never says anything (like an HTTP server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def accept() -> None:
        held = []
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server, server.getsockname()[1]


@pytest.mark.parametrize("address, message", [
    ("nonsense", "is not 'local' or an address like tcp://host:8786"),
    ("tcp://127.0.0.1:1", "cannot reach the dask scheduler"),
    ("SILENT", "answers but is not a dask scheduler"),
])
def test_a_wrong_scheduler_is_one_line_within_seconds(cli, tmp_path, address, message):
    pytest.importorskip("dask.distributed")
    server = None
    if address == "SILENT":
        server, port = _silent_server()
        address = f"tcp://127.0.0.1:{port}"
    try:
        _one_line(cli("tag", DUMPS[1], "-o", tmp_path / "t.csv", "--scheduler", address),
                  message)
    finally:
        if server is not None:
            server.close()


def test_the_readme_states_the_promises_and_their_tests():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## What the tool promises"):]
    for module in ("test_faults_records.py", "test_faults_runs.py", "test_bad_outputs.py"):
        assert module in section
        assert (ROOT / "tests" / module).is_file()
