#!/usr/bin/env python3
"""Benchmark: `taxonomy tag` end to end against the plain single-process scikit-learn pipeline.

Generates N synthetic abstracts (JSON Lines, sentences recombined from the bundled dumps, so
the vocabulary is realistic), then measures, on the same file:

- taxonomy tag: the real CLI (`python -m taxonomy tag IN -o OUT.csv --model-only --quiet`),
  reading, tagging across all cores and writing the CSV;
- plain pipeline: TfidfVectorizer(1-2 grams) + LogisticRegression fitted on the seed labels,
  then the whole list read into memory and `predict_proba` called on it in one process.

It prints throughput (abstracts per second) and peak memory (max RSS of the process and its
children) side by side. Example:

    python scripts/bench_tag.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generate(path: Path, n: int, seed: int = 0) -> None:
    """N synthetic papers in JSON Lines, recombined from the bundled abstracts' sentences."""
    sys.path.insert(0, str(ROOT))
    from taxonomy.io.papers import parse_papers

    papers, _ = parse_papers(sorted((ROOT / "data" / "dumps").glob("*")))
    sentences = [s.strip() + "." for p in papers for s in p.abstract.split(". ") if s.strip()]
    words = [w for p in papers for w in p.title.split()]
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            title = " ".join(rng.choices(words, k=rng.randint(6, 12))) + f" {i}"
            abstract = " ".join(rng.choices(sentences, k=rng.randint(6, 10)))
            handle.write(json.dumps({"id": f"syn-{i}", "title": title,
                                     "abstract": abstract}) + "\n")


PLAIN = """
import json, sys
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
sys.path.insert(0, sys.argv[3])
from taxonomy.labels.categories import load_taxonomy
from taxonomy.labels.labelfile import load_labels
taxonomy = load_taxonomy()
labels = load_labels(sys.argv[2], taxonomy)
pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)),
                         OneVsRestClassifier(LogisticRegression(class_weight="balanced",
                                                                max_iter=1000)))
pipeline.fit([f"{t} {a}" for t, a in zip(labels.titles, labels.abstracts)],
             labels.indicator(taxonomy.ids))
with open(sys.argv[1], encoding="utf-8") as handle:
    rows = [json.loads(line) for line in handle]
scores = pipeline.predict_proba([f"{r['title']} {r['abstract']}" for r in rows])
print(scores.shape[0])
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    print(f"{'abstracts':>10} | {'taxonomy tag':>22} | {'plain pipeline':>22} | speed-up")
    print(f"{'':>10} | {'abstracts/s':>11} {'peak MB':>10} | {'abstracts/s':>11} "
          f"{'peak MB':>10} |")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            data = Path(tmp) / f"synthetic-{n}.jsonl"
            generate(data, n)
            ours = _measure([sys.executable, "-m", "taxonomy", "tag", str(data), "-o",
                             str(Path(tmp) / "tags.csv"), "--model-only", "--quiet"])
            plain = _measure([sys.executable, "-c", PLAIN, str(data),
                              str(ROOT / "labels" / "seed.csv"), str(ROOT)])
            print(f"{n:>10} | {n / ours[0]:>11,.0f} {ours[1]:>10,.0f} | "
                  f"{n / plain[0]:>11,.0f} {plain[1]:>10,.0f} | {plain[0] / ours[0]:.2f}x",
                  flush=True)
            data.unlink()
    return 0


def _measure(command: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and peak memory (MB) of a command and all its child processes.

    The resident set sizes of the whole process tree are summed every 50 ms, so worker
    processes count too (a single process's max RSS would hide them).
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}")
    return seconds, peak / 1024


def _tree_rss(root: int) -> int:
    """Sum of VmRSS (kB) of ``root`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(entry.name), int(fields.get("PPid", "0").strip())
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


if __name__ == "__main__":
    sys.exit(main())
