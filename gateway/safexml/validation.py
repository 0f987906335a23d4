"""XSD validation with lxml (fast, hot path), errors mapped to foutberichten.

Schemas are loaded once, at start (never from a ``schemaLocation`` in a message): the
envelope's from ``schemas/v1/envelop.xsd``, the partners' as the documents the adapters
generate. The envelope is checked against ``envelop.xsd``; a body against the schema of the
partner that sends it (strict) or, for what the gateway renders, of the partner that receives
it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from lxml import etree

from gateway.domain.errors import Misconfigured, Refused
from gateway.domain.model import Foutcode
from gateway.safexml.xmlsafe import line

__all__ = ["DEFAULT_SCHEMA_DIR", "ENVELOP_NS", "SchemaSet"]

ENVELOP_NS = "urn:ketenpoort:envelop:1"
DEFAULT_SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "v1"

_MISSING = re.compile(r"Expected is \( ([\w.\-]+:[\w.\-]+) \)")
_CLARK = re.compile(r"\{((?:urn|https?):[^}]*)\}")  # {namespace}name, not {'a', 'b'}


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _load(path: Path) -> etree.XMLSchema:
    try:
        return etree.XMLSchema(etree.parse(str(path), _PARSER))
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise Misconfigured(f"schema {path}: {exc}") from exc


def _compile(name: str, document: bytes) -> etree.XMLSchema:
    try:
        return etree.XMLSchema(etree.fromstring(document, _PARSER))
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise Misconfigured(f"schema of {name}: {exc}") from exc


_KNOWN = {"http://www.w3.org/2001/XMLSchema-instance": "xsi"}


class SchemaSet:
    """The envelope schema and, per partner namespace, its send and receive schemas."""

    def __init__(
        self,
        envelope: Path,
        namespaces: dict[str, tuple[bytes, bytes]],
        prefixes: dict[str, str],
    ) -> None:
        """``envelope``: the envelope's XSD file; ``namespaces`` maps a partner namespace to
        its (send, receive) XSD documents."""
        self.prefixes = {ENVELOP_NS: "kp", **prefixes}
        self.envelope = _load(envelope)
        self.send: dict[str, etree.XMLSchema] = {}
        self.receive: dict[str, etree.XMLSchema] = {}
        for namespace, (send, receive) in namespaces.items():
            self.send[namespace] = _compile(namespace, send)
            self.receive[namespace] = _compile(namespace, receive)

    def check_envelope(self, root: etree._Element) -> None:
        self._check(self.envelope, root)

    def check_body(self, body: etree._Element, *, sent: bool) -> None:
        namespace = etree.QName(body).namespace or ""
        schemas = self.send if sent else self.receive
        schema = schemas.get(namespace)
        if schema is None:
            raise Refused(
                Foutcode.ONBEKEND_BERICHTTYPE,
                f"no partner format has namespace {namespace or '(none)'!r}",
                element=etree.QName(body).localname,
                regel=line(body),
            )
        self._check(schema, body)

    def _check(self, schema: etree.XMLSchema, element: etree._Element) -> None:
        if schema.validate(element):
            return
        error = cast("Sequence[etree._LogEntry]", schema.error_log)[0]  # stubs lack __getitem__
        reden = self._readable(error.message)
        where = self._element_of(error)
        missing = _MISSING.search(reden)
        if missing:
            # "This element is not expected. Expected is ( pol:X )": X is what is wrong.
            reden = f"{missing.group(1)} is missing" + (f" before {where}" if where else "")
            if "Missing child element" in error.message:
                reden = f"{missing.group(1)} is missing in {where}"
            where = missing.group(1)
        raise Refused(Foutcode.SCHEMA_ONGELDIG, reden, element=where, regel=error.line or None)

    def _readable(self, message: str) -> str:
        """libxml2's message with prefixes instead of {namespace} names."""

        def prefixed(match: re.Match[str]) -> str:
            prefix = self.prefixes.get(match.group(1))
            return f"{prefix}:" if prefix else ""

        text = _CLARK.sub(prefixed, message)
        return re.sub(r"^Element '[^']*'(, attribute '[^']*')?: ", "", text).strip()

    def _element_of(self, error: etree._LogEntry) -> str | None:
        found = re.match(r"Element '([^']*)'(?:, attribute '([^']*)')?", error.message)
        if not found:
            return None
        element = _CLARK.sub(
            lambda m: f"{self.prefixes.get(m.group(1), m.group(1))}:", found.group(1)
        )
        if not found.group(2):
            return element
        attribute = _CLARK.sub(
            lambda m: f"{self.prefixes.get(m.group(1), _KNOWN.get(m.group(1), m.group(1)))}:",
            found.group(2),
        )
        return f"{element}/@{attribute}"
