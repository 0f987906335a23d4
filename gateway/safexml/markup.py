"""Values as XML text: escaped as lxml serialises them, so composed text parses back to the
value and reads, byte for byte, as the tree built from it would be written.

Shared by the envelope's text (:mod:`gateway.codec.envelope`) and the adapters' composed
bodies (:mod:`adapters.codec`). Characters XML cannot carry are the caller's to handle: these
functions only escape markup.
"""

from __future__ import annotations


def escape_text(text: str) -> str:
    """``text`` as element content that parses back to itself (a CR would become a LF)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def escape_attribute(text: str) -> str:
    """``text`` as a double-quoted attribute value that parses back to itself (white space
    other than a space would be normalised to one)."""
    text = escape_text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#9;")
    return text


__all__ = ["escape_attribute", "escape_text"]
