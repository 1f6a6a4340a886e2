"""Every default file-system location of the tool, in one place.

Paths are relative to the project directory: ``$TAXONOMY_HOME`` when set, else the current
directory (a clone of the repository). Everything else takes paths as arguments.
"""

from __future__ import annotations

import os
from pathlib import Path

MODEL_NAME = "efficiency"


def root() -> Path:
    return Path(os.environ.get("TAXONOMY_HOME", "."))


def dumps_dir() -> Path:
    return root() / "data" / "dumps"


def bundled_dumps() -> list[Path]:
    """The dumps shipped with the project, in name order."""
    return sorted(p for p in dumps_dir().glob("*") if p.is_file() and not p.name.startswith("."))


def labels_file() -> Path:
    return root() / "labels" / "seed.csv"


def models_dir() -> Path:
    return root() / "models"


def model_file(name: str = MODEL_NAME) -> Path:
    return models_dir() / f"{name}.joblib"


def reports_dir() -> Path:
    return root() / "reports"
