"""The command line through its real entry points: help, docs, explain, evaluate, suspects."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from taxonomy.cli import build_parser

ROOT = Path(__file__).parent.parent
COMMANDS = ["parse", "tag", "report", "train", "evaluate", "explain", "labels check",
            "labels agree", "labels suspects"]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "taxonomy", *args], capture_output=True,
                          text=True, cwd=ROOT)


def test_the_command_set_is_what_the_readme_documents():
    parser = build_parser()
    found = []
    for action in parser._subparsers._group_actions:  # argparse has no public walker
        for name, sub in action.choices.items():
            nested = [a for a in sub._actions if isinstance(a, type(action))]
            found += [f"{name} {n}" for n in nested[0].choices] if nested else [name]
    assert sorted(found) == sorted(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_an_example_and_is_in_the_readme(command):
    result = _cli(*command.split(), "--help")
    assert result.returncode == 0
    assert "example" in result.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"taxonomy {command}" in readme


def test_console_script_and_module_agree():
    script = shutil.which("taxonomy")
    if script is None:
        pytest.skip("the package is not installed as a console script here")
    installed = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert installed.stdout == _cli("--help").stdout.replace("__main__.py", "taxonomy")


def test_no_arguments_is_a_usage_error_not_a_traceback():
    result = _cli()
    assert result.returncode == 2 and "usage: taxonomy" in result.stderr
    assert "Traceback" not in result.stderr


def test_explain_given_text():
    result = _cli("explain", "--title", "ZeRO-Offload: Democratizing Billion-Scale Model "
                  "Training", "--abstract", "We offload optimizer states and gradients to CPU "
                  "memory so that a single GPU trains models ten times larger.")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("ZeRO-Offload: Democratizing Billion-Scale Model Training")
    memory = next(line for line in lines if line.startswith("memory "))
    assert memory.endswith("ASSIGNED")
    assert "memory (+" in lines[lines.index(memory) + 1]


def test_explain_by_id_and_unknown_id():
    result = _cli("explain", "c73740dc2be3", "--input", "data/dumps/003_3554e63a31bf0460.txt",
                  "data/dumps/000_b1094c3f7ed4a1c2.txt")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("c73740dc2be3  ZeRO: Memory Optimizations Toward Training "
                                    "Trillion Parameter Models")
    missing = _cli("explain", "nope", "--input", "data/dumps/003_3554e63a31bf0460.txt")
    assert missing.returncode == 2
    assert missing.stderr.startswith("taxonomy: error: no paper with id 'nope'")


def test_evaluate_prints_model_and_both_baselines():
    result = _cli("evaluate", "--folds", "3", "--repeats", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("1 x 3-fold multilabel-stratified cross-validation on 208 labeled papers"
                        " (mean over repeats; ± is the spread)")
    assert lines[1].split() == ["category", "model", "keyword", "rules", "plain", "pipeline"]
    assert [line.split()[0] for line in lines[3:8]] == [
        "memory", "communication", "data_selection", "architecture", "convergence_speed"]
    assert lines[8].startswith("micro F1") and lines[9].startswith("macro F1")


def test_labels_suspects_lists_the_strongest_first():
    result = _cli("labels", "suspects", "--top", "5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split()[:3] == ["strength", "id", "hand"]
    strengths = [float(line.split()[0]) for line in lines[2:]]
    assert len(strengths) == 5 and strengths == sorted(strengths, reverse=True)


def test_evaluate_holdout_scores_a_separate_file():
    result = _cli("evaluate", "--holdout", "tests/data/labels/holdout_sample.csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("fitted on 208 labeled papers, scored on 10 papers of "
                        "tests/data/labels/holdout_sample.csv")
    assert lines[1].split() == ["category", "model", "keyword", "rules", "plain", "pipeline"]
    assert lines[-1].startswith("macro F1")
