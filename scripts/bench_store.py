#!/usr/bin/env python3
"""Benchmark: tagging from the paper store (`taxonomy tag --db`) against tagging a file into a
file (`taxonomy tag IN.jsonl -o OUT.csv`), on the same synthetic papers.

For N papers (generated as `scripts/bench_tag.py` does) it measures, as whole processes:

- file to file: `taxonomy tag IN.jsonl -o OUT.csv --model-only`;
- dump into a new store and tag it: `taxonomy tag IN.jsonl --db NEW.db --model-only`;
- the store's papers tagged again: `taxonomy tag --db STORE.db --retag --model-only`
  (reading, scoring on all cores, writing tags one transaction per batch);

and prints papers/s, CPU seconds and peak memory of the process tree for each, and the
store's throughput as a share of file to file. Example:

    python scripts/bench_store.py --sizes 200000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tag import _measure, generate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000])
    args = parser.parse_args()
    python = [sys.executable, "-m", "taxonomy"]
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data, out, db = Path(tmp) / "in.jsonl", Path(tmp) / "out.csv", Path(tmp) / "p.db"
            generate(data, n)
            runs = {
                "file to file": [*python, "tag", str(data), "-o", str(out), "--model-only",
                                 "-q"],
                "dump into a new store": [*python, "tag", str(data), "--db", str(db),
                                          "--model-only", "-q"],
                "store, tagged again": [*python, "tag", "--db", str(db), "--retag",
                                        "--model-only", "-q"],
            }
            results = {name: _measure(command) for name, command in runs.items()}
            print(f"{n:,} papers ({data.stat().st_size / 1e6:.0f} MB JSON Lines, store "
                  f"{db.stat().st_size / 1e6:.0f} MB)")
            for name, (wall, cpu, peak) in results.items():
                print(f"  {name:<24}{n / wall:>9,.0f} papers/s  {wall:>7.1f} s wall  "
                      f"{cpu:>7.1f} s CPU  {peak:>6.0f} MB peak")
            base = n / results["file to file"][0]
            print(f"  store, tagged again: {n / results['store, tagged again'][0] / base:.0%} "
                  "of file to file", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
