"""The coverage report: pure figures over a tagged table, the sections they form, charts,
and the written forms (CSV tables, Markdown and HTML from Jinja2 templates). Imports
``tagging`` (to tag raw dumps on the fly) and the layers below it."""

from __future__ import annotations

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(__name__, {
    "Report": "figures", "build_report": "figures",
    "html_page": "render", "markdown": "render", "summary_table": "render",
    "write_report": "render",
    "CoverageRun": "run", "run_report": "run",
    "Section": "sections", "sections": "sections",
})
