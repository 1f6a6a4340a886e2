"""Every default file-system location of the tool, in one place.

An input is the command-line option, else the file in the project directory
``$TAXONOMY_HOME`` if it holds one, else the shipped one: ``taxonomy/_shipped/`` in a wheel
(copied by ``setup.py`` from the repository's ``models/``, ``labels/``, ``data/dumps/``, which
a source checkout reads directly). Outputs go to the current directory or ``-o``; only
``taxonomy train`` writes into ``$TAXONOMY_HOME/models`` by default.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from .errors import TaxonomyError

MODEL_NAME = "efficiency"
HOME_VARIABLE = "TAXONOMY_HOME"

# Each kind of file: its folder in the wheel (``_shipped/<kind>``), and in a source checkout
# or the project directory.
_SHIPPED = {"models": "models", "labels": "labels", "dumps": "data/dumps"}


def home() -> Path | None:
    """The project directory named by ``$TAXONOMY_HOME``, or None when it is not set."""
    value = os.environ.get(HOME_VARIABLE, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise TaxonomyError(f"{HOME_VARIABLE}={value} is not a directory; point it at a project "
                            f"directory holding models/ and labels/, or unset it")
    return path


def package_dir() -> Path:
    """The installed (or checked-out) ``taxonomy`` package directory."""
    return Path(__file__).parent


def shipped(kind: str) -> Path:
    """The folder of shipped ``kind`` files ('models', 'labels' or 'dumps')."""
    inside = package_dir() / "_shipped" / kind
    if inside.is_dir():
        return inside
    return package_dir().parent / _SHIPPED[kind]  # a source checkout: the repository's folders


def is_shipped(path: str | os.PathLike) -> bool:
    """True for a file inside an installed package's shipped data (never to be overwritten)."""
    return Path(path).resolve().is_relative_to((package_dir() / "_shipped").resolve())


def _project_or_shipped(kind: str, name: str, option: str | os.PathLike | None = None) -> Path:
    """The command-line ``option``, else ``name`` in the project directory's folder of ``kind``
    files, else in the shipped one."""
    if option:
        return Path(option)
    project = home()
    if project is not None and (project / _SHIPPED[kind] / name).exists():
        return project / _SHIPPED[kind] / name
    return shipped(kind) / name


# ``--model``, else ``$TAXONOMY_HOME/models/efficiency.joblib``, else the shipped model.
model_file = functools.partial(_project_or_shipped, "models", f"{MODEL_NAME}.joblib")
# ``--labels``, else ``$TAXONOMY_HOME/labels/seed.csv``, else the shipped hand labels.
labels_file = functools.partial(_project_or_shipped, "labels", "seed.csv")
# The stress and near-miss sets ``taxonomy evaluate`` scores beside cross-validation.
stress_file = functools.partial(_project_or_shipped, "labels", "stress.csv")
near_miss_file = functools.partial(_project_or_shipped, "labels", "near-miss.csv")
# The contrastive examples training takes beside the hand labels.
contrastive_file = functools.partial(_project_or_shipped, "labels", "contrastive.csv")
# ``$TAXONOMY_HOME/data/dumps`` when it exists, else the bundled dumps.
dumps_dir = functools.partial(_project_or_shipped, "dumps", "")


def bundled_dumps() -> list[Path]:
    """The dumps of :func:`dumps_dir`, in name order."""
    return sorted(p for p in dumps_dir().glob("*") if p.is_file() and not p.name.startswith("."))


def taxonomy_file() -> Path:
    """``$TAXONOMY_HOME/taxonomy.toml`` when it exists, else the shipped taxonomy file."""
    project = home()
    if project is not None and (project / "taxonomy.toml").is_file():
        return project / "taxonomy.toml"
    return package_dir() / "taxonomy.toml"


def models_out_dir(override: str | os.PathLike | None = None) -> Path:
    """Where ``taxonomy train`` writes: ``-o``, else ``$TAXONOMY_HOME/models``, else ./models."""
    if override:
        return Path(override)
    project = home()
    return (project if project is not None else Path(".")) / "models"


def reports_dir() -> Path:
    """Where ``taxonomy report`` writes by default: ``reports/`` in the current directory."""
    return Path("reports")


def shown(path: str | os.PathLike) -> str:
    """A path as messages and model cards show it: relative to the project directory, the
    shipped folders or the current directory when it lies inside one, else as given."""
    resolved = Path(path).resolve()
    project = home()
    bases = [("", project)] if project is not None else []
    bases += [(f"{folder}/", shipped(kind)) for kind, folder in _SHIPPED.items()]
    for prefix, base in [*bases, ("", Path.cwd())]:
        if resolved.is_relative_to(base.resolve()):
            return prefix + resolved.relative_to(base.resolve()).as_posix()
    return os.fspath(path)
