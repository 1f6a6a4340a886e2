"""Messages that say what is wrong and what to do, for mistakes users really make."""

from __future__ import annotations

import shutil

from conftest import DUMPS, MODEL


def test_a_model_card_given_as_the_model_says_so(cli, tmp_path):
    shutil.copy(MODEL, tmp_path / "efficiency.joblib")
    shutil.copy(MODEL.with_suffix(".json"), tmp_path / "efficiency.json")
    result = cli("tag", DUMPS[0], "-o", "t.csv", "--model", "efficiency.json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("taxonomy: error: efficiency.json: is a model card, not a model; "
                             "give the .joblib file beside it (efficiency.joblib)\n")


def test_reliability_columns_never_run_together():
    from taxonomy.model.evaluation import Bin, format_reliability

    table = format_reliability({"seed CV": [Bin(0.0, 0.1, 5, 0.02, 0.01)],
                                "held out: near-miss": [Bin(0.0, 0.1, 7, 0.03, 0.0)]})
    header = table.splitlines()[0]
    assert "observed  held out: near-miss: n" in header
