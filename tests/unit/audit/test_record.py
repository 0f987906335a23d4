"""Audit pseudonyms: the kept keyed hash makes exactly what a fresh HMAC makes."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.record import Pseudonymiser


@given(st.binary(min_size=16, max_size=80), st.lists(st.text(max_size=20), max_size=4))
def test_pseudonym_is_the_keyed_hash(secret: bytes, values: list[str]) -> None:
    pseudonymise = Pseudonymiser(secret)
    for value in [*values, *values]:  # the kept keyed hash is never changed by a call
        expected = hmac.new(secret, value.strip().encode(), hashlib.sha256).hexdigest()[:32]
        assert pseudonymise(value) == expected


def test_pseudonym_secret_too_short() -> None:
    with pytest.raises(Exception, match="at least 16 bytes"):
        Pseudonymiser(b"short")
