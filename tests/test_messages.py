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


def _colliding(tmp_path):
    for name, title in (("jan.csv", "Sparse attention for long documents"),
                        ("feb.csv", "Gradient compression for federated learning")):
        (tmp_path / name).write_text(f"id,title,abstract\n1,{title},We study {title}.\n",
                                     encoding="utf-8")


def test_review_says_which_papers_share_an_id(cli, tmp_path):
    _colliding(tmp_path)
    result = cli("review", "jan.csv", "feb.csv", "--top", "2", "-o", "q.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "feb.csv:2: id 1 is also the id of a different paper at jan.csv:2" in result.stderr


def test_the_store_says_which_papers_share_an_id(cli, tmp_path):
    _colliding(tmp_path)
    result = cli("tag", "jan.csv", "feb.csv", "--db", "papers.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "feb.csv:2: id 1 is also the id of a different paper at jan.csv:2" in result.stderr
