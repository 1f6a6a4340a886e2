"""Tagging: the CLI on the bundled dumps, parallel and dask paths, incremental runs."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import MODEL, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from taxonomy.io.papers import parse_papers
from taxonomy.io.writers import TableWriter, read_table
from taxonomy.model.artifact import load_model
from taxonomy.tagging import tagger as tagger_module
from taxonomy.tagging.executors import InProcess, Processes
from taxonomy.tagging.hand import HandLabels
from taxonomy.tagging.tagger import Tagger, tag_columns

DUMPS = sorted(str(p) for p in (ROOT / "data" / "dumps").glob("*.txt"))
COLUMNS = ["id", "title", "date", "labels", "score_memory", "score_communication",
           "score_data_selection", "score_architecture", "score_convergence_speed",
           "top_terms", "source", "url", "model", "model_version"]


def _table(path) -> pd.DataFrame:
    frame = pd.concat(list(read_table(path)), ignore_index=True)
    return frame.astype(object).where(frame.notna(), "")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory, seed_labels) -> Path:
    """600 distinct papers (seed texts under new titles) as JSON Lines, one line broken."""
    path = tmp_path_factory.mktemp("dumps") / "synthetic.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(600):
            j = i % len(seed_labels)
            handle.write(json.dumps({"id": f"2401.{i:05d}",
                                     "title": f"{seed_labels.titles[j]} {i}",
                                     "abstract": seed_labels.abstracts[j],
                                     "update_date": "2024-01-15"}) + "\n")
            if i == 300:
                handle.write("{not json\n")
    return path


def test_tag_bundled_dumps_writes_every_paper_with_hand_labels(cli, tmp_path, taxonomy_,
                                                                 seed_labels):
    out = tmp_path / "tags.csv"
    result = cli("tag", *DUMPS, "-o", str(out))
    assert result.returncode == 0, result.stderr
    model = load_model(MODEL)
    assert result.stdout.splitlines()[0] == (
        f"tagged 208 papers (208 by hand label, 0 by model efficiency {model.version}) "
        f"into {out}")
    table = _table(out)
    assert list(table.columns) == COLUMNS == tag_columns(taxonomy_.ids)
    assert len(table) == 208 and table["id"].is_unique
    assert set(table["source"]) == {"hand"}
    hand = dict(zip(seed_labels.ids, seed_labels.labels, strict=True))
    assert all(row.labels == ";".join(hand[row.id]) for row in table.itertuples())
    scores = table[[c for c in COLUMNS if c.startswith("score_")]].astype(float)
    assert ((scores >= 0) & (scores <= 1)).all().all()


def test_model_only_tags_come_from_scores_and_thresholds(cli, tmp_path, synthetic, taxonomy_):
    out = tmp_path / "tags.jsonl"
    result = cli("tag", str(synthetic), "-o", str(out), "--model-only")
    assert result.returncode == 0, result.stderr
    assert "skipped 1 bad record(s): " in result.stderr
    assert f"{synthetic}:302 (not valid JSON)" in result.stderr
    table = _table(out)
    assert len(table) == 600 and set(table["source"]) == {"model"}
    thresholds = load_model(MODEL).card["thresholds"]
    for row in table.to_dict(orient="records"):
        expected = [c for c in taxonomy_.ids if row[f"score_{c}"] >= round(thresholds[c], 4)]
        assert (row["labels"].split(";") if row["labels"] else []) == expected
        for label in expected:
            assert f"{label}: " in row["top_terms"]


@pytest.mark.slow
def test_parallel_path_equals_the_single_process_path(tmp_path, synthetic, seed_labels):
    tagger = Tagger(load_model(MODEL),
                    HandLabels.from_papers(seed_labels))
    single, parallel = tmp_path / "one.csv", tmp_path / "two.csv"
    tagger.run([synthetic], single, executor=InProcess(), progress=False, chunk_size=25)
    result = tagger.run([synthetic], parallel, executor=Processes(jobs=2), progress=False,
                        chunk_size=25)
    assert result.papers == 600
    assert single.read_bytes() == parallel.read_bytes()


def test_arrow_and_python_splitting_tag_alike(tmp_path, synthetic, seed_labels):
    # Chunks of a few hundred papers are split by Arrow, small ones by Python: same bytes.
    tagger = Tagger(load_model(MODEL),
                    HandLabels.from_papers(seed_labels))
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    tagger.run([synthetic], small, executor=InProcess(), progress=False, chunk_size=25)
    tagger.run([synthetic], large, executor=InProcess(), progress=False, chunk_size=600)
    assert small.read_bytes() == large.read_bytes()


_CELL = st.text(st.characters(codec="utf-8", exclude_characters="\x00\r"), max_size=12) | \
    st.sampled_from(["", ",", '"', "a, b", "x\ny", "é"])


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(_CELL, _CELL, st.integers(0, 10_000), st.none() | _CELL),
                     min_size=1, max_size=8),
       suffix=st.sampled_from([".csv", ".jsonl", ".parquet"]))
def test_columns_are_written_as_pandas_writes_the_same_frame(tmp_path_factory, rows, suffix):
    # Tagging writes columns without pandas; the files must be the ones pandas writes.
    columns = {"id": [r[0] for r in rows], "title": [r[1] for r in rows],
               "score": np.array([r[2] / 10_000 for r in rows]), "url": [r[3] for r in rows]}
    folder = tmp_path_factory.mktemp("columns")
    by_columns, by_frame = folder / f"c{suffix}", folder / f"f{suffix}"
    with TableWriter(by_columns) as writer:
        writer.write(columns)
        writer.write(columns)
    with TableWriter(by_frame) as writer:
        writer.write(pd.DataFrame(columns))
        writer.write(pd.DataFrame(columns))
    if suffix == ".parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(by_columns), pd.read_parquet(by_frame))
    else:
        assert by_columns.read_bytes() == by_frame.read_bytes()


def test_output_formats_hold_the_same_rows(cli, tmp_path):
    frames = []
    for suffix in (".csv", ".jsonl", ".parquet"):
        out = tmp_path / f"tags{suffix}"
        assert cli("tag", *DUMPS, "-o", str(out), "--quiet").returncode == 0
        frames.append(_table(out).astype(str))
    pd.testing.assert_frame_equal(frames[0], frames[1])
    pd.testing.assert_frame_equal(frames[0], frames[2])


def test_only_new_appends_and_a_failed_run_leaves_the_file_intact(cli, tmp_path):
    out = tmp_path / "tags.csv"
    assert cli("tag", DUMPS[0], "-o", str(out)).returncode == 0
    first = out.read_bytes()
    broken = tmp_path / "broken.jsonl.gz"
    lines = "".join(json.dumps({"title": f"T{i}", "abstract": f"A {i} " * 20}) + "\n"
                    for i in range(2000))
    data = gzip.compress(lines.encode())
    broken.write_bytes(data[: len(data) // 2])
    failed = cli("tag", DUMPS[1], str(broken), "--only-new", str(out))
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert out.read_bytes() == first
    result = cli("tag", *DUMPS, "--only-new", str(out))
    assert result.returncode == 0, result.stderr
    assert "164 were already there" in result.stdout
    assert "tagged 44 papers" in result.stdout
    table, before = _table(out), _table_from_bytes(first, tmp_path)
    assert len(table) == 208 and table["id"].is_unique
    kept = table.iloc[:164]
    pd.testing.assert_frame_equal(kept.drop(columns="date"), before.drop(columns="date"))
    # The four papers repeated in the second dump bring their dates to the existing rows.
    filled = (kept["date"] != before["date"])
    assert filled.sum() == 4 and (before["date"][filled] == "").all()


def _table_from_bytes(data: bytes, tmp_path: Path) -> pd.DataFrame:
    path = tmp_path / "before.csv"
    path.write_bytes(data)
    return _table(path)


@pytest.mark.slow
def test_dask_local_cluster_gives_exactly_the_in_process_tags(cli, tmp_path, synthetic):
    pytest.importorskip("dask.distributed")
    rows = [json.loads(line) for line in synthetic.read_text().splitlines()
            if line.startswith('{"')]
    as_csv = tmp_path / "more.csv"
    with open(as_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "title", "abstract", "date"])
        writer.writeheader()
        for i, row in enumerate(rows[:100]):
            writer.writerow({"id": f"2402.{i:05d}", "title": row["title"] + " (csv)",
                             "abstract": row["abstract"], "date": "2024-02-01"})
    as_parquet = tmp_path / "more.parquet"
    pd.DataFrame([{"id": f"2403.{i:05d}", "title": r["title"] + " (pq)",
                   "abstract": r["abstract"]} for i, r in enumerate(rows[:50])]
                 ).to_parquet(as_parquet)
    # A listing page, and a JSONL line repeating one of its papers under an arXiv id: merged
    # by title (one row, the arXiv id patched in, the listing's date kept), as in-process.
    first = parse_papers([DUMPS[1]])[0][0]
    repeat = tmp_path / "repeat.jsonl"
    repeat.write_text(json.dumps({"id": "2405.00001", "title": first.title.upper(),
                                  "abstract": first.abstract, "date": "2024-05-01"}) + "\n")
    inputs = [DUMPS[1], str(synthetic), str(as_csv), str(as_parquet), str(repeat)]
    local, cluster = tmp_path / "local.csv", tmp_path / "cluster.csv"
    assert cli("tag", *inputs, "-o", str(local), "--quiet").returncode == 0
    result = cli("tag", *inputs, "-o", str(cluster), "--scheduler", "local")
    assert result.returncode == 0, result.stderr
    assert "tagged 798 papers" in result.stdout
    assert cluster.read_bytes() == local.read_bytes()
    merged = _table(cluster).iloc[0]
    assert (merged["id"], merged["date"]) == ("2405.00001", first.date)


@pytest.mark.parametrize("args, message", [
    (["-o", "out.txt"], "unknown output type '.txt'"),
    ([], "say where to write"),
    (["-o", "x.csv", "--only-new", "y.csv"], "--only-new appends to EXISTING itself"),
    (["-o", "/proc/forbidden/x.csv"], "cannot write here"),
])
def test_tag_argument_errors_are_one_line(cli, tmp_path, args, message):
    result = cli("tag", DUMPS[0], *args)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_only_new_matches_an_earlier_run_s_row_by_title(tmp_path, seed_labels):
    # The same normalized title without conflicting arXiv ids is the same paper, in the table
    # as in the inputs: the repeats are already there and bring it their arXiv id and date.
    tagger = Tagger(load_model(MODEL))
    abstract = seed_labels.abstracts[0]
    first, second, out = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "out.csv"
    first.write_text(json.dumps({"id": "x1", "title": "Sparse attention for long context",
                                 "abstract": abstract}) + "\n", encoding="utf-8")
    second.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "p1", "title": "Sparse Attention for Long Context", "abstract": abstract},
        {"id": "2401.00001", "title": "sparse attention for long context",
         "abstract": abstract, "update_date": "2024-01-02"}]), encoding="utf-8")
    tagger.run([first], out, executor=InProcess(), progress=False)
    tagger.run([second], out, executor=InProcess(), progress=False, only_new=True)
    rows = _table(out)
    assert rows["id"].tolist() == ["2401.00001"]
    assert rows["date"].tolist() == ["2024-01-02"]


def test_an_executor_with_only_map_and_close_still_works(tmp_path, synthetic):
    class Mine:
        def __init__(self):
            self.inner = InProcess()

        def map(self, model, chunks):
            return self.inner.map(model, chunks)

        def close(self):
            pass

    tagger = Tagger(load_model(MODEL))
    assert tagger.run([synthetic], tmp_path / "t.csv", executor=Mine(),
                      progress=False).papers == 600


@settings(max_examples=60, deadline=None)
@given(categories=st.integers(1, 14), rows=st.integers(0, 20), seed=st.integers(0, 2**32 - 1))
def test_label_texts_join_each_row_s_categories_in_order(categories, rows, seed):
    ids = [f"c{j}" for j in range(categories)]
    assigned = np.random.default_rng(seed).random((rows, categories)) < 0.4
    expected = [";".join(c for c, a in zip(ids, row, strict=True) if a) for row in assigned]
    assert tagger_module._label_texts(ids, assigned) == expected


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_only_new_copies_the_existing_rows_and_patches_only_those_repeats_fill(tmp_path,
                                                                               seed_labels,
                                                                               suffix):
    tagger = Tagger(load_model(MODEL),
                    HandLabels.from_papers(seed_labels))
    out = tmp_path / f"tags{suffix}"
    tagger.run([DUMPS[0]], out, executor=InProcess(), progress=False)
    before = _table(out)
    old_lines = out.read_bytes().splitlines(keepends=True)
    result = tagger.run(DUMPS, out, executor=InProcess(), progress=False, only_new=True)
    assert (result.already, result.papers) == (164, 44)
    table = _table(out)
    assert len(table) == 208 and table["id"].is_unique
    kept = table.iloc[:164]
    filled = kept["date"] != before["date"]
    assert filled.sum() == 4 and (before["date"][filled] == "").all()
    pd.testing.assert_frame_equal(kept.drop(columns="date"), before.drop(columns="date"))
    if suffix == ".jsonl":  # every row no repeat changed is copied byte for byte
        new_lines = out.read_bytes().splitlines(keepends=True)
        assert [line for line, changed in zip(new_lines, filled, strict=False) if not changed] \
            == [line for line, changed in zip(old_lines, filled, strict=True) if not changed]


def test_a_repeat_that_fills_a_row_already_written_still_fills_it(tmp_path, seed_labels):
    """A repeat far after its first record, whose row was written before the repeat was read,
    brings its url and arXiv id all the same (the file is written again, never read back)."""
    tagger = Tagger(load_model(MODEL))
    dump, out = tmp_path / "dump.jsonl", tmp_path / "out.csv"
    n = len(seed_labels)
    records = [{"id": f"x{i}", "title": f"{seed_labels.titles[i % n]} {i}",
                "abstract": seed_labels.abstracts[i % n]} for i in range(120)]
    records.append({"id": "2401.00001", "title": records[3]["title"].upper(),
                    "abstract": records[3]["abstract"], "url": "https://x.org/3"})
    dump.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = tagger.run([dump], out, executor=InProcess(), progress=False, chunk_size=10)
    assert (result.papers, result.log.repeats) == (120, 1)
    rows = _table(out)
    assert rows.iloc[3][["id", "url"]].tolist() == ["2401.00001", "https://x.org/3"]
    assert rows["id"].tolist()[4:] == [f"x{i}" for i in range(4, 120)]
    assert [p.name for p in tmp_path.iterdir()] == ["dump.jsonl", "out.csv"]


def test_run_takes_one_path_as_one_input(tmp_path):
    dump = tmp_path / "dump.jsonl"
    dump.write_text(json.dumps({"title": "ZeRO-Offload", "abstract": "We offload optimizer "
                                "states to CPU memory."}) + "\n", encoding="utf-8")
    tagger = Tagger(load_model(MODEL))
    for path in (str(dump), dump):
        result = tagger.run(path, tmp_path / "tags.jsonl", progress=False)
        assert result.papers == 1


def test_tag_keeps_the_callers_index():
    import pandas as pd

    papers = pd.DataFrame({"title": ["ZeRO-Offload", "Data pruning"],
                           "abstract": ["We offload optimizer states to CPU memory.",
                                        "We select a subset of the training data."]},
                          index=pd.Index(["a", "b"], name="key"))
    tagged = Tagger(load_model(MODEL)).tag(papers)
    assert tagged.index.equals(papers.index)
    assert papers.join(tagged[["labels"]]).shape == (2, 3)
