"""`taxonomy digest` and `taxonomy update`: the store's new papers as a digest and feeds."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .. import paths
from ..errors import ModelError, TaxonomyError
from ._common import Subparsers, add_model_options, date, positive, say, tagger, waiting_for

if TYPE_CHECKING:
    from ..digest.run import DigestRun


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "digest", digest, help="the new papers of a store per category, as a digest and Atom feeds",
        description="Write DIR/digest.md, a self-contained DIR/digest.html and Atom feeds "
                    "DIR/feeds/<category>.xml and DIR/feeds/all.xml: per category the papers "
                    "submitted in the window (strongest score first, with the terms behind "
                    "it), how the window compares with the ones before, and the uncertain "
                    "papers worth a hand label. The folder is replaced as a whole.\n\n"
                    "examples:\n  taxonomy digest --db papers.db -o digest/\n"
                    "  taxonomy digest --db papers.db --since 2026-11-01 --until 2026-11-30 "
                    "-o november/")
    add_digest_options(p)
    p.add_argument("--since", type=date, metavar="YYYY-MM-DD",
                   help="first day of the window (default: --days before --until)")
    p.add_argument("--until", type=date, metavar="YYYY-MM-DD",
                   help="last day of the window (default: today)")
    q = sub.add_parser(
        "update", update, help="fetch, tag and write the digest: the line to put in cron",
        description="Fetch the category's papers since the last fetch into the store, tag "
                    "what is new or stale, and write the digest of the last --days days. "
                    "Running it again fetches only what is new and writes the same digest."
                    "\n\nexample:\n  taxonomy update --db papers.db --category cs.LG -o "
                    "digest/")
    add_digest_options(q)
    q.add_argument("--category", required=True, help="arXiv category, e.g. cs.LG")
    q.add_argument("--api-url", metavar="URL",
                   help="the arXiv API's address (default: $TAXONOMY_ARXIV_API, else "
                        "https://export.arxiv.org/api/query)")
    q.add_argument("--jobs", type=int, default=-1, help="processes (default: all cores)")


def add_digest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, metavar="FILE", help="the paper store")
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="the digest folder (replaced as a whole)")
    p.add_argument("--days", type=positive, metavar="N",
                   help="the window's length in days (default: 7)")
    add_model_options(p)


def _written(args: argparse.Namespace, run: DigestRun) -> None:
    digest = run.digest
    counts = ", ".join(f"{c.id} {len(c.papers)}" for c in digest.categories)
    say(args, f"digest of {digest.papers} papers submitted {digest.window.since} to "
        f"{digest.window.until} ({digest.covered} in a category: {counts}) written to "
        f"{args.output}: digest.md, digest.html and {len(digest.categories) + 1} feeds")
    if digest.untagged:
        say(args, f"note: {digest.untagged} papers of the window have no tags yet; run "
            f"taxonomy tag --db {args.db}")


def model_card(path: str | None) -> dict:
    """The card of the model in use: all a digest needs (not the model's weights)."""
    from ..model.artifact import read_card

    model = paths.model_file(path)
    card = read_card(model)
    if card is None or "thresholds" not in card:
        raise ModelError("no model card with thresholds beside the model; give --model with "
                         "a model that 'taxonomy train' wrote", model)
    return card


def digest(args: argparse.Namespace) -> int:
    from ..digest.run import run_digest, window
    from ..labels.categories import load_taxonomy

    if args.since and args.days:
        raise TaxonomyError("give --since or --days, not both")
    span = window(args.since, args.until, args.days)
    run = run_digest(args.db, args.output, model_card(args.model), load_taxonomy(), span)
    _written(args, run)
    return 0


def update(args: argparse.Namespace) -> int:
    from ..digest.update import update as run_update
    from ..labels.categories import load_taxonomy
    from ..tagging.executors import Processes

    result = run_update(args.db, args.category, args.output, tagger(args), load_taxonomy(),
                        days=args.days, api_url=args.api_url, executor=Processes(args.jobs),
                        on_wait=waiting_for(args.db))
    fetched, tagged = result.fetched, result.tagged
    say(args, f"fetched {fetched.seen} records of {fetched.query} from {fetched.since} to "
        f"{fetched.until}: {fetched.new} new papers, {fetched.updated} new versions; tagged "
        f"{tagged.papers} papers")
    if fetched.skipped:
        print(f"warning: skipped {len(fetched.skipped)} malformed record(s): "
              + "; ".join(fetched.skipped[:3]), file=sys.stderr)
    _written(args, result.digest)
    return 0
