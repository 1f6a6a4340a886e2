"""Fetching papers from arXiv into the store: the API (Atom) for daily runs, OAI-PMH for
backfills, through one polite HTTP client. Imports ``store`` and ``io`` below it."""

from __future__ import annotations

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(__name__, {
    "Client": "http", "FetchError": "http",
    "FetchResult": "run", "fetch_arxiv": "run", "fetch_oai": "run",
})
