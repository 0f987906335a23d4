"""The shared escapes write a value as lxml serialises it, and it parses back to itself."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.safexml.markup import escape_attribute, escape_text
from gateway.safexml.xmlsafe import parse_own

#: what XML 1.0 can carry, markup and white space often
XML_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
    | st.sampled_from(list("&<>\"'\t\n\r ]]>é\x85\u2028\ufffd")),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(text=XML_TEXT)
def test_escape_text_is_as_lxml_writes_it(text: str) -> None:
    element = etree.Element("a")
    element.text = text
    composed = f"<a>{escape_text(text)}</a>"
    if text:
        assert etree.tostring(element, encoding="unicode") == composed
    assert (parse_own(composed).text or "") == text


@settings(max_examples=300, deadline=None)
@given(text=XML_TEXT)
def test_escape_attribute_is_as_lxml_writes_it(text: str) -> None:
    element = etree.Element("a", b=text)
    composed = f'<a b="{escape_attribute(text)}"/>'
    assert etree.tostring(element, encoding="unicode") == composed
    assert parse_own(composed).get("b") == text
