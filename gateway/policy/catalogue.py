"""The policy: partners, doelen, routing and need-to-know, as versioned data (``policy/v1``).

The policy is loaded and checked once when the gateway starts. A broken policy raises
:class:`PolicyError` naming the file, the line and the problem; the gateway refuses to start.
Its version (``versie`` from policy.yaml plus a digest of every file) is recorded with every
routing decision.

The package: ``files`` (the schema of each file), ``reading`` (YAML with lines, PolicyError),
``fieldpath`` (field paths in messages), ``checks`` (the checks across files) and this module,
the loaded :class:`Policy`. The entry types a Policy hands out are re-exported here.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from gateway.domain.model import BerichtType, Berichttypen, Categorie, Doel, Rol
from gateway.policy.checks import (
    check_berichten,
    check_doelen,
    check_gemeenten,
    check_leesbaar,
    check_partners,
    check_regios,
)
from gateway.policy.files import (
    LEVERING,
    BerichtenFile,
    BerichtRegel,
    Diensturen,
    DoelenFile,
    DoelEntry,
    GemeenteEntry,
    NormenFile,
    NormEntry,
    PartnerEntry,
    PartnersFile,
    PolicyMeta,
    RegioEntry,
    Sluiter,
)
from gateway.policy.files import VRAAG as _VRAAG
from gateway.policy.normchecks import check_diensturen, check_normen
from gateway.policy.reading import PolicyError, line_of, parse_file
from gateway.policy.typen import CATALOGUS_FILES, load_typen

__all__ = [
    "FILES",
    "Bereiken",
    "BerichtRegel",
    "Diensturen",
    "DoelEntry",
    "GemeenteEntry",
    "NormEntry",
    "PartnerEntry",
    "Policy",
    "PolicyError",
    "RegioEntry",
    "load_policy",
]

FILES = (
    "policy.yaml",
    *CATALOGUS_FILES,
    "partners.yaml",
    "doelen.yaml",
    "berichten.yaml",
    "normen.yaml",
)


@dataclass(frozen=True)
class Policy:
    """The checked policy, ready for routing decisions."""

    versie: str
    directory: Path
    typen: Berichttypen  # the register (rollen, categories) and the BerichtTypes
    partners: dict[str, PartnerEntry]
    regios: tuple[RegioEntry, ...]
    gemeenten: tuple[GemeenteEntry, ...]  # v2 §2: postcode ranges -> gemeente -> partners
    regio_rol: Rol | None  # the rol whose partners the v1 ranges of ``regios`` find
    doelen: dict[Doel, DoelEntry]
    berichten: dict[BerichtType, BerichtRegel]
    # spec v2 §8: per type, per free-text field path, the categories its content may hold
    vrije_tekst: dict[BerichtType, dict[str, frozenset[Categorie]]]
    # spec v2 §2: the service hours of every partner, by OIN
    diensturen: dict[str, Diensturen]
    # spec v2 §10: the norms followed (the active rows of normen.yaml)
    normen: tuple[NormEntry, ...]
    # spec v2 §8: per type, the fields required in every part that has them (``verplicht``)
    vereist: dict[BerichtType, frozenset[str]] = field(default_factory=dict)

    @functools.cached_property
    def sluitende_rollen(self) -> dict[str, frozenset[str]]:
        """Per norm, the rollen that may send a message closing it (computed once)."""
        afzenders = {
            str(t): {str(r) for r in regel.afzenders} for t, regel in self.berichten.items()
        }
        return {
            norm.naam: frozenset(
                rol
                for s in norm.gesloten_door
                for rol in afzenders.get(s.type, set())
                if s.van in (None, rol)
            )
            for norm in self.normen
        }

    @functools.cached_property
    def sluiters(self) -> dict[str, tuple[tuple[NormEntry, Sluiter], ...]]:
        """Per BerichtType, each (norm, closer) whose closer is a message of that type, in
        the order of normen.yaml (computed once): what a message of the type may close."""
        per_type: dict[str, list[tuple[NormEntry, Sluiter]]] = {}
        for norm in self.normen:
            for sluiter in norm.gesloten_door:
                per_type.setdefault(sluiter.type, []).append((norm, sluiter))
        return {berichttype: tuple(paren) for berichttype, paren in per_type.items()}

    @functools.cached_property
    def _geopend(self) -> dict[str, tuple[NormEntry, ...]]:
        """Per type that opens a norm of its own, the norms it may open (:meth:`geopend_bij`),
        and under ``levering`` those every delivery opens (computed once)."""
        typen = {norm.geopend_door for norm in self.normen}
        return {t: tuple(n for n in self.normen if n.geopend_door in (LEVERING, t)) for t in typen}

    def geopend_bij(self, berichttype: str) -> tuple[NormEntry, ...]:
        """The norms a message of ``berichttype`` may open: those opened by its type and those
        every delivery opens, in the order of normen.yaml."""
        found = self._geopend.get(berichttype)
        return found if found is not None else self._geopend.get(LEVERING, ())

    @functools.cached_property
    def _per_rol(self) -> dict[str, tuple[PartnerEntry, ...]]:
        """The partners of each rol, in register order (computed once)."""
        per_rol: dict[str, list[PartnerEntry]] = {}
        for partner in self.partners.values():
            per_rol.setdefault(str(partner.rol), []).append(partner)
        return {rol: tuple(partners) for rol, partners in per_rol.items()}

    def partners_met_rol(self, rol: Rol) -> list[PartnerEntry]:
        return list(self._per_rol.get(str(rol), ()))

    def vragers(self, berichttype: str, afzender_oin: str) -> list[PartnerEntry]:
        """Who may have asked the question an answer of ``berichttype`` from ``afzender_oin``
        answers (v2 §6): every partner, but the sender, of a rol that a ``vraag`` route of
        the type goes to, by rol name; none for a type that answers nothing."""
        regel = self.berichten.get(berichttype)
        if regel is None or not regel.antwoord_op:
            return []
        rollen = sorted({str(r.naar) for r in regel.routes if _VRAAG in r.regios})
        return [p for rol in rollen for p in self.partners_met_rol(rol) if p.oin != afzender_oin]

    def regio_van_postcode(self, postcode: str) -> str | None:
        """The partner of ``regio_rol`` (Veilig Thuis) whose v1 range covers the postcode."""
        number = _postcode_nummer(postcode)
        return None if number is None else self._regio_tabel.vind(number)

    def doorbrekingsgronden(self, doel: Doel) -> frozenset[str]:
        """The senders' grounds for breaking beroepsgeheim that ``doel`` accepts (v2 §8)."""
        entry = self.doelen.get(doel)
        return frozenset(entry.doorbrekingsgronden) if entry is not None else frozenset()

    def gemeente_van_postcode(self, postcode: str) -> GemeenteEntry | None:
        """The gemeente whose postcode ranges hold the postcode (v2 §2)."""
        number = _postcode_nummer(postcode)
        return None if number is None else self._gemeente_tabel.vind(number)

    @functools.cached_property
    def _regio_tabel(self) -> Bereiken[str]:
        """The v1 regio ranges, for a lookup by bisection (made once)."""
        return Bereiken((r.van, r.tot, r.oin) for r in self.regios)

    @functools.cached_property
    def _gemeente_tabel(self) -> Bereiken[GemeenteEntry]:
        """Every gemeente's postcode ranges, for a lookup by bisection (made once)."""
        return Bereiken((b.van, b.tot, g) for g in self.gemeenten for b in g.postcodes)

    def prepare(self) -> None:
        """Make the tables derived from the policy now (each is otherwise made when first
        used): a running gateway does at start, so that no message pays for them."""
        _ = (self.sluiters, self._geopend, self.sluitende_rollen, self._per_rol)
        _ = (self._regio_tabel, self._gemeente_tabel)

    def partner_in_gemeente(self, gemeente: GemeenteEntry, rol: Rol) -> PartnerEntry | None:
        """The gemeente's partner of ``rol`` (none: the gemeente has no such partner)."""
        for oin in gemeente.partners:
            partner = self.partners[oin]
            if partner.rol == rol:
                return partner
        return None

    def bewaartermijn_dagen(self, doel: Doel | None = None) -> int:
        """Retention of audit records: the doel's; unknown doel: the longest in the policy."""
        if doel is not None and doel in self.doelen:
            return self.doelen[doel].bewaartermijn_dagen
        return max(d.bewaartermijn_dagen for d in self.doelen.values())


_T = TypeVar("_T")


class Bereiken(Generic[_T]):
    """Number ranges (``van`` to ``tot``, both included) that do not overlap — the policy
    check refuses overlapping postcode and regio ranges — each with its value, found by
    bisection instead of a walk over every range."""

    def __init__(self, bereiken: Iterable[tuple[int, int, _T]]) -> None:
        geordend = sorted(bereiken, key=lambda b: b[0])
        self._van = [van for van, _, _ in geordend]
        self._tot = [tot for _, tot, _ in geordend]
        self._waarde = [waarde for _, _, waarde in geordend]

    def vind(self, number: int) -> _T | None:
        """The value of the range that holds ``number``; None when none does."""
        i = bisect.bisect_right(self._van, number) - 1
        return self._waarde[i] if i >= 0 and number <= self._tot[i] else None


def _postcode_nummer(postcode: str) -> int | None:
    digits = postcode.strip()[:4]
    return int(digits) if len(digits) == 4 and digits.isdigit() else None


def load_policy(
    directory: Path,
    *,
    leesbaar: Mapping[Rol, frozenset[BerichtType]] | None = None,
    typen: Berichttypen | None = None,
) -> Policy:
    """Read and check a policy folder; :class:`PolicyError` when anything is wrong.

    ``leesbaar``: per rol, the types its adapter can read as a sender (the codec's
    ``readable()``); given, a rol allowed to send a type its format cannot express is an error.
    ``typen``: the folder's catalogue when the caller read it already (for its codec);
    otherwise it is read here.
    """
    if not directory.is_dir():
        raise PolicyError(str(directory), None, "policy folder does not exist")
    if typen is None:
        typen = load_typen(directory)
    meta, _ = parse_file(PolicyMeta, directory / "policy.yaml")
    partners, partner_lines = parse_file(PartnersFile, directory / "partners.yaml")
    doelen, doel_lines = parse_file(DoelenFile, directory / "doelen.yaml")
    berichten, bericht_lines = parse_file(BerichtenFile, directory / "berichten.yaml")
    normen, norm_lines = parse_file(NormenFile, directory / "normen.yaml")

    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode() + b"\0" + (directory / name).read_bytes() + b"\0")

    by_oin: dict[str, PartnerEntry] = {}
    for i, partner in enumerate(partners.partners):
        if partner.oin in by_oin:
            raise PolicyError(
                "partners.yaml", line_of(partner_lines, ("partners", i)), f"OIN {partner.oin} twice"
            )
        by_oin[partner.oin] = partner
    check_partners(partners, partner_lines, typen)
    check_gemeenten(partners, partner_lines, by_oin)
    if partners.regio_rol is not None:
        check_regios(partners, partner_lines, by_oin, partners.regio_rol)
    check_diensturen(partners, partner_lines)
    check_doelen(doelen, doel_lines, typen)
    check_berichten(berichten, bericht_lines, doelen, by_oin, typen)
    check_normen(normen, norm_lines, berichten, typen)
    if leesbaar is not None:
        check_leesbaar(berichten, bericht_lines, leesbaar)
    return Policy(
        versie=f"{meta.versie}+sha256:{digest.hexdigest()[:12]}",
        directory=directory,
        typen=typen,
        partners=by_oin,
        regios=tuple(partners.regios),
        gemeenten=tuple(partners.gemeenten),
        regio_rol=partners.regio_rol,
        doelen=dict(doelen.doelen),
        berichten=dict(berichten.berichten),
        vrije_tekst={
            t: {path: frozenset(cats) for path, cats in regel.vrije_tekst.items()}
            for t, regel in berichten.berichten.items()
        },
        diensturen={
            oin: partners.diensturen[p.diensturen or partners.standaard_diensturen]
            for oin, p in by_oin.items()
        },
        normen=tuple(n for n in normen.normen if n.actief),
        vereist={
            t: frozenset(regel.verplicht)
            for t, regel in berichten.berichten.items()
            if regel.verplicht
        },
    )
