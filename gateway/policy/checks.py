"""The checks across the policy files, beyond their structure: every catalogue type has
rules; every route goes to a rol that the doel admits; a type's grants never exceed what the
doel allows that rol; every sender and recipient of a route has a grondslag for the doel
(v2 §4: no gaps); a rol shared by several partners is routed with a regio; every field
path names a field of the canonical model; regio ranges do not overlap and point at a
registered Veilig Thuis."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Mapping
from typing import Any

from gateway.domain.model import BerichtType, Berichttypen, Doel, Part, Rol, part_type
from gateway.policy.fieldpath import check_path
from gateway.policy.files import (
    GEHEUGEN_REGIOS,
    GESPREK_CONDITIES,
    OVERDRACHT_STATUSSEN,
    REEKS_STATUSSEN,
    VRAAG,
    BerichtenFile,
    BerichtRegel,
    Conditie,
    DeelnameConditie,
    DoelConditie,
    DoelenFile,
    GenoemdConditie,
    HgConditie,
    LeeftijdConditie,
    OverdrachtConditie,
    PartnerEntry,
    PartnersFile,
    RegioEntry,
    Route,
    Toegang,
    VeldConditie,
)
from gateway.policy.reading import Lines, PolicyError, line_of

__all__ = [
    "check_berichten",
    "check_doelen",
    "check_gemeenten",
    "check_leesbaar",
    "check_partners",
    "check_regios",
]


def check_partners(partners: PartnersFile, lines: Lines, typen: Berichttypen) -> None:
    """Every partner has a rol of the register."""

    def fail(where: tuple[Any, ...], problem: str) -> PolicyError:
        return PolicyError("partners.yaml", line_of(lines, ("partners", *where)), problem)

    names = [((i, "rol"), p.rol) for i, p in enumerate(partners.partners)]
    _known_rollen(typen, names, "partners", fail)


def check_gemeenten(partners: PartnersFile, lines: Lines, by_oin: dict[str, PartnerEntry]) -> None:
    """Gemeenten (v2 §2): codes once, postcode ranges not empty and in one gemeente only,
    partners registered and at most one per rol."""

    def fail(where: tuple[Any, ...], problem: str) -> PolicyError:
        return PolicyError("partners.yaml", line_of(lines, ("gemeenten", *where)), problem)

    codes: set[str] = set()
    ranges: list[tuple[int, int, str]] = []
    for i, gemeente in enumerate(partners.gemeenten):
        if gemeente.code in codes:
            raise fail((i, "code"), f"gemeente {gemeente.code} twice")
        codes.add(gemeente.code)
        for j, bereik in enumerate(gemeente.postcodes):
            if bereik.van > bereik.tot:
                raise fail((i, "postcodes", j), f"postcodes {bereik.van}-{bereik.tot} are empty")
            for van, tot, other in ranges:
                if bereik.van <= tot and van <= bereik.tot:
                    raise fail(
                        (i, "postcodes", j),
                        f"postcodes {bereik.van}-{bereik.tot} overlap {van}-{tot} of "
                        f"gemeente {other}",
                    )
            ranges.append((bereik.van, bereik.tot, gemeente.code))
        rollen: dict[str, str] = {}
        for j, oin in enumerate(gemeente.partners):
            partner = by_oin.get(oin)
            if partner is None:
                raise fail((i, "partners", j), f"OIN {oin} is no registered partner")
            if partner.rol in rollen:
                raise fail(
                    (i, "partners", j),
                    f"gemeente {gemeente.code} has two {partner.rol} partners: "
                    f"{rollen[partner.rol]} and {oin}",
                )
            rollen[partner.rol] = oin


def check_regios(
    partners: PartnersFile, lines: Lines, by_oin: dict[str, PartnerEntry], regio_rol: Rol
) -> None:
    seen: list[RegioEntry] = []
    for i, regio in enumerate(partners.regios):
        line = line_of(lines, ("regios", i))
        if regio.van > regio.tot:
            raise PolicyError("partners.yaml", line, f"regio {regio.van}-{regio.tot} is empty")
        partner = by_oin.get(regio.oin)
        if partner is None or partner.rol != regio_rol:
            raise PolicyError(
                "partners.yaml", line, f"regio OIN {regio.oin} is no registered {regio_rol}"
            )
        for other in seen:
            if regio.van <= other.tot and other.van <= regio.tot:
                raise PolicyError(
                    "partners.yaml",
                    line,
                    f"regio {regio.van}-{regio.tot} overlaps {other.van}-{other.tot}",
                )
        seen.append(regio)


def check_doelen(doelen: DoelenFile, lines: Lines, typen: Berichttypen) -> None:
    """Every rol a doel names is in the register, every category in the catalogue; a grondslag
    goes towards a recipient the doel admits."""

    def fail(where: tuple[Any, ...], problem: str) -> PolicyError:
        return PolicyError("doelen.yaml", line_of(lines, ("doelen", *where)), problem)

    for doel, entry in doelen.doelen.items():
        for i, rij in enumerate(entry.grondslagen):
            here = (doel, "grondslagen", i)
            _known_rollen(
                typen,
                [((*here, "afzender"), rij.afzender)]
                + [((*here, "naar", j), r) for j, r in enumerate(rij.naar)],
                "doelen",
                fail,
            )
        _known_rollen(
            typen, [((doel, "ontvangers", r), r) for r in entry.ontvangers], "doelen", fail
        )
        for rol, grant in entry.ontvangers.items():
            _known_categorieen(
                typen, (doel, "ontvangers", rol, "categorieen"), grant.categorieen, "doelen", fail
            )
        _known(
            typen.doorbrekingsgronden,
            [
                ((doel, "doorbrekingsgronden", i), g)
                for i, g in enumerate(entry.doorbrekingsgronden)
            ],
            "doelen",
            "doorbrekingsgrond of typen.yaml's Doorbrekingsgrond",
            fail,
        )
        for i, rij in enumerate(entry.grondslagen):
            for j, rol in enumerate(rij.naar):
                if rol not in entry.ontvangers:
                    raise PolicyError(
                        "doelen.yaml",
                        line_of(lines, ("doelen", doel, "grondslagen", i, "naar", j)),
                        f"{doel}: a grondslag towards {rol}, which the doel admits as no recipient",
                    )


Fail = typing.Callable[[tuple[Any, ...], str], PolicyError]


def _known(
    known: typing.Collection[str],
    names: typing.Sequence[tuple[tuple[Any, ...], str]],
    file: str,
    what: str,
    fail: Fail,
) -> None:
    """Every ``(where, name)`` names one of ``known``; the error names its exact place."""
    for where, name in names:
        if name not in known:
            place = ".".join(str(p) for p in (file, *where))
            source = "typen.yaml" if "typen.yaml" in what else "catalogus.yaml"
            raise fail(
                where,
                f"{place}: {name!r} is no {what} ({source}: "
                f"{', '.join(repr(k) for k in sorted(known))})",
            )


def _known_rollen(
    typen: Berichttypen, names: typing.Sequence[tuple[tuple[Any, ...], str]], file: str, fail: Fail
) -> None:
    _known(typen.rollen, names, file, "rol of the register", fail)


def _known_categorieen(
    typen: Berichttypen, where: tuple[Any, ...], names: list[str], file: str, fail: Fail
) -> None:
    _known(
        typen.categorieen,
        [((*where, i), c) for i, c in enumerate(names)],
        file,
        "categorie of the catalogue",
        fail,
    )


def check_berichten(
    berichten: BerichtenFile,
    lines: Lines,
    doelen: DoelenFile,
    by_oin: dict[str, PartnerEntry],
    typen: Berichttypen,
) -> None:
    def fail(where: tuple[Any, ...], problem: str) -> PolicyError:
        return PolicyError("berichten.yaml", line_of(lines, ("berichten", *where)), problem)

    for berichttype in typen:
        if berichttype not in berichten.berichten:
            raise fail((), f"no rules for BerichtType {berichttype} (typen.yaml defines it)")
    for berichttype, regel in berichten.berichten.items():
        if berichttype not in typen:
            raise fail((berichttype,), f"{berichttype} is no BerichtType of typen.yaml")
        _check_regel(berichttype, regel, doelen, by_oin, typen, fail)


def _check_regel(
    berichttype: BerichtType,
    regel: BerichtRegel,
    doelen: DoelenFile,
    by_oin: dict[str, PartnerEntry],
    typen: Berichttypen,
    fail: Fail,
) -> None:
    """The rules of one BerichtType."""
    _known_rollen(
        typen,
        [((berichttype, "afzenders", i), r) for i, r in enumerate(regel.afzenders)],
        "berichten",
        fail,
    )
    for i, doel in enumerate(regel.doelen):
        if doel not in doelen.doelen:
            raise fail((berichttype, "doelen", i), f"doel {doel} is not in doelen.yaml")
    for i, route in enumerate(regel.routes):
        _known_rollen(typen, [((berichttype, "routes", i, "naar"), route.naar)], "berichten", fail)
        _check_route(
            berichttype, regel, route, (berichttype, "routes", i), doelen, by_oin, fail, typen
        )
    for doel, per_rol in regel.toegang.items():
        _check_toegang(berichttype, regel, doel, per_rol, doelen, fail, typen)
    _check_paths(berichttype, regel, fail, typen)
    for i, veld in enumerate(regel.verplicht):
        if veld not in _leaf_names(typen.model(berichttype)):
            raise fail(
                (berichttype, "verplicht", i),
                f"verplicht: {berichttype} has no part with a field {veld!r}",
            )
    _check_geheugen(berichttype, regel, fail, typen)
    _check_reeks(berichttype, regel, fail, typen)
    _check_signaal(berichttype, regel, fail, typen)
    for path, cats in regel.vrije_tekst.items():
        _known_categorieen(typen, (berichttype, "vrije_tekst", path), cats, "berichten", fail)
        try:
            found = check_path(typen.model(berichttype), path)
            if found is not str and not issubclass(found, Part):
                raise ValueError(f"{path!r} of {berichttype} is no free text")
        except ValueError as exc:
            raise fail((berichttype, "vrije_tekst", path), str(exc)) from None


def _leaf_names(model: type[Part]) -> set[str]:
    """The names of the value fields of ``model`` and of every part below it."""
    found: set[str] = set()
    for name in model.model_fields:
        part = part_type(model, name)
        if part is None:
            found.add(name)
        else:
            found |= _leaf_names(part)
    return found


def check_leesbaar(
    berichten: BerichtenFile, lines: Lines, leesbaar: Mapping[Rol, frozenset[BerichtType]]
) -> None:
    """Every rol allowed to send a type has an adapter that reads it."""
    for berichttype, regel in berichten.berichten.items():
        for i, rol in enumerate(regel.afzenders):
            if berichttype not in leesbaar.get(rol, frozenset()):
                raise PolicyError(
                    "berichten.yaml",
                    line_of(lines, ("berichten", berichttype, "afzenders", i)),
                    f"rol {rol} may send {berichttype} but its adapter cannot read "
                    f"a {berichttype} (it reads: "
                    f"{', '.join(sorted(leesbaar.get(rol, ()))) or 'nothing'})",
                )


def _kan_samen(doel: Doel, route: list[Conditie], afzender: list[Conditie]) -> bool:
    """Whether a message of doel ``doel`` that a rol may send (its ``afzender_als``) can meet
    a rule's conditions: not when either names another doel, nor when both test one field of
    the body against values that have none in common (a crisisdienst's Terugmelding is
    acuut-ingezet or zorgsignaal only, so a rule for a voortgang never applies to it)."""
    waarden: dict[str, set[bool | int | str]] = {}
    for conditie in (*route, *afzender):
        if isinstance(conditie, DoelConditie) and conditie.doel != doel:
            return False
        if isinstance(conditie, VeldConditie):
            mogelijk: set[bool | int | str] = set(conditie.in_ or ())
            if conditie.is_ is not None:
                mogelijk.add(conditie.is_)
            eerder = waarden.get(conditie.veld)
            waarden[conditie.veld] = mogelijk if eerder is None else eerder & mogelijk
            if not waarden[conditie.veld]:
                return False
    return True


def _check_route(
    berichttype: BerichtType,
    regel: BerichtRegel,
    route: Route,
    where: tuple[Any, ...],
    doelen: DoelenFile,
    by_oin: dict[str, PartnerEntry],
    fail: Fail,
    typen: Berichttypen,
) -> None:
    route_doelen = [c.doel for c in route.als if isinstance(c, DoelConditie)] or regel.doelen
    for doel in route_doelen:
        entry = doelen.doelen[doel]
        if route.naar not in entry.ontvangers:
            raise fail(where, f"doel {doel} admits no recipient {route.naar}")
        for afzender in regel.afzenders:
            if not _kan_samen(doel, route.als, regel.afzender_als.get(afzender, [])):
                continue  # the rule never applies to what this rol may send: no grondslag needed
            if not entry.acceptabel(afzender, route.naar):
                raise fail(
                    where,
                    f"{berichttype} from {afzender} to {route.naar} for doel {doel} has no "
                    f"grondslag: add a row for afzender {afzender} to doel {doel}'s grondslagen "
                    "in doelen.yaml",
                )
    shared = sum(1 for p in by_oin.values() if p.rol == route.naar) > 1
    bepaald = any(isinstance(c, DeelnameConditie | GenoemdConditie) for c in route.als)
    if shared and not route.regios and not bepaald:
        raise fail(where, f"{route.naar} has several partners: say how the regio is found")
    for k, regio in enumerate(route.regios):
        if regio == VRAAG and not regel.antwoord_op:
            raise fail((*where, "regio", k), f"regio {VRAAG}: {berichttype} has no antwoord_op")
        if regio in GEHEUGEN_REGIOS:
            continue
        try:
            check_path(typen.model(berichttype), regio)
        except ValueError as exc:
            raise fail((*where, "regio", k), str(exc)) from None
    _check_conditions(berichttype, regel, route.als, (*where, "als"), fail, typen)


def _check_toegang(
    berichttype: BerichtType,
    regel: BerichtRegel,
    doel: Doel,
    per_rol: dict[Rol, Toegang],
    doelen: DoelenFile,
    fail: Fail,
    typen: Berichttypen,
) -> None:
    t = berichttype
    if doel not in regel.doelen:
        raise fail((t, "toegang", doel), f"doel {doel} is not a doel of {t}")
    for rol, toegang in per_rol.items():
        where = (t, "toegang", doel, rol)
        allowed = doelen.doelen[doel].ontvangers.get(rol)
        if allowed is None:
            raise fail(where, f"doel {doel} admits no recipient {rol}")
        _known_categorieen(typen, (*where, "categorieen"), toegang.categorieen, "berichten", fail)
        for k, extra in enumerate(toegang.extra):
            here = (*where, "extra", k, "categorieen")
            _known_categorieen(typen, here, extra.categorieen, "berichten", fail)
        asked = set(toegang.categorieen).union(*(e.categorieen for e in toegang.extra))
        too_much = sorted(asked - set(allowed.categorieen))
        if too_much:
            raise fail(
                where, f"grants {', '.join(too_much)} to {rol}, more than doel {doel} allows"
            )
        for k, extra in enumerate(toegang.extra):
            here = (*where, "extra", k, "als")
            _check_conditions(berichttype, regel, extra.als, here, fail, typen, in_route=False)


def _check_geheugen(
    berichttype: BerichtType, regel: BerichtRegel, fail: Fail, typen: Berichttypen
) -> None:
    """An answer names types of the catalogue; ``afzender_als`` names senders of the type;
    the routing memory a type writes names real fields; conditions there are on the message."""
    for i, vraag in enumerate(regel.antwoord_op):
        if vraag not in typen:
            raise fail((berichttype, "antwoord_op", i), f"{vraag} is no BerichtType")
    for rol, als in regel.afzender_als.items():
        if rol not in regel.afzenders:
            raise fail((berichttype, "afzender_als", rol), f"{rol} is no sender of {berichttype}")
        here = (berichttype, "afzender_als", rol)
        _check_conditions(berichttype, regel, als, here, fail, typen, in_route=False)
    _check_inhoudsregels(berichttype, regel, fail, typen)
    geheugen = regel.geheugen
    if geheugen is None:
        return
    if geheugen.casusregie is not None:
        _check_conditions(
            berichttype,
            regel,
            geheugen.casusregie.als,
            (berichttype, "geheugen", "casusregie", "als"),
            fail,
            typen,
            in_route=False,
        )
    if geheugen.overdracht is not None:
        try:
            if not _is_status(typen.model(berichttype), geheugen.overdracht):
                raise ValueError(
                    f"{geheugen.overdracht!r} of {berichttype} is no status code: a text, or "
                    f"codes holding {' and '.join(sorted(OVERDRACHT_STATUSSEN))}"
                )
        except ValueError as exc:
            raise fail((berichttype, "geheugen", "overdracht"), str(exc)) from None


def _check_reeks(
    berichttype: BerichtType, regel: BerichtRegel, fail: Fail, typen: Berichttypen
) -> None:
    """An afspraken reeks (v2 §6) names real fields: a status code holding geldig and
    ingetrokken, an integer versie, a date geldig_tot, a text reden, content fields."""
    reeks = regel.reeks
    if reeks is None:
        return
    model = typen.model(berichttype)
    soorten: list[tuple[str, str, type]] = [
        ("id", reeks.id, str),
        ("versie", reeks.versie, int),
        ("geldig_tot", reeks.geldig_tot, dt.date),
        ("reden", reeks.reden, str),
    ]
    for naam, path, soort in soorten:
        try:
            if check_path(model, path) is not soort:
                raise ValueError(f"{path!r} of {berichttype} is no {soort.__name__}")
        except ValueError as exc:
            raise fail((berichttype, "reeks", naam), str(exc)) from None
    try:
        if not _is_status(model, reeks.status, REEKS_STATUSSEN, text=False):
            raise ValueError(
                f"{reeks.status!r} of {berichttype} is no status code holding "
                f"{' and '.join(sorted(REEKS_STATUSSEN))}"
            )
    except ValueError as exc:
        raise fail((berichttype, "reeks", "status"), str(exc)) from None
    for i, path in enumerate(reeks.inhoud):
        try:
            check_path(model, path)
        except ValueError as exc:
            raise fail((berichttype, "reeks", "inhoud", i), str(exc)) from None


def _check_signaal(
    berichttype: BerichtType, regel: BerichtRegel, fail: Fail, typen: Berichttypen
) -> None:
    """The matching keys of v2 §7 name an adres group with postcode and huisnummer and
    persons with a bsn; the signal's recipients are rollen of the register."""
    model = typen.model(berichttype)
    for naam, houder in (("reeks", regel.reeks), ("afspraken_signaal", regel.afspraken_signaal)):
        if houder is None:
            continue
        for sleutel, path, velden in (
            ("adres", houder.adres, ("postcode", "huisnummer")),
            ("personen", houder.personen, ("bsn",)),
        ):
            if path is None:
                continue
            try:
                found = check_path(model, path)
                for veld in velden:
                    if veld not in getattr(found, "model_fields", {}):
                        raise ValueError(f"{path!r} of {berichttype} has no {veld}")
            except ValueError as exc:
                raise fail((berichttype, naam, sleutel), str(exc)) from None
    signaal = regel.afspraken_signaal
    if signaal is not None:
        _known_rollen(
            typen,
            [
                ((berichttype, "afspraken_signaal", "ontvangers", i), r)
                for i, r in enumerate(signaal.ontvangers)
            ],
            "berichten",
            fail,
        )


def _is_status(
    model: type[Part],
    path: str,
    statussen: frozenset[str] = OVERDRACHT_STATUSSEN,
    *,
    text: bool = True,
) -> bool:
    """The field at ``path`` can hold a status: a text (when ``text``), or a code field whose
    codes include every one of ``statussen`` (default: the Overdracht's, which the routing
    memory keeps)."""
    if check_path(model, path) is str:
        return text
    parent, _, name = path.rpartition(".")
    owner = check_path(model, parent) if parent else model
    if not isinstance(owner, type) or name not in getattr(owner, "model_fields", {}):
        return False
    codes: set[object] = set()
    todo = [owner.model_fields[name].annotation]
    while todo:
        annotation = todo.pop()
        if typing.get_origin(annotation) is typing.Literal:
            codes.update(typing.get_args(annotation))
        else:
            todo.extend(typing.get_args(annotation))
    return codes >= statussen


def _check_inhoudsregels(
    berichttype: BerichtType, regel: BerichtRegel, fail: Fail, typen: Berichttypen
) -> None:
    """``vereist``: conditions on the message and real fields; ``tijdgrenzen``: date fields."""
    for i, vereiste in enumerate(regel.vereist):
        here = (berichttype, "vereist", i)
        _check_conditions(
            berichttype, regel, vereiste.als, (*here, "als"), fail, typen, in_route=False
        )
        for j, pad in enumerate(vereiste.velden):
            try:
                check_path(typen.model(berichttype), pad)
            except ValueError as exc:
                raise fail((*here, "velden", j), str(exc)) from None
    for i, grens in enumerate(regel.tijdgrenzen):
        try:
            if check_path(typen.model(berichttype), grens.veld) not in (dt.date, dt.datetime):
                raise ValueError(f"{grens.veld!r} of {berichttype} is no date")
        except ValueError as exc:
            raise fail((berichttype, "tijdgrenzen", i), str(exc)) from None


def _check_paths(
    berichttype: BerichtType, regel: BerichtRegel, fail: Fail, typen: Berichttypen
) -> None:
    """The HG label is a boolean field of the type."""
    if regel.hg_label is not None:
        try:
            if check_path(typen.model(berichttype), regel.hg_label) is not bool:
                raise ValueError(f"{regel.hg_label!r} of {berichttype} is no boolean")
        except ValueError as exc:
            raise fail((berichttype, "hg_label"), str(exc)) from None


def _check_gesprek(
    berichttype: BerichtType,
    regel: BerichtRegel,
    c: HgConditie | DeelnameConditie | OverdrachtConditie | GenoemdConditie,
    *,
    in_route: bool,
) -> None:
    """A condition on the conversation (routing memory) or the Kop: on a route only,
    ``true``, ``hg`` for a type that says where its HG label is, and an Overdracht status
    that some type's ``geheugen`` can write."""
    if not in_route:
        raise ValueError("a condition on the conversation is for routes only")
    if isinstance(c, OverdrachtConditie):
        if c.overdracht not in OVERDRACHT_STATUSSEN:
            raise ValueError(
                f"overdracht {c.overdracht!r}: one of {', '.join(sorted(OVERDRACHT_STATUSSEN))}"
            )
        return
    if isinstance(c, HgConditie):
        holds = c.hg
    elif isinstance(c, DeelnameConditie):
        holds = c.deelgenomen
    else:
        holds = c.genoemd
    if not holds:
        raise ValueError("only `true` is a condition on the conversation")
    if isinstance(c, HgConditie) and regel.hg_label is None:
        raise ValueError(f"{berichttype} has no hg_label to say it is HG")


def _check_conditions(
    berichttype: BerichtType,
    regel: BerichtRegel,
    als: list[Conditie],
    where: tuple[Any, ...],
    fail: Fail,
    typen: Berichttypen,
    *,
    in_route: bool = True,
) -> None:
    """Every condition names real fields of the right type; the conversation's conditions
    (``hg``, ``deelgenomen``) are for routes only."""
    model = typen.model(berichttype)
    for j, c in enumerate(als):
        try:
            if isinstance(c, GESPREK_CONDITIES):
                _check_gesprek(berichttype, regel, c, in_route=in_route)
            elif isinstance(c, VeldConditie):
                check_path(model, c.veld)
            elif isinstance(c, LeeftijdConditie):
                person = check_path(model, c.leeftijd)
                if not (issubclass(person, Part) and "geboortedatum" in person.model_fields):
                    raise ValueError(f"{c.leeftijd!r} is not a person with a geboortedatum")
                if check_path(model, c.op) not in (dt.date, dt.datetime):
                    raise ValueError(f"{c.op!r} is not a date")
            elif c.doel not in regel.doelen:
                raise ValueError(f"doel {c.doel} is not a doel of {berichttype}")
        except ValueError as exc:
            raise fail((*where, j), str(exc)) from None
