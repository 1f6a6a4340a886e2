"""Why a paper got its categories: per-category score, threshold and the terms behind it."""

from __future__ import annotations

from ..errors import TaxonomyError
from ..io.readers import read_papers
from ..io.records import Paper, arxiv_id
from ..model.artifact import LoadedModel


def find_paper(paper_id: str, inputs: list[str]) -> Paper:
    """The paper with this id (or arXiv id) in the inputs; an error naming the inputs if none."""
    wanted = arxiv_id(paper_id) or paper_id.strip()
    for paper in read_papers(inputs):
        if paper.id == wanted:
            return paper
    raise TaxonomyError(f"no paper with id {paper_id!r} in {', '.join(map(str, inputs))}; "
                        "'taxonomy parse' lists the ids")


def explain(paper: Paper, model: LoadedModel, k: int = 8) -> str:
    """A readable explanation of the model's decision for one paper."""
    state = model.state
    features = state.transform([paper.title], [paper.abstract])
    scores = state.scores_from_features(features)[0]
    lines = [f"{paper.id}  {paper.title}", f"model {model.name} {model.version}", ""]
    for j, cid in enumerate(state.category_ids):
        threshold = state.thresholds[j]
        verdict = "ASSIGNED" if scores[j] >= threshold else "not assigned"
        lines.append(f"{cid:<20} score {scores[j]:.3f}  threshold {threshold:.2f}  {verdict}")
        top = state.contributions(features, 0, j, k, model.feature_names)
        if top:
            lines.append("    " + ", ".join(f"{term} (+{weight:.2f})" for term, weight in top))
    return "\n".join(lines)
