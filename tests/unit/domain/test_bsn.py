"""The BSN elfproef against its definition: weights 9..2 and -1, a multiple of 11, not 0."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.bsn import elfproef


def _by_definition(text: str) -> bool:
    if len(text) != 9 or not all(c in "0123456789" for c in text):
        return False
    total = sum(int(d) * w for d, w in zip(text, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total % 11 == 0 and total != 0


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_nine_digits_pass_as_the_definition_says(text: str) -> None:
    assert elfproef(text) is _by_definition(text)


@given(st.text(max_size=12))
def test_any_text_passes_only_as_the_definition_says(text: str) -> None:
    assert elfproef(text) is _by_definition(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("111222333", True),  # the commonly used test BSN
        ("123456782", True),
        ("123456789", False),
        ("000000000", False),  # a multiple of 11, but no number
        ("12345678", False),
        ("1234567820", False),
        ("١٢٣٤٥٦٧٨٢", False),  # Arabic-Indic digits are digits, but not ASCII
        ("12345678 ", False),
    ],
)
def test_known_numbers(text: str, expected: bool) -> None:
    assert elfproef(text) is expected
