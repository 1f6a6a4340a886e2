#!/usr/bin/env python3
"""The main process's cost per paper while tagging a JSON Lines dump: reading a line into a
paper (orjson and the field mapping), the dedupe keys of the first read, and writing the
paper's tagged row as CSV. Best of five runs, in microseconds. Example, on 20,000 of
scripts/bench_tag.py's synthetic abstracts:

    python -c "import sys; sys.path.insert(0, 'scripts'); from pathlib import Path; \
        import bench_tag; bench_tag.generate(Path('syn20k.jsonl'), 20_000)"
    python scripts/io_per_paper.py syn20k.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np

from taxonomy.io.readers import check_inputs, read_file
from taxonomy.io.readlog import ReadLog
from taxonomy.io.records import Deduplicator
from taxonomy.io.writers import TableWriter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    (source,) = check_inputs([args.dump])
    reference = dt.date(2026, 1, 1)
    best: dict[str, float] = {}
    for _ in range(args.runs):
        start = time.perf_counter()
        papers = list(read_file(source, log=ReadLog(), reference_date=reference))
        read = time.perf_counter()
        kept = list(Deduplicator()(papers))
        keyed = time.perf_counter()
        n = len(kept)
        rng = np.random.default_rng(0)
        rows = {"id": [p.id for p in kept], "title": [p.title for p in kept],
                "date": [p.date for p in kept], "labels": ["memory;architecture"] * n,
                **{f"score_{j}": np.rint(rng.random(n) * 10_000) / 10_000 for j in range(5)},
                "top_terms": ["memory: activation checkpointing, offload"] * n,
                "source": ["model"] * n, "url": [p.url for p in kept],
                "model": ["efficiency"] * n, "model_version": ["0123456789ab"] * n}
        with tempfile.TemporaryDirectory() as tmp:
            begin = time.perf_counter()
            with TableWriter(Path(tmp) / "tags.csv") as writer:
                for at in range(0, n, 4_000):
                    writer.write({k: v[at:at + 4_000] for k, v in rows.items()})
            written = time.perf_counter()
        for name, seconds in (("read", read - start), ("dedupe keys", keyed - read),
                              ("CSV row", written - begin)):
            best[name] = min(best.get(name, float("inf")), seconds / len(papers) * 1e6)
    print(f"{len(papers):,} papers, µs per paper: "
          + ", ".join(f"{name} {value:.1f}" for name, value in best.items()))


if __name__ == "__main__":
    main()
