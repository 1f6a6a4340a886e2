"""Fault injection into runs: signals at random points, concurrent writers, a full disk.

Invariants, each checked on the real command in a subprocess:
- killed by SIGINT, SIGTERM or SIGKILL at any point of `tag`, `tag --only-new`, `report` or
  `train`, the previous outputs are byte-identical or the new ones complete; SIGINT and
  SIGTERM end with one line and exit 130 / 143, never a traceback;
- no temp file and no worker process survives the next run (workers die with their parent);
- concurrent `--only-new` writers lose no row and duplicate none;
- a full disk (a file-size limit) gives one line, exit 2, and leaves the old files intact.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
from conftest import DUMPS, console_script, count_cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="uses /proc, signals and rlimits")]

# Papers in the big dump: more than the 4 chunks of 4,000 tagged in-process, so a run starts
# worker processes before it finishes.
BIG = 24_000
SIGNALS = st.sampled_from([signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
RUNS = settings(max_examples=3, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _command() -> list[str]:
    script = console_script()
    return [script] if script else [sys.executable, "-m", "taxonomy"]


def _papers(n: int, prefix: str, seed: int, seed_labels) -> list[dict]:
    rng = random.Random(seed)
    sentences = [s.strip() + "." for a in seed_labels.abstracts for s in a.split(". ")]
    words = [w for t in seed_labels.titles for w in t.split()]
    return [{"id": f"{prefix}-{i}", "title": " ".join(rng.choices(words, k=8)) + f" {prefix}{i}",
             "abstract": " ".join(rng.choices(sentences, k=6))} for i in range(n)]


def _jsonl(path: Path, papers: list[dict]) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in papers), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory, seed_labels, small_project) -> dict[str, Path]:
    """The inputs, an older tags file to append to, and a small project to train in."""
    root = tmp_path_factory.mktemp("faults")
    found = {"big": _jsonl(root / "big.jsonl", _papers(BIG, "big", 1, seed_labels)),
             "small": _jsonl(root / "small.jsonl", _papers(300, "small", 2, seed_labels))}
    found["home"], found["labels"] = small_project, small_project / "labels" / "seed.csv"
    assert _run(["tag", found["small"], "-o", root / "previous.csv"], root).returncode == 0
    found["previous.csv"] = root / "previous.csv"
    return found


def _complete(path: Path, ids: set[str]) -> bool:
    """True when the table at ``path`` holds exactly ``ids``, each once, every row whole."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return (table["id"].is_unique and set(table["id"]) == ids
            and (table["model_version"] != "").all())


def _run(args: list, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*_command(), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300, **kwargs)


def _interrupt(args: list, cwd: Path, signum: int, delay: float | str
               ) -> tuple[int, str, str]:
    """Start a run and send ``signum`` after ``delay`` seconds, or ("workers") as soon as its
    worker processes run; its exit code, stderr, and the marker its processes carry in their
    environment."""
    marker = uuid.uuid4().hex
    process = subprocess.Popen([*_command(), *map(str, args)], cwd=cwd, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "TAXONOMY_FAULT_RUN": marker},
                               start_new_session=True)
    if delay == "workers":
        while process.poll() is None and len(_survivors(marker)) < 2:
            time.sleep(0.05)
    else:
        # From the moment the run's first line has set its handlers: before it, the
        # interpreter itself is starting, as for any Python program (a busy machine can
        # take more than the shortest delay to get there).
        while process.poll() is None and not _catches(process.pid, signal.SIGTERM):
            time.sleep(0.01)
        time.sleep(float(delay))
    if process.poll() is None:
        if signum == signal.SIGINT:
            os.killpg(process.pid, signum)  # as a terminal's Ctrl-C: the whole group
        else:
            os.kill(process.pid, signum)  # as timeout, Slurm or the OOM killer: the parent
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr, marker


def _catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (its SigCgt mask in /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt"))
    return bool(int(caught, 16) >> (signum - 1) & 1)


def _survivors(marker: str) -> list[int]:
    """Live processes whose environment carries ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


def _no_survivors(marker: str) -> None:
    for _ in range(50):  # workers notice their parent's death within a second or two
        if not _survivors(marker):
            return
        time.sleep(0.1)
    assert _survivors(marker) == []


def _litter(folder: Path) -> list[str]:
    """This tool's temp files and folders anywhere below ``folder``."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*")
                  if p.name.endswith((".tmp", ".old")))


def _check_ending(code: int, stderr: str, signum: int) -> None:
    assert "Traceback" not in stderr, stderr
    if code == 0:
        return  # it finished before the signal
    expected = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -9}[signum]
    assert code == expected, (code, stderr)
    if signum != signal.SIGKILL:
        assert stderr.strip().splitlines()[-1].endswith(
            "existing outputs were left as they were"), stderr


# When to send the signal: a random moment (reading, tagging in this process, writing), or
# just after the worker processes started.
MOMENTS = st.floats(0.2, 3.5)
WORKERS_RUNNING = [pytest.param(s, id=s.name) for s in (signal.SIGINT, signal.SIGTERM,
                                                         signal.SIGKILL)]


@pytest.mark.parametrize("signum", WORKERS_RUNNING)
def test_tag_killed_while_workers_run(data, tmp_path_factory, signum):
    test_tag_killed_anywhere.hypothesis.inner_test(data, tmp_path_factory, signum, "workers")


@pytest.mark.parametrize("signum", WORKERS_RUNNING)
def test_tag_only_new_killed_while_workers_run(data, tmp_path_factory, signum):
    test_tag_only_new_killed_anywhere.hypothesis.inner_test(data, tmp_path_factory, signum,
                                                            "workers")


@settings(RUNS, max_examples=2)
@given(signum=SIGNALS, delay=MOMENTS)
def test_tag_killed_anywhere(data, tmp_path_factory, signum, delay):
    count_cases("tag runs killed by a signal")
    work = tmp_path_factory.mktemp("tag")
    out = work / "tags.csv"
    shutil.copy(data["previous.csv"], out)
    code, stderr, marker = _interrupt(["tag", data["big"], "-o", out, "-q"], work, signum,
                                      delay)
    _check_ending(code, stderr, signum)
    assert (out.read_bytes() == data["previous.csv"].read_bytes()
            or _complete(out, {f"big-{i}" for i in range(BIG)}))
    _no_survivors(marker)
    assert _run(["tag", data["small"], "-o", out, "-q"], work).returncode == 0  # the next run
    assert _litter(work) == []


@settings(RUNS, max_examples=1)
@given(signum=SIGNALS, delay=MOMENTS)
def test_tag_only_new_killed_anywhere(data, tmp_path_factory, signum, delay):
    count_cases("tag --only-new runs killed by a signal")
    work = tmp_path_factory.mktemp("only-new")
    out = work / "tags.csv"
    shutil.copy(data["previous.csv"], out)
    code, stderr, marker = _interrupt(["tag", data["big"], "--only-new", out, "-q"], work,
                                      signum, delay)
    _check_ending(code, stderr, signum)
    previous = data["previous.csv"].read_bytes()
    if out.read_bytes() != previous:
        assert out.read_bytes().startswith(previous)  # the old rows, byte for byte, first
        assert _complete(out, {f"big-{i}" for i in range(BIG)} | {f"small-{i}" for i in
                                                                   range(300)})
    _no_survivors(marker)
    assert _run(["tag", data["small"], "--only-new", out, "-q"], work).returncode == 0
    assert _litter(work) == []


@pytest.fixture(scope="module")
def earlier_report(data, tmp_path_factory) -> Path:
    """A folder holding a finished report (reports/) of the older tags file: each example of
    the test below starts from a copy of it rather than running that report again."""
    work = tmp_path_factory.mktemp("earlier-report")
    assert _run(["report", data["previous.csv"], "-o", "reports", "-q"], work).returncode == 0
    return work


@settings(RUNS, max_examples=2)
@given(signum=SIGNALS, delay=st.floats(0.3, 2.5))
def test_report_killed_anywhere(data, earlier_report, tmp_path_factory, signum, delay):
    count_cases("report runs killed by a signal")
    work = tmp_path_factory.mktemp("report")
    shutil.copytree(earlier_report, work, dirs_exist_ok=True)
    before = {p.name: p.read_bytes() for p in (work / "reports").iterdir()}
    code, stderr, marker = _interrupt(["report", *DUMPS, "-o", "reports", "-q"], work,
                                      signum, delay)
    _check_ending(code, stderr, signum)
    after = {p.name: p.read_bytes() for p in (work / "reports").iterdir()}
    if after != before:  # replaced as a whole: none of the old files is left
        assert set(after) == set(before) - {"compare.csv", "new_papers.csv"}, (code, after)
        assert after["categories.csv"] != before["categories.csv"], code
    _no_survivors(marker)
    assert _run(["report", data["previous.csv"], "-o", "reports", "-q"], work).returncode == 0
    assert _litter(work) == []


@settings(RUNS, max_examples=2)
@given(signum=SIGNALS, delay=st.floats(0.5, 4.0))
def test_train_killed_anywhere(data, tmp_path_factory, monkeypatch, signum, delay):
    count_cases("train runs killed by a signal")
    # What is written matters here, not what is learned: the small project's fits are quick.
    monkeypatch.setenv("TAXONOMY_HOME", str(data["home"]))
    work = tmp_path_factory.mktemp("train")
    for suffix in (".joblib", ".json"):
        shutil.copy(DUMPS[0].parent.parent.parent / "models" / f"efficiency{suffix}",
                    work / f"efficiency{suffix}")
    before = {p.name: p.read_bytes() for p in work.iterdir()}
    args = ["train", "--labels", data["labels"], "-o", work, "--folds", "2", "--repeats", "1",
            "--force", "-q"]
    code, stderr, marker = _interrupt(args, work, signum, delay)
    _check_ending(code, stderr, signum)
    after = {p.name: p.read_bytes() for p in work.iterdir() if not p.name.startswith(".")}
    if after != before:  # a new model: its card names the new file's sha256
        card = json.loads(after["efficiency.json"])
        assert card["training_papers"] == len(pd.read_csv(data["labels"]))
        import hashlib
        assert hashlib.sha256(after["efficiency.joblib"]).hexdigest() == card["joblib_sha256"]
    _no_survivors(marker)
    assert _run(args, work).returncode == 0
    assert _litter(work) == []


@pytest.mark.parametrize("writers", [2, 4])
def test_concurrent_only_new_writers_lose_and_duplicate_nothing(tmp_path, seed_labels,
                                                                writers):
    count_cases("concurrent --only-new writers")
    out = tmp_path / "tags.csv"
    assert _run(["tag", DUMPS[1], "-o", out, "-q"], tmp_path).returncode == 0
    inputs = [_jsonl(tmp_path / f"w{i}.jsonl", _papers(1000, f"w{i}", 10 + i, seed_labels))
              for i in range(writers)]
    processes = [subprocess.Popen([*_command(), "tag", str(path), "--only-new", str(out),
                                   "-q"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
                 for path in inputs]
    errors = [p.communicate(timeout=300)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * writers, errors
    ids = pd.read_csv(out, dtype=str)["id"]
    assert ids.is_unique
    assert len(ids) == 48 + 1000 * writers
    assert _litter(tmp_path) == []


def _limited(size: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
    return limit


@pytest.mark.parametrize("command", [
    ["tag", "{big}", "-o", "out.csv"],
    ["tag", "{big}", "-o", "out.jsonl"],
    ["tag", "{big}", "-o", "out.parquet"],
    ["tag", "{big}", "--only-new", "out.csv"],
    ["parse", "{big}", "-o", "out.csv"],
    ["report", "{big}", "-o", "out"],
    ["train", "--labels", "{labels}", "-o", "out", "--folds", "2", "--repeats", "1"],
    ["train", "--labels", "{labels}", "-o", "new/out", "--folds", "2", "--repeats", "1"],
], ids=["tag-csv", "tag-jsonl", "tag-parquet", "only-new", "parse", "report", "train",
        "train-new-folder"])
def test_a_full_disk_is_one_line_and_keeps_the_old_files(data, tmp_path, monkeypatch,
                                                          command):
    count_cases("runs on a full disk")
    if command[0] == "train":  # the small project's model is still larger than the limit
        monkeypatch.setenv("TAXONOMY_HOME", str(data["home"]))
    args = [str(a).format(big=data["big"], labels=data["labels"]) for a in command]
    target = tmp_path / args[args.index("-o") + 1 if "-o" in args else -1]
    if target.suffix:
        shutil.copy(data["previous.csv"], target)
    elif target.parent == tmp_path:
        target.mkdir()
        (target / "coverage.md").write_text("an older report\n")
    before = {p: p.read_bytes() for p in ([target] if target.is_file() else
                                          target.iterdir() if target.exists() else [])}
    result = _run(args, tmp_path, preexec_fn=_limited(200_000))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    # the output is named (a report names the temp folder it tags raw dumps in)
    assert result.stderr.startswith(f"taxonomy: error: {args[args.index('-o') + 1]}"
                                    if "-o" in args and args[0] != "report"
                                    else "taxonomy: error: ")
    assert ".tmp" not in result.stderr  # the destination is named, never a temp file
    assert {p: p.read_bytes() for p in before} == before
    assert _litter(tmp_path) == []
    assert not (tmp_path / "new").exists()  # folders made for the output are removed


def test_a_dask_run_stopped_by_sigterm_says_one_line(data, tmp_path):
    """Stopping a run on a local dask cluster while its workers score: one line, and none of
    the workers' log lines about their cancelled tasks."""
    pytest.importorskip("distributed")
    marker = uuid.uuid4().hex
    process = subprocess.Popen([*_command(), "tag", str(data["big"]), "-o", "out.csv",
                                "--scheduler", "local"], cwd=tmp_path, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "TAXONOMY_FAULT_RUN": marker})
    while process.poll() is None and len(_survivors(marker)) < 3:
        time.sleep(0.05)
    time.sleep(4)  # the workers are scoring chunks by now
    if process.poll() is not None:
        pytest.skip("the run finished before it could be stopped")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143
    assert stderr.endswith("taxonomy: stopped by SIGTERM; existing outputs were left as they "
                           "were\n"), stderr
    assert "CancelledError" not in stderr and "Traceback" not in stderr, stderr
    _no_survivors(marker)
