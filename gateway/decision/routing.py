"""Doelbinding, the recipients and what each may see (the sender is authorised already:
``gateway.decision.authorise``).

Everything here follows from the policy (``gateway.policy.catalogue``); nothing is decided per
BerichtType in code. Refusals are :class:`Refused` with the codes of spec §6.

Choices where the spec is silent (documented in the README):
- a partner never receives its own message (an ActieoverlegBesluit from the OM goes to the
  four others);
- a recipient rol shared by several partners (Veilig Thuis regions) needs a regio: from a
  postcode in the body (a postcode outside every regio → GEEN_ONTVANGER, spec §5), or
  ``conversatie``: the regio that took part earlier in the same ConversatieId, else the one the
  sender names as Ontvanger; a casus in which no Veilig Thuis took part (a ZSM case without
  HG-label) simply has no Veilig Thuis recipient;
- Ontvangers in the Kop narrow the routing to exactly those partners, before any regio is
  looked for (a route to a rol the sender did not name needs none); naming one the policy
  would not route to is ONTVANGER_NIET_TOEGESTAAN;
- grondslag per party (spec v2 §4): every recipient must be covered by a grondslag the
  sender cited that is acceptable for (doel, sending rol, recipient rol) in ``doelen.yaml``;
  the first such cited code is the one its copy names. Until rules are marked required or
  optional (v2 §5), every routed recipient counts as required: one not covered refuses the
  whole message GRONDSLAG_ONTBREEKT, naming the recipient and the acceptable codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.domain.errors import Refused
from gateway.domain.model import (
    Bericht,
    Categorie,
    Doel,
    Foutcode,
    Prioriteit,
)
from gateway.policy.catalogue import Policy
from gateway.policy.fieldpath import resolve
from gateway.policy.files import (
    BerichtRegel,
    Conditie,
    DoelConditie,
    LeeftijdConditie,
    PartnerEntry,
    Route,
    VeldConditie,
)


@dataclass(frozen=True)
class Ontvanger:
    """One recipient: the partner, the cited grondslag it is delivered under and its granted
    categories."""

    partner: PartnerEntry
    grondslag: str
    granted: frozenset[Categorie]


@dataclass(frozen=True)
class Routering:
    """The decision for one accepted message."""

    afzender: PartnerEntry
    doel: Doel
    grondslagen: tuple[str, ...]
    ontvangers: tuple[Ontvanger, ...]
    prioriteit: Prioriteit | None
    policy_versie: str


class Router:
    """Doelbinding and recipients for one authorised message, from the policy alone."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    # ----------------------------------------------------------------- steps

    def check_doel(self, bericht: Bericht) -> Doel:
        """The doel fits the type (the grondslagen are checked per recipient: ``route``)."""
        kop = bericht.kop
        regel = self.policy.berichten[kop.berichttype]
        assert kop.doelbinding is not None  # required for catalogue types by the reader
        doel = kop.doelbinding.doel
        if doel not in regel.doelen:
            raise Refused(
                Foutcode.DOEL_NIET_TOEGESTAAN,
                f"doel {doel} is not allowed for {kop.berichttype} "
                f"(allowed: {', '.join(d for d in regel.doelen)})",
                element="kp:Doel",
            )
        return doel

    def grondslag_voor(
        self, bericht: Bericht, doel: Doel, afzender: PartnerEntry, ontvanger: PartnerEntry
    ) -> str:
        """The first cited grondslag acceptable for (doel, afzender's rol, ontvanger's rol)."""
        assert bericht.kop.doelbinding is not None
        cited = bericht.kop.doelbinding.grondslagen
        acceptable = self.policy.doelen[doel].acceptabel(afzender.rol, ontvanger.rol)
        for code in cited:
            if code in acceptable:
                return code
        raise Refused(
            Foutcode.GRONDSLAG_ONTBREEKT,
            f"no cited grondslag covers recipient {ontvanger.oin} ({ontvanger.rol}) for "
            f"doel {doel} from {afzender.rol}: got {', '.join(cited)}; acceptable: "
            f"{', '.join(acceptable) or 'none'}",
            element="kp:Grondslag",
        )

    def route(
        self, bericht: Bericht, afzender: PartnerEntry, deelnemers: frozenset[str] = frozenset()
    ) -> Routering:
        """doelbinding → recipients with their grants (the sender is authorised already).

        ``deelnemers``: the OINs that took part in this conversation (for ``regio:
        conversatie``), looked up by the runtime before the decision.
        """
        doel = self.check_doel(bericht)
        regel = self.policy.berichten[bericht.kop.berichttype]
        named = {p.oin for p in bericht.kop.ontvangers}
        named_rollen = {p.rol for p in bericht.kop.ontvangers}
        partners: dict[str, PartnerEntry] = {}
        for route in regel.routes:
            if named and route.naar not in named_rollen:
                continue  # narrowed away: no regio needed for a rol nobody asked for
            if self._holds(route.als, bericht):
                for partner in self._partners_for(route, bericht, named, deelnemers):
                    partners[partner.oin] = partner
        partners.pop(afzender.oin, None)
        if named:
            for ontvanger in bericht.kop.ontvangers:
                routed = partners.get(ontvanger.oin)
                if routed is None or routed.rol != ontvanger.rol:
                    raise Refused(
                        Foutcode.ONTVANGER_NIET_TOEGESTAAN,
                        f"the policy does not route this {bericht.kop.berichttype} to "
                        f"{ontvanger.oin} ({ontvanger.rol})",
                        element="kp:Ontvanger",
                    )
            partners = {oin: p for oin, p in partners.items() if oin in named}
        if not partners:
            raise Refused(
                Foutcode.GEEN_ONTVANGER,
                f"the policy routes this {bericht.kop.berichttype} with doel {doel} to nobody",
            )
        ontvangers = tuple(
            self._ontvanger(
                p, self.grondslag_voor(bericht, doel, afzender, p), regel, doel, bericht
            )
            for p in partners.values()
        )
        used = {o.grondslag for o in ontvangers}
        assert bericht.kop.doelbinding is not None
        return Routering(
            afzender=afzender,
            doel=doel,
            grondslagen=tuple(g for g in bericht.kop.doelbinding.grondslagen if g in used),
            ontvangers=ontvangers,
            prioriteit=regel.prioriteit or bericht.kop.prioriteit,
            policy_versie=self.policy.versie,
        )

    # ----------------------------------------------------------------- helpers

    def _partners_for(
        self, route: Route, bericht: Bericht, named: set[str], deelnemers: frozenset[str]
    ) -> Iterable[PartnerEntry]:
        candidates = self.policy.partners_met_rol(route.naar)
        if route.regio is None:
            return candidates
        if route.regio == "conversatie":
            return [p for p in candidates if p.oin in deelnemers] or [
                p for p in candidates if p.oin in named
            ]
        postcode = resolve(bericht, route.regio)
        if not isinstance(postcode, str):
            raise Refused(
                Foutcode.GEEN_ONTVANGER,
                f"no postcode at {route.regio} to find the {route.naar} regio",
            )
        oin = self.policy.regio_van_postcode(postcode)
        if oin is None:
            raise Refused(
                Foutcode.GEEN_ONTVANGER,
                f"postcode {postcode[:4]} is in no {route.naar} regio",
                element="Postcode",
            )
        return [p for p in candidates if p.oin == oin]

    def _ontvanger(
        self,
        partner: PartnerEntry,
        grondslag: str,
        regel: BerichtRegel,
        doel: Doel,
        bericht: Bericht,
    ) -> Ontvanger:
        allowed = self.policy.doelen[doel].ontvangers[partner.rol]
        toegang = regel.toegang.get(doel, {}).get(partner.rol)
        if toegang is None:
            granted = frozenset(allowed.categorieen)
        else:
            granted = frozenset(toegang.categorieen).union(
                *(e.categorieen for e in toegang.extra if self._holds(e.als, bericht))
            )
        return Ontvanger(partner=partner, grondslag=grondslag, granted=granted)

    def _holds(self, als: list[Conditie], bericht: Bericht) -> bool:
        return all(self._condition(c, bericht) for c in als)

    @staticmethod
    def _condition(conditie: Conditie, bericht: Bericht) -> bool:
        if isinstance(conditie, DoelConditie):
            doelbinding = bericht.kop.doelbinding
            return doelbinding is not None and doelbinding.doel == conditie.doel
        if isinstance(conditie, VeldConditie):
            return bool(resolve(bericht, conditie.veld) == conditie.is_)
        assert isinstance(conditie, LeeftijdConditie)
        geboren = resolve(bericht, f"{conditie.leeftijd}.geboortedatum")
        peil = resolve(bericht, conditie.op)
        if not isinstance(geboren, dt.date) or not isinstance(peil, dt.date):
            return False
        peildatum = peil.date() if isinstance(peil, dt.datetime) else peil
        leeftijd = leeftijd_op(geboren, peildatum)
        if conditie.minimaal is not None:
            return leeftijd >= conditie.minimaal
        assert conditie.onder is not None
        return leeftijd < conditie.onder


__all__ = ["Ontvanger", "Router", "Routering"]


def leeftijd_op(geboren: dt.date, peildatum: dt.date) -> int:
    """Age in whole years on ``peildatum`` of someone born on ``geboren``."""
    jaren = peildatum.year - geboren.year
    if (peildatum.month, peildatum.day) < (geboren.month, geboren.day):
        jaren -= 1
    return jaren
