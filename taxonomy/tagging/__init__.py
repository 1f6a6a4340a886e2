"""Tagging papers: the Tagger, hand labels, where chunks are scored (executors) and why a
paper got its categories (explain). Imports ``model``, ``labels`` and ``io`` below it."""

from __future__ import annotations

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(__name__, {
    "Dask": "executors", "Executor": "executors", "InProcess": "executors",
    "Processes": "executors",
    "explain": "explain", "find_paper": "explain",
    "HandLabels": "hand",
    "score_chunk": "scoring",
    "CHUNK": "tagger", "TagResult": "tagger", "Tagger": "tagger", "tag_columns": "tagger",
})
