"""The category coverage report's figures: each section a small pure function from DataFrames
to a DataFrame, so each can be checked on its own; ``build_report`` gathers them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import TaxonomyError
from ..io.records import arxiv_id
from ..labels.categories import Taxonomy
from ..labels.indicator import split_labels, to_indicator
from ..labels.labelfile import MIN_SUPPORT

TITLE = "Training-efficiency category coverage"
UNDATED = "undated"
_MONTH = re.compile(r"^\d{4}-(\d{2})")


@dataclass
class Report:
    """Every section of the coverage report, and what it was computed from."""

    papers: int
    covered: int
    by_hand: int
    by_model: int
    categories: pd.DataFrame
    top_papers: pd.DataFrame
    uncovered: pd.DataFrame
    uncertain: pd.DataFrame
    cooccurrence: pd.DataFrame
    over_time: pd.DataFrame
    reading_list: pd.DataFrame
    label_support: pd.DataFrame | None = None
    compare: pd.DataFrame | None = None
    new_papers: pd.DataFrame | None = None
    papers_then: int | None = None
    uncertain_top: int = 50
    top_n: int = 10
    models: list[str] = field(default_factory=list)
    generated: str = field(default_factory=lambda: dt.date.today().isoformat())


# -- input ---------------------------------------------------------------------------------

def prepare(tags: pd.DataFrame, taxonomy: Taxonomy, *, scores: bool = True) -> pd.DataFrame:
    """A copy of a tagged table with text columns filled ('' for missing), scores numeric and
    a ``link`` column (see ``paper_link``)."""
    needed = ["id", "labels"] + (["title", "source"] + _score_columns(taxonomy) if scores else [])
    missing = [c for c in needed if c not in tags.columns]
    if missing:
        raise TaxonomyError(f"tagged table lacks column(s) {', '.join(missing)}; give a table "
                            "written by 'taxonomy tag' with the current taxonomy")
    frame = tags.reset_index(drop=True).copy()
    for name in ("id", "title", "date", "labels", "source", "url", "model", "model_version"):
        frame[name] = texts(frame.get(name, pd.Series("", index=frame.index)))
    for name in _score_columns(taxonomy) if scores else []:
        frame[name] = pd.to_numeric(frame[name], errors="coerce")
    frame["link"] = [paper_link(i, u) for i, u in zip(frame["id"], frame["url"], strict=True)]
    return frame


def texts(column: pd.Series) -> pd.Series:
    """A column as stripped strings, '' for missing values (whatever the column's dtype)."""
    return column.map(lambda v: "" if pd.isna(v) else str(v).strip()).astype(object)


def indicator(tags: pd.DataFrame, taxonomy: Taxonomy, strict: bool = True) -> np.ndarray:
    """Papers x categories 0/1 matrix from the ``labels`` column; unknown ids are an error
    (``strict``) or ignored (an older table tagged with an older taxonomy)."""
    known = set(taxonomy.ids)
    rows = [split_labels(text) for text in tags["labels"]]
    unknown = [(number, c) for number, labels in enumerate(rows, 1) for c in labels
               if c not in known]
    if strict and unknown:
        raise TaxonomyError(f"row {unknown[0][0]} of the tagged table has unknown category "
                            f"{unknown[0][1]!r}; tag it again with the current taxonomy")
    return to_indicator([[c for c in labels if c in known] for labels in rows], taxonomy.ids)


def model_names(tags: pd.DataFrame) -> list[str]:
    """The models (name and version) a prepared table was tagged with, sorted."""
    pairs = zip(tags["model"], tags["model_version"], strict=True)
    return sorted({f"{m} {v}".strip() for m, v in pairs if m or v})


def _score_columns(taxonomy: Taxonomy) -> list[str]:
    return [f"score_{cid}" for cid in taxonomy.ids]


# -- the sections --------------------------------------------------------------------------

def category_table(tags: pd.DataFrame, matrix: np.ndarray, taxonomy: Taxonomy) -> pd.DataFrame:
    """Per category: papers, share of all papers, hand vs model split, mean score of its papers."""
    papers = matrix.sum(axis=0)
    hand = matrix[(tags["source"] == "hand").to_numpy()].sum(axis=0)
    return pd.DataFrame({
        "id": taxonomy.ids, "name": [c.name for c in taxonomy.categories], "papers": papers,
        "share": papers / max(len(tags), 1), "hand": hand, "model": papers - hand,
        # Each category's mean over its own rows, summed in their order (a masked mean of the
        # whole table adds in another order, and a mean on a rounding edge would round apart).
        "mean_score": [tags.loc[matrix[:, j], column].mean()
                       for j, column in enumerate(_score_columns(taxonomy))],
    })


def top_papers(tags: pd.DataFrame, matrix: np.ndarray, taxonomy: Taxonomy,
               top_n: int = 10) -> pd.DataFrame:
    """The ``top_n`` highest-scoring papers of each category (ties by id), ranked from 1."""
    members = _members(tags, matrix, taxonomy, ["id", "title", "source", "link"])
    best = members.sort_values(["position", "score", "id"], ascending=[True, False, True])
    best = best.groupby("position").head(top_n)
    best.insert(1, "rank", best.groupby("position").cumcount() + 1)
    return best[["category", "rank", "id", "title", "score", "source", "link"]].reset_index(
        drop=True)


def uncovered(tags: pd.DataFrame, matrix: np.ndarray, taxonomy: Taxonomy) -> pd.DataFrame:
    """Papers in no category, with the category they came closest to (highest score first)."""
    empty = ~matrix.any(axis=1)
    scores = tags.loc[empty, _score_columns(taxonomy)].to_numpy(dtype=float)
    out = tags.loc[empty, ["id", "title", "date", "source", "link"]].copy()
    best = np.argmax(np.nan_to_num(scores, nan=-1.0), axis=1)
    out["best_category"] = [taxonomy.ids[j] for j in best]
    out["best_score"] = scores[np.arange(len(out)), best]
    return out.sort_values(["best_score", "id"], ascending=[False, True], ignore_index=True)


def uncertain(tags: pd.DataFrame, taxonomy: Taxonomy, thresholds: Mapping[str, float],
              top: int = 50) -> pd.DataFrame:
    """The review queue: the ``top`` model-tagged papers a hand label would teach the model most
    (``tagging.review``), each with its most uncertain category and ``also_near`` a second."""
    from ..tagging.review import informativeness, uncertainty

    missing = [cid for cid in taxonomy.ids if cid not in thresholds]
    if missing:
        raise TaxonomyError(f"no threshold for category {missing[0]!r}; pass the 'thresholds' "
                            "of the model card the table was tagged with")
    model = tags[tags["source"] == "model"]
    ids = np.asarray(taxonomy.ids, dtype=object)
    scores = model[_score_columns(taxonomy)].to_numpy(dtype=float)
    limits = np.array([float(thresholds[c]) for c in taxonomy.ids])
    closeness = uncertainty(scores, limits)
    order = np.argsort(-closeness, axis=1, kind="stable")
    first, second = order[:, 0], order[:, min(1, len(ids) - 1)]
    rows = np.arange(len(model))
    near = (second != first) & (closeness[rows, second] >= 0.5)  # one category: none near
    out = pd.DataFrame({
        "id": model["id"].to_numpy(), "title": model["title"].to_numpy(),
        "category": ids[first], "score": scores[rows, first], "threshold": limits[first],
        "distance": scores[rows, first] - limits[first],
        "assigned": [c in split_labels(text) for c, text in zip(ids[first], model["labels"],
                                                                 strict=True)],
        "also_near": np.where(near, ids[second], ""),
        "informativeness": np.round(informativeness(scores, limits), 4),
        "link": model["link"].to_numpy(),
    })
    out = out.sort_values(["informativeness", "id"], ascending=[False, True], kind="stable")
    return out.head(top).reset_index(drop=True)


def cooccurrence(matrix: np.ndarray, taxonomy: Taxonomy) -> pd.DataFrame:
    """Category x category paper counts; the diagonal is each category's own count."""
    counts = matrix.T.astype(np.int64) @ matrix
    return pd.DataFrame(counts, index=pd.Index(taxonomy.ids, name="category"),
                        columns=taxonomy.ids)


def month_of(date: str) -> str:
    """'2025-03-07' -> '2025-03'; anything without a year and month -> 'undated'."""
    match = _MONTH.match(date or "")
    return match[0] if match and "01" <= match[1] <= "12" else UNDATED


def over_time(tags: pd.DataFrame, matrix: np.ndarray, taxonomy: Taxonomy) -> pd.DataFrame:
    """Per month with papers (oldest first, then 'undated'): papers, uncovered papers, and
    papers per category."""
    frame = pd.DataFrame(matrix.astype(int), columns=taxonomy.ids)
    frame["month"] = [month_of(d) for d in tags["date"]]
    frame["papers"] = 1
    frame["uncovered"] = (~matrix.any(axis=1)).astype(int)
    grouped = frame.groupby("month")[["papers", "uncovered", *taxonomy.ids]].sum()
    # Oldest month first and 'undated' last (a month's digits need not be ASCII ones).
    return grouped.loc[sorted(grouped.index, key=lambda m: (m == UNDATED, m))].reset_index()


def support_table(label_support: Mapping[str, int], taxonomy: Taxonomy) -> pd.DataFrame:
    """Hand labels per category, with a warning below ``MIN_SUPPORT``."""
    counts = [int(label_support.get(cid, 0)) for cid in taxonomy.ids]
    return pd.DataFrame({"id": taxonomy.ids, "name": [c.name for c in taxonomy.categories],
                         "hand_labels": counts,
                         "warning": [f"fewer than {MIN_SUPPORT} hand labels"
                                     if n < MIN_SUPPORT else "" for n in counts]})


def paper_link(paper_id: str, url: str) -> str:
    """The paper's URL, else its arXiv abstract page when the id is an arXiv id, else ''."""
    if url:
        return url
    found = arxiv_id(paper_id)
    return f"https://arxiv.org/abs/{found}" if found else ""


def reading_list(tags: pd.DataFrame, matrix: np.ndarray, taxonomy: Taxonomy) -> pd.DataFrame:
    """Every paper of each category, newest first (undated last, then by score): what to read."""
    members = _members(tags, matrix, taxonomy, ["id", "title", "date", "link"])
    members["dated"] = members["date"].where(members["date"].map(month_of) != UNDATED)
    members = members.sort_values(["position", "dated", "score", "id"],
                                  ascending=[True, False, False, True])
    return members[["category", "id", "title", "date", "link", "score"]].reset_index(drop=True)


def compare_counts(then: pd.DataFrame, now: np.ndarray, taxonomy: Taxonomy) -> pd.DataFrame:
    """Each category's papers in an older tagged table and in the ``now`` matrix, and the
    change. Categories the current taxonomy no longer has are ignored in the older table."""
    before = indicator(then, taxonomy, strict=False).sum(axis=0)
    after = now.sum(axis=0)
    return pd.DataFrame({
        "id": taxonomy.ids, "name": [c.name for c in taxonomy.categories],
        "then": before, "now": after, "change": after - before,
    })


def new_papers(then: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Papers in ``now`` whose id the older table does not have, in table order."""
    fresh = now[~now["id"].isin(then["id"])]
    return fresh[["id", "title", "date", "labels", "source", "link"]].reset_index(drop=True)


def _members(tags: pd.DataFrame, matrix: np.ndarray, taxonomy: Taxonomy,
             columns: list[str]) -> pd.DataFrame:
    """One row per paper of each category (categories in taxonomy order, then table order):
    its ``category``, the paper's ``columns`` and its ``score`` in that category; the index,
    ``position``, is the category's place in the taxonomy."""
    position, paper = np.nonzero(matrix.T)
    out = tags[columns].iloc[paper].set_index(pd.Index(position, name="position"))
    out.insert(0, "category", np.asarray(taxonomy.ids, dtype=object)[position])
    out["score"] = tags[_score_columns(taxonomy)].to_numpy(dtype=float)[paper, position]
    return out


def build_report(tags: pd.DataFrame, taxonomy: Taxonomy, thresholds: dict[str, float],
                 label_support: dict[str, int] | None = None,
                 compare: pd.DataFrame | None = None, uncertain_top: int = 50,
                 top_n: int = 10) -> Report:
    """Every section of the report for a tagged table (and optionally an older one)."""
    tags = prepare(tags, taxonomy)
    matrix = indicator(tags, taxonomy).astype(bool)
    hand = int((tags["source"] == "hand").sum())
    then = prepare(compare, taxonomy, scores=False) if compare is not None else None
    return Report(
        papers=len(tags), covered=int(matrix.any(axis=1).sum()),
        by_hand=hand, by_model=len(tags) - hand,
        categories=category_table(tags, matrix, taxonomy),
        top_papers=top_papers(tags, matrix, taxonomy, top_n),
        uncovered=uncovered(tags, matrix, taxonomy),
        uncertain=uncertain(tags, taxonomy, thresholds, uncertain_top),
        cooccurrence=cooccurrence(matrix, taxonomy),
        over_time=over_time(tags, matrix, taxonomy),
        reading_list=reading_list(tags, matrix, taxonomy),
        label_support=None if label_support is None else support_table(label_support, taxonomy),
        compare=None if then is None else compare_counts(then, matrix, taxonomy),
        new_papers=None if then is None else new_papers(then, tags),
        papers_then=None if then is None else len(then),
        uncertain_top=uncertain_top, top_n=top_n, models=model_names(tags),
    )
