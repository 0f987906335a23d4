"""The catalogue's register and BerichtTypes as data (``catalogus.yaml``, ``typen.yaml``):
read strictly, checked (file and line for every problem) and turned into the
:class:`~gateway.domain.model.Berichttypen` that adapters, codec and policy share.

Everything here happens once, at start; the models it builds are what every message is read
into.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.domain.model import (
    BLOKATTRIBUTEN,
    KETENPOORT,
    TECHNISCH,
    Berichttypen,
    Codelijst,
    Definitie,
    Extra,
    Group,
    Kind,
    Leaf,
    Node,
    build_model,
)
from gateway.policy.files import ROL
from gateway.policy.reading import Lines, PolicyError, line_of, parse_file

__all__ = [
    "CATALOGUS_FILES",
    "DOORBREKINGSGROND",
    "CatalogusFile",
    "TypenFile",
    "load_typen",
]

CATALOGUS_FILES = ("catalogus.yaml", "typen.yaml")

# The code list of typen.yaml that holds the grounds on which a sender may break professional
# secrecy (spec v2 §8: meldrecht, conflict van plichten, ...): the values are data.
DOORBREKINGSGROND = "Doorbrekingsgrond"

VELD = r"^[a-z][a-z0-9_]*$"
TYPE_NAAM = r"^[A-Z][A-Za-z0-9]{1,63}$"


class _CatalogusEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RolEntry(_CatalogusEntry):
    naam: str = Field(min_length=1)
    omschrijving: str = ""


class CatalogusFile(_CatalogusEntry):
    """``catalogus.yaml``: the rollen of the register and the need-to-know categories."""

    rollen: dict[str, RolEntry] = Field(min_length=1)
    categorieen: dict[str, str] = Field(min_length=1)


class ExtraAls(_CatalogusEntry):
    veld: str = Field(pattern=VELD)
    is_: str = Field(alias="is")


class ExtraEntry(_CatalogusEntry):
    """Categories an item adds when its field ``veld`` holds the value ``is``."""

    als: ExtraAls
    categorieen: list[str] = Field(min_length=1)


class VeldEntry(_CatalogusEntry):
    """One field of a definition: a value (``soort`` or ``codes``) or a group (``velden`` or
    ``blok``)."""

    veld: str = Field(pattern=VELD)
    soort: str | None = None
    codes: str | None = None
    toegestaan: list[str] | None = None
    gestileerd: bool = True
    blok: str | None = None
    velden: list[VeldEntry] | None = None
    min: int = Field(default=1, ge=0)
    max: int | None = Field(default=1, ge=1)
    attr: bool = False
    ident: bool = False
    text: bool = False
    item: str | None = Field(default=None, pattern=VELD)
    wrapper: bool = False
    extra: list[ExtraEntry] = Field(default_factory=list)
    categorieen: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> VeldEntry:
        given = [k for k in ("soort", "codes", "blok", "velden") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a field has exactly one of soort, codes, blok, velden ({given})")
        if self.toegestaan is not None and self.codes is None:
            raise ValueError("toegestaan only with codes")
        if (self.item or self.wrapper or self.extra) and self.soort is not None:
            raise ValueError("item, wrapper and extra only for a group")
        return self


class BlokEntry(_CatalogusEntry):
    velden: list[VeldEntry] = Field(min_length=1)
    min: int = Field(default=1, ge=0)
    max: int | None = Field(default=1, ge=1)
    item: str | None = Field(default=None, pattern=VELD)
    wrapper: bool = False
    extra: list[ExtraEntry] = Field(default_factory=list)


class TypeEntry(_CatalogusEntry):
    omschrijving: str = ""
    velden: list[VeldEntry] = Field(min_length=1)


class TypenFile(_CatalogusEntry):
    """``typen.yaml``: code lists, shared blocks and the BerichtTypes."""

    codelijsten: dict[str, list[str]] = Field(default_factory=dict)
    blokken: dict[str, BlokEntry] = Field(default_factory=dict)
    typen: dict[str, TypeEntry] = Field(min_length=1)


_SOORTEN = {k.value: k for k in Kind if k is not Kind.CODE}


class _Builder:
    """Turns the checked entries of typen.yaml into definitions, naming file and line."""

    def __init__(self, typen: TypenFile, lines: Lines, categorieen: frozenset[str]) -> None:
        self.file = typen
        self.lines = lines
        self.categorieen = categorieen
        self.codelijsten = {
            naam: Codelijst(naam, tuple(waarden)) for naam, waarden in typen.codelijsten.items()
        }
        gronden = self.codelijsten.get(DOORBREKINGSGROND)
        if gronden is None:
            raise self.fail(
                ("codelijsten",),
                f"codelijst {DOORBREKINGSGROND} is missing: the grounds on which a sender breaks "
                "beroepsgeheim (spec v2 §8)",
            )
        self.doorbrekingsgronden = gronden
        # spec v2 §8: the attributes every block may carry about itself (see blokattributen)
        self.blokattributen: dict[str, Leaf] = {
            "bron": Leaf("bron", Kind.BRON, min=0, attr=True),
            "beroepsgeheim": Leaf("beroepsgeheim", Kind.JANEE, min=0, attr=True),
            "doorbrekingsgrond": Leaf(
                "doorbrekingsgrond", Kind.CODE, min=0, attr=True, codes=gronden
            ),
            "geaccordeerd": Leaf("geaccordeerd", Kind.JANEE, min=0, attr=True),
            # the ref of a betrokkene this block must not be shown to in their inzage
            "niet_delen_met": Leaf("niet_delen_met", Kind.REF, min=0, attr=True),
        }
        assert tuple(self.blokattributen) == BLOKATTRIBUTEN

    def fail(self, where: tuple[Any, ...], problem: str) -> PolicyError:
        return PolicyError("typen.yaml", line_of(self.lines, where), problem)

    def cats(self, where: tuple[Any, ...], names: list[str]) -> frozenset[str]:
        for i, name in enumerate(names):
            if name not in self.categorieen:
                raise self.fail((*where, "categorieen", i), f"unknown categorie {name!r}")
        return frozenset(names)

    def nodes(
        self, where: tuple[Any, ...], velden: list[VeldEntry], *, blok: bool = False
    ) -> tuple[Node, ...]:
        """The fields of a type (``blok``: of a block, which also gets the block attributes
        it does not declare itself)."""
        seen: set[str] = set()
        nodes: list[Node] = []
        for i, veld in enumerate(velden):
            here = (*where, i)
            if veld.veld in seen:
                raise self.fail(here, f"field {veld.veld!r} twice")
            seen.add(veld.veld)
            node = self.node(here, veld)
            if veld.veld in self.blokattributen:
                self.check_blokattribuut(here, node, blok=blok)
            nodes.append(node)
        if blok:
            nodes += [a for naam, a in self.blokattributen.items() if naam not in seen]
        texts = [n for n in nodes if isinstance(n, Leaf) and n.text]
        if len(texts) > 1 or (texts and any(isinstance(n, Group) for n in nodes)):
            raise self.fail(where, "an element's own text excludes other text and child groups")
        return tuple(nodes)

    def check_blokattribuut(self, where: tuple[Any, ...], node: Node, *, blok: bool) -> None:
        """A block may declare one of its block attributes itself (to make it required, as
        the v1 Informatiebron's ``bron`` and ``geaccordeerd``), as the same kind of
        attribute; the names mean nothing else anywhere."""
        expected = self.blokattributen[node.field]
        if (
            not blok
            or not isinstance(node, Leaf)
            or not node.attr
            or node.kind is not expected.kind
            or node.codes != expected.codes
            or node.max != 1
        ):
            soort = expected.codes.naam if expected.codes else expected.kind.value
            raise self.fail(
                where,
                f"{node.field!r} is a block attribute (spec v2 §8): only a block declares it, "
                f"as an attribute ({soort}, attr: true)",
            )

    def node(self, where: tuple[Any, ...], veld: VeldEntry) -> Node:
        cats = self.cats(where, veld.categorieen)
        if veld.blok is not None or veld.velden is not None:
            return self.group(where, veld, cats)
        if veld.codes is not None:
            lijst = self.codelijsten.get(veld.codes)
            if lijst is None:
                raise self.fail((*where, "codes"), f"unknown codelijst {veld.codes!r}")
            allowed = None
            if veld.toegestaan is not None:
                for j, code in enumerate(veld.toegestaan):
                    if code not in lijst.waarden:
                        raise self.fail(
                            (*where, "toegestaan", j), f"{code!r} is not in {lijst.naam}"
                        )
                allowed = frozenset(veld.toegestaan)
            kind, codes = Kind.CODE, lijst
        else:
            assert veld.soort is not None  # one of the four (VeldEntry._one_kind)
            found = _SOORTEN.get(veld.soort)
            if found is None:
                raise self.fail((*where, "soort"), f"unknown soort {veld.soort!r}")
            kind, codes, allowed = found, None, None
        return Leaf(
            field=veld.veld,
            kind=kind,
            min=veld.min,
            max=veld.max,
            attr=veld.attr,
            ident=veld.ident,
            text=veld.text,
            codes=codes,
            allowed=allowed,
            styled=veld.gestileerd,
            categorieen=cats,
        )

    def group(self, where: tuple[Any, ...], veld: VeldEntry, cats: frozenset[str]) -> Group:
        if veld.blok is not None:
            blok = self.file.blokken.get(veld.blok)
            if blok is None:
                raise self.fail((*where, "blok"), f"unknown blok {veld.blok!r}")
            fields_set = veld.model_fields_set
            velden, base = blok.velden, ("blokken", veld.blok, "velden")
            source: BlokEntry | VeldEntry = blok
        else:
            assert veld.velden is not None
            fields_set, velden, base, source = set(), veld.velden, (*where, "velden"), veld

        def pick(name: str) -> Any:
            return getattr(veld if name in fields_set else source, name)

        children = self.nodes(base, velden, blok=True)
        extra = []
        for j, entry in enumerate(pick("extra")):
            veld_naam = entry.als.veld
            waarde: str | bool = entry.als.is_
            leaf = next((c for c in children if isinstance(c, Leaf) and c.field == veld_naam), None)
            if leaf is None:
                raise self.fail((*where, "extra", j), f"extra on {veld_naam!r}: no such field")
            if leaf.kind is Kind.JANEE:  # a JaNee field holds a bool in the model
                if waarde not in ("true", "false"):
                    raise self.fail(
                        (*where, "extra", j), f"extra on {veld_naam!r}: a JaNee is true or false"
                    )
                waarde = waarde == "true"
            extra.append(
                Extra(veld_naam, waarde, self.cats((*where, "extra", j), entry.categorieen))
            )
        return Group(
            field=veld.veld,
            children=children,
            min=pick("min"),
            max=pick("max"),
            item=pick("item"),
            wrapper=pick("wrapper"),
            categorieen=cats,
            extra=tuple(extra),
        )


def load_typen(directory: Path) -> Berichttypen:
    """The register and BerichtTypes of a policy folder; :class:`PolicyError` (file, line,
    problem) when anything is wrong."""
    if not directory.is_dir():
        raise PolicyError(str(directory), None, "policy folder does not exist")
    catalogus, _ = parse_file(CatalogusFile, directory / "catalogus.yaml")
    typen, lines = parse_file(TypenFile, directory / "typen.yaml")
    for rol in catalogus.rollen:
        if not _matches(ROL, rol) or rol == KETENPOORT:
            raise PolicyError("catalogus.yaml", None, f"{rol!r} cannot be a rol")
    builder = _Builder(typen, lines, frozenset(catalogus.categorieen))
    definities: dict[str, Definitie] = {}
    for naam, entry in typen.typen.items():
        if not _matches(TYPE_NAAM, naam) or naam in TECHNISCH:
            raise builder.fail(("typen", naam), f"{naam!r} cannot be a BerichtType name")
        nodes = builder.nodes(("typen", naam, "velden"), entry.velden)
        definities[naam] = Definitie(
            berichttype=naam,
            omschrijving=entry.omschrijving,
            children=nodes,
            model=build_model(naam, nodes, entry.omschrijving),
        )
    return Berichttypen(
        definities=definities,
        rollen=frozenset(catalogus.rollen),
        categorieen=tuple(catalogus.categorieen),
        rol_namen={rol: entry.naam for rol, entry in catalogus.rollen.items()},
        doorbrekingsgronden=builder.doorbrekingsgronden.waarden,
    )


def _matches(pattern: str, value: str) -> bool:
    return re.match(pattern, value) is not None
