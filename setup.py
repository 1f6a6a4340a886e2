"""Build hook: copy the run-time data into the package, so that the wheel is self-contained.

The repository's top-level ``models/``, ``labels/`` and ``data/dumps/`` stay the single source
(nothing is kept twice in git); the build copies them into ``taxonomy/_shipped/``, where
``taxonomy.paths`` finds them with ``importlib.resources``.

Everything else is configured in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent
# Source folder -> (folder inside taxonomy/_shipped, file patterns).
SHIPPED = {
    "models": ("models", ("*.joblib", "*.json")),
    "labels": ("labels", ("*.csv",)),
    "data/dumps": ("dumps", ("*",)),
}


class BuildWithShippedData(build_py):
    def run(self) -> None:
        super().run()
        for source, (target, patterns) in SHIPPED.items():
            files = sorted({f for p in patterns for f in (HERE / source).glob(p) if f.is_file()})
            if not files:
                raise SystemExit(f"setup.py: {source}/ has no {' or '.join(patterns)} files to "
                                 "ship; build from a complete checkout")
            destination = Path(self.build_lib) / "taxonomy" / "_shipped" / target
            shutil.rmtree(destination, ignore_errors=True)  # no leftovers of an older build
            destination.mkdir(parents=True)
            for file in files:
                shutil.copy2(file, destination / file.name)


setup(cmdclass={"build_py": BuildWithShippedData})
