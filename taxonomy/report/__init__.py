"""The coverage report: figures over a tagged table, its sections, charts and written forms
(CSV, Markdown, HTML). Imports ``tagging`` (to tag raw dumps on the fly) and layers below."""

from __future__ import annotations

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(__name__, {
    "Report": "figures", "build_report": "figures",
    "summary_table": "render", "write_report": "render",
    "CoverageRun": "run", "run_report": "run",
    "Section": "render", "sections": "render",
})
