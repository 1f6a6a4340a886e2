"""The package type-checks with zero errors (mypy, configured in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

from mypy import api

import taxonomy

ROOT = Path(__file__).parent.parent


def test_mypy_finds_no_errors(tmp_path):
    package = Path(taxonomy.__file__).parent
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                      "--cache-dir", str(tmp_path / "cache"), str(package)])
    assert status == 0, stdout + stderr
    assert (package / "py.typed").is_file()
