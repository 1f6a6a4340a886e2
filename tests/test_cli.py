"""The command line: the command set and its docs, in-process runs of explain, evaluate and
suspects, and one end-to-end smoke test per command through the installed entry point."""

from __future__ import annotations

import contextlib
import shutil

import pandas as pd
import pytest
from conftest import DUMPS, ROOT
from fakearxiv import FakeArxiv, make_entries, serve

from taxonomy.cli import build_parser

COMMANDS = ["parse", "tag", "report", "train", "evaluate", "explain", "labels check",
            "labels agree", "labels suspects", "labels merge", "review", "fetch arxiv",
            "fetch oai", "digest", "update"]


def _commands(parser) -> list[str]:
    found = []
    for action in parser._subparsers._group_actions:  # argparse has no public walker
        for name, sub in action.choices.items():
            nested = [a for a in sub._actions if isinstance(a, type(action))]
            found += [f"{name} {n}" for n in nested[0].choices] if nested else [name]
    return found


def test_the_command_set_is_what_the_readme_documents():
    assert sorted(_commands(build_parser())) == sorted(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_an_example_and_is_in_the_readme(cli, command):
    result = cli(*command.split(), "--help")
    assert result.returncode == 0
    assert "example" in result.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"taxonomy {command}" in readme


def test_no_arguments_is_a_usage_error_not_a_traceback(cli):
    result = cli()
    assert result.returncode == 2 and "usage: taxonomy" in result.stderr
    assert "Traceback" not in result.stderr


def test_explain_given_text(cli):
    result = cli("explain", "--title", "ZeRO-Offload: Democratizing Billion-Scale Model "
                 "Training", "--abstract", "We offload optimizer states and gradients to CPU "
                 "memory so that a single GPU trains models ten times larger.")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("ZeRO-Offload: Democratizing Billion-Scale Model Training")
    memory = next(line for line in lines if line.startswith("memory "))
    assert memory.endswith("ASSIGNED")
    assert "memory (+" in lines[lines.index(memory) + 1]


def test_explain_by_id_and_unknown_id(cli):
    result = cli("explain", "c73740dc2be3", "--input", *DUMPS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("c73740dc2be3  ZeRO: Memory Optimizations Toward Training "
                                    "Trillion Parameter Models")
    missing = cli("explain", "nope", "--input", DUMPS[1])
    assert missing.returncode == 2
    assert missing.stderr.startswith("taxonomy: error: no paper with id 'nope'")


@pytest.mark.slow
def test_evaluate_prints_model_and_both_baselines(cli, monkeypatch, small_project):
    # The output's shape is checked here, not the scores: a small project's labels will do.
    monkeypatch.setenv("TAXONOMY_HOME", str(small_project))
    papers = len(pd.read_csv(small_project / "labels" / "seed.csv"))
    result = cli("evaluate", "--folds", "3", "--repeats", "1", "--no-holdout")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (f"Seed labels: 1 x 3-fold multilabel-stratified cross-validation on "
                        f"{papers} papers of labels/seed.csv (mean over repeats; ± is the "
                        "spread)")
    assert lines[1].split() == ["category", "model", "keyword", "rules", "plain", "pipeline"]
    assert [line.split()[0] for line in lines[3:8]] == [
        "memory", "communication", "data_selection", "architecture", "convergence_speed"]
    assert lines[8].startswith("micro F1") and lines[9].startswith("macro F1")


@pytest.mark.slow
def test_labels_suspects_lists_the_strongest_first(cli, monkeypatch, small_project):
    monkeypatch.setenv("TAXONOMY_HOME", str(small_project))
    result = cli("labels", "suspects", "--top", "5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split()[:3] == ["strength", "id", "hand"]
    strengths = [float(line.split()[0]) for line in lines[2:]]
    assert len(strengths) == 5 and strengths == sorted(strengths, reverse=True)


@pytest.mark.slow
def test_evaluate_holdout_scores_a_separate_file(cli, monkeypatch, small_project):
    monkeypatch.setenv("TAXONOMY_HOME", str(small_project))
    papers = len(pd.read_csv(small_project / "labels" / "seed.csv"))
    holdout = ROOT / "tests" / "data" / "labels" / "holdout_sample.csv"
    result = cli("evaluate", "--holdout", holdout, "--no-cv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Held out: fitted on all {papers} labeled papers, scored on the "
                               "10 papers of ")
    assert lines[1].split() == ["category", "model", "keyword", "rules", "plain", "pipeline"]
    rows = {line[:20].strip(): line[20:].split() for line in lines[3:]}
    assert set(rows) >= {"macro F1", "labels/paper", "none papers tagged"}
    assert len(rows["labels/paper"]) == 9  # "pred / gold" for each of three methods
    assert "Reliability of the model's scores" in result.stdout
    assert "Seed labels" not in result.stdout


# -- one smoke test per command, through the installed entry point, from an empty directory --

SMOKE = {
    "--version": (["--version"], "taxonomy "),
    "parse": (["parse", "dump.txt"], "48 papers"),
    "tag": (["tag", "dump.txt", "-o", "t.csv"], "tagged 48 papers (48 by hand label"),
    "report": (["report"], "wrote 10 files to reports"),
    # labels.csv: a third of the hand labels, so that the fits are quick
    "train": (["train", "--labels", "labels.csv", "-o", "m", "--folds", "2", "--repeats", "1"],
              "wrote m/efficiency"),
    "evaluate": (["evaluate", "--labels", "labels.csv", "--folds", "2", "--repeats", "1"],
                 "none papers tagged"),
    "explain": (["explain", "--title", "ZeRO-Offload", "--abstract", "We offload optimizer "
                 "states to CPU memory so one GPU trains a ten times larger model."],
                "ASSIGNED"),
    "labels check": (["labels", "check"], "208 labeled papers in labels/seed.csv"),
    "labels agree": (["labels", "agree", "first.csv", "second.csv"], "208 papers labeled twice"),
    "labels suspects": (["labels", "suspects", "labels.csv", "--top", "3"], "strongest"),
    "labels merge": (["labels", "merge", "reviewed.csv", "--into", "mine.csv"],
                     "merged 208 reviewed papers into mine.csv"),
    "review": (["review", "dump.txt", "--top", "3", "-o", "q.csv"], "to review into q.csv"),
    # {api} and {oai}: a local stand-in for arXiv (tests/fakearxiv.py)
    "fetch arxiv": (["fetch", "arxiv", "--category", "cs.LG", "--since", "2026-11-23",
                     "--until", "2026-11-29", "--db", "p.db", "--api-url", "{api}"],
                    "9 new papers"),
    "fetch oai": (["fetch", "oai", "--set", "cs", "--since", "2026-11-23", "--db", "p.db",
                   "--oai-url", "{oai}"], "9 new papers"),
    "digest": (["digest", "--db", "p.db", "--until", "2026-11-29", "-o", "d"],
               "digest of 9 papers submitted 2026-11-23 to 2026-11-29"),
    "update": (["update", "--db", "p.db", "--category", "cs.LG", "-o", "d"],
               "written to d: digest.md, digest.html and 6 feeds"),
}
# Commands run first, in the same directory (with the same local arXiv).
SETUP = {"digest": [["fetch", "arxiv", "--category", "cs.LG", "--since", "2026-11-23",
                     "--until", "2026-11-29", "--db", "p.db", "--api-url", "{api}"],
                    ["tag", "--db", "p.db"]]}


def test_every_command_has_a_smoke_test():
    assert set(SMOKE) == {*COMMANDS, "--version"}


@pytest.mark.slow
@pytest.mark.parametrize("command", SMOKE)
def test_the_installed_command_runs_from_an_empty_directory(entry_point, tmp_path, command,
                                                            small_project):
    shutil.copy(DUMPS[1], tmp_path / "dump.txt")
    shutil.copy(small_project / "labels" / "seed.csv", tmp_path / "labels.csv")
    for name in ("first", "second"):
        shutil.copy(ROOT / "labels" / "passes" / f"{name}_pass.csv", tmp_path / f"{name}.csv")
    shutil.copy(ROOT / "labels" / "seed.csv", tmp_path / "reviewed.csv")
    args, expected = SMOKE[command]
    env = {k: v for k, v in __import__("os").environ.items() if k != "TAXONOMY_HOME"}
    with contextlib.ExitStack() as stack:
        fake = FakeArxiv(entries=make_entries(["2026-11-23", "2026-11-24", "2026-11-25"]))
        server = serve(fake)
        stack.callback(server.shutdown)
        env["TAXONOMY_FETCH_DELAY"] = "0"
        env["TAXONOMY_ARXIV_API"] = fake.api_url
        for step in [*SETUP.get(command, []), args]:
            result = entry_point(*[a.format(api=fake.api_url, oai=fake.oai_url) for a in step],
                                 env=env)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert "Traceback" not in result.stderr
