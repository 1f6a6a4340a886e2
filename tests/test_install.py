"""A real install: defaults and overrides, every command from any directory, --version, -q."""

from __future__ import annotations

import json
import pydoc
from pathlib import Path

import pandas as pd
import pytest
from conftest import DUMPS, ROOT

import taxonomy
from taxonomy import paths
from taxonomy.cli import build_parser, main
from taxonomy.errors import TaxonomyError

DUMP = DUMPS[1]


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """An empty current directory; TAXONOMY_HOME unset."""
    monkeypatch.delenv(paths.HOME_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_are_the_shipped_files(project):
    assert paths.model_file().name == "efficiency.joblib" and paths.model_file().is_file()
    assert paths.labels_file().name == "seed.csv" and paths.labels_file().is_file()
    assert [p.name for p in paths.bundled_dumps()] == sorted(p.name for p in
                                                             (ROOT / "data" / "dumps").iterdir())
    assert paths.reports_dir() == Path("reports")
    assert paths.shown(paths.model_file()) == "models/efficiency.joblib"


def test_taxonomy_home_overrides_what_it_holds_and_options_override_both(project, monkeypatch):
    home = project / "home"
    (home / "labels").mkdir(parents=True)
    (home / "labels" / "seed.csv").write_text("id,title,abstract,labels\n")
    monkeypatch.setenv(paths.HOME_VARIABLE, str(home))
    assert paths.labels_file() == home / "labels" / "seed.csv"
    shipped_model = paths.shipped("models") / "efficiency.joblib"
    assert paths.model_file() == shipped_model  # the project has no model of its own
    assert paths.model_file("other.joblib") == Path("other.joblib")
    assert paths.labels_file("mine.csv") == Path("mine.csv")
    assert paths.models_out_dir() == home / "models"
    assert paths.reports_dir() == Path("reports")  # outputs stay in the current directory


def test_a_taxonomy_home_that_is_not_a_directory_is_a_clear_error(project, monkeypatch):
    monkeypatch.setenv(paths.HOME_VARIABLE, str(project / "missing"))
    with pytest.raises(TaxonomyError, match="TAXONOMY_HOME=.* is not a directory"):
        paths.model_file()


def test_report_writes_into_the_current_directory(project, monkeypatch, capsys):
    home = project / "home"
    home.mkdir()
    monkeypatch.setenv(paths.HOME_VARIABLE, str(home))
    assert main(["report", str(DUMP), "-q"]) == 0
    assert (project / "reports" / "coverage.html").is_file()
    assert not (home / "reports").exists()
    assert capsys.readouterr().out == ""


def test_model_option_keeps_the_hand_labels_unless_told(project, capsys):
    model = str(paths.model_file())
    assert main(["tag", str(DUMP), "-o", "a.csv", "--model", model]) == 0
    first = capsys.readouterr().out
    assert "(48 by hand label, 0 by model" in first
    assert main(["tag", str(DUMP), "-o", "b.csv", "--model", model, "--no-hand-labels"]) == 0
    assert "(0 by hand label, 48 by model" in capsys.readouterr().out
    assert set(pd.read_csv("b.csv")["source"]) == {"model"}


@pytest.mark.slow
def test_train_writes_where_asked_and_the_model_is_usable(project, capsys, monkeypatch,
                                                           small_project):
    # A project of few labels (and few contrastive examples) keeps the fits quick.
    monkeypatch.setenv(paths.HOME_VARIABLE, str(small_project))
    labels = pd.read_csv(paths.labels_file(), dtype=str, keep_default_na=False)
    labels.iloc[:80].to_csv("mine.csv", index=False)
    assert main(["train", "--labels", "mine.csv", "-o", "my-model", "--folds", "2",
                 "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wrote my-model/efficiency.joblib (version ")
    assert out.rstrip().endswith("use it with --model my-model/efficiency.joblib")
    card = json.loads((project / "my-model" / "efficiency.json").read_text())
    assert card["training_papers"] == 80 and card["labels_file"] == "mine.csv"
    assert {"python", "numpy", "scipy", "scikit_learn", "blas_threads_while_fitting"} <= set(
        card["environment"])
    assert main(["tag", str(DUMP), "-o", "t.csv", "--model", "my-model/efficiency.joblib",
                 "-q"]) == 0
    assert set(pd.read_csv("t.csv")["model_version"]) == {card["version"]}


def test_only_new_refuses_rows_of_another_model_version(project, capsys):
    tags = project / "tags.csv"
    assert main(["tag", str(DUMP), "-o", str(tags), "-q"]) == 0
    table = pd.read_csv(tags, dtype=str)
    table.loc[::2, "model_version"] = "0123456789ab"
    table.iloc[:20].to_csv(tags, index=False)
    before = tags.read_bytes()
    assert main(["tag", str(DUMP), "--only-new", str(tags)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "holds rows tagged by model version 0123456789ab, but this run uses" in err
    assert "--allow-mixed-models" in err
    assert tags.read_bytes() == before
    assert main(["tag", str(DUMP), "--only-new", str(tags), "--allow-mixed-models", "-q"]) == 0
    assert len(pd.read_csv(tags)) == 48


def test_version_names_the_package_and_the_model(project, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    first, second = capsys.readouterr().out.splitlines()
    card = json.loads(paths.model_file().with_suffix(".json").read_text())
    assert first.startswith(f"taxonomy {taxonomy.__version__} (")
    assert second == f"model efficiency {card['version']} (models/efficiency.joblib)"


def _subcommands(parser):
    for action in parser._subparsers._group_actions:  # argparse has no public walker
        for name, sub in action.choices.items():
            nested = [a for a in sub._actions if isinstance(a, type(action))]
            if nested:
                yield from ((f"{name} {n}", s) for n, s in nested[0].choices.items())
            else:
                yield name, sub


def test_every_command_accepts_quiet():
    for name, sub in _subcommands(build_parser()):
        assert any("-q" in a.option_strings for a in sub._actions), name


def test_dir_and_help_show_the_public_api():
    assert set(taxonomy.__all__) <= set(dir(taxonomy))
    text = pydoc.render_doc(taxonomy, renderer=pydoc.plaintext)
    for name in ("Tagger", "load_model", "read_papers", "build_report"):
        if name in taxonomy.__all__:
            assert name in text
