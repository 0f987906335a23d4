"""The envelope codec writes every answer, whatever the sender sent: a reason that quotes a
character XML cannot carry (a control byte the parser names) is escaped, not a crash."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.codec.envelope import xml_tekst
from gateway.decision.besluit import Feiten, Weigering, ingress
from gateway.domain.model import Bericht, BerichtType, Foutcode, Kop, Rol
from gateway.domain.model.part import Part
from tests.support.decisions import offline_pipeline
from tests.support.models import assert_same_build
from tests.support.paths import EXAMPLES_DIR
from tests.support.strategies import MESSAGE_CODEC, SENT, inhoud, kop, pair_id


def test_characters_xml_cannot_carry_are_escaped_and_the_rest_kept() -> None:
    assert xml_tekst("a\x14b\x00c\ufffe é 😀\t\n") == "a\\x14b\\x00c\\ufffe é 😀\t\n"


@given(st.text())
def test_any_text_fits_in_an_xml_text_node(text: str) -> None:
    element = etree.Element("reden")
    element.text = xml_tekst(text)  # raises ValueError for a character XML cannot carry
    assert xml_tekst(xml_tekst(text)) == xml_tekst(text)


def test_a_control_byte_in_the_doctype_is_answered_with_a_foutbericht() -> None:
    """The hostile fuzz found it: lxml names the byte in its error, and the Foutbericht's
    Reden quoting it could not be written."""
    raw = (EXAMPLES_DIR / "crisisdienst" / "Terugmelding.xml").read_bytes()
    hostile = b'<!\x14OCTYPE kp:Bericht [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + raw
    besluit = offline_pipeline().route(
        ingress(hostile, "00000099000000000111"), Feiten(nu=dt.datetime.now(dt.UTC))
    )
    assert isinstance(besluit, Weigering)
    assert besluit.refused.code is Foutcode.XML_ONGELDIG
    assert b"<kp:Foutbericht>" in besluit.antwoord
    assert b"\\x14" in besluit.antwoord  # the reason names the byte


def _as_read(part: Any) -> Any:
    """``part`` built as the reader built it with pydantic's validation: every field given
    but the Kop's ``versie``, which the envelope does not carry (nested parts likewise).
    What the reader builds without validation must be exactly this."""
    if isinstance(part, tuple):
        return tuple(_as_read(p) for p in part)
    if not isinstance(part, Part):
        return part
    return type(part)(
        **{
            name: _as_read(getattr(part, name))
            for name in type(part).model_fields
            if not (isinstance(part, Kop) and name == "versie")
        }
    )


@pytest.mark.parametrize(("rol", "berichttype"), SENT, ids=pair_id)
@settings(max_examples=15, deadline=None, database=None)
@given(data=st.data())
def test_the_kop_read_is_the_kop_pydantic_validates(
    rol: Rol, berichttype: BerichtType, data: st.DataObject
) -> None:
    """The Kop (and its Partijen and Doelbinding) is built from the XSD-checked text
    without pydantic's validation: it is the Kop ``Kop(...)`` builds from the same values."""
    bericht = Bericht(
        kop=data.draw(kop(berichttype, st.just(rol)), label="kop"),
        inhoud=data.draw(inhoud(berichttype), label="inhoud"),
    )
    read = MESSAGE_CODEC.read(MESSAGE_CODEC.write(bericht)).kop
    assert_same_build(read, _as_read(read))
    assert read == bericht.kop


@pytest.mark.parametrize("path", sorted(EXAMPLES_DIR.glob("*/*.xml")), ids=lambda p: p.stem)
def test_every_example_kop_read_is_the_validated_one(path: Path) -> None:
    read = MESSAGE_CODEC.read_envelope(path.read_bytes()).kop
    assert_same_build(read, _as_read(read))
