"""The taxonomy file: the categories, their rules and indicative terms (package data)."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import TaxonomyFileError

_REQUIRED = ("id", "name", "definition")
_LISTS = ("include", "exclude", "terms", "examples")
_FIELDS = {*_REQUIRED, *_LISTS}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    definition: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    sha256: str
    source: str
    # Invented abstracts of papers that belong to no category (prior knowledge for the model).
    none_examples: tuple[str, ...] = ()

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.categories]

    def __getitem__(self, category_id: str) -> Category:
        return {c.id: c for c in self.categories}[category_id]


def load_taxonomy(path: str | os.PathLike | None = None) -> Taxonomy:
    """The taxonomy at ``path``, else the project's or the shipped one (see ``paths``); a
    clear error when it is malformed."""
    from .. import paths

    shipped = path is None and paths.taxonomy_file() == paths.package_dir() / "taxonomy.toml"
    path = paths.taxonomy_file() if path is None else Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TaxonomyFileError(f"cannot read ({exc.strerror})", path) from None
    return parse_taxonomy(data, "taxonomy/taxonomy.toml" if shipped else os.fspath(path))


@functools.lru_cache(maxsize=4)
def parse_taxonomy(data: bytes, source: str = "<taxonomy>") -> Taxonomy:
    """The taxonomy in a file's bytes (parsed once per content: a Taxonomy is immutable)."""
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise TaxonomyFileError("is not UTF-8; re-save it as UTF-8", source) from None
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line 3, column 5)"
        line = re.search(r"line (\d+)", str(exc))
        raise TaxonomyFileError(f"not valid TOML ({exc}); fix the syntax", source,
                                int(line[1]) if line else None) from None
    unknown_top = set(document) - {"version", "category", "none"}
    if unknown_top:
        raise TaxonomyFileError(f"unknown top-level field(s) {sorted(unknown_top)}; only "
                                "'version', [[category]] and [none] are allowed", source)
    none = document.get("none", {})
    if not isinstance(none, dict) or set(none) - {"examples"}:
        raise TaxonomyFileError("[none] may only hold an 'examples' list", source)
    none_examples = _string_list(none.get("examples", []), "[none] examples", source)
    tables = document.get("category")
    if not isinstance(tables, list) or not tables:
        raise TaxonomyFileError("defines no [[category]] tables; add at least one", source)
    categories: dict[str, Category] = {}
    for index, table in enumerate(tables, 1):
        where = f"category #{index}"
        if not isinstance(table, dict):
            raise TaxonomyFileError(f"{where} is not a table", source)
        unknown = set(table) - _FIELDS
        if unknown:
            raise TaxonomyFileError(f"{where} has unknown field(s) {sorted(unknown)}; "
                                    f"allowed: {', '.join(sorted(_FIELDS))}", source)
        for name in _REQUIRED:
            value = table.get(name)
            if not isinstance(value, str) or not value.strip():
                raise TaxonomyFileError(f"{where} has an empty or missing {name!r}; "
                                        "fill it in", source)
        category_id = table["id"]
        if not _ID.match(category_id):
            raise TaxonomyFileError(f"{where}: id {category_id!r} must be lower-case letters, "
                                    "digits and underscores", source)
        if category_id in categories:
            raise TaxonomyFileError(f"duplicate category id {category_id!r}; ids must be "
                                    "unique", source)
        lists = {name: _string_list(table.get(name, []), f"{where} ({category_id}): {name!r}",
                                    source) for name in _LISTS}
        categories[category_id] = Category(
            id=category_id, name=table["name"].strip(),
            definition=" ".join(table["definition"].split()), **lists,
        )
    return Taxonomy(tuple(categories.values()), hashlib.sha256(data).hexdigest(), source,
                    none_examples)


def _string_list(value: object, what: str, source: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TaxonomyFileError(f"{what} must be a list of non-empty strings", source)
    return tuple(" ".join(v.split()) for v in value)
