"""Hand labels as tagging uses them: looked up by paper id, else by normalized title."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..io.records import Paper, title_key
from ..labels.labelfile import LabeledPapers


@dataclass
class HandLabels:
    """Hand labels that win over the model, by paper id or, failing that, by normalized title
    (``title_key``: compared whole, where a hash of it would cost a SHA-1 per paper tagged)."""

    by_id: dict[str, list[str]] = field(default_factory=dict)
    by_title: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_papers(cls, papers: LabeledPapers | None) -> HandLabels:
        if papers is None:
            return cls()
        return cls(dict(zip(papers.ids, papers.labels, strict=True)),
                   {title_key(t): labels for t, labels in
                    zip(papers.titles, papers.labels, strict=True)})

    def get(self, paper: Paper) -> list[str] | None:
        found = self.by_id.get(paper.id)
        if found is not None or not self.by_title:
            return found
        return self.by_title.get(title_key(paper.title))

    def lookup(self, ids: list[str], titles: list[str]) -> list[list[str] | None]:
        """``get`` for papers given as columns."""
        if not self.by_id and not self.by_title:
            return [None] * len(ids)
        found = [self.by_id.get(paper_id) for paper_id in ids]
        if self.by_title:
            for i, labels in enumerate(found):
                if labels is None:
                    found[i] = self.by_title.get(title_key(titles[i]))
        return found

    def __len__(self) -> int:
        return len(self.by_id)
