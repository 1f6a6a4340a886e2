"""The public Python API and the import weight that tagging workers rely on."""

from __future__ import annotations

import subprocess
import sys

import taxonomy


def test_every_public_name_resolves():
    for name in taxonomy.__all__:
        assert getattr(taxonomy, name) is not None


def test_scoring_imports_neither_pandas_nor_scikit_learn():
    probe = ("import sys, taxonomy.scoring; "
             "print(sorted(m for m in ('pandas', 'sklearn', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "[]"
