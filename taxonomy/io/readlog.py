"""What a read skipped and merged, for the end-of-run report."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ReadLog:
    """What a read skipped and merged, for the end-of-run report."""

    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    papers: int = 0
    repeats: int = 0
    # Records kept apart or renamed, each a line naming the places involved
    notes: list[str] = field(default_factory=list)

    def skip(self, path: str, line: int, reason: str) -> None:
        self.skipped.append((path, line, reason))

    def summary(self, limit: int = 5) -> str:
        """One line per problem kind, e.g. 'skipped 2 records: a.jsonl:3 (not JSON), ...'."""
        if not self.skipped:
            return ""
        shown = ", ".join(f"{p}:{n} ({why})" for p, n, why in self.skipped[:limit])
        more = f", and {len(self.skipped) - limit} more" if len(self.skipped) > limit else ""
        return f"skipped {len(self.skipped)} bad record(s): {shown}{more}"
