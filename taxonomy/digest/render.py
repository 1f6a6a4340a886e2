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


def write_digest(digest: Digest, out_dir: str | os.PathLike) -> list[Path]:
    """Write the digest's files into ``out_dir`` as a whole (a temp folder swapped in), so a
    reader or a web server never sees half a digest. Returns the paths written."""
    out_dir = Path(out_dir)
    with atomic_dir(out_dir, owned=DIGEST_FILES.__contains__) as tmp:
        files = {"digest.md": _render("md", digest).encode("utf-8"),
                 "digest.html": _render("html", digest).encode("utf-8"),
                 **{f"feeds/{name}": data for name, data in feeds(digest).items()}}
        (tmp / "feeds").mkdir()
        for name, data in files.items():
            (tmp / name).write_bytes(data)
    return [out_dir / name for name in files]
