"""The one way Ketenpoort parses XML: no DTD, no entities, no network, no XInclude, bounded.

Every XML that enters the gateway (HTTP body, AMQP message, CLI file) goes through
:func:`parse`. Each failure is a :class:`~gateway.domain.errors.Refused` with the foutbericht code
of spec §6 and, where there is one, the line:

- ``TE_GROOT``: more bytes than the limit (checked before anything is parsed);
- ``XML_ONGELDIG``: not UTF-8 (a NUL byte, as UTF-16 and UTF-32 have, is refused first), a
  document type declaration in the prolog (rejected before parsing, so no entity is ever
  declared or expanded and no file or URL is read; the parser is also configured to load
  nothing), not well-formed, nested deeper than the limit, or an XInclude element.

Messages must be UTF-8 (a careful choice where the spec is silent: every partner can produce
it, and it makes the byte scan for declarations reliable).
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from gateway.domain.errors import Refused
from gateway.domain.model import Foutcode

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "XINCLUDE_NS", "line", "parse", "parse_own"]

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_DEPTH = 32

XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
_LIBXML2_MAX_DEPTH = 256  # libxml2's own limit without huge_tree; ours must stay below it
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")

_local = threading.local()


def _hardened(*, sent: bool) -> etree.XMLParser:
    """A parser denied what every parser of the gateway is denied (entities, the network, a
    DTD, huge trees, an id table). ``sent``: for what a sender wrote, which also drops
    comments and processing instructions and reads UTF-8 only; else for what the gateway
    composed itself, which has neither and is parsed from text."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        collect_ids=False,
        remove_pis=sent,
        remove_comments=sent,
        encoding="utf-8" if sent else None,  # never let libxml2 guess it from a sender's bytes
    )


def _parser() -> etree.XMLParser:
    """A parser per thread (lxml parsers must not be shared between threads)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _hardened(sent=True)
    return parser


def _own_parser() -> etree.XMLParser:
    """A parser per thread for XML the gateway composed itself (:func:`parse_own`)."""
    parser: etree.XMLParser | None = getattr(_local, "own_parser", None)
    if parser is None:
        parser = _local.own_parser = _hardened(sent=False)
    return parser


def _too_deep(max_depth: int) -> etree.XPath:
    """The XPath finding an element nested deeper than ``max_depth``, compiled once per thread
    and depth (compiling it costs more than running it)."""
    found: dict[int, etree.XPath] | None = getattr(_local, "too_deep", None)
    if found is None:
        found = _local.too_deep = {}
    xpath = found.get(max_depth)
    if xpath is None:
        xpath = found[max_depth] = etree.XPath("/*" + "/*" * max_depth)
    return xpath


def parse_own(text: str) -> etree._Element:
    """Parse XML the gateway composed itself, every value in it escaped (an adapter's
    rendered body: cheaper than building the tree element by element). Never for what a
    sender wrote: that is :func:`parse`. Loads nothing, expands no entity; a mistake raises
    lxml's :class:`~lxml.etree.XMLSyntaxError`."""
    return etree.fromstring(text, _own_parser())


def line(element: etree._Element | None) -> int | None:
    """The source line of an element, when known (for foutberichten)."""
    value = getattr(element, "sourceline", None)
    return value if isinstance(value, int) else None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _declaration_in_prolog(data: bytes) -> int | None:
    """Offset of a ``<!DOCTYPE``-like declaration before the root element, if any.

    Only the prolog can hold a document type declaration (and so entity declarations);
    comments and processing instructions are skipped, text after the root start (CDATA,
    comments in the body) is not looked at.
    """
    i = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while i < len(data) and data[i : i + 1] in b" \t\r\n":
            i += 1
        if data.startswith(b"<?", i):
            end = data.find(b"?>", i)
            if end < 0:
                return None
            i = end + 2
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            if end < 0:
                return None
            i = end + 3
        elif data.startswith(b"<!", i):
            return i
        else:
            return None


def parse(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._Element:
    """Parse untrusted XML safely; return the root element or raise :class:`Refused`."""
    if not 1 <= max_depth < _LIBXML2_MAX_DEPTH:
        raise ValueError(f"max_depth must be below {_LIBXML2_MAX_DEPTH}, got {max_depth}")
    if len(data) > max_bytes:
        raise Refused(
            Foutcode.TE_GROOT, f"message is {len(data)} bytes; the limit is {max_bytes} bytes"
        )
    if not data.strip():
        raise Refused(Foutcode.XML_ONGELDIG, "message is empty")
    nul = data.find(b"\x00")
    if nul >= 0:  # never legal in XML; also how UTF-16/32 would slip past the checks below
        raise Refused(
            Foutcode.XML_ONGELDIG,
            f"NUL byte at {nul}: messages must be UTF-8 (UTF-16 and UTF-32 are refused)",
            regel=_line_of(data, nul),
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(
            Foutcode.XML_ONGELDIG,
            f"not valid UTF-8 at byte {exc.start}",
            regel=_line_of(data, exc.start),
        ) from None
    declared = _ENCODING.match(data)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise Refused(
            Foutcode.XML_ONGELDIG,
            f"encoding {declared.group(1).decode()!r} declared; messages must be UTF-8",
            regel=1,
        )
    declaration = _declaration_in_prolog(data)
    if declaration is not None:
        words = data[declaration + 2 : declaration + 12].split(maxsplit=1)
        kind = words[0].decode(errors="replace") if words else ""
        raise Refused(
            Foutcode.XML_ONGELDIG,
            f"{kind or '<!'} declarations are not allowed (no DTDs or entities)",
            regel=_line_of(data, declaration),
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        reden = (exc.msg or "not well-formed").strip()
        if "depth" in reden.lower():
            reden = f"nested deeper than {max_depth} elements"
        raise Refused(Foutcode.XML_ONGELDIG, reden, regel=exc.lineno or None) from None
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise Refused(Foutcode.XML_ONGELDIG, "DOCTYPE declarations are not allowed", regel=1)
    too_deep = _too_deep(max_depth)(root)
    if isinstance(too_deep, list) and too_deep:
        first = too_deep[0]
        raise Refused(
            Foutcode.XML_ONGELDIG,
            f"nested deeper than {max_depth} elements",
            regel=line(first) if isinstance(first, etree._Element) else None,
        )
    for element in root.iter(f"{{{XINCLUDE_NS}}}*"):
        raise Refused(
            Foutcode.XML_ONGELDIG,
            "XInclude is not allowed",
            element=f"xi:{etree.QName(element).localname}",
            regel=line(element),
        )
    return root
