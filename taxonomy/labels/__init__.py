"""The categories and the hand labels: the taxonomy file, labels files, their checks and
agreement, label-list <-> indicator conversions. Imports only ``io`` below it."""

from __future__ import annotations

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(__name__, {
    "Agreement": "agreement", "agreement": "agreement",
    "Category": "categories", "Taxonomy": "categories", "load_taxonomy": "categories",
    "parse_taxonomy": "categories",
    "SEPARATOR": "indicator", "from_indicator": "indicator", "join_labels": "indicator",
    "split_labels": "indicator", "to_indicator": "indicator",
    "LABEL_COLUMNS": "labelfile", "MIN_SUPPORT": "labelfile", "LabeledPapers": "labelfile",
    "check_labels": "labelfile", "load_labels": "labelfile", "read_label_column": "labelfile",
    "support": "labelfile",
})
