"""Hand labels: loading, checking, indicator conversions, agreement, and the committed file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SEED_LABELS
from hypothesis import given
from hypothesis import strategies as st

from taxonomy.errors import LabelsError
from taxonomy.labels.agreement import agreement
from taxonomy.labels.indicator import from_indicator, join_labels, split_labels, to_indicator
from taxonomy.labels.labelfile import check_labels, load_labels

DATA = Path(__file__).parent / "data" / "labels"


def test_split_and_join():
    assert split_labels("memory; architecture") == ["memory", "architecture"]
    assert split_labels("") == [] and split_labels(" ; ") == []
    assert join_labels(["memory", "communication"]) == "memory;communication"


def test_indicator_conversions_exact(taxonomy_):
    ids = taxonomy_.ids
    matrix = to_indicator([["communication"], [], ["memory", "convergence_speed"]], ids)
    assert matrix.tolist() == [[0, 1, 0, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 1]]
    assert from_indicator(matrix, ids) == [["communication"], [], ["memory",
                                                                  "convergence_speed"]]


@given(data=st.data())
def test_indicator_round_trip(taxonomy_, data):
    ids = taxonomy_.ids
    label_sets = data.draw(st.lists(st.sets(st.sampled_from(ids))))
    rows = [[c for c in ids if c in s] for s in label_sets]
    assert from_indicator(to_indicator(rows, ids), ids) == rows


def test_committed_seed_labels_are_valid_and_complete(taxonomy_):
    papers, problems = check_labels(SEED_LABELS, taxonomy_)
    assert problems == []
    assert len(papers) == 208
    assert all(note for note in papers.notes)


@pytest.mark.parametrize("path", sorted(DATA.glob("bad_*.csv")), ids=lambda p: p.stem)
def test_bad_label_files_name_the_line(path, taxonomy_):
    expected = path.with_suffix(".error").read_text(encoding="utf-8").strip()
    with pytest.raises(LabelsError) as info:
        load_labels(path, taxonomy_)
    assert expected in str(info.value)


def test_good_rows_survive_beside_bad_ones(taxonomy_):
    papers, problems = check_labels(DATA / "bad_unknown_category.csv", taxonomy_)
    assert papers.ids == ["p1"] and len(problems) == 1


def test_agreement_kappa_and_disagreements(taxonomy_):
    first = {"a": ["memory"], "b": [], "c": ["memory"], "d": []}
    second = {"a": ["memory"], "b": [], "c": [], "d": []}
    result = agreement(first, second, taxonomy_)
    assert result.papers == 4
    # memory: p_o = 3/4, p_e = (2/4)(1/4) + (2/4)(3/4) = 1/2 -> kappa = (0.75 - 0.5) / 0.5
    assert result.kappa["memory"] == pytest.approx(0.5)
    assert result.kappa["communication"] == 1.0
    assert result.disagreements == [("c", ["memory"], [])]


def test_labels_check_cli_prints_support(cli):
    result = cli("labels", "check", "labels/seed.csv", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "208 labeled papers in labels/seed.csv"
    assert lines[2].split() == ["memory", "23"]
    assert lines[-1].split()[-1] == "55"


def test_labels_check_cli_fails_on_a_bad_file(cli):
    result = cli("labels", "check", str(DATA / "bad_duplicate_id.csv"))
    assert result.returncode == 2
    assert "duplicate id 'p1' (first on line 2)" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # no support table for a file that does not load


def test_labels_agree_cli_reproduces_the_readme_figures(cli):
    result = cli("labels", "agree", "labels/passes/first_pass.csv",
                 "labels/passes/second_pass.csv", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    readme = (ROOT / "labels" / "README.md").read_text(encoding="utf-8")
    for line in result.stdout.splitlines()[2:7]:
        cid, first, second, kappa = line.split()
        assert f"| {cid} | {first} | {second} | {kappa} |" in readme
    assert int(result.stdout.splitlines()[7].split()[0]) == np.int64(22)
