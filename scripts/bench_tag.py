#!/usr/bin/env python3
"""Benchmark: `taxonomy tag` as a whole process against what a user would write instead.

Generates N synthetic abstracts (JSON Lines, sentences recombined from the bundled dumps, so
the vocabulary is realistic) and measures on the same file, alternating the commands and
reporting medians over --repeat runs:

- taxonomy tag: the real CLI (`python -m taxonomy tag IN -o OUT.csv --model-only --quiet`),
  reading, tagging across all cores and writing the CSV;
- pickled pipeline: a scikit-learn Pipeline (TfidfVectorizer 1-2 grams + one balanced
  LogisticRegression per category, fitted on the seed labels beforehand) loaded with joblib,
  `pandas.read_json(lines=True)`, `predict_proba`, `DataFrame.to_csv`;
- floor: just reading the file (json per line) and tokenizing title + abstract with the
  tool's regular expression, in one process: what no tagger can beat by much.

For each it prints abstracts/s, CPU seconds per 1,000 abstracts (user + system, the whole
process tree) and peak memory (summed RSS of the process tree, sampled every 20 ms), then
the speed-up over the pipeline and the distance to the floor. The 50-paper run is the daily
listing: its wall time is start-up latency (with the package's bytecode compiled first, as an
installed package has it). Example:

    python scripts/bench_tag.py --sizes 50 10000 200000 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generate(path: Path, n: int, seed: int = 0,
             more: Callable[[int], dict] | None = None) -> None:
    """N synthetic papers in JSON Lines, recombined from the bundled abstracts' sentences;
    ``more(i)`` adds fields to paper ``i``."""
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
            row = {"id": f"syn-{i}", "title": title, "abstract": abstract}
            handle.write(json.dumps(row | more(i) if more else row) + "\n")


FIT = """
import sys
import joblib
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
joblib.dump(pipeline, sys.argv[1])
"""

PIPELINE = """
import sys
import joblib
import pandas as pd
pipeline = joblib.load(sys.argv[1])
papers = pd.read_json(sys.argv[2], lines=True, dtype={"id": str})
scores = pipeline.predict_proba(papers["title"] + " " + papers["abstract"])
out = papers[["id", "title"]].copy()
for j in range(scores.shape[1]):
    out[f"score_{j}"] = scores[:, j].round(4)
out.to_csv(sys.argv[3], index=False)
"""

FLOOR = """
import json, re, sys
find = re.compile(r"(?u)\\b\\w\\w+\\b").findall
n = 0
with open(sys.argv[1], encoding="utf-8") as handle:
    for line in handle:
        row = json.loads(line)
        n += len(find(f"{row['title']} {row['title']} {row['abstract']}".lower()))
print(n)
"""

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 10_000, 200_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (median)")
    parser.add_argument("--only-tag", action="store_true",
                        help="run taxonomy tag alone (the pipeline needs about 12 GB at 1M)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; medians of {args.repeat} alternating runs")
    head = f"{'abstracts/s':>11} {'CPU s/1k':>8} {'peak MB':>8}"
    print(f"{'abstracts':>10} | {'taxonomy tag':^29} | {'pickled pipeline':^29} | "
          f"{'read + tokenize floor':^29} | speed-up | x floor")
    print(f"{'':>10} | {head} | {head} | {head} |          |")
    # The package's bytecode, as `pip install` writes it: without it (PYTHONDONTWRITEBYTECODE
    # set, or a read-only checkout) every run would compile the sources again.
    compileall.compile_dir(ROOT / "taxonomy", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "pipeline.joblib"
        subprocess.run([sys.executable, "-c", FIT, str(model), str(ROOT / "labels" / "seed.csv"),
                        str(ROOT)], check=True)
        for n in args.sizes:
            data = Path(tmp) / f"synthetic-{n}.jsonl"
            generate(data, n)
            commands = {
                "tag": [sys.executable, "-m", "taxonomy", "tag", str(data), "-o",
                        str(Path(tmp) / "tags.csv"), "--model-only", "--quiet"],
                "pipeline": [sys.executable, "-c", PIPELINE, str(model), str(data),
                             str(Path(tmp) / "plain.csv")],
                "floor": [sys.executable, "-c", FLOOR, str(data)],
            }
            if args.only_tag:
                commands = {"tag": commands["tag"]}
            runs: dict[str, list[tuple[float, float, float]]] = {k: [] for k in commands}
            for _ in range(args.repeat):
                for name, command in commands.items():
                    runs[name].append(_measure(command))
            med = {name: tuple(statistics.median(r[i] for r in found) for i in range(3))
                   for name, found in runs.items()}
            cells = " | ".join(f"{n / m[0]:>11,.0f} {m[1] / n * 1000:>8.2f} {m[2]:>8,.0f}"
                               if m else f"{'-':>29}"
                               for m in (med.get(k) for k in ("tag", "pipeline", "floor")))
            ratios = (f"{med['pipeline'][0] / med['tag'][0]:>7.2f}x | "
                      f"{med['tag'][0] / med['floor'][0]:>6.2f}x" if len(med) == 3
                      else f"{'-':>8} | {'-':>7}")
            print(f"{n:>10} | {cells} | {ratios}   (tag: {med['tag'][0]:.2f} s wall)",
                  flush=True)
            data.unlink()
    return 0


def _measure(command: list[str]) -> tuple[float, float, float]:
    """Wall-clock seconds, CPU seconds and peak memory (MB) of a command and all its child
    processes.

    The resident set sizes of the whole process tree are summed every 20 ms, so worker
    processes count too (a single process's max RSS would hide them); CPU time is the
    children's rusage, which includes every descendant that was waited for.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    peak = 0
    while True:
        peak = max(peak, _tree_rss(process.pid))
        waited = os.wait4(process.pid, os.WNOHANG)
        if waited[0] == process.pid:
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    status, usage = waited[1], waited[2]
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}")
    return seconds, usage.ru_utime + usage.ru_stime, peak / 1024


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
