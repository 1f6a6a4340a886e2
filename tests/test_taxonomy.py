"""The taxonomy file: the shipped one is valid, malformed ones fail with a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxonomy.errors import TaxonomyFileError
from taxonomy.labels.categories import load_taxonomy, parse_taxonomy

DATA = Path(__file__).parent / "data" / "taxonomy"


def test_shipped_taxonomy_has_the_five_categories_in_order():
    taxonomy = load_taxonomy()
    assert taxonomy.ids == ["memory", "communication", "data_selection", "architecture",
                            "convergence_speed"]
    for category in taxonomy.categories:
        assert category.name and category.definition
        assert category.include and category.exclude and category.terms and category.examples
    assert len(taxonomy.none_examples) >= 20


def test_category_ids_appear_in_no_module_but_the_taxonomy_file():
    package = Path(__file__).parent.parent / "taxonomy"
    for module in package.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        for cid in load_taxonomy().ids:
            assert f'"{cid}"' not in text and f"'{cid}'" not in text, (module.name, cid)


VALID = b'''
version = 1
[[category]]
id = "speed"
name = "Speed"
definition = "Faster."
terms = ["fast"]
'''


def test_a_minimal_file_parses_and_the_digest_tracks_the_bytes():
    first = parse_taxonomy(VALID)
    assert first.ids == ["speed"] and first["speed"].terms == ("fast",)
    assert parse_taxonomy(VALID + b"\n").sha256 != first.sha256


@pytest.mark.parametrize("path", sorted(DATA.glob("bad_*.toml")), ids=lambda p: p.stem)
def test_malformed_taxonomy_files_are_refused_with_a_message(path):
    expected = path.with_suffix(".error").read_text(encoding="utf-8").strip()
    with pytest.raises(TaxonomyFileError) as info:
        load_taxonomy(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_missing_taxonomy_file():
    with pytest.raises(TaxonomyFileError, match="cannot read"):
        load_taxonomy(DATA / "nope.toml")
