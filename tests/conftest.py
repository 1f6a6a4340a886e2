"""Shared test settings and data: hypothesis runs with a fixed seed, so every run checks the
same cases; synthetic papers are recombined from the seed labels' sentences."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("fixed", derandomize=True, deadline=None)
settings.load_profile("fixed")

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def synthetic_papers() -> list[tuple[str, str]]:
    """3,000 (title, abstract) pairs recombined from the hand-labeled papers' sentences."""
    from taxonomy.labels.categories import load_taxonomy
    from taxonomy.labels.labelfile import load_labels

    labels = load_labels(ROOT / "labels" / "seed.csv", load_taxonomy())
    sentences = [s.strip() + "." for a in labels.abstracts for s in a.split(". ") if s.strip()]
    words = [w for t in labels.titles for w in t.split()]
    rng = random.Random(0)
    return [(" ".join(rng.choices(words, k=rng.randint(4, 12))),
             " ".join(rng.choices(sentences, k=rng.randint(3, 9)))) for _ in range(3000)]


def pytest_report_header(config) -> str:
    """Which copy of the package the tests run against (installed wheel or checkout)."""
    import taxonomy
    from taxonomy import paths

    kind = "installed" if (paths.package_dir() / "_shipped").is_dir() else "source checkout"
    return f"taxonomy {taxonomy.__version__}: {paths.package_dir()} ({kind})"
