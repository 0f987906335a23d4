"""The envelope codec writes every answer, whatever the sender sent: a reason that quotes a
character XML cannot carry (a control byte the parser names) is escaped, not a crash."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gateway.codec.envelope import xml_tekst
from gateway.decision.besluit import Feiten, Weigering, ingress
from gateway.domain.model import Foutcode
from tests.support.decisions import offline_pipeline
from tests.support.paths import EXAMPLES_DIR


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
