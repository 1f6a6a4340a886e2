"""efficiency-taxonomy: tag ML papers with the training-efficiency categories they contribute to."""

from __future__ import annotations

from .errors import (
    DumpError,
    LabelsError,
    ModelError,
    OutputError,
    TaxonomyError,
    TaxonomyFileError,
)
from .readers import ReadLog, read_file, read_papers
from .records import Paper

__version__ = "0.1.0"

__all__ = [
    "DumpError",
    "LabelsError",
    "ModelError",
    "OutputError",
    "Paper",
    "ReadLog",
    "TaxonomyError",
    "TaxonomyFileError",
    "__version__",
    "read_file",
    "read_papers",
]
