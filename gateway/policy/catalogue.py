"""The policy: partners, doelen, routing and need-to-know, as versioned data (``policy/v1``).

The policy is loaded and checked once when the gateway starts. A broken policy raises
:class:`PolicyError` naming the file, the line and the problem; the gateway refuses to start.
Its version (``versie`` from policy.yaml plus a digest of every file) is recorded with every
routing decision.

Checks beyond the structure: every catalogue type has rules; every route goes to a rol that
the doel admits; a type's grants never exceed what the doel allows that rol; a rol shared by
several partners is routed with a regio; every field path names a field of the canonical
model; regio ranges do not overlap and point at a registered Veilig Thuis.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.domain.errors import Misconfigured
from gateway.domain.model import (
    INHOUD_TYPES,
    Bericht,
    BerichtType,
    Categorie,
    Doel,
    Kop,
    Persoon,
    Prioriteit,
    Rol,
    part_type,
)

FILES = ("policy.yaml", "partners.yaml", "doelen.yaml", "berichten.yaml")


class PolicyError(Misconfigured):
    """A policy file is wrong: names file, line and problem."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        self.file = file
        self.line = line
        self.problem = problem
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {problem}")


# --------------------------------------------------------------------------- file models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PolicyMeta(_Strict):
    versie: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    omschrijving: str = ""


class PartnerEntry(_Strict):
    oin: str = Field(pattern=r"^\d{20}$")
    rol: Rol
    naam: str = Field(min_length=1)


class RegioEntry(_Strict):
    van: int = Field(ge=1000, le=9999)
    tot: int = Field(ge=1000, le=9999)
    oin: str = Field(pattern=r"^\d{20}$")


class PartnersFile(_Strict):
    partners: list[PartnerEntry] = Field(min_length=1)
    regios: list[RegioEntry] = Field(default_factory=list)


class OntvangerGrant(_Strict):
    grondslag: str = Field(pattern=r"^[A-Z0-9][A-Z0-9.\-]{0,63}$")
    categorieen: list[Categorie] = Field(min_length=1)


class DoelEntry(_Strict):
    omschrijving: str = ""
    grondslagen: list[str] = Field(min_length=1)
    bewaartermijn_dagen: int = Field(gt=0)
    ontvangers: dict[Rol, OntvangerGrant] = Field(min_length=1)


class DoelenFile(_Strict):
    doelen: dict[Doel, DoelEntry]


class DoelConditie(_Strict):
    doel: Doel


class VeldConditie(_Strict):
    veld: str
    is_: bool | int | str = Field(alias="is")


class LeeftijdConditie(_Strict):
    leeftijd: str
    op: str
    minimaal: int | None = None
    onder: int | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> LeeftijdConditie:
        if (self.minimaal is None) == (self.onder is None):
            raise ValueError("a leeftijd condition has exactly one of minimaal or onder")
        return self


Conditie = DoelConditie | VeldConditie | LeeftijdConditie
_UNION_BRANCHES = frozenset(c.__name__ for c in (DoelConditie, VeldConditie, LeeftijdConditie))


class Route(_Strict):
    naar: Rol
    als: list[Conditie] = Field(default_factory=list)
    regio: str | None = None


class ExtraGrant(_Strict):
    als: list[Conditie] = Field(min_length=1)
    categorieen: list[Categorie] = Field(min_length=1)


class Toegang(_Strict):
    categorieen: list[Categorie] = Field(min_length=1)
    extra: list[ExtraGrant] = Field(default_factory=list)


class Deadline(_Strict):
    veld: str
    uren: int = Field(gt=0)


class BerichtRegel(_Strict):
    afzenders: list[Rol] = Field(min_length=1)
    doelen: list[Doel] = Field(min_length=1)
    prioriteit: Prioriteit | None = None
    uiterste_beslismoment: Deadline | None = None
    routes: list[Route] = Field(min_length=1)
    toegang: dict[Doel, dict[Rol, Toegang]] = Field(default_factory=dict)


class BerichtenFile(_Strict):
    berichten: dict[BerichtType, BerichtRegel]


# --------------------------------------------------------------------------- YAML with lines


def _read_yaml(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """The data of a YAML file and the line of every node, by its path of keys/indexes."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(path.name, None, f"cannot read: {exc.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PolicyError(path.name, line, f"not valid YAML: {exc}") from None
    if root is None:
        raise PolicyError(path.name, 1, "the file is empty")
    lines: dict[tuple[Any, ...], int] = {}
    constructor = yaml.constructor.SafeConstructor()

    def build(node: yaml.Node, where: tuple[Any, ...]) -> Any:
        lines[where] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node, deep=True)
                if key in result:
                    raise PolicyError(path.name, key_node.start_mark.line + 1, f"{key!r} twice")
                result[key] = build(value_node, (*where, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*where, i)) for i, item in enumerate(node.value)]
        return constructor.construct_object(node, deep=True)

    return build(root, ()), lines


def _line(lines: dict[tuple[Any, ...], int], where: tuple[Any, ...]) -> int | None:
    for end in range(len(where), -1, -1):
        if where[:end] in lines:
            return lines[where[:end]]
    return None


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], path: Path) -> tuple[M, dict[tuple[Any, ...], int]]:
    data, lines = _read_yaml(path)
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        error = exc.errors()[0]
        where = tuple(error["loc"])
        # pydantic reports the branch of a union it tried (e.g. 'DoelConditie'); drop it.
        shown = ".".join(str(p) for p in where if p not in _UNION_BRANCHES)
        raise PolicyError(
            path.name, _line(lines, where), f"{shown or 'file'}: {error['msg']}"
        ) from None


# --------------------------------------------------------------------------- field paths

_SEGMENT = re.compile(r"^([a-z_]+)(?:\[([a-z_]+)=([a-z\-]+)\])?$")


def resolve(bericht: Bericht, path: str) -> Any:
    """The value at ``path`` in a message (None where a part is missing)."""
    segments = path.split(".")
    current: Any = bericht.kop if segments[0] == "kop" else bericht.inhoud
    if segments[0] == "kop":
        segments = segments[1:]
    for segment in segments:
        found = _SEGMENT.match(segment)
        if found is None or current is None:
            return None
        name, attr, value = found.groups()
        current = getattr(current, name, None)
        if attr is not None:
            current = next((i for i in current or [] if str(getattr(i, attr, None)) == value), None)
        elif isinstance(current, list):
            current = current[0] if current else None
    return current


def check_path(berichttype: BerichtType, path: str) -> type[Any]:
    """The model type a path ends in; ValueError when it names no field."""
    segments = path.split(".")
    model: type[BaseModel] = INHOUD_TYPES[berichttype]
    if segments[0] == "kop":
        model, segments = Kop, segments[1:]
    for index, segment in enumerate(segments):
        found = _SEGMENT.match(segment)
        if found is None or found.group(1) not in model.model_fields:
            raise ValueError(f"{path!r}: {model.__name__} has no field {segment!r}")
        name = found.group(1)
        sub = part_type(model, name)
        if found.group(2) is not None and (sub is None or found.group(2) not in sub.model_fields):
            raise ValueError(f"{path!r}: cannot select on {found.group(2)!r} in {name}")
        if index == len(segments) - 1:
            if sub is not None:
                return sub
            return _value_type(model.model_fields[name].annotation)
        if sub is None:
            raise ValueError(f"{path!r}: {name} has no fields")
        model = sub
    return model


def _value_type(annotation: Any) -> type[Any]:
    """``X`` for an annotation ``X`` or ``X | None``; ``object`` for anything else."""
    if isinstance(annotation, type):
        return annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if len(args) == 1 and isinstance(args[0], type) else object


# --------------------------------------------------------------------------- the policy


@dataclass(frozen=True)
class Policy:
    """The checked policy, ready for routing decisions."""

    versie: str
    directory: Path
    partners: dict[str, PartnerEntry]
    regios: tuple[RegioEntry, ...]
    doelen: dict[Doel, DoelEntry]
    berichten: dict[BerichtType, BerichtRegel]

    def partners_met_rol(self, rol: Rol) -> list[PartnerEntry]:
        return [p for p in self.partners.values() if p.rol is rol]

    def regio_van_postcode(self, postcode: str) -> str | None:
        digits = postcode.strip()[:4]
        if not digits.isdigit():
            return None
        number = int(digits)
        for regio in self.regios:
            if regio.van <= number <= regio.tot:
                return regio.oin
        return None

    def bewaartermijn_dagen(self, doel: Doel | None = None) -> int:
        """Retention of audit records: the doel's; unknown doel: the longest in the policy."""
        if doel is not None and doel in self.doelen:
            return self.doelen[doel].bewaartermijn_dagen
        return max(d.bewaartermijn_dagen for d in self.doelen.values())


def load_policy(
    directory: Path, *, leesbaar: Mapping[Rol, frozenset[BerichtType]] | None = None
) -> Policy:
    """Read and check a policy folder; :class:`PolicyError` when anything is wrong.

    ``leesbaar``: per rol, the types its adapter can read as a sender (the codec's
    ``readable()``); given, a rol allowed to send a type its format cannot express is an error.
    """
    if not directory.is_dir():
        raise PolicyError(str(directory), None, "policy folder does not exist")
    meta, _ = _parse(PolicyMeta, directory / "policy.yaml")
    partners, partner_lines = _parse(PartnersFile, directory / "partners.yaml")
    doelen, doel_lines = _parse(DoelenFile, directory / "doelen.yaml")
    berichten, bericht_lines = _parse(BerichtenFile, directory / "berichten.yaml")

    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode() + b"\0" + (directory / name).read_bytes() + b"\0")

    by_oin: dict[str, PartnerEntry] = {}
    for i, partner in enumerate(partners.partners):
        if partner.oin in by_oin:
            raise PolicyError(
                "partners.yaml", _line(partner_lines, ("partners", i)), f"OIN {partner.oin} twice"
            )
        by_oin[partner.oin] = partner
    _check_regios(partners, partner_lines, by_oin)
    _check_doelen(doelen, doel_lines)
    _check_berichten(berichten, bericht_lines, doelen, by_oin)
    if leesbaar is not None:
        _check_leesbaar(berichten, bericht_lines, leesbaar)
    return Policy(
        versie=f"{meta.versie}+sha256:{digest.hexdigest()[:12]}",
        directory=directory,
        partners=by_oin,
        regios=tuple(partners.regios),
        doelen=dict(doelen.doelen),
        berichten=dict(berichten.berichten),
    )


def _check_regios(
    partners: PartnersFile, lines: dict[tuple[Any, ...], int], by_oin: dict[str, PartnerEntry]
) -> None:
    seen: list[RegioEntry] = []
    for i, regio in enumerate(partners.regios):
        line = _line(lines, ("regios", i))
        if regio.van > regio.tot:
            raise PolicyError("partners.yaml", line, f"regio {regio.van}-{regio.tot} is empty")
        partner = by_oin.get(regio.oin)
        if partner is None or partner.rol is not Rol.VEILIG_THUIS:
            raise PolicyError(
                "partners.yaml", line, f"regio OIN {regio.oin} is no registered veilig-thuis"
            )
        for other in seen:
            if regio.van <= other.tot and other.van <= regio.tot:
                raise PolicyError(
                    "partners.yaml",
                    line,
                    f"regio {regio.van}-{regio.tot} overlaps {other.van}-{other.tot}",
                )
        seen.append(regio)


def _check_doelen(doelen: DoelenFile, lines: dict[tuple[Any, ...], int]) -> None:
    for doel in Doel:
        if doel not in doelen.doelen:
            raise PolicyError("doelen.yaml", _line(lines, ("doelen",)), f"doel {doel} missing")
    for doel, entry in doelen.doelen.items():
        for rol, grant in entry.ontvangers.items():
            if grant.grondslag not in entry.grondslagen:
                raise PolicyError(
                    "doelen.yaml",
                    _line(lines, ("doelen", doel.value, "ontvangers", rol.value, "grondslag")),
                    f"{doel}: grondslag {grant.grondslag} of {rol} is not one of the doel's "
                    f"grondslagen {entry.grondslagen}",
                )


Fail = typing.Callable[[tuple[Any, ...], str], PolicyError]


def _check_berichten(
    berichten: BerichtenFile,
    lines: dict[tuple[Any, ...], int],
    doelen: DoelenFile,
    by_oin: dict[str, PartnerEntry],
) -> None:
    def fail(where: tuple[Any, ...], problem: str) -> PolicyError:
        return PolicyError("berichten.yaml", _line(lines, ("berichten", *where)), problem)

    for berichttype in INHOUD_TYPES:
        if berichttype not in berichten.berichten:
            raise fail((), f"no rules for BerichtType {berichttype}")
    for berichttype, regel in berichten.berichten.items():
        if berichttype.technisch:
            raise fail((berichttype.value,), f"{berichttype} is the gateway's own message")
        for i, route in enumerate(regel.routes):
            _check_route(
                berichttype, regel, route, (berichttype.value, "routes", i), doelen, by_oin, fail
            )
        for doel, per_rol in regel.toegang.items():
            _check_toegang(berichttype, regel, doel, per_rol, doelen, fail)
        if regel.uiterste_beslismoment is not None:
            try:
                check_path(berichttype, regel.uiterste_beslismoment.veld)
            except ValueError as exc:
                raise fail((berichttype.value, "uiterste_beslismoment"), str(exc)) from None


def _check_leesbaar(
    berichten: BerichtenFile,
    lines: dict[tuple[Any, ...], int],
    leesbaar: Mapping[Rol, frozenset[BerichtType]],
) -> None:
    """Every rol allowed to send a type has an adapter that reads it."""
    for berichttype, regel in berichten.berichten.items():
        for i, rol in enumerate(regel.afzenders):
            if berichttype not in leesbaar.get(rol, frozenset()):
                raise PolicyError(
                    "berichten.yaml",
                    _line(lines, ("berichten", berichttype.value, "afzenders", i)),
                    f"rol {rol.value} may send {berichttype.value} but its adapter cannot read "
                    f"a {berichttype.value} (it reads: "
                    f"{', '.join(sorted(t.value for t in leesbaar.get(rol, ()))) or 'nothing'})",
                )


def _check_route(
    berichttype: BerichtType,
    regel: BerichtRegel,
    route: Route,
    where: tuple[Any, ...],
    doelen: DoelenFile,
    by_oin: dict[str, PartnerEntry],
    fail: Fail,
) -> None:
    route_doelen = [c.doel for c in route.als if isinstance(c, DoelConditie)] or regel.doelen
    for doel in route_doelen:
        if route.naar not in doelen.doelen[doel].ontvangers:
            raise fail(where, f"doel {doel} admits no recipient {route.naar}")
    shared = sum(1 for p in by_oin.values() if p.rol is route.naar) > 1
    if shared and route.regio is None:
        raise fail(where, f"{route.naar} has several partners: say how the regio is found")
    if route.regio not in (None, "conversatie"):
        try:
            check_path(berichttype, route.regio)
        except ValueError as exc:
            raise fail((*where, "regio"), str(exc)) from None
    _check_conditions(berichttype, regel, route.als, (*where, "als"), fail)


def _check_toegang(
    berichttype: BerichtType,
    regel: BerichtRegel,
    doel: Doel,
    per_rol: dict[Rol, Toegang],
    doelen: DoelenFile,
    fail: Fail,
) -> None:
    t = berichttype.value
    if doel not in regel.doelen:
        raise fail((t, "toegang", doel.value), f"doel {doel} is not a doel of {t}")
    for rol, toegang in per_rol.items():
        where = (t, "toegang", doel.value, rol.value)
        allowed = doelen.doelen[doel].ontvangers.get(rol)
        if allowed is None:
            raise fail(where, f"doel {doel} admits no recipient {rol}")
        asked = set(toegang.categorieen).union(*(e.categorieen for e in toegang.extra))
        too_much = sorted(asked - set(allowed.categorieen))
        if too_much:
            raise fail(
                where, f"grants {', '.join(too_much)} to {rol}, more than doel {doel} allows"
            )
        for k, extra in enumerate(toegang.extra):
            _check_conditions(berichttype, regel, extra.als, (*where, "extra", k, "als"), fail)


def _check_conditions(
    berichttype: BerichtType,
    regel: BerichtRegel,
    als: list[Conditie],
    where: tuple[Any, ...],
    fail: Fail,
) -> None:
    """Every condition names real fields of the right type."""
    for j, c in enumerate(als):
        try:
            if isinstance(c, VeldConditie):
                check_path(berichttype, c.veld)
            elif isinstance(c, LeeftijdConditie):
                if check_path(berichttype, c.leeftijd) is not Persoon:
                    raise ValueError(f"{c.leeftijd!r} is not a person")
                if check_path(berichttype, c.op) not in (dt.date, dt.datetime):
                    raise ValueError(f"{c.op!r} is not a date")
            elif c.doel not in regel.doelen:
                raise ValueError(f"doel {c.doel} is not a doel of {berichttype.value}")
        except ValueError as exc:
            raise fail((*where, j), str(exc)) from None
