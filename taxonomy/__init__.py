"""efficiency-taxonomy: tag ML papers with the training-efficiency categories they contribute to.

The public API is imported lazily (PEP 562), so importing one module, as tagging worker
processes do, does not pull in pandas or the report code.
"""

from __future__ import annotations

from ._lazy import attach

__version__ = "0.2.0"

__all__, __getattr__, __dir__ = attach(__name__, {
    "Category": "labels.categories", "Taxonomy": "labels.categories",
    "load_taxonomy": "labels.categories",
    "EfficiencyClassifier": "model.estimator", "ScoringState": "model.state",
    "DumpError": "errors", "LabelsError": "errors", "ModelError": "errors",
    "OutputError": "errors", "TaxonomyError": "errors", "TaxonomyFileError": "errors",
    "HandLabels": "tagging.hand", "Tagger": "tagging.tagger",
    "LabeledPapers": "labels.labelfile", "load_labels": "labels.labelfile",
    "LoadedModel": "model.artifact", "load_model": "model.artifact",
    "Paper": "io.records",
    "ReadLog": "io.readlog", "read_file": "io.readers", "read_papers": "io.readers",
    "Report": "report.figures", "build_report": "report.figures",
}, defined=("__version__",))
