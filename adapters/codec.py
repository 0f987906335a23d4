"""Parse and render one partner's format, driven by shape + vocabulary (no I/O).

``parse`` expects a body element that its XSD has already accepted; it converts values,
checks what XSD 1.0 cannot (the BSN elfproef, a reason required when a gezagsdrager was not
informed) and raises :class:`gateway.domain.errors.Refused` naming the element and line.
``render`` builds the partner's element from a canonical body and refuses (``ValueError``) to
drop a filled field that the shape cannot carry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from lxml import etree

from adapters.shape import Group, Kind, Leaf, Node, Partner, Shape, Vocabulary
from gateway.domain.bsn import elfproef
from gateway.domain.errors import Refused
from gateway.domain.model import INHOUD_TYPES, BerichtType, Foutcode, Inhoud, Part, part_type
from gateway.safexml.xmlsafe import line

Element = etree._Element


def _part_type(model: type[Part], name: str) -> type[Part]:
    """The Part class behind ``X | None`` or ``list[X]`` of one model field."""
    found = part_type(model, name)
    if found is None:
        raise TypeError(f"{model.__name__}.{name} holds no canonical part")
    return found


def _text_to_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("a tijdstip needs an offset")
    return value


# XSD date, dateTime, boolean and integer values collapse surrounding white space; so do we.
_FROM_TEXT: dict[Kind, Callable[[str], Any]] = {
    Kind.DATUM: lambda s: dt.date.fromisoformat(s.strip()),
    Kind.TIJDSTIP: lambda s: _text_to_datetime(s.strip()),
    Kind.JANEE: lambda s: s.strip() in ("true", "1"),
    Kind.AANTAL: lambda s: int(s.strip()),
}


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


class Codec:
    """One BerichtType in one partner's format."""

    def __init__(self, vocabulary: Vocabulary, shape: Shape) -> None:
        self.vocabulary = vocabulary
        self.shape = shape
        self.model = INHOUD_TYPES[shape.berichttype]
        self.root = vocabulary.root(shape.berichttype)
        self.tag = self.q(self.root)
        self._check(self.model, shape.children)

    def q(self, name: str) -> str:
        return f"{{{self.vocabulary.namespace}}}{name}"

    def _check(self, model: type[Part], nodes: tuple[Node, ...]) -> None:
        """Every node names a field of its model (fail at import, not at the first message)."""
        for node in nodes:
            if node.field not in model.model_fields:
                raise TypeError(f"{self.root}: {model.__name__} has no field {node.field}")
            if isinstance(node, Group):
                self._check(_part_type(model, node.field), node.children)

    # ----------------------------------------------------------------- names

    def element_name(self, node: Node) -> str:
        if isinstance(node, Group) and node.item:
            return self.vocabulary.name(node.item)
        return self.vocabulary.name(node.field)

    def wrapper_name(self, node: Group) -> str | None:
        if node.wrapper:
            return self.vocabulary.name(node.field)
        return self.vocabulary.wrap.get(node.field)

    # ----------------------------------------------------------------- parse

    def parse(self, element: Element) -> Inhoud:
        values = self._parse_children(element, self.model, self.shape.children)
        inhoud = self.model(**values)
        assert isinstance(inhoud, Inhoud)
        return inhoud

    def _parse_children(
        self, element: Element, model: type[Part], nodes: tuple[Node, ...]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for node in nodes:
            if isinstance(node, Group):
                items = self._items(element, node)
                sub = _part_type(model, node.field)
                parsed = [sub(**self._parse_children(i, sub, node.children)) for i in items]
                values[node.field] = parsed if node.max != 1 else (parsed[0] if parsed else None)
            else:
                raws = self._raw(element, node)
                converted = [self._convert(node, raw, where) for raw, where in raws]
                values[node.field] = (
                    converted if node.max != 1 else (converted[0] if converted else None)
                )
        self._rules(element, values)
        return values

    def _items(self, element: Element, node: Group) -> list[Element]:
        wrapper = self.wrapper_name(node)
        parent: Element | None = element
        if wrapper is not None:
            parent = element.find(self.q(wrapper))
        if parent is None:
            return []
        return parent.findall(self.q(self.element_name(node)))

    def _raw(self, element: Element, node: Leaf) -> list[tuple[str, Element]]:
        if node.text:
            return [(element.text or "", element)]
        if self.vocabulary.is_attribute(node):
            value = element.get(self.vocabulary.attribute(node.field))
            return [] if value is None else [(value, element)]
        return [(c.text or "", c) for c in element.findall(self.q(self.element_name(node)))]

    def _convert(self, node: Leaf, raw: str, where: Element) -> Any:
        name = self._describe(node, where)

        def refused(code: Foutcode, reden: str) -> Refused:
            return Refused(code, reden, element=name, regel=line(where))

        if node.kind is Kind.BSN:
            if not elfproef(raw):
                raise refused(Foutcode.BSN_ONGELDIG, "BSN fails the elfproef")
            return raw
        if node.kind is Kind.CODE:
            table = self.vocabulary.codes(node, sendable_only=False)
            try:
                return table[raw.strip()]
            except KeyError:
                raise refused(
                    Foutcode.SCHEMA_ONGELDIG, f"unknown code {raw.strip()[:40]!r}"
                ) from None
        convert = _FROM_TEXT.get(node.kind)
        if convert is None:
            return raw
        try:
            return convert(raw)
        except ValueError as exc:
            raise refused(
                Foutcode.SCHEMA_ONGELDIG, f"not a valid {node.kind.value.lower()}: {exc}"
            ) from None

    def _describe(self, node: Leaf, where: Element) -> str:
        name = f"{self.vocabulary.prefix}:{etree.QName(where).localname}"
        if self.vocabulary.is_attribute(node) and not node.text:
            return f"{name}/@{self.vocabulary.attribute(node.field)}"
        return name

    def _rules(self, element: Element, values: dict[str, Any]) -> None:
        """Rules of the spec that XSD 1.0 cannot express."""
        if values.get("geinformeerd") is False and not values.get("reden_niet_geinformeerd"):
            reden = self.vocabulary.name("reden_niet_geinformeerd")
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"{reden} is required when {self.vocabulary.name('geinformeerd')} is false",
                element=f"{self.vocabulary.prefix}:{etree.QName(element).localname}",
                regel=line(element),
            )

    # ----------------------------------------------------------------- render

    def render(self, inhoud: Inhoud) -> Element:
        if not isinstance(inhoud, self.model):
            raise TypeError(f"{self.root} renders {self.model.__name__}, not {type(inhoud)}")
        root = etree.Element(self.tag, nsmap={self.vocabulary.prefix: self.vocabulary.namespace})
        self._render_children(root, inhoud, self.shape.children)
        return root

    def _render_children(self, element: Element, part: Part, nodes: tuple[Node, ...]) -> None:
        carried = {node.field for node in nodes}
        for name in type(part).model_fields:
            if name not in carried and getattr(part, name) not in (None, []):
                raise ValueError(
                    f"{self.vocabulary.rol} {self.root} cannot carry {type(part).__name__}.{name}"
                )
        for node in nodes:
            value = getattr(part, node.field)
            items = value if isinstance(value, list) else ([] if value is None else [value])
            if isinstance(node, Group):
                if not items:
                    continue
                wrapper = self.wrapper_name(node)
                parent = element
                if wrapper is not None:
                    parent = etree.SubElement(element, self.q(wrapper))
                for item in items:
                    child = etree.SubElement(parent, self.q(self.element_name(node)))
                    self._render_children(child, item, node.children)
                continue
            for item in items:
                text = (
                    self.vocabulary.spell(node, str(item))
                    if node.kind is Kind.CODE
                    else _to_text(item)
                )
                if node.text:
                    element.text = text
                elif self.vocabulary.is_attribute(node):
                    element.set(self.vocabulary.attribute(node.field), text)
                else:
                    etree.SubElement(element, self.q(self.element_name(node))).text = text


class Adapter:
    """Every type one partner sends or receives: parse its bodies, render bodies for it."""

    def __init__(self, partner: Partner, shapes: dict[BerichtType, Shape]) -> None:
        self.partner = partner
        self.vocabulary = partner.vocabulary
        types_ = dict.fromkeys((*partner.sends, *partner.receives))
        self.codecs: dict[BerichtType, Codec] = {
            t: Codec(partner.vocabulary, shapes[t]) for t in types_
        }
        self._by_tag = {c.tag: c for t, c in self.codecs.items() if t in partner.sends}

    def sent_type(self, element: Element) -> BerichtType | None:
        """The BerichtType of a body this partner sends, from its element name."""
        codec = self._by_tag.get(str(element.tag))
        return codec.shape.berichttype if codec else None

    def parse(self, element: Element) -> Inhoud:
        codec = self._by_tag.get(str(element.tag))
        if codec is None:
            raise Refused(
                Foutcode.ONBEKEND_BERICHTTYPE,
                f"{self.vocabulary.rol} sends no message {etree.QName(element).localname}",
                element=f"{self.vocabulary.prefix}:{etree.QName(element).localname}",
                regel=line(element),
            )
        return codec.parse(element)

    def render(self, inhoud: Inhoud) -> Element:
        codec = self.codecs.get(inhoud.berichttype)
        if codec is None:
            raise ValueError(f"{self.vocabulary.rol} has no format for {inhoud.berichttype}")
        return codec.render(inhoud)
