"""The public Python API, the layers' import direction, and the import weight that tagging
workers rely on."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import DUMPS

import taxonomy

PACKAGE = Path(taxonomy.__file__).parent
# Each layer may import the layers listed after it, never one before it.
LAYERS = ["cli", "digest", "report", "fetch", "store", "tagging", "model", "labels", "io"]
BASE = {"errors", "paths", "_lazy", "_signals", "__version__"}  # shared by every layer


PUBLIC = {
    "Tagger", "EfficiencyClassifier", "read_papers", "read_file", "build_report", "Report",
    "load_taxonomy", "Taxonomy", "Category", "load_labels", "TaxonomyError", "DumpError",
    "LabelsError", "ModelError", "OutputError", "TaxonomyFileError", "__version__",
}


def test_the_public_api_is_what_a_user_needs():
    assert set(taxonomy.__all__) == PUBLIC
    assert sorted(dir(taxonomy)) == sorted(PUBLIC)


def test_every_public_name_resolves():
    for name in taxonomy.__all__:
        assert getattr(taxonomy, name) is not None
    for layer in LAYERS[1:]:
        module = __import__(f"taxonomy.{layer}", fromlist=["__all__"])
        for name in module.__all__:
            assert getattr(module, name) is not None, (layer, name)


def _imported(path: Path) -> set[str]:
    """Top-level names of the taxonomy modules a file imports (relative or absolute)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("taxonomy.")}
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_the_layers_below_it(layer):
    allowed = set(LAYERS[LAYERS.index(layer):]) | BASE
    files = [PACKAGE / f"{layer}.py"] if (PACKAGE / f"{layer}.py").exists() else \
        sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    for path in files:
        wrong = _imported(path) - allowed
        assert not wrong, f"{path.relative_to(PACKAGE)} imports {sorted(wrong)}"


@pytest.mark.parametrize("module", ["taxonomy.tagging.scoring", "taxonomy.model.state",
                                    "taxonomy.model.artifact", "taxonomy.io.readers"])
def test_scoring_and_reading_import_neither_pandas_nor_scikit_learn(module):
    probe = (f"import sys, {module}; "
             "print(sorted(m for m in ('pandas', 'sklearn', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_tagging_a_daily_listing_imports_neither_pandas_nor_scikit_learn(tmp_path):
    """Start-up is most of a 50-paper run: importing pandas would add a third to it."""
    dump = DUMPS[0]
    probe = ("import runpy, sys\n"
             f"sys.argv = ['taxonomy', 'tag', {str(dump)!r}, '-o', {str(tmp_path / 't.csv')!r}, "
             "'-q', '--jobs', '1']\n"
             "try:\n    runpy.run_module('taxonomy', run_name='__main__')\n"
             "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
             "print(sorted(m for m in ('pandas', 'sklearn', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
    assert (tmp_path / "t.csv").exists()


def test_tag_a_dataframe_in_one_line():
    tags = taxonomy.Tagger.default().tag(pd.DataFrame({
        "title": ["ZeRO-Offload: Democratizing Billion-Scale Model Training"],
        "abstract": ["We offload optimizer states and gradients to CPU memory so that a single "
                     "GPU trains models ten times larger than before."]}))
    assert list(tags.columns) == taxonomy.Tagger.default().columns
    assert tags.loc[0, "source"] == "hand"  # the seed paper's hand label wins
    assert "memory" in tags.loc[0, "labels"].split(";")


@pytest.mark.slow
def test_tag_with_a_model_fitted_in_memory(seed_labels, taxonomy_):
    model = taxonomy.EfficiencyClassifier(taxonomy=taxonomy_, threshold_folds=2)
    model.fit(seed_labels.frame(), seed_labels.indicator(taxonomy_.ids))
    papers = [{"title": t, "abstract": a} for t, a in
              zip(seed_labels.titles[:3], seed_labels.abstracts[:3], strict=True)]
    tags = taxonomy.Tagger(model).tag(papers)
    assert list(tags["model"]) == ["in-memory"] * 3 and set(tags["source"]) == {"model"}
    expected = model.predict(seed_labels.frame().iloc[:3])
    assert [row.split(";") if row else [] for row in tags["labels"]] == [
        [c for c, on in zip(taxonomy_.ids, flags, strict=True) if on] for flags in expected]


def test_tagger_takes_a_model_file_s_path():
    model = Path(__file__).parent.parent / "models" / "efficiency.joblib"
    assert taxonomy.Tagger(model).model.version == taxonomy.Tagger.default().model.version
    assert taxonomy.Tagger(str(model)).model.path == model


@pytest.mark.parametrize("model", [None, 3, pd.DataFrame()])
def test_tagger_without_a_model_is_a_type_error(model):
    with pytest.raises(TypeError, match="Tagger needs a model file's path, a loaded model"):
        taxonomy.Tagger(model)


def test_tagger_with_a_missing_model_file_is_a_model_error(tmp_path):
    with pytest.raises(taxonomy.ModelError, match="no such model file"):
        taxonomy.Tagger(tmp_path / "missing.joblib")


def test_tag_rejects_a_paper_without_an_abstract():
    with pytest.raises(ValueError, match="row 2 has no abstract"):
        taxonomy.Tagger.default().tag([{"title": "A", "abstract": "B"}, {"title": "C"}])
