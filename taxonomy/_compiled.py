"""The package's optional C loops (``taxonomy/_speedups.c``), where the build has them.

A few hot loops are written in C: splitting documents into words and scoring the word and
character n-gram blocks (see :mod:`taxonomy.model.kernels`), and checking a block of JSON
Lines before Arrow reads it (:mod:`taxonomy.io.jsonl`). The build compiles them when it can;
without a compiler the package still installs, and each caller does the same work with
numpy, scipy and Arrow. ``TAXONOMY_KERNELS=numpy`` turns them off (to compare the two).
"""

from __future__ import annotations

import functools
import importlib
import os
from typing import Any


@functools.cache
def module() -> Any:
    """The compiled module, or None when the build has none or it is turned off."""
    if os.environ.get("TAXONOMY_KERNELS", "").strip().lower() == "numpy":
        return None
    try:
        return importlib.import_module("taxonomy._speedups")
    except ImportError:
        return None
