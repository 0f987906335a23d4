"""The BSN elfproef (weighted sum 9..2 and -1, divisible by 11)."""

from __future__ import annotations

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def elfproef(bsn: str) -> bool:
    """True when ``bsn`` is nine digits that pass the elfproef (and is not all zeros)."""
    if len(bsn) != 9 or not bsn.isascii() or not bsn.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(bsn, _WEIGHTS, strict=True))
    return total % 11 == 0 and total != 0
