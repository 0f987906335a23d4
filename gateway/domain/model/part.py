"""The base of every canonical model and the need-to-know annotations (spec §7).

Every body field carries its categories as ``Annotated`` metadata (:class:`Cat`). A field's
*effective* categories are its own plus those of every model field that contains it; a list
item may add categories from its content through :meth:`Part.extra_categorieen`. The helpers
here walk those annotations (``categorieen_in``, ``part_type``) for the filter and the trail.

The annotations depend only on the model class, so they are read once per class into a
:class:`FieldPlan` tuple (:func:`field_plan`; the codecs compile the plans of their models when
they are built); per message only the values are walked.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

# A need-to-know category (spec §7): the catalogue's list (policy ``catalogus.yaml``) says
# which exist; the model only carries them.
Categorie = str

__all__ = [
    "BLOKATTRIBUTEN",
    "Blokken",
    "Cat",
    "Categorie",
    "Extra",
    "FieldPlan",
    "Part",
    "blokken_naar",
    "blokken_van",
    "bouwer",
    "categorieen_in",
    "field_categorieen",
    "field_plan",
    "gevalideerd",
    "is_empty",
    "part_type",
    "velden_naar",
    "velden_van",
]


# The attributes every block of a BerichtType may carry about itself (spec v2 §8): where its
# information came from (``bron``), whether it is under professional secrecy
# (``beroepsgeheim``) and on which ground the sender broke it (``doorbrekingsgrond``), and
# whether the betrokkene agreed to it (``geaccordeerd``). They describe the block, they are not
# its content: a block that keeps only these after need-to-know filtering counts as empty.
# A block may also be marked ``niet_delen_met`` a betrokkene's ref: delivered as usual, but
# not shown in that person's inzage without the officer's decision (AVG art. 23).
BLOKATTRIBUTEN = (
    "bron",
    "beroepsgeheim",
    "doorbrekingsgrond",
    "geaccordeerd",
    "niet_delen_met",
)


class Cat:
    """Annotated marker: the need-to-know categories of one field."""

    __slots__ = ("categorieen",)

    def __init__(self, *categorieen: Categorie) -> None:
        self.categorieen = frozenset(categorieen)

    def __repr__(self) -> str:
        return f"Cat({', '.join(sorted(self.categorieen))})"


@dataclass(frozen=True, slots=True)
class Extra:
    """Categories an item adds by its content: when its field ``veld`` holds ``waarde`` (a
    person whose rol is ``kind`` is data about a minor, so it also needs ``kind``)."""

    veld: str
    waarde: str | bool  # a code, or a JaNee's bool
    categorieen: frozenset[Categorie]


class Part(BaseModel):
    """Base of every canonical model: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The content-dependent categories of this part's class (from its definition).
    extra_regels: ClassVar[tuple[Extra, ...]] = ()

    def extra_categorieen(self) -> frozenset[Categorie]:
        """Categories this item needs on top of its field's (content-dependent)."""
        found: frozenset[Categorie] = frozenset()
        for regel in self.extra_regels:
            if getattr(self, regel.veld, None) == regel.waarde:
                found |= regel.categorieen
        return found


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One field of a model class, read from its annotations once."""

    name: str
    categorieen: frozenset[Categorie]  # what the field declares itself
    part: type[Part] | None  # the Part class behind ``X | None`` or ``list[X]``; None: values
    blokattribuut: bool = False  # one of BLOKATTRIBUTEN: says something about its part only


_PLANS: dict[type[BaseModel], tuple[FieldPlan, ...]] = {}
_OWN: dict[type[BaseModel], dict[str, frozenset[Categorie]]] = {}


def field_plan(model: type[BaseModel]) -> tuple[FieldPlan, ...]:
    """The fields of ``model`` in declaration order, with their categories and part classes
    (read from the annotations on the first call for a class, and of its parts with it)."""
    plan = _PLANS.get(model)
    if plan is None:
        plan = tuple(
            FieldPlan(
                name,
                _declared(model, name),
                part_type(model, name),
                name in BLOKATTRIBUTEN,
            )
            for name in model.model_fields
        )
        _PLANS[model] = plan
        _OWN[model] = {f.name: f.categorieen for f in plan}
        for f in plan:
            if f.part is not None:
                field_plan(f.part)
    return plan


def _declared(model: type[BaseModel], name: str) -> frozenset[Categorie]:
    cats: set[Categorie] = set()
    for meta in model.model_fields[name].metadata:
        if isinstance(meta, Cat):
            cats |= meta.categorieen
    return frozenset(cats)


_NAAR: dict[tuple[type[BaseModel], Callable[[type[BaseModel]], bool]], tuple[FieldPlan, ...]] = {}


def velden_naar(
    model: type[BaseModel], doel: Callable[[type[BaseModel]], bool]
) -> tuple[FieldPlan, ...]:
    """The part fields of ``model`` (in declaration order) below which there is a part class
    for which ``doel`` holds (the field's own part class included): a walk looking for such
    parts need not enter the others. Read once per class and ``doel``."""
    found = _NAAR.get((model, doel))
    if found is None:
        found = _NAAR[(model, doel)] = tuple(
            f for f in field_plan(model) if f.part is not None and _bereikt(f.part, doel, set())
        )
    return found


def blokken_naar(
    part: Part, doel: Callable[[type[BaseModel]], bool], prefix: str = ""
) -> Iterator[tuple[str, Part]]:
    """Every block below ``part`` on the way to the classes for which ``doel`` holds (a walk
    that enters no field without such a class below it, :func:`velden_naar`), with its dotted
    path (``personen[2]``, ``incident.adres``: list items numbered from 1), in document order.
    ``doel`` is a module-level function (the fields are read once per class and ``doel``)."""
    for f in velden_naar(type(part), doel):
        value = getattr(part, f.name)
        if value is None:
            continue
        path = f"{prefix}{f.name}"
        if isinstance(value, list):
            for i, item in enumerate(value, start=1):
                where = f"{path}[{i}]"
                yield where, item
                yield from blokken_naar(item, doel, f"{where}.")
        else:
            yield path, value
            yield from blokken_naar(value, doel, f"{path}.")


Blokken = tuple[tuple[str, Part], ...]  # blocks with their dotted paths, in document order


def _elk_blok(model: type[BaseModel]) -> bool:
    return True


def blokken_van(part: Part) -> Blokken:
    """Every block below ``part`` with its dotted path (``personen[2]``, ``incident.adres``:
    list items numbered from 1), in document order: what :func:`blokken_naar` yields for any
    class, in one walk, for a caller that looks at the blocks more than once."""
    found: list[tuple[str, Part]] = []
    _blokken(part, "", found)
    return tuple(found)


def _blokken(part: Part, prefix: str, found: list[tuple[str, Part]]) -> None:
    for f in velden_naar(type(part), _elk_blok):
        value = getattr(part, f.name)
        if value is None:
            continue
        path = prefix + f.name
        if isinstance(value, list):
            for i, item in enumerate(value, start=1):
                where = f"{path}[{i}]"
                found.append((where, item))
                _blokken(item, where + ".", found)
        else:
            found.append((path, value))
            _blokken(value, path + ".", found)


def _bereikt(
    model: type[BaseModel], doel: Callable[[type[BaseModel]], bool], gezien: set[type[BaseModel]]
) -> bool:
    if doel(model):
        return True
    gezien.add(model)
    return any(
        f.part is not None and f.part not in gezien and _bereikt(f.part, doel, gezien)
        for f in field_plan(model)
    )


def field_categorieen(model: type[BaseModel], name: str) -> frozenset[Categorie]:
    """The categories a model field declares itself (not its ancestors')."""
    own = _OWN.get(model)
    if own is None:
        field_plan(model)
        own = _OWN[model]
    return own[name]


_M = TypeVar("_M", bound=BaseModel)

# per model class that ``gevalideerd`` can build: its field names (read once per class)
_VELDEN: dict[type[BaseModel], frozenset[str]] = {}


def velden_van(model: type[BaseModel]) -> frozenset[str]:
    """The field names of ``model`` (read once per class)."""
    found = _VELDEN.get(model)
    if found is None:
        found = _VELDEN[model] = frozenset(model.model_fields)
    return found


def gevalideerd(model: type[_M], data: dict[str, Any], gezet: set[str] | None = None) -> _M:
    """What ``model(**values)`` builds, for values already valid for ``model``, without
    running pydantic's validation again. ``data`` holds every field of ``model`` in declaration
    order (the defaults for fields not given), ``gezet`` the fields given (its
    ``model_fields_set``; default: all). For what the codec read from XML that its XSD and the
    codec's own checks accepted (each value converted to its field's type, each code one of
    its list) and for parts of such a body that the decision path keeps; anything else is
    built with validation. A class with private attributes is built with validation too;
    ``data`` without exactly the model's fields raises :class:`TypeError`."""
    if model.__private_attributes__:
        return model(**data)
    velden = velden_van(model)
    if data.keys() != velden:
        raise TypeError(f"{model.__name__}: {sorted(data)} are not its fields {sorted(velden)}")
    part = model.__new__(model)
    object.__setattr__(part, "__dict__", data)
    object.__setattr__(part, "__pydantic_fields_set__", set(velden if gezet is None else gezet))
    object.__setattr__(part, "__pydantic_extra__", None)
    object.__setattr__(part, "__pydantic_private__", None)
    return part


def bouwer(model: type[_M], gezet: frozenset[str] | None = None) -> Callable[[dict[str, Any]], _M]:
    """:func:`gevalideerd` for one class, prepared once: the returned function builds
    ``model`` from ``data`` (every field of ``model``, in declaration order) with ``gezet`` as
    its fields set (default: all). For a compiled parser that guarantees the keys, so they are
    not checked per call; a class with private attributes is built with validation."""
    if model.__private_attributes__:
        return lambda data: model(**data)
    velden = velden_van(model)
    fields_set = velden if gezet is None else gezet
    if not fields_set <= velden:
        raise TypeError(f"{model.__name__}: {sorted(fields_set - velden)} are not its fields")
    new, put = model.__new__, object.__setattr__

    def build(data: dict[str, Any]) -> _M:
        part = new(model)
        put(part, "__dict__", data)
        put(part, "__pydantic_fields_set__", set(fields_set))
        put(part, "__pydantic_extra__", None)
        put(part, "__pydantic_private__", None)
        return part

    return build


def is_empty(value: Any) -> bool:
    """None, an empty list, or a part none of whose fields is filled (a part's
    :data:`BLOKATTRIBUTEN` alone do not fill it)."""
    if value is None:
        return True
    if isinstance(value, list | tuple):
        return all(is_empty(v) for v in value)
    if isinstance(value, BaseModel):
        return all(
            f.blokattribuut or is_empty(getattr(value, f.name)) for f in field_plan(type(value))
        )
    return False


def categorieen_in(
    part: BaseModel, inherited: frozenset[Categorie] = frozenset()
) -> set[Categorie]:
    """All effective categories of the filled fields below ``part``."""
    return _walk(part, inherited)[0]


def _walk(part: BaseModel, inherited: frozenset[Categorie]) -> tuple[set[Categorie], bool]:
    """(the effective categories of the filled fields below ``part``, whether any field of
    ``part`` is filled): one pass, where asking :func:`is_empty` first would walk twice."""
    found: set[Categorie] = set()
    filled = False
    for f in field_plan(type(part)):
        value = getattr(part, f.name)
        if value is None or (isinstance(value, list) and not value):
            continue
        cats = inherited | f.categorieen if f.categorieen else inherited
        if f.part is None:  # a value or a list of values: filled
            found |= cats
            filled = filled or not f.blokattribuut
            continue
        below_found: set[Categorie] = set()
        below_filled = False
        for item in value if isinstance(value, list) else (value,):
            item_cats = cats | item.extra_categorieen() if item.extra_regels else cats
            below, item_filled = _walk(item, item_cats)
            below_found |= item_cats
            below_found |= below
            below_filled = below_filled or item_filled
        if below_filled:  # else only empty parts: the field counts as empty (see is_empty)
            filled = True
            found |= below_found
    return found, filled


def part_type(model: type[BaseModel], name: str) -> type[Part] | None:
    """The Part class behind ``X | None`` or ``list[X]`` of one model field (None for values)."""
    stack: list[Any] = [model.model_fields[name].annotation]
    while stack:
        current = stack.pop()
        if isinstance(current, type) and issubclass(current, Part):
            return current
        if isinstance(current, types.UnionType) or typing.get_origin(current) is not None:
            stack.extend(typing.get_args(current))
    return None
