"""The package type-checks with zero errors (mypy, configured in pyproject.toml)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mypy import api

import taxonomy

# mypy over the whole package takes tens of seconds.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent


def test_mypy_finds_no_errors(tmp_path):
    # Check a copy of the imported package's sources: when it is installed into
    # site-packages, mypy run there would see the neighbouring libraries as the
    # project's own top-level modules.
    package = Path(taxonomy.__file__).parent
    assert (package / "py.typed").is_file()
    copy = tmp_path / "src" / "taxonomy"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("_shipped", "__pycache__"))
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                      "--cache-dir", str(tmp_path / "cache"), str(copy)])
    assert status == 0, stdout + stderr
