"""efficiency-taxonomy: tag ML papers with the training-efficiency categories they contribute to.
The API is imported lazily (PEP 562): a worker importing one module skips pandas and reports."""

from __future__ import annotations

from ._lazy import attach

__version__ = "0.2.0"

__all__, __getattr__, __dir__ = attach(__name__, {
    "Tagger": "tagging.tagger",
    "EfficiencyClassifier": "model.estimator",
    "read_file": "io.readers", "read_papers": "io.readers",
    "Report": "report.figures", "build_report": "report.figures",
    "Category": "labels.categories", "Taxonomy": "labels.categories",
    "load_taxonomy": "labels.categories",
    "load_labels": "labels.labelfile",
    "DumpError": "errors", "LabelsError": "errors", "ModelError": "errors",
    "OutputError": "errors", "TaxonomyError": "errors", "TaxonomyFileError": "errors",
}, defined=("__version__",))
