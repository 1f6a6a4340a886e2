"""Inter-annotator agreement: per-category Cohen's kappa of two labeling passes."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import LabelsError
from .categories import Taxonomy
from .indicator import to_indicator


@dataclass
class Agreement:
    """Inter-annotator agreement over the papers two passes share."""

    papers: int
    kappa: dict[str, float]
    positives: dict[str, tuple[int, int]]
    disagreements: list[tuple[str, list[str], list[str]]]


def agreement(first: dict[str, list[str]], second: dict[str, list[str]],
              taxonomy: Taxonomy) -> Agreement:
    """Per-category Cohen's kappa and every paper whose two label sets differ."""
    from sklearn.metrics import cohen_kappa_score

    shared = [paper_id for paper_id in first if paper_id in second]
    if not shared:
        raise LabelsError("the two label files share no paper ids")
    a = to_indicator([first[i] for i in shared], taxonomy.ids)
    b = to_indicator([second[i] for i in shared], taxonomy.ids)
    kappa = {cid: 1.0 if (x == y).all() else float(cohen_kappa_score(x, y))
             for cid, x, y in zip(taxonomy.ids, a.T, b.T, strict=True)}
    positives = {cid: (int(x), int(y))
                 for cid, x, y in zip(taxonomy.ids, a.sum(axis=0), b.sum(axis=0), strict=True)}
    differ = [(i, first[i], second[i]) for i in shared if set(first[i]) != set(second[i])]
    return Agreement(len(shared), kappa, positives, differ)


def format_agreement(result: Agreement, taxonomy: Taxonomy) -> str:
    """The agreement as a terminal table, then every paper the passes differ on."""
    lines = [f"{result.papers} papers labeled twice",
             f"{'category':<20} {'first':>6} {'second':>6} {'kappa':>6}"]
    for cid in taxonomy.ids:
        a, b = result.positives[cid]
        lines.append(f"{cid:<20} {a:>6} {b:>6} {result.kappa[cid]:>6.3f}")
    lines.append(f"{len(result.disagreements)} papers differ:")
    for paper_id, first, second in result.disagreements:
        lines.append(f"  {paper_id}: {';'.join(first) or '(none)'} | "
                     f"{';'.join(second) or '(none)'}")
    return "\n".join(lines)
