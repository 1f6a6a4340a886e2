"""The paper store: one SQLite file holding every paper fetched or read (``papers``), its
tags per model version (``tags``) and a log of fetches (``fetches``). Imports ``tagging`` and
``io`` below it."""

from __future__ import annotations

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(__name__, {
    "SCHEMA_VERSION": "schema", "StoreError": "schema", "connect": "schema",
    "StoredPaper": "papers", "store_papers": "papers",
    "ingest": "ingest",
    "StoreTagResult": "tagging", "tag_store": "tagging",
    "tagged_frame": "frame",
})
