"""What a digest holds, computed from the store's tagged papers: per category the papers
submitted in the window (strongest score first), how the window compares with the windows of
the same length before it, and the uncertain papers the review queue would pick."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..labels.categories import Taxonomy
from ..labels.indicator import split_labels
from ..report.figures import _score_columns, indicator, model_names, prepare, texts, uncertain

TITLE = "Training-efficiency digest"
PERIODS = 8  # windows compared: this one and the seven before it
UNCERTAIN = 5  # uncertain papers listed per category
# A paper is listed as uncertain from this informativeness on (see tagging.review): its score
# lies at least halfway from 0 or 1 to the category's threshold.
UNCERTAIN_FROM = 0.5
REVIEW_TOP = 50  # the review queue's length (taxonomy review --top's default)


@dataclass
class Window:
    """The days a digest covers, both ends included."""

    since: dt.date
    until: dt.date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def earlier(self, n: int) -> Window:
        """The window of the same length ``n`` windows before this one."""
        shift = dt.timedelta(days=self.days * n)
        return Window(self.since - shift, self.until - shift)

    @property
    def first(self) -> dt.date:
        """The first day of the oldest window compared."""
        return self.earlier(PERIODS - 1).since


@dataclass
class CategoryDigest:
    id: str
    name: str
    papers: list[dict[str, Any]]
    periods: pd.DataFrame  # since, until, papers, all, share (oldest first)
    uncertain: list[dict[str, Any]]

    @property
    def change(self) -> int:
        """Papers this window minus the window before."""
        counts = self.periods["papers"].tolist()
        return counts[-1] - counts[-2] if len(counts) > 1 else 0


@dataclass
class Digest:
    window: Window
    papers: int  # tagged papers submitted in the window
    covered: int  # of those, in at least one category
    untagged: int  # papers in the window without tags (run 'taxonomy tag --db')
    categories: list[CategoryDigest]
    every: list[dict[str, Any]]  # every paper in a category, strongest score first
    models: list[str] = field(default_factory=list)


def paper_rows(frame: pd.DataFrame, taxonomy: Taxonomy, cid: str | None) -> list[dict]:
    """Papers as the digest lists them, by ``cid``'s score (else the best score), strongest
    first, ties by id."""
    names = {c.id: c.name for c in taxonomy.categories}
    scores = frame[_score_columns(taxonomy)].to_numpy(dtype=float)
    key = (frame[f"score_{cid}"].to_numpy(dtype=float) if cid
           else np.nan_to_num(scores, nan=-1.0).max(axis=1))
    rows = frame[["id", "title", "link", "date", "updated", "authors", "abstract", "source"]
                 ].to_dict(orient="records")
    labels, terms = frame["labels"].tolist(), frame["top_terms"].tolist()
    out = []
    for i in sorted(range(len(rows)), key=lambda i: (-key[i], rows[i]["id"])):
        cids = split_labels(labels[i])
        out.append({**rows[i], "labels": cids, "label_names": [names.get(c, c) for c in cids],
                    "score": float(key[i]), "terms": _terms(terms[i], cid),
                    "scores": dict(zip(taxonomy.ids, scores[i].tolist(), strict=True))})
    return out


def _terms(text: str, cid: str | None) -> str:
    """The terms behind ``cid`` in a top_terms cell ('memory: a, b; communication: c'); all of
    them without a category."""
    if cid is None:
        return text
    for part in text.split("; "):
        if part.startswith(f"{cid}: "):
            return part[len(cid) + 2:]
    return ""


def build_digest(frame: pd.DataFrame, history: pd.DataFrame, taxonomy: Taxonomy,
                 thresholds: dict[str, float], window: Window, untagged: int = 0) -> Digest:
    """The digest of ``window``: ``frame`` holds its tagged papers (``tagged_frame`` with the
    extra columns), ``history`` the date and labels of every tagged paper from
    ``window.first`` on (to compare the window with the ones before)."""
    frame = prepare(frame, taxonomy)
    for name in ("abstract", "authors", "updated"):
        frame[name] = texts(frame[name])
    day = history["date"].astype(str).to_numpy()
    past = indicator(history, taxonomy, strict=False).astype(bool)
    matrix = indicator(frame, taxonomy).astype(bool)
    queue = uncertain(frame, taxonomy, thresholds, top=REVIEW_TOP)
    queue = queue[queue["informativeness"] >= UNCERTAIN_FROM]
    parts = [window.earlier(n) for n in range(PERIODS - 1, -1, -1)]
    since, until = [p.since.isoformat() for p in parts], [p.until.isoformat() for p in parts]
    inside = np.array([(day >= s) & (day <= u) for s, u in zip(since, until, strict=True)])
    totals, counts = inside.sum(axis=1), inside.astype(int) @ past  # per window (x category)
    categories = []
    for j, category in enumerate(taxonomy.categories):
        periods = pd.DataFrame({"since": since, "until": until, "papers": counts[:, j],
                                "all": totals, "share": counts[:, j] / np.maximum(totals, 1)})
        unsure = [{**row, "suggested": row["assigned"]}
                  for row in queue[queue["category"] == category.id].head(UNCERTAIN)
                  .to_dict(orient="records")]
        categories.append(CategoryDigest(
            category.id, category.name,
            paper_rows(frame[matrix[:, j]], taxonomy, category.id),
            periods, unsure))
    covered = matrix.any(axis=1)
    return Digest(window, len(frame), int(covered.sum()), untagged, categories,
                  paper_rows(frame[covered], taxonomy, None), model_names(frame))
