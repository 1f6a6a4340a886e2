"""The digest of a store's new papers (Markdown, HTML and Atom feeds per category) and
`update`, which fetches, tags and writes the digest in one go. Imports ``report``, ``fetch``,
``store`` and the layers below them."""

from __future__ import annotations

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(__name__, {
    "Digest": "figures", "Window": "figures", "build_digest": "figures",
    "feeds": "feeds", "write_digest": "render",
    "DigestRun": "run", "run_digest": "run",
    "UpdateResult": "update", "update": "update",
})
