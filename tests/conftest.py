"""Shared test settings, data and helpers.

Hypothesis runs with a fixed seed, so every run checks the same cases. ``cli`` runs the
`taxonomy` command in this process (``main([...])``) and returns its exit code and output;
``entry_point`` runs the installed console script, for the one smoke test per command.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("fixed", derandomize=True, deadline=None)
settings.load_profile("fixed")

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
DUMPS = sorted((ROOT / "data" / "dumps").glob("*.txt"))
SEED_LABELS = ROOT / "labels" / "seed.csv"
MODEL = ROOT / "models" / "efficiency.joblib"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def taxonomy_():
    from taxonomy.labels.categories import load_taxonomy

    return load_taxonomy()


@pytest.fixture(scope="session")
def seed_labels(taxonomy_):
    from taxonomy.labels.labelfile import load_labels

    return load_labels(SEED_LABELS, taxonomy_)


@pytest.fixture(scope="session")
def small_project(tmp_path_factory, taxonomy_) -> Path:
    """A project directory (for TAXONOMY_HOME) holding every third row of each shipped label
    file, for tests of what a run writes rather than what the model learns: its fits take a
    fraction of the time. Every category keeps at least MIN_SUPPORT hand labels."""
    import pandas as pd

    from taxonomy.labels.indicator import split_labels
    from taxonomy.labels.labelfile import MIN_SUPPORT

    home = tmp_path_factory.mktemp("small-project")
    (home / "labels").mkdir()
    for name in ("seed", "contrastive", "stress", "near-miss"):
        rows = pd.read_csv(ROOT / "labels" / f"{name}.csv", dtype=str, keep_default_na=False)
        keep = rows.index % 3 == 0
        if name == "seed":  # and every paper of a category that would fall short
            labels = rows["labels"].map(split_labels)
            counts = labels[keep].explode().value_counts()
            short = {c for c in taxonomy_.ids if counts.get(c, 0) < MIN_SUPPORT}
            keep |= labels.map(short.intersection).astype(bool).to_numpy()
        rows[keep].to_csv(home / "labels" / f"{name}.csv", index=False)
    return home


@pytest.fixture()
def cli(capsys, monkeypatch, tmp_path):
    """Run `taxonomy ARGS...` in this process, in ``cwd`` (default: an empty directory)."""
    from taxonomy.cli import main

    def run(*args: object, cwd: Path | None = None) -> Result:
        monkeypatch.chdir(cwd or tmp_path)
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:  # argparse: --help, --version, usage errors
            code = exit_.code if isinstance(exit_.code, int) else 1
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


def console_script() -> str | None:
    """The installed `taxonomy` command beside this Python, if there is one."""
    script = Path(sys.executable).parent / "taxonomy"
    return str(script) if script.exists() else shutil.which("taxonomy")


@pytest.fixture()
def entry_point(tmp_path):
    """Run the installed `taxonomy` command in ``cwd`` (default: an empty directory)."""
    script = console_script()
    if script is None:
        pytest.skip("the package is not installed as a console script here")

    def run(*args: object, cwd: Path | None = None, **kwargs: object) -> Result:
        done = subprocess.run([script, *map(str, args)], capture_output=True, text=True,
                              cwd=cwd or tmp_path, timeout=300, **kwargs)
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="session")
def synthetic_papers(seed_labels) -> list[tuple[str, str]]:
    """3,000 (title, abstract) pairs recombined from the hand-labeled papers' sentences."""
    sentences = [s.strip() + "." for a in seed_labels.abstracts for s in a.split(". ")
                 if s.strip()]
    words = [w for t in seed_labels.titles for w in t.split()]
    rng = random.Random(0)
    return [(" ".join(rng.choices(words, k=rng.randint(4, 12))),
             " ".join(rng.choices(sentences, k=rng.randint(3, 9)))) for _ in range(3000)]


_CASES: dict[str, int] = {}


def count_cases(kind: str) -> None:
    """Count one generated fault-injection case of ``kind`` (reported after the run)."""
    _CASES[kind] = _CASES.get(kind, 0) + 1


def pytest_sessionfinish(session) -> None:
    """In a pytest-xdist worker, hand this worker's counts to the main process."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["fault_cases"] = dict(_CASES)


def pytest_configure(config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_WorkerCounts(), "fault-case-counts")


class _WorkerCounts:
    """Adds each pytest-xdist worker's fault-injection counts to the main process's."""

    def pytest_testnodedown(self, node, error) -> None:
        for kind, n in getattr(node, "workeroutput", {}).get("fault_cases", {}).items():
            _CASES[kind] = _CASES.get(kind, 0) + n


def pytest_terminal_summary(terminalreporter) -> None:
    if _CASES:
        terminalreporter.section("fault injection")
        for kind, n in sorted(_CASES.items()):
            terminalreporter.write_line(f"{n:>5} generated cases: {kind}")


def pytest_report_header(config) -> str:
    """Which copy of the package the tests run against (installed wheel or checkout)."""
    import taxonomy
    from taxonomy import paths

    kind = "installed" if (paths.package_dir() / "_shipped").is_dir() else "source checkout"
    return f"taxonomy {taxonomy.__version__}: {paths.package_dir()} ({kind})"


def to_listing_text(papers: Iterable) -> str:
    """A listing page that ``read_file`` reads back into the same papers."""
    out = ["Daily Papers", ""]
    for paper in papers:
        out += [paper.title, "", paper.abstract, ""]
        if paper.date:
            who = (f"  • {paper.n_authors} authors" if paper.n_authors is not None
                   else f"{paper.organization.split()[0]} {paper.organization}"
                   if paper.organization else "")
            date = dt.date.fromisoformat(paper.date)
            shown = f"{date:%b} {date.day}, {date.year}"
            if paper.upvotes is not None:
                shown += f" {paper.upvotes}"
            out += ([who] if who else []) + ["·", shown, ""]
    return "\n".join(out) + "\n"
