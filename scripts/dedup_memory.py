#!/usr/bin/env python3
"""Memory the dedupe keys of N papers hold (tracemalloc), and the process's peak RSS.
Example:

    python scripts/dedup_memory.py 1000000
"""

from __future__ import annotations

import resource
import sys
import tracemalloc

from taxonomy.io.records import Deduplicator, Paper


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    papers = (Paper(id=f"{2300 + i // 100_000}.{i % 100_000:05d}", title=f"Synthetic paper {i}",
                    abstract="") for i in range(n))
    tracemalloc.start()
    dedupe = Deduplicator()
    kept = sum(1 for _ in dedupe(papers))
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{kept:,} papers: the keys hold {held / 1e6:.0f} MB ({held / n:.0f} bytes a paper); "
          f"peak RSS {rss:.0f} MB (with tracemalloc's own)")


if __name__ == "__main__":
    main()
