"""The review queue: the unlabeled papers whose labels would teach the model most (like
small-text's query strategies): the most uncertain and torn between two categories, then a
diverse few of them (maximal marginal relevance). Memory stays flat on any dump."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..io.papers import chunked
from ..io.records import Paper
from ..labels.indicator import from_indicator
from .hand import HandLabels

if TYPE_CHECKING:  # the report and digest rank with informativeness() alone, without them
    from scipy import sparse

    from ..model.artifact import LoadedModel

# The weight of the second category's uncertainty in a paper's informativeness.
DISAGREEMENT_WEIGHT = 0.5
# How much diversity counts against informativeness when picking (maximal marginal relevance).
DIVERSITY = 0.3


def uncertainty(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per paper and category: 1 on the threshold, falling linearly to 0 at score 0 or 1."""
    below = 1 - (thresholds - scores) / thresholds
    above = 1 - (scores - thresholds) / (1 - thresholds)
    return np.clip(np.where(scores < thresholds, below, above), 0.0, 1.0)


def informativeness(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Largest uncertainty plus ``DISAGREEMENT_WEIGHT`` times the second largest."""
    u = np.sort(uncertainty(scores, thresholds), axis=1)
    second = u[:, -2] if u.shape[1] > 1 else 0.0
    return u[:, -1] + DISAGREEMENT_WEIGHT * second


@dataclass
class Candidate:
    paper: Paper
    scores: np.ndarray
    value: float


@dataclass
class Queued:
    """One paper of the queue, with what the model suggests and why."""

    paper: Paper
    scores: dict[str, float]
    suggested: list[str]
    terms: str
    value: float


def mmr(features: sparse.csr_matrix, values: np.ndarray, top: int) -> list[int]:
    """Indices of ``top`` rows picked greedily by (1 - DIVERSITY) * value - DIVERSITY * (the
    largest cosine similarity to a row already picked); rows of ``features`` are L2-normed."""
    n = len(values)
    if n == 0 or top <= 0:
        return []
    similarity = np.asarray((features @ features.T).todense())
    relevance = values / (float(values.max()) or 1.0)
    picked = [int(np.argmax(relevance))]
    closest = similarity[picked[0]].copy()
    while len(picked) < min(top, n):
        gain = (1 - DIVERSITY) * relevance - DIVERSITY * closest
        gain[picked] = -np.inf
        best = int(np.argmax(gain))
        picked.append(best)
        closest = np.maximum(closest, similarity[best])
    return picked


def queue_papers(papers: Iterable[Paper], model: LoadedModel, hand: HandLabels, top: int = 50,
                 only: set[str] | None = None) -> list[Queued]:
    """The ``top`` papers (a dump's, a store's) most worth labeling by hand, most informative
    first (papers with a hand label are skipped; with ``only``, papers whose ids it lacks too)."""
    from .scoring import TOP_TERMS, explain, score_chunk

    state = model.state
    unlabeled = (p for p in papers
                 if hand.get(p) is None and (only is None or p.id in only))

    def ranked() -> Iterator[Candidate]:
        for chunk in chunked(unlabeled, 2_000):
            scores = state.scores([p.title for p in chunk], [p.abstract for p in chunk])
            values = informativeness(scores, state.thresholds).tolist()
            yield from map(Candidate, chunk, scores, values)

    # Only the best few are kept while reading; ties keep reading order.
    pool = heapq.nlargest(max(20 * top, 1_000), ranked(), key=lambda c: c.value)
    if not pool or top < 1:
        return []
    words = state.words([c.paper.title for c in pool], [c.paper.abstract for c in pool])
    picked = mmr(words, np.array([c.value for c in pool]), top)
    chosen = [pool[i] for i in picked]
    scored, terms = score_chunk(state, [c.paper.title for c in chosen],
                                [c.paper.abstract for c in chosen], [None] * len(chosen),
                                model.feature_names)
    ids = state.category_ids
    suggested = from_indicator(scored >= state.thresholds, ids)
    # For a paper the model gives no label: the terms behind its most likely category (none
    # when no term pushed it up: explain then gives the category alone, 'id: ').
    nearest = explain(state, words[picked], np.arange(len(chosen)),
                      np.argmax([c.scores for c in chosen], axis=1), TOP_TERMS,
                      model.feature_names)
    return [Queued(c.paper, {cid: float(row[j]) for j, cid in enumerate(ids)}, labels,
                   why or (near if not near.endswith(": ") else ""), c.value)
            for c, row, labels, why, near in zip(chosen, scored, suggested, terms, nearest,
                                                 strict=True)]
