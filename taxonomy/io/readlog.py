"""What a read skipped and merged, for the end-of-run report."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ReadLog:
    """What a read skipped and merged, for the end-of-run report."""

    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)  # where each cut record starts
    papers: int = 0
    repeats: int = 0
    # Records kept apart or renamed, each a line naming the places involved
    notes: list[str] = field(default_factory=list)

    def skip(self, path: str, line: int, reason: str) -> None:
        self.skipped.append((path, line, reason))

    def summary(self, limit: int = 5) -> str:
        """One line per problem kind, e.g. 'skipped 2 records: a.jsonl:3 (not JSON), ...'."""
        parts = []
        if self.skipped:
            shown = ", ".join(f"{p}:{n} ({why})" for p, n, why in self.skipped[:limit])
            more = (f", and {len(self.skipped) - limit} more" if len(self.skipped) > limit
                    else "")
            parts.append(f"skipped {len(self.skipped)} bad record(s): {shown}{more}")
        if self.truncated:
            shown = ", ".join(self.truncated[:limit])
            more = (f", and {len(self.truncated) - limit} more"
                    if len(self.truncated) > limit else "")
            parts.append(f"cut {len(self.truncated)} over-long title(s) or abstract(s) to "
                         f"2,000 and 1,048,576 characters: {shown}{more}")
        return "; ".join(parts)
