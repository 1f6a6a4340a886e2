"""What a read skipped and merged, for the end-of-run report."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

# Longest title and abstract a read keeps (characters); longer ones are cut there, and counted.
MAX_TITLE_CHARS = 2_000
MAX_ABSTRACT_CHARS = 1 << 20


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

    def merge(self, other: ReadLog) -> None:
        """Add what another read logged (a run's inside a larger one)."""
        for f in fields(self):  # lists and counts alike add up
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def summary(self, limit: int = 5) -> str:
        """One line per problem kind, e.g. 'skipped 2 records: a.jsonl:3 (not JSON), ...'."""
        parts = []
        if self.skipped:
            shown = [f"{p}:{n} ({why})" for p, n, why in self.skipped[:limit]]
            parts.append(f"skipped {len(self.skipped)} bad record(s): "
                         f"{_listed(shown, len(self.skipped))}")
        if self.truncated:
            parts.append(f"cut {len(self.truncated)} over-long title(s) or abstract(s) to "
                         f"{MAX_TITLE_CHARS:,} and {MAX_ABSTRACT_CHARS:,} characters: "
                         f"{_listed(self.truncated[:limit], len(self.truncated))}")
        return "; ".join(parts)


def _listed(shown: list[str], total: int) -> str:
    return ", ".join(shown) + (f", and {total - len(shown)} more" if total > len(shown) else "")
