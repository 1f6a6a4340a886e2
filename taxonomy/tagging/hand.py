"""Hand labels as tagging uses them: looked up by paper id, else by normalized title."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..io.records import Paper, arxiv_id, title_key
from ..labels.labelfile import LabeledPapers


@dataclass
class HandLabels:
    """Hand labels that win over the model for their own paper only (``records.Deduplicator``'s
    rule): the same arXiv id, id and title, or title without conflicting arXiv ids."""

    # id -> (labels, normalized title); normalized title -> (labels, id)
    by_id: dict[str, tuple[list[str], str]] = field(default_factory=dict)
    by_title: dict[str, tuple[list[str], str]] = field(default_factory=dict)

    @classmethod
    def from_papers(cls, papers: LabeledPapers | None) -> HandLabels:
        if papers is None:
            return cls()
        rows = list(zip(papers.ids, papers.labels, map(title_key, papers.titles), strict=True))
        return cls({i: (labels, key) for i, labels, key in rows},
                   {key: (labels, i) for i, labels, key in rows if key})

    def get(self, paper: Paper) -> list[str] | None:
        return self.lookup([paper.id], [paper.title])[0]

    def lookup(self, ids: list[str], titles: list[str]) -> list[list[str] | None]:
        """The hand labels of papers given as columns (None where there are none)."""
        if not self.by_id and not self.by_title:
            return [None] * len(ids)
        found: list[list[str] | None] = []
        for paper_id, title in zip(ids, titles, strict=True):
            labels = None
            hit = self.by_id.get(paper_id)
            if hit is not None and arxiv_id(paper_id):
                labels = hit[0]
            else:
                key = title_key(title)
                if hit is not None and key and hit[1] == key:
                    labels = hit[0]
                elif key and (by_title := self.by_title.get(key)) is not None:
                    theirs, mine = arxiv_id(by_title[1]), arxiv_id(paper_id)
                    if not (theirs and mine and theirs != mine):
                        labels = by_title[0]
            found.append(labels)
        return found
