"""The one exception family for failures a user can fix (bad input, bad labels, bad model)."""

from __future__ import annotations

import os


class TaxonomyError(Exception):
    """An expected failure; the CLI prints it as one line and exits non-zero."""

    exit_code = 2

    def __init__(self, message: str, path: str | os.PathLike | None = None,
                 line: int | None = None):
        self.message = message
        self.path = None if path is None else os.fspath(path)
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.path and self.line is not None else self.path
        return f"{where}: {self.message}" if where else self.message


class DumpError(TaxonomyError):
    """An abstract dump cannot be read."""


class TaxonomyFileError(TaxonomyError):
    """The taxonomy file is malformed."""


class LabelsError(TaxonomyError):
    """A labels file is malformed or disagrees with the taxonomy."""


class ModelError(TaxonomyError):
    """A model file is missing, corrupted or incompatible."""


class OutputError(TaxonomyError):
    """An output file cannot be written."""
