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
