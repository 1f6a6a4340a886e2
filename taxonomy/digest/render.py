"""The written digest: ``digest.md``, a self-contained ``digest.html`` (the coverage report's
CSS and chart style) and ``feeds/``, put in place as one folder."""

from __future__ import annotations

import os
from pathlib import Path

from ..io.atomic import atomic_dir
from ..report.style import colour, environment, stylesheet
from .charts import periods_chart
from .feeds import feeds
from .figures import TITLE, Digest

# What a digest folder holds; a folder with anything else is never replaced.
DIGEST_FILES = frozenset({"digest.md", "digest.html", "feeds"})


def _render(kind: str, digest: Digest) -> str:
    env = environment(kind, "taxonomy.digest")
    colours = {c.id: colour(i) for i, c in enumerate(digest.categories)}
    names = {c.id: c.name for c in digest.categories}
    charts = ({c.id: periods_chart(c.periods, i, f"{digest.window.days} days")
               for i, c in enumerate(digest.categories)}
              if kind == "html" else {})
    return env.get_template(f"digest.{kind}.j2").render(
        title=TITLE, digest=digest, window=digest.window, colours=colours, names=names,
        charts=charts, css=stylesheet(env, "digest.css") if kind == "html" else "")


def markdown(digest: Digest) -> str:
    return _render("md", digest)


def html_page(digest: Digest) -> str:
    return _render("html", digest)


def write_digest(digest: Digest, out_dir: str | os.PathLike) -> list[Path]:
    """Write the digest's files into ``out_dir`` as a whole (a temp folder swapped in), so a
    reader or a web server never sees half a digest. Returns the paths written."""
    out_dir = Path(out_dir)
    written = []
    with atomic_dir(out_dir, owned=DIGEST_FILES.__contains__) as tmp:
        _write(tmp / "digest.md", markdown(digest).encode("utf-8"))
        _write(tmp / "digest.html", html_page(digest).encode("utf-8"))
        written += [out_dir / "digest.md", out_dir / "digest.html"]
        (tmp / "feeds").mkdir()
        for name, data in feeds(digest).items():
            _write(tmp / "feeds" / name, data)
            written.append(out_dir / "feeds" / name)
    return written


def _write(path: Path, data: bytes) -> None:
    """Write and flush to disk (the folder swap then never exposes an empty file)."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
