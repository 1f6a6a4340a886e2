"""`taxonomy fetch arxiv | oai`: papers from arXiv into the store."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from ._common import Subparsers, date, say, waiting_for


def register(sub: Subparsers) -> None:
    actions = sub.group(
        "fetch", "SOURCE", help="fetch papers from arXiv into a store",
        description="Fetch papers from arXiv into a SQLite store (--db): 'arxiv' asks the "
                    "arXiv API for a category's new submissions, 'oai' harvests an OAI-PMH "
                    "set for backfills. Without --since a fetch continues from where the "
                    "last one of the same query ended; an interrupted fetch resumes.\n\n"
                    "examples:\n  taxonomy fetch arxiv --category cs.LG --db papers.db\n"
                    "  taxonomy fetch oai --set cs --since 2026-01-01 --db papers.db")
    q = actions.add_parser(
        "arxiv", arxiv, help="a category's submissions, from the arXiv API",
        description="Fetch the papers of an arXiv category submitted between two dates from "
                    "the arXiv API (one request every 3 s, as arXiv asks).\n\nexamples:\n"
                    "  taxonomy fetch arxiv --category cs.LG --db papers.db\n"
                    "  taxonomy fetch arxiv --category cs.LG --since 2026-11-01 "
                    "--until 2026-11-30 --db papers.db")
    q.add_argument("--category", required=True, help="arXiv category, e.g. cs.LG")
    add_range(q)
    q.add_argument("--api-url", metavar="URL",
                   help="the API's address (default: $TAXONOMY_ARXIV_API, else "
                        "https://export.arxiv.org/api/query)")
    q = actions.add_parser(
        "oai", oai, help="an OAI-PMH set's records, for backfills",
        description="Harvest the records of an arXiv OAI-PMH set (ListRecords, arXiv "
                    "metadata format) created or changed between two dates.\n\nexample:\n"
                    "  taxonomy fetch oai --set cs --since 2026-01-01 --db papers.db")
    q.add_argument("--set", dest="set_spec", required=True, metavar="SET",
                   help="OAI-PMH set, e.g. cs")
    add_range(q)
    q.add_argument("--oai-url", metavar="URL",
                   help="the OAI-PMH endpoint (default: $TAXONOMY_OAI_URL, else "
                        "https://oaipmh.arxiv.org/oai)")


def add_range(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", type=date, metavar="YYYY-MM-DD",
                   help="first day (default: the last day of the previous fetch, else a "
                        "week ago)")
    p.add_argument("--until", type=date, metavar="YYYY-MM-DD", help="last day (default: today)")
    p.add_argument("--db", required=True, metavar="FILE", help="the store, e.g. papers.db")


def arxiv(args: argparse.Namespace) -> int:
    from ..fetch.run import fetch_arxiv

    return _fetch(args, fetch_arxiv, args.category, args.api_url)


def oai(args: argparse.Namespace) -> int:
    from ..fetch.run import fetch_oai

    return _fetch(args, fetch_oai, args.set_spec, args.oai_url)


def _fetch(args: argparse.Namespace, fetch: Callable[..., Any], query: str,
           url: str | None) -> int:
    """Run ``fetch`` into --db, its progress shown on a terminal, and summarize it."""
    def show(result: Any) -> None:
        total = f" of {result.total}" if result.total is not None else ""
        print(f"\rfetched {result.seen}{total}", end="", file=sys.stderr, flush=True)

    on_tty = not args.quiet and sys.stderr.isatty()
    result = fetch(args.db, query, args.since, args.until, url, on_wait=waiting_for(args.db),
                   on_page=show if on_tty else None)
    if on_tty:
        print(file=sys.stderr)
    say(args, f"fetched {result.seen} records of {result.query} from {result.since} to "
        f"{result.until} into {args.db}: {result.new} new papers, {result.updated} new "
        f"versions" + (" (resumed an interrupted fetch)" if result.resumed else ""))
    if result.skipped:
        shown = "; ".join(result.skipped[:3]) + ("; ..." if len(result.skipped) > 3 else "")
        print(f"warning: skipped {len(result.skipped)} malformed record(s): {shown}",
              file=sys.stderr)
    return 0
