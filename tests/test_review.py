"""The review loop: `taxonomy review` picks a queue, `taxonomy labels merge` adds the reviewed
rows to the hand labels, and `scripts/retrain` trains on them."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from taxonomy.labels.labelfile import load_labels
from taxonomy.tagging.review import informativeness, mmr, uncertainty

ROOT = Path(__file__).parent.parent
CATEGORIES = ["memory", "communication", "data_selection", "architecture",
              "convergence_speed"]


def test_uncertainty_peaks_at_the_threshold():
    thresholds = np.array([0.5, 0.2])
    scores = np.array([[0.5, 0.2], [0.0, 1.0], [0.75, 0.1]])
    assert np.allclose(uncertainty(scores, thresholds), [[1.0, 1.0], [0.0, 0.0], [0.5, 0.5]])
    # Largest closeness plus half the second: torn between two categories ranks higher.
    assert informativeness(scores, thresholds).tolist() == pytest.approx([1.5, 0.0, 0.75])


def test_mmr_prefers_a_different_paper_to_a_near_copy():
    features = sparse.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    assert mmr(features, np.array([1.0, 0.99, 0.9]), 2) == [0, 2]
    assert mmr(features, np.array([1.0, 0.99, 0.9]), 5) == [0, 2, 1]  # never more than given


@pytest.fixture()
def dump(tmp_path, synthetic_papers, seed_labels) -> Path:
    """Synthetic papers plus three hand-labeled ones, as JSON Lines."""
    path = tmp_path / "dump.jsonl"
    rows = [{"id": f"syn-{i}", "title": t, "abstract": a}
            for i, (t, a) in enumerate(synthetic_papers[:600])]
    rows += [{"id": i, "title": t, "abstract": a} for i, t, a in
             zip(seed_labels.ids[:3], seed_labels.titles[:3], seed_labels.abstracts[:3],
                 strict=True)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_review_writes_a_capped_queue_in_the_labels_format(cli, dump, tmp_path, seed_labels):
    result = cli("review", dump, "--top", "12", "-o", "queue.csv")
    assert result.returncode == 0, result.stderr
    rows = _rows(tmp_path / "queue.csv")
    assert len(rows) == 12
    assert list(rows[0])[:5] == ["id", "title", "abstract", "labels", "note"]
    assert {r["labels"] for r in rows} == {"?"}
    assert not {r["id"] for r in rows} & set(seed_labels.ids)  # hand-labeled: never queued
    assert all(r["scores"].count(" ") >= 5 and r["suggested"] for r in rows)
    values = [float(r["informativeness"]) for r in rows]
    assert values[0] == max(values)
    assert len({r["title"] for r in rows}) == 12


def test_review_of_a_tags_table_needs_its_dumps(cli, dump, tmp_path):
    assert cli("tag", dump, "-o", "tags.csv").returncode == 0
    alone = cli("review", "tags.csv", "-o", "queue.csv")
    assert alone.returncode == 2
    assert "give the dumps it was tagged from too" in alone.stderr
    # A table narrows the queue to its papers.
    lines = (tmp_path / "tags.csv").read_text(encoding="utf-8").splitlines(True)
    (tmp_path / "few.csv").write_text("".join(lines[:6]), encoding="utf-8")
    wanted = {r["id"] for r in _rows(tmp_path / "few.csv")}
    assert cli("review", "few.csv", dump, "-o", "queue.csv").returncode == 0
    assert {r["id"] for r in _rows(tmp_path / "queue.csv")} == wanted


def _queue(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "title", "abstract", "labels", "note",
                                               "suggested"])
        writer.writeheader()
        writer.writerows(rows)


CELLS = st.one_of(st.just("?"), st.just(""), st.just("none"),
                  st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True)
                  .map(";".join))


@settings(max_examples=40)
@given(cells=st.lists(CELLS, min_size=1, max_size=8), clash=st.sampled_from(["same", "other"]))
def test_merge_adds_reviewed_rows_and_never_overwrites(tmp_path_factory, taxonomy_, cells,
                                                       clash):
    from taxonomy.labels.merge import merge_queue

    tmp = tmp_path_factory.mktemp("merge")
    into = tmp / "labels.csv"
    shutil.copy(ROOT / "labels" / "seed.csv", into)
    before = into.read_bytes()
    existing = load_labels(into, taxonomy_)
    rows = [{"id": f"new-{i}", "title": f"Paper number {i}", "abstract": f"Abstract {i}.",
             "labels": cell, "note": "", "suggested": "memory"} for i, cell in enumerate(cells)]
    # One row names a paper the file holds already, with its labels or with others.
    known = existing.labels[0]
    rows.append({"id": existing.ids[0], "title": existing.titles[0],
                 "abstract": existing.abstracts[0], "note": "", "suggested": "",
                 "labels": ";".join(known) if clash == "same" else
                 ";".join(c for c in CATEGORIES if c not in known)})
    _queue(tmp / "queue.csv", rows)
    result = merge_queue(tmp / "queue.csv", into, taxonomy_)
    after = load_labels(into, taxonomy_)
    reviewed = [r for r in rows[:-1] if r["labels"] != "?"]
    assert into.read_bytes().startswith(before)  # existing rows keep their bytes
    assert after.ids == existing.ids + [r["id"] for r in reviewed]
    for r, labels in zip(reviewed, after.labels[len(existing):], strict=True):
        assert sorted(labels) == ([] if r["labels"] in ("", "none") else
                                  sorted(r["labels"].split(";")))
    assert result.unreviewed == len(rows) - 1 - len(reviewed)
    assert (len(result.conflicts), result.already) == ((0, 1) if clash == "same" else (1, 0))
    assert after.labels[0] == known
    assert not [p for p in tmp.iterdir() if p.name.startswith(".")]  # no temp litter


def test_merge_refuses_a_bad_queue_whole(cli, tmp_path):
    into = tmp_path / "labels.csv"
    shutil.copy(ROOT / "labels" / "seed.csv", into)
    before = into.read_bytes()
    _queue(tmp_path / "queue.csv", [
        {"id": "a", "title": "A", "abstract": "A.", "labels": "memory", "note": "",
         "suggested": ""},
        {"id": "b", "title": "B", "abstract": "B.", "labels": "memroy", "note": "",
         "suggested": ""}])
    result = cli("labels", "merge", "queue.csv", "--into", into)
    assert result.returncode == 2
    assert result.stderr.startswith("taxonomy: error: queue.csv:3: unknown category 'memroy'")
    assert "nothing was merged" in result.stderr and len(result.stderr.splitlines()) == 1
    assert into.read_bytes() == before


def test_merge_reports_conflicts_and_exits_1(cli, tmp_path, seed_labels):
    into = tmp_path / "labels.csv"
    shutil.copy(ROOT / "labels" / "seed.csv", into)
    other = "memory" if "memory" not in seed_labels.labels[0] else "communication"
    _queue(tmp_path / "queue.csv", [
        {"id": seed_labels.ids[0], "title": seed_labels.titles[0],
         "abstract": seed_labels.abstracts[0], "labels": other, "note": "", "suggested": ""}])
    result = cli("labels", "merge", "queue.csv", "--into", into)
    assert result.returncode == 1
    assert f"queue.csv:2: {seed_labels.ids[0]}: queue says {other}" in result.stderr


def test_merge_never_writes_the_shipped_labels(cli, tmp_path, monkeypatch):
    from taxonomy import paths

    monkeypatch.setattr(paths, "is_shipped", lambda path: True)
    _queue(tmp_path / "queue.csv", [])
    result = cli("labels", "merge", "queue.csv")
    assert result.returncode == 2
    assert "ships with the package and is never changed" in result.stderr


@pytest.mark.slow
def test_review_merge_retrain_end_to_end(cli, dump, tmp_path, monkeypatch, small_project,
                                         taxonomy_):
    """In a copy of a clone: review a dump, fill in three labels, merge, retrain."""
    clone = tmp_path / "clone"
    shutil.copytree(ROOT / "taxonomy", clone / "taxonomy",
                    ignore=shutil.ignore_patterns("_shipped", "__pycache__"))
    for folder in ("models", "scripts"):
        shutil.copytree(ROOT / folder, clone / folder)
    # The loop is what is checked here, not the model: few labels keep the retrain quick.
    shutil.copytree(small_project / "labels", clone / "labels")
    monkeypatch.setenv("TAXONOMY_HOME", str(clone))
    assert cli("review", dump, "--top", "5", "-o", "queue.csv").returncode == 0
    rows = _rows(tmp_path / "queue.csv")
    for row, labels in zip(rows, ["memory", "none", "communication;architecture"],
                           strict=False):
        row["labels"] = labels
    _queue(tmp_path / "queue.csv", [{k: r[k] for k in ("id", "title", "abstract", "labels",
                                                       "note", "suggested")} for r in rows])
    merged = cli("labels", "merge", "queue.csv")
    assert merged.returncode == 0, merged.stderr
    assert "merged 3 reviewed papers" in merged.stdout and "2 still '?'" in merged.stdout
    labels = load_labels(clone / "labels" / "seed.csv", taxonomy_)
    assert labels.labels[-3:] == [["memory"], [], ["communication", "architecture"]]
    done = subprocess.run([sys.executable, str(clone / "scripts" / "retrain"), "--force",
                           "--folds", "2", "--repeats", "1"], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    card = json.loads((clone / "models" / "efficiency.json").read_text())
    assert card["training_papers"] == len(labels)
    from taxonomy.model.artifact import sha256_file

    assert card["labels_sha256"] == sha256_file(clone / "labels" / "seed.csv")


@pytest.mark.parametrize(("labels", "message"), [
    ("none;memory", "queue.csv:2: 'none;memory' names categories and 'none'"),
])
def test_merge_refuses_none_beside_a_category(cli, tmp_path, labels, message):
    _queue(tmp_path / "queue.csv", [
        {"id": "a", "title": "A", "abstract": "A.", "labels": labels, "note": "",
         "suggested": ""}])
    result = cli("labels", "merge", "queue.csv", "--into", tmp_path / "labels.csv")
    assert result.returncode == 2
    assert result.stderr.startswith(f"taxonomy: error: {message}")
    assert not (tmp_path / "labels.csv").exists()


def test_merge_names_a_paper_queued_twice(cli, tmp_path):
    row = {"id": "a", "title": "A", "abstract": "A.", "note": "", "suggested": ""}
    _queue(tmp_path / "queue.csv", [{**row, "labels": "memory"}, {**row, "labels": "none"}])
    result = cli("labels", "merge", "queue.csv", "--into", tmp_path / "labels.csv")
    assert result.returncode == 2
    assert result.stderr.startswith("taxonomy: error: queue.csv:3: id 'a' is queued twice "
                                    "(first on line 2)")


FORMULAS = st.text(alphabet="=+-@\t\r'ab ", min_size=1, max_size=8)


@settings(max_examples=60)
@given(title=FORMULAS)
def test_merge_reads_guarded_cells_back_and_writes_them_guarded(tmp_path_factory, taxonomy_,
                                                                 title):
    from taxonomy.io.cells import FORMULA_STARTS, neutralize
    from taxonomy.labels.merge import merge_queue

    tmp = tmp_path_factory.mktemp("formula")
    title = f"{title} paper"
    _queue(tmp / "queue.csv", [{"id": "x", "title": neutralize(title),
                                "abstract": neutralize("-abstract"), "labels": "memory",
                                "note": "", "suggested": ""}])
    merge_queue(tmp / "queue.csv", tmp / "labels.csv", taxonomy_)
    with open(tmp / "labels.csv", newline="", encoding="utf-8") as handle:
        cells = [c for row in csv.reader(handle) for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    merged = load_labels(tmp / "labels.csv", taxonomy_)
    assert (merged.titles, merged.abstracts) == ([" ".join(title.split())], ["-abstract"])
