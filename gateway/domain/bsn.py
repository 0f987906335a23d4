"""The BSN elfproef (weighted sum 9..2 and -1, divisible by 11)."""

from __future__ import annotations

from operator import mul

__all__ = ["elfproef"]

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_ZERO = ord("0") * sum(_WEIGHTS)  # what the digits' character codes add beyond their values


def elfproef(bsn: str) -> bool:
    """True when ``bsn`` is nine digits that pass the elfproef (and is not all zeros)."""
    if len(bsn) != 9 or not bsn.isascii() or not bsn.isdigit():
        return False
    total: int = sum(map(mul, bsn.encode("ascii"), _WEIGHTS)) - _ZERO
    return total % 11 == 0 and total != 0
