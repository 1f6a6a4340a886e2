"""Readers of abstract dumps: the seed dumps, every input format, ids, round trips, bad input."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from conftest import to_listing_text
from hypothesis import given, settings
from hypothesis import strategies as st

from taxonomy.errors import DumpError, TaxonomyError
from taxonomy.io import ReadLog, read_file
from taxonomy.io.papers import parse_papers
from taxonomy.io.records import PAPER_COLUMNS, Paper, arxiv_id, clean_text, paper_id, title_hash
from taxonomy.io.sniff import sniff

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "readers"
FIRST = ROOT / "data" / "dumps" / "000_b1094c3f7ed4a1c2.txt"
SECOND = ROOT / "data" / "dumps" / "003_3554e63a31bf0460.txt"
REFERENCE = dt.date(2026, 11, 22)
SAMPLES = sorted(p for p in DATA.iterdir() if p.is_file() and not p.name.endswith(".expected.json"))
BAD = sorted(p for p in (DATA / "bad").iterdir() if p.suffix != ".error")
COLUMNS = [c for c in PAPER_COLUMNS if c != "source"]
CHROME = {"new", "Get trending papers in your email inbox!", "Subscribe", "Daily Papers",
          "byAK and the research community", "Trending Papers", "Papers"}


def _read(path, **options) -> tuple[list[Paper], ReadLog]:
    log = ReadLog()
    papers = list(read_file(path, log=log, reference_date=REFERENCE, **options))
    return papers, log


def _line(paper: Paper) -> int:
    return int(paper.source.rsplit(":", 1)[1])


def _by_line(papers: list[Paper]) -> dict[int, Paper]:
    return {_line(p): p for p in papers}


# -- the seed dumps ----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "count"), [(FIRST, 164), (SECOND, 48)], ids=["000", "003"])
def test_seed_dump_paper_counts(path, count):
    papers, log = _read(path)
    assert len(papers) == count
    assert log.skipped == []


def test_seed_dumps_together_are_208_unique_papers_with_4_repeats_merged():
    papers, log = parse_papers([FIRST, SECOND], reference_date=REFERENCE)
    assert (len(papers), log.papers, log.repeats, log.skipped) == (208, 208, 4, [])
    assert len({p.id for p in papers}) == 208
    assert len({p.title for p in papers}) == 208


SPOT_CHECKS = [
    # (dump, title line, title, abstract start, date, n_authors, organization, upvotes)
    (FIRST, 15,
     "Boosting Large-scale Parallel Training Efficiency with C4: A Communication-Driven Approach",
     "The emergence of Large Language Models (LLMs) has necessitated the adoption of parallel "
     "training techniques", "", None, "", None),
    (FIRST, 63,
     "PixArt-Σ: Weak-to-Strong Training of Diffusion Transformer for 4K Text-to-Image Generation",
     "In this paper, we introduce PixArt-\\Sigma, a Diffusion Transformer model~(DiT)",
     "", None, "", None),
    (FIRST, 663,
     "One Timestep is All You Need: Training Spiking Neural Networks with Ultra Low Latency",
     "Spiking Neural Networks (SNNs) are energy efficient alternatives", "", None, "", None),
    (SECOND, 13, "Med3D: Transfer Learning for 3D Medical Image Analysis",
     "The performance on deep learning is significantly affected by volume of training data.",
     "2019-04-01", 3, "", None),
    (SECOND, 21,
     "DUMP: Automated Distribution-Level Curriculum Learning for RL-based LLM Post-training",
     "Recent advances in reinforcement learning (RL)-based post-training have led to notable",
     "2025-04-13", 4, "", 2),
    (SECOND, 133, "NGAME: Negative Mining-aware Mini-batching for Extreme Classification",
     "Extreme Classification (XC) seeks to tag data points", "2022-07-10", 19, "", None),
    (SECOND, 261,
     "Jet-RL: Enabling On-Policy FP8 Reinforcement Learning with Unified Training and Rollout "
     "Precision Flow",
     "Reinforcement learning (RL) is essential for enhancing the complex reasoning capabilities",
     "2026-01-20", None, "NVIDIA", 3),
    (SECOND, 269, "SCORE: Replacing Layer Stacking with Contractive Recurrent Depth",
     "Residual connections are central to modern deep neural networks", "2026-03-11", 1, "", None),
    (SECOND, 389, "NoLoCo: No-all-reduce Low Communication Training Method for Large Models",
     "Training large language models is generally done via optimization methods on clusters",
     "2025-06-12", None, "Gensyn", 2),
]


@pytest.mark.parametrize(
    ("path", "line", "title", "abstract", "date", "n_authors", "organization", "upvotes"),
    SPOT_CHECKS, ids=[f"{c[0].name[:3]}:{c[1]}" for c in SPOT_CHECKS])
def test_seed_dump_spot_checks(path, line, title, abstract, date, n_authors, organization,
                               upvotes):
    paper = _by_line(_read(path)[0])[line]
    assert paper.title == title
    assert paper.abstract.startswith(abstract)
    assert (paper.date, paper.n_authors, paper.organization, paper.upvotes, paper.url) == (
        date, n_authors, organization, upvotes, "")
    assert paper.id == title_hash(title)


@pytest.mark.parametrize(("reference", "jet_rl", "joint_audio_video", "super_apriel"), [
    (dt.date(2026, 11, 22), "2026-01-20", "2026-03-19", "2026-04-20"),
    (dt.date(2026, 3, 19), "2026-01-20", "2026-03-19", "2025-04-20"),
    (dt.date(2026, 3, 18), "2026-01-20", "2025-03-19", "2025-04-20"),
    (dt.date(2026, 1, 19), "2025-01-20", "2025-03-19", "2025-04-20"),
])
def test_year_less_dates_are_the_latest_such_day_on_or_before_the_reference(
        reference, jet_rl, joint_audio_video, super_apriel):
    papers = _by_line(list(read_file(SECOND, reference_date=reference)))
    # 'Jan 20 3', 'Mar 19' and 'Apr 20' in the dump; dates with a year do not move
    assert (papers[261].date, papers[261].upvotes) == (jet_rl, 3)
    assert papers[205].date == joint_audio_video
    assert papers[309].date == super_apriel
    assert papers[13].date == "2019-04-01"


def _line_kind(text: str) -> str:
    if text in CHROME:
        return "chrome"
    if text == "·":
        return "dot"
    if re.fullmatch(r"• \d+ authors", text):
        return "authors"
    if re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}(, \d{4})?( \d+)?", text):
        return "date"
    if text in ("nvidia NVIDIA", "Gensyn Gensyn"):
        return "organization"
    return "text"


@pytest.mark.parametrize(("path", "other_lines"), [
    (FIRST, {"chrome": 4, "date": 1}),
    (SECOND, {"chrome": 5, "date": 49, "dot": 48, "authors": 46, "organization": 2}),
], ids=["000", "003"])
def test_seed_titles_and_abstracts_are_exactly_the_dump_lines(path, other_lines):
    lines = path.read_text(encoding="utf-8").split("\n")
    papers, _ = _read(path)
    used = set()
    for paper in papers:
        number = _line(paper)
        assert paper.source == f"{path}:{number}"
        assert lines[number - 1] == paper.title
        assert lines[number] == ""
        assert lines[number + 1] == paper.abstract
        used |= {number, number + 2}
    # every other non-blank line is page chrome or a paper's metadata: no text was dropped
    rest = [ln.strip() for n, ln in enumerate(lines, 1) if ln.strip() and n not in used]
    assert Counter(_line_kind(text) for text in rest) == other_lines


REPEATS = {  # title: (date, n_authors, upvotes) as the 003 dump shows them
    "Training and Inference Efficiency of Encoder-Decoder Speech Models": ("2025-03-07", 10, 1),
    "Better Training of GFlowNets with Local Credit and Incomplete Trajectories":
        ("2023-02-03", 4, None),
    "Upsample or Upweight? Balanced Training on Heavily Imbalanced Datasets":
        ("2024-10-06", 5, None),
    "Reconstruction vs. Generation: Taming Optimization Dilemma in Latent Diffusion Models":
        ("2025-01-02", 2, 2),
}


def test_merged_repeats_take_their_metadata_from_the_003_dump():
    first, _ = _read(FIRST)
    second, _ = _read(SECOND)
    assert {p.title for p in first} & {p.title for p in second} == set(REPEATS)
    assert {(p.date, p.n_authors, p.organization, p.upvotes) for p in first} == {
        ("", None, "", None)}
    papers, _ = parse_papers([FIRST, SECOND], reference_date=REFERENCE)
    # first-seen order: the 000 dump, then the 003 papers that are new
    assert [p.title for p in papers] == [p.title for p in first] + [
        p.title for p in second if p.title not in REPEATS]
    merged = {p.title: p for p in papers if p.title in REPEATS}
    assert {t: (p.date, p.n_authors, p.upvotes) for t, p in merged.items()} == REPEATS
    assert {p.source.rsplit(":", 1)[0] for p in merged.values()} == {str(FIRST)}


# -- every input format: samples under tests/data/readers/ with expected records beside them ---

def _expected(sample: Path, name: str | None = None) -> dict:
    expected = json.loads(sample.with_suffix(".expected.json").read_text(encoding="utf-8"))
    if name is not None:
        for record in expected["records"]:
            record["source"] = record["source"].replace(sample.name, name)
    return expected


def _as_expected(path: Path) -> dict:
    """What the reader makes of ``path``, in the shape of a sample's .expected.json."""
    papers, log = _read(path)
    records = []
    for paper in papers:
        assert paper.source.startswith(f"{path}:")
        records.append(paper.to_dict() | {"source": f"{path.name}:{_line(paper)}"})
    assert {where for where, _, _ in log.skipped} <= {str(path)}
    return {"format": sniff(path).format, "records": records,
            "skipped": [[line, why] for _, line, why in log.skipped]}


def test_samples_cover_every_text_format():
    assert len(SAMPLES) >= 7
    assert {_expected(s)["format"] for s in SAMPLES} == {"listing", "jsonl", "csv"}
    assert {s.suffix for s in SAMPLES} >= {".txt", ".jsonl", ".csv", ".tsv"}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_sample_reads_to_its_expected_records(sample):
    assert _as_expected(sample) == _expected(sample)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("name", ["{}.gz", "{}", "dump"], ids=["dot-gz", "same-name", "no-ext"])
def test_gzipped_sample_is_detected_by_content(sample, name, tmp_path):
    target = tmp_path / name.format(sample.name)
    target.write_bytes(gzip.compress(sample.read_bytes(), mtime=0))
    assert target.read_bytes()[:2] == b"\x1f\x8b"
    assert _as_expected(target) == _expected(sample, target.name)


def test_parquet_input_reads_the_same_records_as_the_csv(tmp_path):
    sample = DATA / "export.csv"
    expected = _expected(sample)["records"]
    target = tmp_path / "export.parquet"
    frame = pd.DataFrame([{c: r[c] for c in COLUMNS} for r in expected])
    frame.to_parquet(target, index=False)
    papers, log = _read(target)
    assert [p.to_dict() for p in papers] == [
        r | {"source": f"{target}:{row}"} for row, r in enumerate(expected, 1)]
    assert log.skipped == []
    assert sniff(target).format == "parquet"


@pytest.mark.parametrize(("fmt", "message"), [
    ("listing", "no papers found (expected a copied paper-listing page (a title line, then its "
                "abstract))"),
    ("csv", "CSV header has no 'title' or 'abstract' column; add a header row with title and "
            "abstract"),
])
def test_explicit_format_overrides_detection(fmt, message):
    path = DATA / "jsonl_as.txt"  # JSON Lines: read as another format, it holds no papers
    with pytest.raises(DumpError) as caught:
        _read(path, fmt=fmt)
    assert str(caught.value) == f"{path}{':1' if fmt == 'csv' else ''}: {message}"


def test_unknown_format_is_refused():
    with pytest.raises(DumpError) as caught:
        _read(DATA / "jsonl_as.txt", fmt="xml")
    assert str(caught.value) == "unknown format 'xml'; use one of listing, jsonl, csv, parquet"


def test_repeats_across_formats_merge_their_metadata():
    papers, log = parse_papers([DATA / "listing_page.txt", DATA / "hf_papers.jsonl"],
                               reference_date=REFERENCE)
    assert log.repeats == 2  # GaLore and Mesa
    by_title = {p.title: p for p in papers}
    galore = by_title["GaLore: Memory-Efficient LLM Training by Gradient Low-Rank Projection"]
    # the listing's own metadata stays; the JSONL adds its arXiv id and organization
    assert (galore.id, galore.date, galore.n_authors, galore.organization, galore.upvotes) == (
        "2403.03507", "2024-03-06", 7, "Example Lab", 190)
    assert galore.source == f"{DATA / 'listing_page.txt'}:13"
    mesa = by_title["Mesa: A Memory-saving Training Framework for Transformers"]
    assert (mesa.id, mesa.date, mesa.n_authors, mesa.upvotes, mesa.url) == (
        "2111.11124", "2025-12-24", 3, 12, "https://huggingface.co/papers/2111.11124")


# -- ids ----------------------------------------------------------------------------------------

GALORE = "GaLore: Memory-Efficient LLM Training by Gradient Low-Rank Projection"


@pytest.mark.parametrize(("given", "url", "expected"), [
    ("2403.03507v2", "", "2403.03507"),
    ("2403.03507", "", "2403.03507"),
    ("  2403.03507v12 ", "", "2403.03507"),
    ("0704.0001v1", "", "0704.0001"),
    ("math.OC/0501001v3", "", "math.OC/0501001"),
    ("hep-th/9901001", "", "hep-th/9901001"),
    ("", "https://arxiv.org/abs/2101.06840v1", "2101.06840"),
    ("", "http://arxiv.org/pdf/2101.06840v2.pdf", "2101.06840"),
    ("", "https://huggingface.co/papers/2111.11124", "2111.11124"),
    ("acl-2024-42", "https://arxiv.org/abs/2101.06840", "2101.06840"),
    ("acl-2024-42", "https://example.org/paper/7", "acl-2024-42"),
    ("", "https://example.org/paper/7", "b251d0c62f98"),
    ("", "", "b251d0c62f98"),
])
def test_paper_id(given, url, expected):
    assert paper_id(given, GALORE, url) == expected


def test_title_hash_is_sha1_of_the_lowercase_letters_and_digits():
    key = b"galorememoryefficientllmtrainingbygradientlowrankprojection"
    assert hashlib.sha1(key).hexdigest()[:12] == "b251d0c62f98" == title_hash(GALORE)
    for variant in ("GaLore Memory Efficient LLM Training by Gradient Low-Rank Projection",
                    "  GALORE:  memory-efficient llm training,\nby gradient low rank projection "):
        assert title_hash(variant) == "b251d0c62f98"
    assert title_hash("GaLore 2: Memory-Efficient LLM Training") != "b251d0c62f98"
    assert arxiv_id("not an id") == arxiv_id("2403.035") == ""


def test_the_same_paper_gets_the_same_id_in_every_format():
    ids: dict[str, set[str]] = {}
    for sample in SAMPLES:
        for paper in _read(sample)[0]:
            ids.setdefault(title_hash(paper.title), set()).add(paper.id)
    zero = title_hash("ZeRO-Offload: Democratizing Billion-Scale Model Training")
    assert ids[zero] == {"2101.06840"}  # hf_papers.jsonl, arxiv_snapshot.jsonl, export.csv
    # listing page and CSV, neither with an arXiv id; the JSONL copy has one
    assert ids[title_hash(GALORE)] == {"b251d0c62f98", "2403.03507"}
    mesa = title_hash("Mesa: A Memory-saving Training Framework for Transformers")
    assert ids[mesa] == {mesa, "2111.11124"}


def test_seed_papers_keep_their_ids_when_converted_to_csv_and_jsonl(tmp_path):
    papers, _ = _read(SECOND)
    with open(tmp_path / "papers.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "abstract"])
        writer.writerows([p.title, p.abstract] for p in papers)
    (tmp_path / "papers.jsonl").write_text("".join(
        json.dumps({"title": p.title, "abstract": p.abstract}) + "\n" for p in papers),
        encoding="utf-8")
    for name in ("papers.csv", "papers.jsonl"):
        again, _ = _read(tmp_path / name)
        assert [(p.id, p.title, p.abstract) for p in again] == [
            (p.id, p.title, p.abstract) for p in papers]


# -- round trips and fuzzing with hypothesis ------------------------------------------------------

_WORD = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
                min_size=1, max_size=10)
_METADATA_LIKE = re.compile(r"·|•\s*\d+\s+authors?|[A-Z][a-z]{2}\s+\d{1,2}(,\s*\d{4})?(\s+\d+)?")


def _words(low: int, high: int):
    return st.lists(_WORD, min_size=low, max_size=high).map(" ".join)


def _listing_safe(line: str) -> bool:
    """A line the listing reader takes as text, not page chrome or a metadata line."""
    return line not in CHROME and not _METADATA_LIKE.fullmatch(line)


_TITLES = _words(1, 12).filter(_listing_safe)
_COUNTS = st.none() | st.integers(0, 999_999_999)
_DATES = st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)).map(dt.date.isoformat)


@st.composite
def _listing_papers(draw) -> Paper:
    title = draw(_TITLES)
    abstract = draw(_words(12, 40).filter(lambda a: len(a) > len(title)))
    paper = Paper(id=title_hash(title), title=title, abstract=abstract)
    if draw(st.booleans()):  # a listing shows metadata only in a block that ends in a date
        paper.date = draw(_DATES)
        paper.upvotes = draw(_COUNTS)
        who = draw(st.sampled_from(["authors", "organization", "neither"]))
        if who == "authors":
            paper.n_authors = draw(st.integers(0, 999_999_999))
        elif who == "organization":
            paper.organization = draw(_words(1, 3).filter(
                lambda o: _listing_safe(f"{o.split()[0]} {o}")))
    return paper


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hypothesis") / "dump"


@settings(max_examples=60, deadline=None)
@given(papers=st.lists(_listing_papers(), min_size=1, max_size=6))
def test_listing_text_round_trip(papers, scratch):
    scratch.write_text(to_listing_text(papers), encoding="utf-8")
    again, log = _read(scratch)
    assert again == papers
    assert log.skipped == []


@st.composite
def _records(draw) -> dict:
    title = draw(_words(1, 15))
    arxiv = draw(st.none() | st.from_regex(r"\A[0-9]{4}\.[0-9]{5}\Z"))
    return {
        "id": arxiv or title_hash(title),
        "title": title,
        "abstract": draw(_words(1, 40)),
        "date": draw(st.just("") | _DATES),
        "n_authors": draw(_COUNTS),
        "organization": draw(st.just("") | _words(1, 3)),
        "upvotes": draw(_COUNTS),
        "url": f"https://arxiv.org/abs/{arxiv}v2" if arxiv and draw(st.booleans()) else "",
    }


@settings(max_examples=60, deadline=None)
@given(records=st.lists(_records(), min_size=1, max_size=6))
def test_jsonl_round_trip(records, scratch):
    scratch.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    again, log = _read(scratch)
    assert [p.to_dict() for p in again] == [
        r | {"source": f"{scratch}:{n}"} for n, r in enumerate(records, 1)]
    assert log.skipped == []


_RAW = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60).filter(
    lambda t: clean_text(t) != "")


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(records=st.lists(_records(), min_size=1, max_size=6), data=st.data())
def test_csv_round_trip_with_commas_quotes_and_newlines(records, data, scratch):
    for record in records:  # any text, with the separators and quotes CSV has to escape
        extra = st.sampled_from([",", '"', "\n", "\r\n", "\t", " ", '""', ", "])
        record["title"] = data.draw(st.lists(_RAW | extra, min_size=1).map("".join).filter(
            lambda t: clean_text(t) != ""))
        record["abstract"] = data.draw(st.lists(_RAW | extra, min_size=1).map("".join).filter(
            lambda t: clean_text(t) != ""))
        record["id"] = record["id"] if arxiv_id(record["id"]) else title_hash(record["title"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([("" if r[c] is None else r[c]) for c in COLUMNS] for r in records)
    scratch.write_text(out.getvalue(), encoding="utf-8", newline="")
    again, log = _read(scratch)
    assert log.skipped == []
    assert [p.to_dict() | {"source": ""} for p in again] == [
        r | {"title": clean_text(r["title"]), "abstract": clean_text(r["abstract"]),
             "source": ""} for r in records]


_FRAGMENTS = st.sampled_from([
    "\n", "\n\n", "\r\n", "\t", ",", '"', "{", "}", "[", "]", ":", '"title"', '"abstract"',
    '"date"', '"versions"', '"authors_parsed"', '"upvotes"', "title,abstract\n",
    "title\tabstract\n", "·", "•", " authors", "  • 3 authors\n", "Jan 20 3", "Feb 29, 2023",
    "Mar 6, 2024 190", "nvidia NVIDIA", "Daily Papers", "9" * 12, "2024-02-30", "null", "1e999",
    "https://arxiv.org/abs/2101.06840v1", "\ufeff", "PAR1", "\x1f\x8b", "é", "\x00",
    "one two three four five six seven eight nine ten eleven twelve",
])
_TEXTS = st.text(st.characters(codec="utf-8"), max_size=400) | st.lists(
    _FRAGMENTS | st.text(max_size=4, alphabet=st.characters(codec="utf-8")), max_size=60).map(
    "".join)


def _read_all_or_dump_error(path: Path, fmt: str | None) -> None:
    try:
        for paper in read_file(path, reference_date=REFERENCE, fmt=fmt):
            assert paper.title and paper.abstract
    except TaxonomyError as exc:
        assert isinstance(exc, DumpError)
        assert exc.path == str(path)


@settings(max_examples=150, deadline=None)
@given(text=_TEXTS, fmt=st.sampled_from([None, "listing", "jsonl", "csv"]))
def test_arbitrary_text_raises_only_dump_errors(text, fmt, scratch):
    scratch.write_text(text, encoding="utf-8")
    _read_all_or_dump_error(scratch, fmt)


@settings(max_examples=150, deadline=None)
@given(blob=st.binary(max_size=600) | _TEXTS.map(lambda t: t.encode("utf-8", "replace")),
       how=st.sampled_from(["plain", "latin-1 noise", "gzip", "truncated gzip"]),
       fmt=st.sampled_from([None, "listing", "jsonl", "csv", "parquet"]), data=st.data())
def test_arbitrary_bytes_raise_only_dump_errors(blob, how, fmt, data, scratch):
    if how == "latin-1 noise":
        cut = data.draw(st.integers(0, len(blob)))
        blob = blob[:cut] + "Résumé".encode("latin-1") + blob[cut:]
    elif how == "gzip":
        blob = gzip.compress(blob, mtime=0)
    elif how == "truncated gzip":
        blob = gzip.compress(blob, mtime=0)
        blob = blob[: data.draw(st.integers(0, len(blob) - 1))]
    scratch.write_bytes(blob)
    _read_all_or_dump_error(scratch, fmt)


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_file_raises_one_dump_error_naming_it(path):
    expected = path.with_suffix(".error").read_text(encoding="utf-8").strip()
    with pytest.raises(DumpError) as caught:
        _read(path)
    assert str(caught.value) == expected.format(path=path)
    assert caught.value.path == str(path)


def test_every_bad_file_has_its_message():
    assert len(BAD) >= 8
    assert sorted(p.stem for p in (DATA / "bad").glob("*.error")) == sorted(p.stem for p in BAD)


def _truncated_gzip(path: Path) -> None:
    data = gzip.compress((DATA / "listing_page.txt").read_bytes(), mtime=0)
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: None, "no such file; check the path"),
    (lambda p: p.mkdir(), "is a directory; give the dump files inside it"),
    (_truncated_gzip, "gzip data is truncated or corrupt; re-download the dump"),
    (lambda p: p.write_bytes(gzip.compress(b"x" * 100)[:12]),
     "gzip data is truncated or corrupt; re-download the dump"),
    (lambda p: p.write_bytes(b"\x1f\x8b not really gzip"),
     "gzip data is truncated or corrupt; re-download the dump"),
], ids=["missing", "directory", "truncated-gzip", "gzip-header-only", "gzip-magic-only"])
def test_unreadable_path_raises_one_dump_error_naming_it(make, message, tmp_path):
    path = tmp_path / "dump.txt"
    make(path)
    with pytest.raises(DumpError) as caught:
        _read(path)
    assert str(caught.value) == f"{path}: {message}"


def test_lines_that_are_not_utf8_are_skipped_and_logged(tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = (DATA / "jsonl_as.txt").read_bytes()
    bad = json.dumps({"title": "Résumé", "abstract": "Un résumé."}, ensure_ascii=False)
    path.write_bytes(good + bad.encode("latin-1") + b"\n")
    papers, log = _read(path)
    assert [p.title for p in papers] == [r["title"] for r in _expected(
        DATA / "jsonl_as.txt")["records"]]
    assert log.skipped == [(str(path), 3, "not UTF-8")]


def test_metadata_counts_too_long_to_be_numbers_are_read_as_text(tmp_path):
    path = tmp_path / "listing.txt"
    abstract = "one two three four five six seven eight nine ten eleven twelve"
    path.write_text(f"A Title\n\n{abstract}\n\n  • {'9' * 5000} authors\n\nSecond Title\n\n"
                    f"{abstract} thirteen\n\n  • 2 authors\n·\nJan 5, 2024 {'7' * 5000}\n",
                    encoding="utf-8")
    papers, _ = _read(path)
    assert [(p.title, p.n_authors, p.date, p.upvotes) for p in papers] == [
        ("A Title", None, "", None), ("Second Title", 2, "", None)]


_SPACED = st.text(st.characters(codec="utf-8") | st.sampled_from(
    [" ", "\t", "\n", "\x1c", "\x85", "\xa0", "\u2003", "\u2028", "ﬁ", "İ", "Ⅻ", "_"]))


@settings(max_examples=500, deadline=None)
@given(_SPACED)
def test_fast_paths_of_text_normalization_equal_the_plain_rules(text):
    # clean_text and title_key skip work for text that is already clean or ASCII; they must
    # give what the plain rules give on every text.
    import unicodedata

    from taxonomy.io.records import title_key

    assert clean_text(text) == " ".join(text.split())
    assert title_key(text) == re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def _reference_dedupe(papers: list[Paper]) -> list[dict]:
    """Repeats merged with exact keys (id, normalized title), the plain way."""
    from dataclasses import replace

    from taxonomy.io.records import apply_update, arxiv_id, own_id, title_key

    # Same paper: the same arXiv id, or the same non-empty normalized title without
    # conflicting arXiv ids; a different paper under a taken id gets an id of its own.
    updates: dict[str, Paper] = {}
    kept: list[Paper] = []
    ids: dict[str, str] = {}  # id -> the kept paper's id
    titles: dict[str, list[str]] = {}  # normalized title -> [kept paper's id, its arXiv id]
    for paper in papers:
        arxiv, key = arxiv_id(paper.id), title_key(paper.title)
        emitted = None
        if arxiv and paper.id in ids:
            emitted = ids[paper.id]
        elif key and key in titles and (not arxiv or titles[key][1] in ("", paper.id)):
            emitted = titles[key][0]
            if arxiv and not titles[key][1]:
                titles[key][1] = paper.id
                ids.setdefault(paper.id, emitted)
        if emitted is not None:
            pending = updates.get(emitted) or Paper(id=emitted, title="", abstract="")
            updates[emitted] = Paper(**apply_update(pending.to_dict(), paper))
            continue
        if paper.id in ids:
            paper = replace(paper, id=own_id(paper, ids.__contains__))
        ids[paper.id] = paper.id
        if key and key not in titles:
            titles[key] = [paper.id, paper.id if arxiv else ""]
        kept.append(paper)
    return [apply_update(p.to_dict(), updates[p.id]) if p.id in updates else p.to_dict()
            for p in kept]


_IDS = st.sampled_from(["2401.00001", "2401.00002", "a", "b", "c", "2401.00003v2"])
_TITLES = st.sampled_from(["Sparse Training", "sparse  training!", "Dense", "Other Title", "X"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.builds(Paper, id=_IDS, title=_TITLES, abstract=st.just("An abstract."),
                          date=st.sampled_from(["", "2024-01-02", "2023-05-06"]),
                          url=st.sampled_from(["", "https://arxiv.org/abs/2401.00009"]),
                          upvotes=st.none() | st.integers(0, 9)), max_size=3000),
       st.booleans())
def test_hashed_dedupe_keeps_and_merges_what_exact_keys_do(papers, learned):
    # Keys are 90-bit hashes; the result must be the exact-key one, whether the metadata of
    # repeats is applied after the read or learned by a first read of the same papers.
    from taxonomy.io.records import Deduplicator

    dedupe = Deduplicator()
    kept = list(dedupe(papers))
    if learned:
        again = Deduplicator(learned=dedupe)
        rows = [p.to_dict() for p in again(papers)]
        assert rows == _reference_dedupe(papers)
        assert again.repeats == len(papers) - len(kept)
    rows = [dedupe.updated(p.to_dict()) for p in kept]
    assert rows == _reference_dedupe(papers)
    assert dedupe.repeats == len(papers) - len(kept)


def test_a_json_line_whose_text_reads_like_a_csv_header_is_json_lines(tmp_path):
    """A comma-separated ' title ' inside an object's text once made the sniffer take the
    file for CSV and refuse it for lacking an abstract column (found by hypothesis)."""
    path = tmp_path / "dump.jsonl"
    path.write_text(json.dumps({"id": "x1", "title": "A title",
                                "abstract": "Ablations, title, and more."}) + "\n",
                    encoding="utf-8")
    assert sniff(path).format == "jsonl"
    assert [p.title for p in read_file(path, log=ReadLog())] == ["A title"]

