"""``exclusive``: runs that read-modify-write one file take turns, a waiting run says so,
and no lock file is left behind."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from taxonomy.errors import OutputError
from taxonomy.io import atomic
from taxonomy.io.atomic import atomic_dir, exclusive, write_text


def _add(path: str, times: int) -> None:
    for _ in range(times):
        with exclusive(path):
            count = int(Path(path).read_text()) if Path(path).exists() else 0
            time.sleep(0.001)  # widen the window a lost update would need
            write_text(path, str(count + 1))


def test_concurrent_writers_take_turns_and_leave_no_lock_file(tmp_path):
    out = tmp_path / "count.txt"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add, args=(str(out), 30)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * 4
    assert out.read_text() == "120"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["count.txt"]


def test_a_waiting_run_says_so_once_and_goes_on_when_the_holder_is_done(tmp_path):
    out = tmp_path / "tags.csv"
    held, told, done = threading.Event(), [], []

    def other_run() -> None:
        held.wait(10)
        with exclusive(out, lambda: told.append("waiting")):
            done.append(time.monotonic())

    thread = threading.Thread(target=other_run)
    thread.start()
    with exclusive(out, lambda: told.append("unexpected")):
        held.set()
        time.sleep(0.5)
        released = time.monotonic()
    thread.join(10)
    assert told == ["waiting"] and done and done[0] >= released
    assert list(tmp_path.iterdir()) == []


def test_a_lock_file_a_killed_run_left_is_taken_and_removed(tmp_path):
    out = tmp_path / "tags.csv"
    (tmp_path / ".tags.csv.lock").write_text("")
    with exclusive(out, lambda: pytest.fail("nobody holds it")):
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(OutputError, match="is a directory"), exclusive(tmp_path):
        pass


def test_a_folder_is_flushed_to_disk_with_its_subfolders_before_it_is_swapped_in(
        tmp_path, monkeypatch):
    flushed = []
    monkeypatch.setattr(atomic, "_fsync", lambda path: flushed.append(path.name))
    with atomic_dir(tmp_path / "out", owned=lambda name: True) as tmp:
        (tmp / "feeds").mkdir()
        (tmp / "feeds" / "all.xml").write_text("<feed/>")
        (tmp / "digest.md").write_text("# digest")
    assert {"feeds", "all.xml", "digest.md"} <= set(flushed)
    assert (tmp_path / "out" / "feeds" / "all.xml").read_text() == "<feed/>"
