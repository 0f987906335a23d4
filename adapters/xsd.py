"""Generate a partner's XSDs from the catalogue's definitions and its vocabulary.

The gateway builds them in memory at start (so a BerichtType or rol added as data is validated
without a file to write); ``ketenpoort schemas write`` publishes them in ``schemas/v1`` for the
partners' integration engineers, and a test checks the published ones are what the catalogue
produces. Two schemas per partner namespace:

- ``<name>.xsd`` — what the partner *sends*: exactly the format of spec §8 (required elements,
  cardinalities, the sender's own code list);
- ``<name>-ontvangst.xsd`` — what the partner *receives*: the same elements and order, but
  every element and attribute optional (need-to-know filtering leaves out what the recipient is
  not granted) and code lists complete (a recipient also sees codes another partner uses).
"""

from __future__ import annotations

from enum import Enum

from lxml import etree

from adapters.codec import Codec
from adapters.shape import Partner
from gateway.domain.model import Berichttypen, Kind, Leaf, Node

__all__ = ["XS", "Richting", "generate", "schema_name"]

XS = "http://www.w3.org/2001/XMLSchema"


class Richting(Enum):
    VERZENDEN = "verzenden"
    ONTVANGEN = "ontvangen"


_SIMPLE: dict[Kind, tuple[str, dict[str, str]]] = {
    Kind.TEKST: ("xs:string", {"minLength": "1", "maxLength": "4000"}),
    Kind.KORT: ("xs:string", {"minLength": "1", "maxLength": "200"}),
    Kind.REF: ("xs:string", {"pattern": "[A-Za-z0-9_.\\-]{1,64}"}),
    Kind.UUID: (
        "xs:string",
        {"pattern": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"},
    ),
    Kind.BSN: ("xs:string", {"pattern": "[0-9]{9}"}),
    Kind.POSTCODE: ("xs:string", {"pattern": "[1-9][0-9]{3} ?[A-Z]{2}"}),
    Kind.TELEFOON: ("xs:string", {"pattern": "[0-9+() \\-]{3,20}"}),
    Kind.PARKETNUMMER: ("xs:string", {"pattern": "[0-9]{2}-[0-9]{6}-[0-9]{2}"}),
    Kind.DATUM: ("xs:date", {"pattern": "[0-9]{4}-[0-9]{2}-[0-9]{2}"}),
    Kind.TIJDSTIP: (
        "xs:dateTime",
        {
            "pattern": "[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
            "(\\.[0-9]{1,6})?"
            "(Z|[+\\-][0-9]{2}:[0-9]{2})"
        },
    ),
    Kind.JANEE: ("xs:boolean", {"pattern": "true|false"}),
    Kind.AANTAL: ("xs:nonNegativeInteger", {"maxInclusive": "9999"}),
    Kind.DUUR: ("xs:duration", {"pattern": "P.{1,30}"}),
    Kind.ROL: ("xs:token", {"pattern": "[a-z][a-z0-9]*(-[a-z0-9]+)*", "maxLength": "64"}),
    Kind.BRON: (
        "xs:token",
        {
            "pattern": "([a-z][a-z0-9]*(-[a-z0-9]+)*/)?[a-z][a-z0-9]*(-[a-z0-9]+)*",
            "maxLength": "129",
        },
    ),
}

_DOC = {
    Kind.TEKST: "Free text, 1 to 4000 characters.",
    Kind.KORT: "Short text (names, numbers, labels), 1 to 200 characters.",
    Kind.REF: "A reference local to the message (letters, digits, _ . -).",
    Kind.UUID: "A UUID in lower case, e.g. 0f8fad5b-d9cb-469f-a165-70867728950e.",
    Kind.BSN: "Burgerservicenummer: 9 digits; the gateway also checks the elfproef.",
    Kind.POSTCODE: "Dutch postcode, e.g. 7511AB or 7511 AB.",
    Kind.TELEFOON: "Telephone number: digits, spaces, + ( ) -.",
    Kind.PARKETNUMMER: "OM parketnummer, e.g. 03-123456-26.",
    Kind.DATUM: "A date without time zone, e.g. 2026-11-21.",
    Kind.TIJDSTIP: "A dateTime with an offset (Z or +hh:mm), e.g. 2026-11-20T23:30:00+01:00.",
    Kind.JANEE: "true or false.",
    Kind.AANTAL: "A count, 0 to 9999.",
    Kind.DUUR: "An xs:duration, e.g. P6M.",
    Kind.ROL: (
        "A partner rol of the Ketenpoort register (lower-case-hyphenated); the gateway checks "
        "it against the register."
    ),
    Kind.BRON: (
        "Where a block's information came from (spec v2 §8): the kind of professional, "
        "optionally after the partner, lower-case-hyphenated: huisarts, "
        "ggz-twente/psychiater. Never a person's name."
    ),
}


def _xs(parent: etree._Element | None, tag: str, **attrs: str) -> etree._Element:
    name = f"{{{XS}}}{tag}"
    if parent is None:
        return etree.Element(name, nsmap={"xs": XS})
    return etree.SubElement(parent, name, attrs)


class _Writer:
    def __init__(self, partner: Partner, richting: Richting, typen: Berichttypen) -> None:
        self.partner = partner
        self.typen = typen
        self.vocabulary = partner.vocabulary
        self.strict = richting is Richting.VERZENDEN
        self.types = partner.sends if self.strict else partner.receives
        self.used_kinds: set[Kind] = set()
        self.used_codes: dict[str, list[str]] = {}

    def build(self) -> etree._Element:
        v = self.vocabulary
        schema = etree.Element(
            f"{{{XS}}}schema",
            nsmap={"xs": XS, v.prefix: v.namespace},
            targetNamespace=v.namespace,
            elementFormDefault="qualified",
            attributeFormDefault="unqualified",
            version="1",
        )
        wat = "sends (strict)" if self.strict else "receives (need-to-know: every part optional)"
        doc = _xs(_xs(schema, "annotation"), "documentation")
        doc.text = (
            f"Ketenpoort v1: the messages {v.rol} {wat}. Generated by `ketenpoort schemas "
            f"write` from the catalogue (policy typen.yaml) and the {v.rol} vocabulary; do not "
            "edit by hand."
        )
        roots = []
        for berichttype in self.types:
            definitie = self.typen[berichttype]
            codec = Codec(v, definitie, self.typen.rollen)
            element = _xs(schema, "element", name=codec.root)
            _xs(_xs(element, "annotation"), "documentation").text = f"BerichtType {berichttype}"
            self._complex(element, codec, definitie.children)
            roots.append(element)
        for kind in sorted(self.used_kinds, key=lambda k: k.value):
            base, facets = _SIMPLE[kind]
            simple = _xs(schema, "simpleType", name=kind.value)
            _xs(_xs(simple, "annotation"), "documentation").text = _DOC[kind]
            restriction = _xs(simple, "restriction", base=base)
            for facet, value in facets.items():
                _xs(restriction, facet, value=value)
        for name, values in sorted(self.used_codes.items()):
            simple = _xs(schema, "simpleType", name=name)
            restriction = _xs(simple, "restriction", base="xs:token")
            for value in values:
                _xs(restriction, "enumeration", value=value)
        return schema

    def _type_of(self, codec: Codec, leaf: Leaf) -> str:
        if leaf.kind is not Kind.CODE:
            self.used_kinds.add(leaf.kind)
            return f"{self.vocabulary.prefix}:{leaf.kind.value}"
        assert leaf.codes is not None
        restricted = self.strict and leaf.allowed is not None
        values = list(codec.vocabulary.codes(leaf, sendable_only=restricted))
        name = leaf.codes.naam
        if restricted:
            name += "-" + codec.root
        previous = self.used_codes.setdefault(name, values)
        if previous != values:
            raise ValueError(f"code list {name} used with two value sets")
        return f"{self.vocabulary.prefix}:{name}"

    def _occurs(self, node: Node) -> dict[str, str]:
        low = node.min if self.strict else 0
        high = "unbounded" if node.max is None else str(node.max)
        occurs = {}
        if low != 1:
            occurs["minOccurs"] = str(low)
        if high != "1":
            occurs["maxOccurs"] = high
        return occurs

    def _complex(self, element: etree._Element, codec: Codec, nodes: tuple[Node, ...]) -> None:
        v = self.vocabulary
        attrs = [n for n in nodes if isinstance(n, Leaf) and v.is_attribute(n)]
        text = [n for n in nodes if isinstance(n, Leaf) and n.text]
        children = [n for n in nodes if n not in attrs and n not in text]
        complex_ = _xs(element, "complexType")
        if text:
            if children:
                raise ValueError(f"{codec.root}: an element has both text and children")
            extension = _xs(
                _xs(complex_, "simpleContent"), "extension", base=self._type_of(codec, text[0])
            )
            holder = extension
        else:
            sequence = _xs(complex_, "sequence")
            for node in children:
                self._child(sequence, codec, node)
            holder = complex_
        for leaf in attrs:
            _xs(
                holder,
                "attribute",
                name=v.attribute(leaf.field),
                type=self._type_of(codec, leaf),
                use="required" if self.strict and leaf.min >= 1 else "optional",
            )

    def _child(self, sequence: etree._Element, codec: Codec, node: Node) -> None:
        if isinstance(node, Leaf):
            _xs(
                sequence,
                "element",
                name=codec.element_name(node),
                type=self._type_of(codec, node),
                **self._occurs(node),
            )
            return
        wrapper = codec.wrapper_name(node)
        if wrapper is not None:
            outer = _xs(
                sequence,
                "element",
                name=wrapper,
                **({"minOccurs": "0"} if node.min == 0 or not self.strict else {}),
            )
            sequence = _xs(_xs(outer, "complexType"), "sequence")
        element = _xs(sequence, "element", name=codec.element_name(node), **self._occurs(node))
        self._complex(element, codec, node.children)


def schema_name(partner: Partner, richting: Richting) -> str:
    """``<schema>.xsd`` (sends) or ``<schema>-ontvangst.xsd`` (receives); ``schema`` is the
    vocabulary's, by default its prefix."""
    base = partner.vocabulary.schema or partner.vocabulary.prefix
    return f"{base}.xsd" if richting is Richting.VERZENDEN else f"{base}-ontvangst.xsd"


def generate(partner: Partner, richting: Richting, typen: Berichttypen) -> bytes:
    """The XSD text for one partner and direction."""
    schema = _Writer(partner, richting, typen).build()
    etree.indent(schema, space="  ")
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8") + b"\n"
