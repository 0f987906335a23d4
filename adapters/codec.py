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
only the values are read and written. The parser is Python source written from the plan, a
function per group (:class:`_ParserSource`), compiled once: a message costs one pass over each
element's children and no call per absent field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import Any

from lxml import etree
from pydantic.fields import FieldInfo

from adapters.shape import Partner, Vocabulary
from gateway.domain.bsn import elfproef
from gateway.domain.errors import Refused
from gateway.domain.generated import Source
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
    bouwer,
    field_plan,
    part_type,
)
from gateway.safexml.markup import escape_attribute, escape_text
from gateway.safexml.xmlsafe import line, parse_own

__all__ = ["Adapter", "Codec", "Element"]

Element = etree._Element


def _part_type(model: type[Part], name: str) -> type[Part]:
    """The Part class behind ``X | None`` or ``list[X]`` of one model field."""
    found = part_type(model, name)
    if found is None:
        raise TypeError(f"{model.__name__}.{name} holds no canonical part")
    return found


def _text_to_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text.strip())


def _text_to_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError("a tijdstip needs an offset")
    return value


def _text_to_int(text: str) -> int:
    return int(text.strip())


# XSD date, dateTime, boolean and integer values collapse surrounding white space; so do we.
# (A boolean cannot fail, so it is no converter here but read by :func:`_janee`.)
_FROM_TEXT: dict[Kind, Callable[[str], Any]] = {
    Kind.DATUM: _text_to_date,
    Kind.TIJDSTIP: _text_to_datetime,
    Kind.AANTAL: _text_to_int,
}
_TRUE = frozenset(("true", "1"))


def _janee(raw: str, where: Element) -> bool:
    return raw.strip() in _TRUE


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
    markup: str  # as written in XML text: prefix:local (ELEMENT) or the attribute name
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
    wrapper_markup: str | None  # the wrapper as written in XML text: prefix:local
    item_markup: str  # each item's element as written in XML text: prefix:local
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


def _to_text(value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


_SPACE = "  "  # one level of indentation, as the envelope writes it
# values whose text (:func:`_to_text`) is never empty and holds no markup to escape
_PLAIN = frozenset((bool, int, dt.date, dt.datetime))


class _UnwritableError(Exception):
    """A body the composed text cannot say as the built tree would (see :meth:`Codec.render`)."""


def _only(values: list[Any]) -> Any:
    """The one value of a list for an attribute or a text: None for none; several are for
    the built tree (where the last one set wins)."""
    if len(values) > 1:
        raise _UnwritableError
    return values[0] if values else None


def _leaves(
    out: list[str], value: Any, head: str, tail: str, spell: Callable[[Any], str] | None
) -> None:
    """A leaf's element(s) into ``out``: a code spelled, a list of values, anything else."""
    for item in value if isinstance(value, list) else (value,):
        if spell is not None:
            written = spell(item)
        elif type(item) is str:
            written = item
        else:
            written = _to_text(item)
        if not written:
            raise _UnwritableError  # an empty text node
        out.append(head + escape_text(written) + tail)


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
            wrapper_markup=None,
            item_markup=self.markup(self.root),
            children=self._compile(self.model, definitie.children),
            uncarried=self._uncarried(self.model, definitie.children),
        )
        # the names the rules of :meth:`_rules` speak of, in this vocabulary
        self._reden = self.vocabulary.name("reden_niet_geinformeerd")
        self._geinformeerd = self.vocabulary.name("geinformeerd")
        self._grond = self.vocabulary.attribute("doorbrekingsgrond")
        self._attribuut = self.vocabulary.attribute("beroepsgeheim")
        self._render = self._renderer(self._plan)
        # the generated parser and composers are compiled when first used or prepared
        self._indented: dict[int, Callable[[list[str], dict[str, Any]], None]] = {}

    @cached_property
    def _parse(self) -> Callable[[Element], Part]:
        return self._parser(self._plan)

    @cached_property
    def _compose(self) -> Callable[[list[str], dict[str, Any]], None]:
        return self._composer(level=None)

    def _indent(self, level: int) -> Callable[[list[str], dict[str, Any]], None]:
        compose = self._indented.get(level)
        if compose is None:
            compose = self._indented[level] = self._composer(level=level)
        return compose

    def prepare(self, *, levels: tuple[int, ...] = (2,)) -> None:
        """Compile the generated parser and composers now (a gateway does at start, so no
        message pays for it); else each is compiled when first used. ``levels``: the
        indentations composed for (the envelope writes a body at 2)."""
        _ = self._parse, self._compose
        for level in levels:
            self._indent(level)

    def _rol(self, text: str) -> str:
        value = text.strip()
        if value not in self._rollen:
            raise ValueError(f"{value[:40]!r} is no rol of the register")
        return value

    def q(self, name: str) -> str:
        return f"{{{self.vocabulary.namespace}}}{name}"

    def markup(self, name: str) -> str:
        """``name`` as written in XML text: ``prefix:name``."""
        return f"{self.vocabulary.prefix}:{name}"

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
                        wrapper_markup=None if wrapper is None else self.markup(wrapper),
                        item_markup=self.markup(self.element_name(node)),
                        children=self._compile(sub, node.children),
                        uncarried=self._uncarried(sub, node.children),
                    )
                )
                continue
            if node.text:
                plek, name, markup = _Plek.TEXT, "", ""
            elif self.vocabulary.is_attribute(node):
                plek, name = _Plek.ATTRIBUTE, self.vocabulary.attribute(node.field)
                markup = name
            else:
                plek, name = _Plek.ELEMENT, self.q(self.element_name(node))
                markup = self.markup(self.element_name(node))
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
                    markup=markup,
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
        """The parser of the body's element: Python source written from the plan, a function
        per group (:class:`_ParserSource`), compiled once."""
        return _ParserSource(self).compile(plan)

    def _converter(self, plan: _LeafPlan) -> Callable[[str, Element], Any] | None:
        """Raw text (and where it is, for a refusal) -> the canonical value; None for a leaf
        whose value is its text as it is."""
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
        if node.kind is Kind.JANEE:
            return _janee
        convert = plan.convert
        if convert is None:
            return None

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
        """The partner's element for ``inhoud``: composed as XML text and parsed (about half
        the CPU of building it element by element), the same tree as :meth:`build` gives but
        for source lines (a built tree has none: a caller whose schema check of it fails
        checks :meth:`build`'s tree to refuse with the same words). What the text cannot say
        as the built tree would (an empty text, several values for one attribute or text, a
        character XML cannot carry) and every refusal go through :meth:`build`, which says
        it the way it always did."""
        if not isinstance(inhoud, self.model):
            raise TypeError(f"{self.root} renders {self.model.__name__}, not {type(inhoud)}")
        out: list[str] = []
        try:
            self._compose(out, inhoud.__dict__)
            return parse_own("".join(out))
        except (_UnwritableError, ValueError, etree.XMLSyntaxError):
            return self.build(inhoud)

    def compose(self, inhoud: Inhoud, *, level: int) -> tuple[str, Element] | None:
        """The partner's element for ``inhoud`` as the text ``tostring`` writes once
        ``etree.indent(..., space="  ", level=level)`` indented :meth:`render`'s tree (the
        start tag not indented, no tail), and that text parsed (to check it against a schema:
        its indentation is white space between elements only). ``None`` for what the text
        cannot say as the indented tree would: :meth:`render` says it, or refuses."""
        if not isinstance(inhoud, self.model):
            raise TypeError(f"{self.root} renders {self.model.__name__}, not {type(inhoud)}")
        compose = self._indent(level)
        out: list[str] = []
        try:
            compose(out, inhoud.__dict__)
            text = "".join(out)
            return text, parse_own(text)
        except (_UnwritableError, ValueError, etree.XMLSyntaxError):
            return None

    def build(self, inhoud: Inhoud) -> Element:
        """The partner's element for ``inhoud``, built element by element."""
        if not isinstance(inhoud, self.model):
            raise TypeError(f"{self.root} renders {self.model.__name__}, not {type(inhoud)}")
        root = etree.Element(self.tag, nsmap={self.vocabulary.prefix: self.vocabulary.namespace})
        self._render(root, inhoud)
        return root

    def _refuse_uncarried(self, part: Part, uncarried: tuple[str, ...]) -> None:
        for name in uncarried:
            if getattr(part, name) not in (None, []):
                raise ValueError(
                    f"{self.vocabulary.rol} {self.root} cannot carry {type(part).__name__}.{name}"
                )

    def _text_of(self, plan: _LeafPlan) -> Callable[[Any], str]:
        """A leaf's value -> its text in this vocabulary (a code in its native spelling)."""
        spellings = plan.spellings
        if spellings is None:
            return _to_text

        def text(item: Any) -> str:
            canonical = str(item)
            spelled = spellings.get(canonical)
            return self.vocabulary.spell(plan.node, canonical) if spelled is None else spelled

        return text

    # the tree, element by element

    def _renderer(self, plan: _GroupPlan) -> Callable[[Element, Part], None]:
        """The renderer of one group's element, compiled from its plan: the fields the shape
        cannot carry (refused when filled), then a writer per field in the plan's order."""
        writers = tuple(
            self._group_writer(child) if isinstance(child, _GroupPlan) else self._leaf_writer(child)
            for child in plan.children
        )
        uncarried = plan.uncarried

        def render(element: Element, part: Part) -> None:
            self._refuse_uncarried(part, uncarried)
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
        text = self._text_of(plan)
        sub = etree.SubElement

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

    # the text, composed

    def _composer(self, *, level: int | None) -> Callable[[list[str], dict[str, Any]], None]:
        """The composer of the body's element as XML text: what :meth:`_renderer` builds,
        written in the same order, as Python source written from the plan
        (:class:`_ComposerSource`) and compiled once. With ``level``: indented as
        ``etree.indent(..., space="  ", level=level)`` and ``tostring`` write it."""
        return _ComposerSource(self, level=level).compile(self._plan)


class _Source(Source):
    """Source written from a :class:`Codec`'s plan, named after the codec's partner and type."""

    def __init__(self, codec: Codec, what: str) -> None:
        super().__init__(f"<ketenpoort {what} {codec.vocabulary.rol} {codec.root}>")
        self.codec = codec


class _ParserSource(_Source):
    """The Python source of one :class:`Codec`'s parser, written from its plan.

    Per group a function: one pass over the element's children sorting them by qualified
    name, then a value per field in the plan's order (so the first refusal is the one the
    order gives), the rules of :meth:`Codec._rules` when the group carries a field they speak
    of, and the model built from values the XSD and the converters checked already
    (:func:`bouwer`)."""

    def __init__(self, codec: Codec) -> None:
        super().__init__(codec, "parser")

    def compile(self, plan: _GroupPlan) -> Callable[[Element], Part]:
        parse: Callable[[Element], Part] = self.function(self.group(plan))
        return parse

    def group(self, plan: _GroupPlan) -> str:
        """The function of one group (its sub-groups' first); returned: its name."""
        subs = {
            id(child): self.group(child) for child in plan.children if isinstance(child, _GroupPlan)
        }
        name = self.name("parse", plan.model.__name__)
        # one bucket per qualified name any field reads its elements from
        buckets: dict[str, str] = {}
        for child in plan.children:
            if isinstance(child, _GroupPlan):
                tag = child.item if child.wrapper is None else child.wrapper
            elif child.plek is _Plek.ELEMENT:
                tag = child.name
            else:
                continue
            buckets.setdefault(tag, f"b{len(buckets)}")
        body: list[str] = [f"def {name}(element):"]
        body += [f"    {bucket} = []" for bucket in buckets.values()]
        if buckets:
            body.append("    for child in element:")
            body.append("        tag = child.tag")
            for i, (tag, bucket) in enumerate(buckets.items()):
                body.append(f"        {'if' if i == 0 else 'elif'} tag == {self.constant(tag)}:")
                body.append(f"            {bucket}.append(child)")
        values: list[str] = []
        for i, child in enumerate(plan.children):
            value = f"v{i}"
            values.append(value)
            if isinstance(child, _GroupPlan):
                body += self._group_value(child, value, buckets, subs[id(child)])
            else:
                body += self._leaf_value(child, value, buckets)
        carried = [child.field for child in plan.children]
        fields = dict(zip(carried, values, strict=True))
        model = plan.model
        entries: list[str] = []
        for field, info in model.model_fields.items():
            given = fields.get(field)
            entries.append(f"{field!r}: {given or self._default(info)}")
        body.append(f"    values = {{{', '.join(entries)}}}")
        if {"geinformeerd", "doorbrekingsgrond"} & set(carried):
            body.append(f"    {self.constant(self.codec._rules)}(element, values)")
        gezet = None if carried == list(model.model_fields) else frozenset(carried)
        body.append(f"    return {self.constant(bouwer(model, gezet))}(values)")
        self.lines += [*body, ""]
        return name

    def _default(self, info: FieldInfo) -> str:
        """A field the shape does not carry: its default, the same object each time when
        that is what pydantic gives (an immutable one), else made per message."""
        first = info.get_default(call_default_factory=True)
        if first is info.get_default(call_default_factory=True):
            return self.constant(first)
        return f"{self.constant(info.get_default)}(call_default_factory=True)"

    def _group_value(
        self, plan: _GroupPlan, value: str, buckets: dict[str, str], parse: str
    ) -> list[str]:
        """A group's field: its item elements (in the first wrapper, if any), each parsed."""
        if plan.wrapper is None:
            items = buckets[plan.item]
            lines = [f"    {value} = [{parse}(x) for x in {items}]"]
        else:
            wrappers = buckets[plan.wrapper]
            item = self.constant(plan.item)
            lines = [
                f"    {value} = [{parse}(x) for x in {wrappers}[0] if x.tag == {item}]"
                f" if {wrappers} else []"
            ]
        if plan.single:
            lines.append(f"    {value} = {value}[0] if {value} else None")
        return lines

    def _leaf_value(self, plan: _LeafPlan, value: str, buckets: dict[str, str]) -> list[str]:
        """A leaf's field: its raw text(s) where the plan says, converted and checked."""
        convert = self.codec._converter(plan)
        c = None if convert is None else self.constant(convert)
        if plan.plek is _Plek.TEXT:
            raw = 'element.text or ""'
            one = raw if c is None else f"{c}({raw}, element)"
            return [f"    {value} = {one if plan.single else f'[{one}]'}"]
        if plan.plek is _Plek.ATTRIBUTE:
            return self._attribute_value(plan, value, c)
        return self._element_value(plan, value, c, buckets[plan.name])

    def _attribute_value(self, plan: _LeafPlan, value: str, c: str | None) -> list[str]:
        name = self.constant(plan.name)
        if c is None and plan.single:
            return [f"    {value} = element.get({name})"]
        got = f"a_{value}"
        one = got if c is None else f"{c}({got}, element)"
        none, some = ("None", one) if plan.single else ("[]", f"[{one}]")
        return [
            f"    {got} = element.get({name})",
            f"    {value} = {none} if {got} is None else {some}",
        ]

    @staticmethod
    def _element_value(plan: _LeafPlan, value: str, c: str | None, found: str) -> list[str]:
        """Child elements (``found``: their bucket): the first one's text for a single leaf,
        each one converted before the first is taken (so a bad later one is refused too)."""
        if c is None:
            if plan.single:
                return [f'    {value} = ({found}[0].text or "") if {found} else None']
            return [f'    {value} = [x.text or "" for x in {found}]']
        every = f'[{c}(x.text or "", x) for x in {found}]'
        if not plan.single:
            return [f"    {value} = {every}"]
        return [
            f"    if not {found}:",
            f"        {value} = None",
            f"    elif len({found}) == 1:",
            f'        {value} = {c}({found}[0].text or "", {found}[0])',
            "    else:",
            f"        {value} = {every}[0]",
        ]


class _ComposerSource(_Source):
    """The Python source of one :class:`Codec`'s composer (:meth:`Codec._composer`), written
    from its plan: per group a function writing its start tag, attributes and own text, each
    child field in the plan's order, and its end tag, given the part's values (its
    ``__dict__``); it raises :class:`_UnwritableError` for what only a built tree says."""

    def __init__(self, codec: Codec, *, level: int | None) -> None:
        super().__init__(codec, "composer" if level is None else f"composer indented {level}")
        self.level = level
        self.namespace.update(
            U=_UnwritableError,
            only=_only,
            leaves=_leaves,
            escape_text=escape_text,
            escape_attribute=escape_attribute,
            to_text=_to_text,
            PLAIN=_PLAIN,
        )

    def compile(self, plan: _GroupPlan) -> Callable[[list[str], dict[str, Any]], None]:
        compose: Callable[[list[str], dict[str, Any]], None] = self.function(
            self.group(plan, root=True, level=self.level)
        )
        return compose

    def group(self, plan: _GroupPlan, *, root: bool = False, level: int | None = None) -> str:
        """The function of one group's element (its sub-groups' first); returned: its name.
        With ``level`` the text is the one ``etree.indent(..., space="  ", level=level)`` and
        ``tostring`` give for the element at that depth: each child on its own line, an
        element without content closed as ``<x/>``; an element with both its own text and
        child elements is the tree's to indent."""
        codec = self.codec
        inner = None if level is None else level + 1
        children: list[str] = []
        for child in plan.children:
            if isinstance(child, _GroupPlan):
                children += self._group_step(child, inner)
            elif child.plek is _Plek.ELEMENT:
                children += self._leaf_step(child, inner)
        name = self.name("compose", plan.model.__name__)
        lead = "" if root or level is None else "\n" + _SPACE * level
        head = lead + "<" + plan.item_markup
        if root:
            namespace = escape_attribute(codec.vocabulary.namespace)
            head += f' xmlns:{codec.vocabulary.prefix}="{namespace}"'
        body = [f"def {name}(out, values):"]
        body += [
            f"    if values[{field!r}] not in (None, []):\n        raise U"
            for field in plan.uncarried
        ]
        body.append(f"    out.append({self.constant(head)})")
        own, texts = self._own(plan)
        body += [*own, "    mark = len(out)", "    out.append(own)", *children]
        body += self._end(plan, level, texts=texts, children=bool(children))
        self.lines += [*body, ""]
        return name

    def _own(self, plan: _GroupPlan) -> tuple[list[str], bool]:
        """The start tag's attributes (written) and the element's own text (kept in ``own``,
        the ``>`` that ends the start tag and the text after it); whether it has a text."""
        lines = ['    own = ">"']
        texts = False
        for child in plan.children:
            if not isinstance(child, _LeafPlan) or child.plek is _Plek.ELEMENT:
                continue
            lines.append(f"    v = values[{child.field!r}]")
            if not child.single:
                lines.append("    if isinstance(v, list):\n        v = only(v)")
            text = self.constant(self.codec._text_of(child))
            if child.plek is _Plek.ATTRIBUTE:
                start = self.constant(f' {child.markup}="')
                lines.append(
                    f"    if v is not None:\n"
                    f"        out += ({start}, escape_attribute({text}(v)), '\"')"
                )
                continue
            texts = True
            lines.append(
                f"    if v is not None:\n        w = {text}(v)\n        if not w:\n"
                f"            raise U\n        own += escape_text(w)"
            )
        return lines, texts

    def _end(
        self, plan: _GroupPlan, level: int | None, *, texts: bool, children: bool
    ) -> list[str]:
        """The end tag: without indentation always ``</x>``; indented, on its own line after
        child elements, right after a text, and ``<x/>`` for an element without content."""
        empty_close = self.constant("</" + plan.item_markup + ">")
        if level is None:
            return [f"    out.append({empty_close})"]
        if not children:
            if not texts:
                return ['    out[mark] = "/>"']
            return [
                f"    if len(own) > 1:\n        out.append({empty_close})",
                '    else:\n        out[mark] = "/>"',
            ]
        close = self.constant("\n" + _SPACE * level + "</" + plan.item_markup + ">")
        lines = ["    if len(out) > mark + 1:"]
        if texts:  # a text and children: the tree's to indent
            lines.append("        if len(own) > 1:\n            raise U")
        lines.append(f"        out.append({close})")
        if texts:
            lines.append(f"    elif len(own) > 1:\n        out.append({empty_close})")
        lines.append('    else:\n        out[mark] = "/>"')
        return lines

    def _group_step(self, plan: _GroupPlan, level: int | None) -> list[str]:
        """A group's item(s), each by its own function, in the wrapper when there is one."""
        if plan.wrapper_markup is None:
            compose = self.group(plan, level=level)
            head = tail = None
        else:
            compose = self.group(plan, level=None if level is None else level + 1)
            lead = "" if level is None else "\n" + _SPACE * level
            head = self.constant(f"{lead}<{plan.wrapper_markup}>")
            tail = self.constant(f"{lead}</{plan.wrapper_markup}>")
        open_ = [] if head is None else [f"out.append({head})"]
        close = [] if tail is None else [f"out.append({tail})"]
        lines = [f"    v = values[{plan.field!r}]", "    if isinstance(v, list):", "        if v:"]
        lines += [f"            {line}" for line in open_]
        lines += ["            for each in v:", f"                {compose}(out, each.__dict__)"]
        lines += [f"            {line}" for line in close]
        lines += ["    elif v is not None:"]
        lines += [f"        {line}" for line in open_]
        lines += [f"        {compose}(out, v.__dict__)"]
        lines += [f"        {line}" for line in close]
        return lines

    def _leaf_step(self, plan: _LeafPlan, level: int | None) -> list[str]:
        """A leaf's element(s): one text or plain value written inline, a code spelled, a
        list of values by :func:`_leaves`."""
        lead = "" if level is None else "\n" + _SPACE * level
        first = self.constant(f"{lead}<{plan.markup}>")
        second = self.constant(f"</{plan.markup}>")
        lines = [f"    v = values[{plan.field!r}]", "    if v is None:", "        pass"]
        if plan.spellings is not None:
            spell = self.constant(self.codec._text_of(plan))
            lines += [
                "    elif type(v) is not list:",
                f"        w = {spell}(v)",
                "        if not w:\n            raise U",
                f"        out.append({first} + escape_text(w) + {second})",
                "    else:",
                f"        leaves(out, v, {first}, {second}, {spell})",
            ]
            return lines
        return [
            *lines,
            "    elif type(v) is str:",
            "        if not v:\n            raise U",
            f"        out.append({first} + escape_text(v) + {second})",
            "    elif type(v) in PLAIN:",
            f"        out.append({first} + to_text(v) + {second})",
            "    else:",
            f"        leaves(out, v, {first}, {second}, None)",
        ]


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

    def prepare(self) -> None:
        """Compile every codec's generated parser and composers now (:meth:`Codec.prepare`)."""
        for codec in self.codecs.values():
            codec.prepare()

    def vereist(self, element: Element, velden: frozenset[str]) -> None:
        """Refuse a body of this partner that leaves out a field the policy requires
        (:meth:`Codec.vereist`)."""
        codec = self._by_tag.get(str(element.tag))
        if codec is not None:
            codec.vereist(element, velden)

    def render(self, inhoud: Inhoud) -> Element:
        return self._codec(inhoud).render(inhoud)

    def compose(self, inhoud: Inhoud, *, level: int) -> tuple[str, Element] | None:
        """:meth:`render`'s element indented at ``level``, as text and parsed
        (:meth:`Codec.compose`)."""
        return self._codec(inhoud).compose(inhoud, level=level)

    def build(self, inhoud: Inhoud) -> Element:
        """What :meth:`render` gives, built element by element (:meth:`Codec.build`)."""
        return self._codec(inhoud).build(inhoud)

    def _codec(self, inhoud: Inhoud) -> Codec:
        codec = self.codecs.get(inhoud.berichttype)
        if codec is None:
            raise ValueError(f"{self.vocabulary.rol} has no format for {inhoud.berichttype}")
        return codec
