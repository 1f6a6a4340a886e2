"""efficiency-taxonomy: tag ML papers with the training-efficiency categories they contribute to.

The public API is imported lazily (PEP 562), so importing one module, as tagging worker
processes do, does not pull in pandas or the report code.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

_EXPORTS = {
    "Category": "categories", "Taxonomy": "categories", "load_taxonomy": "categories",
    "Classifier": "model", "ModelConfig": "model", "fit": "model",
    "DumpError": "errors", "LabelsError": "errors", "ModelError": "errors",
    "OutputError": "errors", "TaxonomyError": "errors", "TaxonomyFileError": "errors",
    "HandLabels": "tagging", "tag_files": "tagging", "tag_papers": "tagging",
    "LabeledPapers": "labels", "load_labels": "labels",
    "LoadedModel": "artifact", "load_model": "artifact",
    "Paper": "records",
    "ReadLog": "readers", "read_file": "readers", "read_papers": "readers",
    "Report": "report", "build_report": "report",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'taxonomy' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API, so that dir(taxonomy) and help(taxonomy) list it."""
    return list(__all__)
