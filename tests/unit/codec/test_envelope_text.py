"""The envelope written as text (:meth:`MessageCodec.write`) is byte for byte the envelope
built element by element (:meth:`MessageCodec.build`), and refuses what that refuses with
the same error: for hostile texts in the Kop and the technical bodies too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.domain.errors import Refused
from gateway.domain.model import (
    Bericht,
    BerichtType,
    Ontvangstbevestiging,
    Partij,
    Rol,
    Routeringsregel,
    TechnischType,
)
from tests.support.catalogue import TYPEN
from tests.support.strategies import (
    MESSAGE_CODEC,
    RECEIVED,
    SENT,
    TECHNISCH,
    TIJDSTIP,
    Koptekst,
    inhoud,
    kop,
    pair_id,
    partij,
)

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: every character, lone surrogates and markup included, often the ones that need care
HOSTILE = st.text(
    st.characters(codec=None, categories=None)
    | st.sampled_from(list("&<>\"'\t\n\r \x00\x14\x7f\x85\ufffe\uffff\ud800é😀]]>")),
    max_size=30,
)
#: a text the envelope either carries as is or escapes: mostly plain, sometimes hostile
TEXT = st.from_regex(r"[0-9a-f\-]{1,36}", fullmatch=True) | HOSTILE


def _outcome(write: Callable[..., bytes], bericht: Bericht, **options: Any) -> Any:
    """The bytes written, or what was raised (a Refused with all it says)."""
    try:
        return write(bericht, **options)
    except Refused as exc:
        return ("Refused", exc.code, exc.reden, exc.element, exc.regel)
    except (ValueError, TypeError, KeyError) as exc:
        return (type(exc).__name__, str(exc))


#: every text of the Kop any text at all, often a hostile one
HOSTILE_KOP = Koptekst(
    ids=TEXT,
    oin=st.from_regex(r"[0-9]{20}", fullmatch=True) | HOSTILE,
    rol=st.sampled_from(sorted(TYPEN.rollen)) | HOSTILE,
    doel=TEXT,
    grondslagen=st.lists(TEXT, max_size=3),
    traceparent=TEXT,
    altijd_doelbinding=False,
)


def any_partij() -> st.SearchStrategy[Partij]:
    return partij(tekst=HOSTILE_KOP)


ROUTERINGSREGEL = st.builds(
    Routeringsregel,
    nummer=st.integers(min_value=-5, max_value=10**6),
    naar=st.sampled_from(sorted(TYPEN.rollen)) | HOSTILE,
    verplicht=st.booleans(),
    ontvangers=st.lists(any_partij(), max_size=3),
    ontbreekt=st.none() | HOSTILE | st.text(max_size=2100),
)
ONTVANGSTBEVESTIGING = st.builds(
    Ontvangstbevestiging,
    ontvangers=st.lists(any_partij(), max_size=3),
    uiterste_beslismoment=st.none() | TIJDSTIP,
    regels=st.lists(ROUTERINGSREGEL, max_size=3),
)


@pytest.mark.parametrize("berichttype", list(TechnischType), ids=str)
@PROPERTY
@given(data=st.data())
def test_technical_envelope_text_is_the_built_one(
    berichttype: BerichtType, data: st.DataObject
) -> None:
    body = ONTVANGSTBEVESTIGING if berichttype == TechnischType.ONTVANGSTBEVESTIGING else None
    inhoud_ = data.draw(body if body is not None else TECHNISCH[berichttype], label="inhoud")
    afzender = st.sampled_from(sorted(TYPEN.rollen)) | HOSTILE
    original = Bericht(
        kop=data.draw(kop(berichttype, afzender, HOSTILE_KOP), label="kop"), inhoud=inhoud_
    )
    assert _outcome(MESSAGE_CODEC.write, original) == _outcome(MESSAGE_CODEC.build, original)


@settings(PROPERTY, max_examples=100)
@given(
    berichttype=st.sampled_from(list(TechnischType)) | HOSTILE | st.just("kp:Bericht"),
    data=st.data(),
)
def test_a_technical_element_name_xml_cannot_carry_is_refused_as_built(
    berichttype: str, data: st.DataObject
) -> None:
    inhoud_ = data.draw(TECHNISCH[TechnischType.FOUTBERICHT], label="inhoud")
    original = Bericht(
        kop=data.draw(kop(berichttype, st.just("politie"), HOSTILE_KOP), label="kop"),
        inhoud=inhoud_,
    )
    assert _outcome(MESSAGE_CODEC.write, original) == _outcome(MESSAGE_CODEC.build, original)


@pytest.mark.parametrize(("rol", "berichttype"), SENT, ids=[pair_id(p) for p in SENT])
@settings(PROPERTY, max_examples=10)
@given(data=st.data())
def test_envelope_text_is_the_built_one_in_every_format(
    rol: Rol, berichttype: BerichtType, data: st.DataObject
) -> None:
    """Sender's own format (send XSD), every recipient's (receive XSD) and a rol without one,
    checked or not: the same bytes, or the same refusal."""
    original = Bericht(
        kop=data.draw(kop(berichttype, st.just(rol), HOSTILE_KOP), label="kop"),
        inhoud=data.draw(inhoud(berichttype, sparse=data.draw(st.booleans())), label="inhoud"),
    )
    recipients = [r for r, t in RECEIVED if t == berichttype]
    others = [r for r in sorted(TYPEN.rollen) if r not in recipients]
    for voor in (None, *recipients, *others[:1]):
        for check in (True, False):
            options = {"voor": voor, "check": check}
            assert _outcome(MESSAGE_CODEC.write, original, **options) == _outcome(
                MESSAGE_CODEC.build, original, **options
            )
