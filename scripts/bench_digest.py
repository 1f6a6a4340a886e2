#!/usr/bin/env python3
"""Benchmark: `taxonomy digest` of one week, as a whole process, on a store of N papers.

Generates N synthetic papers (as `scripts/bench_tag.py` does) with submission dates spread
evenly over the --span days that end on 2026-11-30, adds them to a new store and tags them
(`taxonomy tag IN.jsonl --db STORE.db`), then runs `taxonomy digest --db STORE.db --days 7
--until 2026-11-30 -o DIR` --repeat times and prints the median wall time, CPU seconds and
peak memory of the process tree, with the number of papers in the window. Example:

    python scripts/bench_digest.py --sizes 50000 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tag import _measure, generate  # noqa: E402

END = dt.date(2026, 11, 30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000])
    parser.add_argument("--span", type=int, default=365, help="days the papers cover")
    parser.add_argument("--repeat", type=int, default=3, help="digest runs (median)")
    args = parser.parse_args()
    python = [sys.executable, "-m", "taxonomy"]
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data, db = Path(tmp) / "in.jsonl", Path(tmp) / "p.db"
            back = [i * args.span // n for i in range(n)]  # days before END, spread evenly
            generate(data, n, more=lambda i, back=back: {
                "date": (END - dt.timedelta(days=back[i])).isoformat()})
            week = sum(days < 7 for days in back)
            _measure([*python, "tag", str(data), "--db", str(db), "-q"])
            runs = [_measure([*python, "digest", "--db", str(db), "--days", "7", "--until",
                              END.isoformat(), "-o", str(Path(tmp) / "digest"), "-q"])
                    for _ in range(args.repeat)]
            wall, cpu, peak = (statistics.median(r[i] for r in runs) for i in range(3))
            print(f"{n:,} papers over {args.span} days, {week:,} in the week: digest "
                  f"{wall:.2f} s wall, {cpu:.2f} s CPU, {peak:.0f} MB peak "
                  f"(median of {args.repeat})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
