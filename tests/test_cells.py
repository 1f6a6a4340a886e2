"""Spreadsheet-safe CSV cells: no text cell the tool writes starts a formula, and the tool reads
its own guarded cells back exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from taxonomy.io.cells import FORMULA_STARTS, neutralize, restore


@given(st.one_of(st.text(), st.text(alphabet="=+-@\t\r'ab").map(str)))
def test_guarded_cells_never_start_a_formula_and_read_back_exactly(text):
    guarded = neutralize(text)
    assert not guarded.startswith(FORMULA_STARTS)
    assert restore(guarded) == text


def test_plain_text_and_numbers_are_left_alone():
    assert neutralize("Memory-efficient training") == "Memory-efficient training"
    assert neutralize("'Tis the season") == "'Tis the season"
    assert neutralize(-0.5) == -0.5 and neutralize(None) is None
    assert neutralize('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
