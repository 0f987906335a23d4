"""Parse and render one partner's format, driven by shape + vocabulary (no I/O).

``parse`` expects a body element that its XSD has already accepted; it converts values,
checks what XSD 1.0 cannot (the BSN elfproef, a reason required when a betrokkene was not
informed, a doorbrekingsgrond required on a block under beroepsgeheim: spec v2 §8) and raises
:class:`gateway.domain.errors.Refused` naming the element and line.
``render`` builds the partner's element from a canonical body and refuses (``ValueError``) to
drop a filled field that the shape cannot carry.

Everything that depends only on the shape and the vocabulary (qualified element and attribute
names, code tables both ways, value converters, the sub-model of every group, the fields a
shape does not carry) is compiled into a plan when the :class:`Codec` is built; per message
only the values are read and written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lxml import etree

from adapters.shape import Partner, Vocabulary
from gateway.domain.bsn import elfproef
from gateway.domain.errors import Refused
from gateway.domain.model import (
    BerichtType,
    Berichttypen,
    Definitie,
    Foutcode,
    Group,
    Inhoud,
    Kind,
    Leaf,
    Node,
    Part,
    field_plan,
    gevalideerd,
    part_type,
)
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


class _Plek(Enum):
    """Where a leaf's value is in the partner's XML."""

    TEXT = "the parent element's own text"
    ATTRIBUTE = "an attribute of the parent element"
    ELEMENT = "child elements"


@dataclass(frozen=True, slots=True)
class _LeafPlan:
    """A leaf, compiled for one vocabulary."""

    node: Leaf
    field: str
    single: bool
    plek: _Plek
    name: str  # the qualified element name (ELEMENT) or the attribute name (ATTRIBUTE)
    convert: Callable[[str], Any] | None  # text -> value (None: the text itself)
    codes: dict[str, str] | None  # CODE: native spelling -> canonical value
    spellings: dict[str, str] | None  # CODE: canonical value -> native spelling


@dataclass(frozen=True, slots=True)
class _GroupPlan:
    """A group (or the body itself), compiled for one vocabulary."""

    field: str
    single: bool
    model: type[Part]
    wrapper: str | None  # the qualified name of the element wrapping the items
    item: str  # the qualified name of each item's element
    children: tuple[_LeafPlan | _GroupPlan, ...]
    uncarried: tuple[str, ...]  # fields of ``model`` this shape has no element for


def _by_tag(element: Element) -> dict[str, list[Element]]:
    """The child elements by qualified name, in document order: one pass instead of a
    ``findall`` per field (comments and processing instructions have no name)."""
    found: dict[str, list[Element]] = {}
    for child in element:
        tag = child.tag
        if isinstance(tag, str):
            found.setdefault(tag, []).append(child)
    return found


def _as_is(raw: str, where: Element) -> Any:
    return raw


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


class Codec:
    """One BerichtType in one partner's format."""

    def __init__(
        self, vocabulary: Vocabulary, definitie: Definitie, rollen: frozenset[str]
    ) -> None:
        self.vocabulary = vocabulary
        self.definitie = definitie
        self.model = definitie.model
        self.root = vocabulary.root(definitie.berichttype)
        self.tag = self.q(self.root)
        self._rollen = rollen
        self._check(self.model, definitie.children)
        self._plan = _GroupPlan(
            field="",
            single=True,
            model=self.model,
            wrapper=None,
            item=self.tag,
            children=self._compile(self.model, definitie.children),
            uncarried=self._uncarried(self.model, definitie.children),
        )
        # the names the rules of :meth:`_rules` speak of, in this vocabulary
        self._reden = self.vocabulary.name("reden_niet_geinformeerd")
        self._geinformeerd = self.vocabulary.name("geinformeerd")
        self._grond = self.vocabulary.attribute("doorbrekingsgrond")
        self._attribuut = self.vocabulary.attribute("beroepsgeheim")
        self._parse = self._parser(self._plan)
        self._render = self._renderer(self._plan)

    def _rol(self, text: str) -> str:
        value = text.strip()
        if value not in self._rollen:
            raise ValueError(f"{value[:40]!r} is no rol of the register")
        return value

    def q(self, name: str) -> str:
        return f"{{{self.vocabulary.namespace}}}{name}"

    def _check(self, model: type[Part], nodes: tuple[Node, ...]) -> None:
        """Every node names a field of its model (fail at import, not at the first message)."""
        for node in nodes:
            if node.field not in model.model_fields:
                raise TypeError(f"{self.root}: {model.__name__} has no field {node.field}")
            if isinstance(node, Group):
                self._check(_part_type(model, node.field), node.children)

    def _compile(
        self, model: type[Part], nodes: tuple[Node, ...]
    ) -> tuple[_LeafPlan | _GroupPlan, ...]:
        field_plan(model)  # the category plans of the model's tree, read now and not per message
        plans: list[_LeafPlan | _GroupPlan] = []
        for node in nodes:
            if isinstance(node, Group):
                sub = _part_type(model, node.field)
                wrapper = self.wrapper_name(node)
                plans.append(
                    _GroupPlan(
                        field=node.field,
                        single=node.max == 1,
                        model=sub,
                        wrapper=None if wrapper is None else self.q(wrapper),
                        item=self.q(self.element_name(node)),
                        children=self._compile(sub, node.children),
                        uncarried=self._uncarried(sub, node.children),
                    )
                )
                continue
            if node.text:
                plek, name = _Plek.TEXT, ""
            elif self.vocabulary.is_attribute(node):
                plek, name = _Plek.ATTRIBUTE, self.vocabulary.attribute(node.field)
            else:
                plek, name = _Plek.ELEMENT, self.q(self.element_name(node))
            codes = spellings = None
            if node.kind is Kind.CODE:
                assert node.codes is not None  # a CODE leaf has codes (shape.leaf)
                codes = self.vocabulary.codes(node, sendable_only=False)
                spellings = {v: self.vocabulary.spell(node, v) for v in node.codes.waarden}
            plans.append(
                _LeafPlan(
                    node=node,
                    field=node.field,
                    single=node.max == 1,
                    plek=plek,
                    name=name,
                    convert=self._rol if node.kind is Kind.ROL else _FROM_TEXT.get(node.kind),
                    codes=codes,
                    spellings=spellings,
                )
            )
        return tuple(plans)

    @staticmethod
    def _uncarried(model: type[Part], nodes: tuple[Node, ...]) -> tuple[str, ...]:
        carried = {node.field for node in nodes}
        return tuple(name for name in model.model_fields if name not in carried)

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
        inhoud = self._parse(element)
        assert isinstance(inhoud, Inhoud)
        return inhoud

    def _parser(self, plan: _GroupPlan) -> Callable[[Element], Part]:
        """The parser of one group's element, compiled from its plan: a reader per field (in
        the plan's order, so the first refusal is the same), the rules of :meth:`_rules` when
        the group carries a field they speak of, and the model built from values the XSD and
        the readers checked already (:func:`gevalideerd`)."""
        readers = tuple(
            (
                child.field,
                self._group_reader(child)
                if isinstance(child, _GroupPlan)
                else self._leaf_reader(child),
            )
            for child in plan.children
        )
        model = plan.model
        carried = [child.field for child in plan.children]
        rules = self._rules if {"geinformeerd", "doorbrekingsgrond"} & set(carried) else None
        if carried == list(model.model_fields):  # every field, in the model's order

            def parse(element: Element) -> Part:
                by_tag = _by_tag(element)
                values = {name: read(element, by_tag) for name, read in readers}
                if rules is not None:
                    rules(element, values)
                return gevalideerd(model, values)

            return parse
        # a shape without some of the model's fields: those get their defaults
        gezet = set(carried)
        defaults = tuple(
            (name, info.get_default, name in gezet) for name, info in model.model_fields.items()
        )

        def parse_some(element: Element) -> Part:
            by_tag = _by_tag(element)
            values = {name: read(element, by_tag) for name, read in readers}
            if rules is not None:
                rules(element, values)
            data = {
                name: values[name] if given else default(call_default_factory=True)
                for name, default, given in defaults
            }
            return gevalideerd(model, data, gezet)

        return parse_some

    def _group_reader(self, plan: _GroupPlan) -> Callable[[Element, dict[str, list[Element]]], Any]:
        """A group's field: its item elements (in their wrapper, if any), each parsed."""
        parse = self._parser(plan)
        item, wrapper, single = plan.item, plan.wrapper, plan.single

        def read(element: Element, by_tag: dict[str, list[Element]]) -> Any:
            if wrapper is None:
                items = by_tag.get(item, ())
            else:
                wrappers = by_tag.get(wrapper)
                items = [c for c in wrappers[0] if c.tag == item] if wrappers else ()
            parsed = [parse(i) for i in items]
            return (parsed[0] if parsed else None) if single else parsed

        return read

    def _leaf_reader(self, plan: _LeafPlan) -> Callable[[Element, dict[str, list[Element]]], Any]:
        """A leaf's field: its raw text(s) where the plan says, converted and checked."""
        convert = self._converter(plan)
        name, single = plan.name, plan.single
        if plan.plek is _Plek.TEXT:

            def text(element: Element, by_tag: dict[str, list[Element]]) -> Any:
                value = convert(element.text or "", element)
                return value if single else [value]

            return text
        if plan.plek is _Plek.ATTRIBUTE:

            def attribute(element: Element, by_tag: dict[str, list[Element]]) -> Any:
                raw = element.get(name)
                if raw is None:
                    return None if single else []
                value = convert(raw, element)
                return value if single else [value]

            return attribute

        def elements(element: Element, by_tag: dict[str, list[Element]]) -> Any:
            found = by_tag.get(name)
            if not found:
                return None if single else []
            converted = [convert(c.text or "", c) for c in found]
            return converted[0] if single else converted

        return elements

    def _converter(self, plan: _LeafPlan) -> Callable[[str, Element], Any]:
        """Raw text (and where it is, for a refusal) -> the canonical value."""
        node = plan.node

        def refused(code: Foutcode, reden: str, where: Element) -> Refused:
            return Refused(code, reden, element=self._describe(node, where), regel=line(where))

        if node.kind is Kind.BSN:

            def bsn(raw: str, where: Element) -> Any:
                if not elfproef(raw):
                    raise refused(Foutcode.BSN_ONGELDIG, "BSN fails the elfproef", where)
                return raw

            return bsn
        codes = plan.codes
        if codes is not None:

            def code(raw: str, where: Element) -> Any:
                try:
                    return codes[raw.strip()]
                except KeyError:
                    raise refused(
                        Foutcode.SCHEMA_ONGELDIG, f"unknown code {raw.strip()[:40]!r}", where
                    ) from None

            return code
        convert = plan.convert
        if convert is None:
            return _as_is

        def converted(raw: str, where: Element) -> Any:
            try:
                return convert(raw)
            except ValueError as exc:
                raise refused(
                    Foutcode.SCHEMA_ONGELDIG,
                    f"not a valid {node.kind.value.lower()}: {exc}",
                    where,
                ) from None

        return converted

    def _describe(self, node: Leaf, where: Element) -> str:
        name = f"{self.vocabulary.prefix}:{etree.QName(where).localname}"
        if self.vocabulary.is_attribute(node) and not node.text:
            return f"{name}/@{self.vocabulary.attribute(node.field)}"
        return name

    def _rules(self, element: Element, values: dict[str, Any]) -> None:
        """Rules of the spec that XSD 1.0 cannot express."""
        if values.get("geinformeerd") is False and not values.get("reden_niet_geinformeerd"):
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"{self._reden} is required when {self._geinformeerd} is false",
                element=self._element(element),
                regel=line(element),
            )
        # spec v2 §8: breaking beroepsgeheim is the sender's own weighing, so it names its ground
        if "doorbrekingsgrond" not in values:
            return  # not a block (the body itself)
        geheim = values.get("beroepsgeheim")
        grond, attribuut = self._grond, self._attribuut
        if geheim and values["doorbrekingsgrond"] is None:
            name = self._element(element)
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f'{name} has {attribuut}="true" but no {grond}: a block under beroepsgeheim '
                f"carries the sender's ground for sharing it",
                element=f"{name}/@{grond}",
                regel=line(element),
            )
        if not geheim and values["doorbrekingsgrond"] is not None:
            name = self._element(element)
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f'{name} has a {grond} but not {attribuut}="true": a ground for breaking '
                "beroepsgeheim only with beroepsgeheim",
                element=f"{name}/@{grond}",
                regel=line(element),
            )

    def _element(self, element: Element) -> str:
        return f"{self.vocabulary.prefix}:{etree.QName(element).localname}"

    # ----------------------------------------------------------------- policy

    def vereist(self, element: Element, velden: frozenset[str]) -> None:
        """Refuse (SCHEMA_ONGELDIG, naming the missing element) a body in which a part that
        has one of ``velden`` leaves it out: fields the policy requires of this type on top of
        its XSD (berichten.yaml ``verplicht``, e.g. ``geinformeerd``: spec v2 §8)."""
        self._vereist(element, self._plan, velden)

    def _vereist(self, element: Element, plan: _GroupPlan, velden: frozenset[str]) -> None:
        by_tag = _by_tag(element)
        for child in plan.children:
            if isinstance(child, _GroupPlan):
                if child.wrapper is None:
                    items = by_tag.get(child.item, [])
                else:
                    wrappers = by_tag.get(child.wrapper)
                    items = _by_tag(wrappers[0]).get(child.item, []) if wrappers else []
                for item in items:
                    self._vereist(item, child, velden)
                continue
            if child.field not in velden:
                continue
            if child.plek is _Plek.TEXT:
                present = bool((element.text or "").strip())
            elif child.plek is _Plek.ATTRIBUTE:
                present = element.get(child.name) is not None
            else:
                present = child.name in by_tag
            if not present:
                parent = f"{self.vocabulary.prefix}:{etree.QName(element).localname}"
                if child.plek is _Plek.ELEMENT:
                    missing = f"{self.vocabulary.prefix}:{etree.QName(child.name).localname}"
                else:
                    missing = f"{parent}/@{child.name}"
                raise Refused(
                    Foutcode.SCHEMA_ONGELDIG,
                    f"{parent} lacks {missing}: the policy requires it in every "
                    f"{parent} of a {self.definitie.berichttype} (berichten.yaml, verplicht)",
                    element=missing,
                    regel=line(element),
                )

    # ----------------------------------------------------------------- render

    def render(self, inhoud: Inhoud) -> Element:
        if not isinstance(inhoud, self.model):
            raise TypeError(f"{self.root} renders {self.model.__name__}, not {type(inhoud)}")
        root = etree.Element(self.tag, nsmap={self.vocabulary.prefix: self.vocabulary.namespace})
        self._render(root, inhoud)
        return root

    def _renderer(self, plan: _GroupPlan) -> Callable[[Element, Part], None]:
        """The renderer of one group's element, compiled from its plan: the fields the shape
        cannot carry (refused when filled), then a writer per field in the plan's order."""
        writers = tuple(
            self._group_writer(child) if isinstance(child, _GroupPlan) else self._leaf_writer(child)
            for child in plan.children
        )
        uncarried = plan.uncarried

        def render(element: Element, part: Part) -> None:
            for name in uncarried:
                if getattr(part, name) not in (None, []):
                    raise ValueError(
                        f"{self.vocabulary.rol} {self.root} cannot carry "
                        f"{type(part).__name__}.{name}"
                    )
            for write in writers:
                write(element, part)

        return render

    def _group_writer(self, plan: _GroupPlan) -> Callable[[Element, Part], None]:
        render = self._renderer(plan)
        field, wrapper, item = plan.field, plan.wrapper, plan.item
        sub = etree.SubElement

        def write(element: Element, part: Part) -> None:
            value = getattr(part, field)
            if value is None or (isinstance(value, list) and not value):
                return
            parent = element if wrapper is None else sub(element, wrapper)
            for each in value if isinstance(value, list) else (value,):
                render(sub(parent, item), each)

        return write

    def _leaf_writer(self, plan: _LeafPlan) -> Callable[[Element, Part], None]:
        field, name, plek = plan.field, plan.name, plan.plek
        spellings = plan.spellings
        sub = etree.SubElement
        if spellings is None:
            text: Callable[[Any], str] = _to_text
        else:

            def text(item: Any) -> str:
                canonical = str(item)
                spelled = spellings.get(canonical)
                return self.vocabulary.spell(plan.node, canonical) if spelled is None else spelled

        def write(element: Element, part: Part) -> None:
            value = getattr(part, field)
            if value is None:
                return
            for item in value if isinstance(value, list) else (value,):
                if plek is _Plek.ELEMENT:
                    sub(element, name).text = text(item)
                elif plek is _Plek.ATTRIBUTE:
                    element.set(name, text(item))
                else:
                    element.text = text(item)

        return write


class Adapter:
    """Every type one partner sends or receives: parse its bodies, render bodies for it."""

    def __init__(self, partner: Partner, typen: Berichttypen) -> None:
        self.partner = partner
        self.vocabulary = partner.vocabulary
        types_ = dict.fromkeys((*partner.sends, *partner.receives))
        self.codecs: dict[BerichtType, Codec] = {
            t: Codec(partner.vocabulary, typen[t], typen.rollen) for t in types_
        }
        self._by_tag = {c.tag: c for t, c in self.codecs.items() if t in partner.sends}

    def sent_type(self, element: Element) -> BerichtType | None:
        """The BerichtType of a body this partner sends, from its element name."""
        codec = self._by_tag.get(str(element.tag))
        return codec.definitie.berichttype if codec else None

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

    def vereist(self, element: Element, velden: frozenset[str]) -> None:
        """Refuse a body of this partner that leaves out a field the policy requires
        (:meth:`Codec.vereist`)."""
        codec = self._by_tag.get(str(element.tag))
        if codec is not None:
            codec.vereist(element, velden)

    def render(self, inhoud: Inhoud) -> Element:
        codec = self.codecs.get(inhoud.berichttype)
        if codec is None:
            raise ValueError(f"{self.vocabulary.rol} has no format for {inhoud.berichttype}")
        return codec.render(inhoud)
