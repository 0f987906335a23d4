"""Doelbinding, the recipients and what each may see (the sender is authorised already:
``gateway.decision.authorise``).

Everything here follows from the policy (``gateway.policy.catalogue``); nothing is decided per
BerichtType in code. Refusals are :class:`Refused` with the codes of spec §6.

Choices where the spec is silent (documented in the README):
- a partner never receives its own message (an ActieoverlegBesluit from the OM goes to the
  four others);
- every rule is required or optional, with its conditions (spec v2 §5, §9); a rule whose
  conditions do not hold does not apply and is no gap. A rule that applies is resolved to its
  partners: all of its rol, those of its rol that took part in the conversation
  (``deelgenomen``), the regio of a postcode in the body, or ``conversatie``: the regio that
  took part earlier in the same ConversatieId. A required rule that cannot be resolved refuses
  the message GEEN_ONTVANGER, naming the rule and what was missing; an optional one is
  reported (:class:`Regeluitkomst`, in the Ontvangstbevestiging);
- an Ontvanger in the Kop selects, per rol, which partners of that rol receive it, among those
  its rule resolves to; rollen the sender does not name are routed as usual. A named partner
  no applying rule resolves to is ONTVANGER_NIET_TOEGESTAAN, except that it fills a required
  rule whose partner could not be resolved (no VT regio yet in a HG conversation);
- grondslag per party (spec v2 §4): every recipient must be covered by a grondslag the
  sender cited that is acceptable for (doel, sending rol, recipient rol) in ``doelen.yaml``;
  the first such cited code is the one its copy names. A required recipient not covered
  refuses the whole message GRONDSLAG_ONTBREEKT, naming the recipient and the acceptable
  codes; an optional one is left out and reported.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from gateway.decision.reeks import Reeksstand, toets_versie
from gateway.domain.errors import Refused
from gateway.domain.model import (
    Bericht,
    Categorie,
    Doel,
    Foutcode,
    Prioriteit,
    Rol,
)
from gateway.policy.catalogue import Policy
from gateway.policy.fieldpath import resolve, resolve_all
from gateway.policy.files import (
    AFGESCHERMD,
    CASUSREGIE,
    CONVERSATIE,
    GEHEUGEN_REGIOS,
    GESPREK_CONDITIES,
    OVERDRACHT_STATUSSEN,
    REEKS_INGETROKKEN,
    VRAAG,
    BerichtRegel,
    Conditie,
    DeelnameConditie,
    DoelConditie,
    GenoemdConditie,
    HgConditie,
    LeeftijdConditie,
    OverdrachtConditie,
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
class Regeluitkomst:
    """One routing rule that applied (v2 §5, §9): rule ``nummer`` (1-based, in the type's
    ``routes``) to rol ``naar``, the partners that received the message under it, and for an
    optional rule that reached nobody what was missing."""

    nummer: int
    naar: str
    verplicht: bool
    ontvangers: tuple[str, ...]
    ontbreekt: str | None = None


@dataclass(frozen=True)
class Gevraagd:
    """A question delivered to the sender of an answer (routing memory, v2 §5): the partner
    that asked, the question's type and doel."""

    afzender_oin: str
    berichttype: str
    doel: str


@dataclass(frozen=True)
class Geheugen:
    """What the routing memory knows of the conversation (v2 §5), looked up by the runtime
    before the decision: who took part, whether it is HG, who holds casusregie, the status of
    its Overdracht, and the questions kp:InAntwoordOp names that went to this sender."""

    deelnemers: frozenset[str] = frozenset()
    hg: bool = False
    casusregie: str | None = None
    overdracht: str | None = None
    gevraagd: tuple[Gevraagd, ...] = ()
    reeks: Reeksstand | None = None  # the afspraken reeks this versie belongs to (v2 §6)


@dataclass(frozen=True)
class _Gesprek:
    """The routing memory with this message's own HG label, the asker it answers and the
    rollen the sender named."""

    deelnemers: frozenset[str]
    hg: bool
    casusregie: str | None = None
    overdracht: str | None = None
    vraag: PartnerEntry | None = None
    genoemd: frozenset[str] = frozenset()
    afzender: str = ""


class _Uitkomst(NamedTuple):
    """A rule that applies, with the partners it resolved to (or what it missed)."""

    nummer: int
    route: Route
    partners: tuple[PartnerEntry, ...]
    ontbreekt: str | None


@dataclass(frozen=True)
class Routering:
    """The decision for one accepted message."""

    afzender: PartnerEntry
    doel: Doel
    grondslagen: tuple[str, ...]
    ontvangers: tuple[Ontvanger, ...]
    prioriteit: Prioriteit | None
    policy_versie: str
    regels: tuple[Regeluitkomst, ...]  # per rule that applied, who received it
    hg: bool  # the message labels its casus HG (kept in the routing memory)
    bewaartermijn_dagen: int  # the doel's: how long the routing memory keeps the casus
    # what the routing memory keeps of it (v2 §5): its sender takes casusregie; the status
    # of the conversation's Overdracht; it is a question (kept with its recipients so that
    # only the asker gets the answer)
    casusregie: bool = False
    overdracht: str | None = None
    vraag: bool = False
    # an afspraken versie (v2 §6): the reeks record as it stands after this versie
    reeks: Reeksstand | None = None


class Router:
    """Doelbinding and recipients for one authorised message, from the policy alone."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        # the types some type answers: kept in the routing memory with their recipients
        self.vragen = frozenset(
            vraag for regel in policy.berichten.values() for vraag in regel.antwoord_op
        )

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
        self, bericht: Bericht, afzender: PartnerEntry, geheugen: Geheugen | None = None
    ) -> Routering:
        """doelbinding → recipients with their grants (the sender is authorised already).

        ``geheugen``: the routing memory of the conversation (v2 §5), looked up by the runtime
        before the decision.
        """
        geheugen = geheugen or Geheugen()
        regel = self.policy.berichten[bericht.kop.berichttype]
        self.check_inhoud(bericht, regel)
        self.check_afzender(bericht, afzender, regel)
        doel = self.check_doel(bericht)
        eigen_hg = regel.hg_label is not None and resolve(bericht, regel.hg_label) is True
        gesprek = _Gesprek(
            deelnemers=geheugen.deelnemers,
            hg=geheugen.hg or eigen_hg,
            casusregie=geheugen.casusregie,
            overdracht=geheugen.overdracht,
            vraag=self._vraag(bericht, afzender, regel, doel, geheugen),
            genoemd=frozenset(str(p.rol) for p in bericht.kop.ontvangers),
            afzender=afzender.oin,
        )
        versie = (
            toets_versie(bericht, regel.reeks, afzender.oin, geheugen.reeks)
            if regel.reeks is not None
            else None
        )
        # a withdrawal goes to the reeks's earlier recipients only, not by the routes (v2 §6)
        intrekking = versie is not None and versie.status == REEKS_INGETROKKEN
        uitkomsten = [] if intrekking else self._resolve(bericht, afzender, regel, gesprek)
        ontvangers: dict[str, Ontvanger] = {}
        regels = tuple(
            self._bereik(bericht, doel, afzender, regel, uitkomst, ontvangers)
            for uitkomst in uitkomsten
        )
        if versie is not None and geheugen.reeks is not None:
            # every earlier recipient gets the new versie (it replaces by reeks-id)
            for oin in sorted(geheugen.reeks.ontvangers - set(ontvangers) - {afzender.oin}):
                partner = self.policy.partners.get(oin)
                if partner is None:  # left the register since
                    continue
                grondslag = self.grondslag_voor(bericht, doel, afzender, partner)
                ontvangers[oin] = self._ontvanger(partner, grondslag, regel, doel, bericht)
        if not ontvangers:
            raise Refused(
                Foutcode.GEEN_ONTVANGER,
                f"the policy routes this {bericht.kop.berichttype} with doel {doel} to nobody",
            )
        used = {o.grondslag for o in ontvangers.values()}
        assert bericht.kop.doelbinding is not None
        onthoud = regel.geheugen
        overdracht = (
            resolve(bericht, onthoud.overdracht)
            if onthoud is not None and onthoud.overdracht is not None
            else None
        )
        return Routering(
            afzender=afzender,
            doel=doel,
            grondslagen=tuple(g for g in bericht.kop.doelbinding.grondslagen if g in used),
            ontvangers=tuple(ontvangers.values()),
            prioriteit=regel.prioriteit or bericht.kop.prioriteit,
            policy_versie=self.policy.versie,
            regels=regels,
            hg=eigen_hg,
            bewaartermijn_dagen=self.policy.bewaartermijn_dagen(doel),
            casusregie=(
                onthoud is not None
                and onthoud.casusregie is not None
                and self._holds(onthoud.casusregie.als, bericht)
            ),
            overdracht=overdracht if overdracht in OVERDRACHT_STATUSSEN else None,
            vraag=bericht.kop.berichttype in self.vragen,
            reeks=(
                Reeksstand(
                    reeks_id=versie.reeks_id,
                    houder_oin=afzender.oin,
                    versie=versie.versie,
                    status=versie.status,
                    geldig_tot=(
                        geheugen.reeks.geldig_tot
                        if intrekking and geheugen.reeks is not None
                        else versie.geldig_tot
                    ),
                    ontvangers=frozenset(ontvangers)
                    | (geheugen.reeks.ontvangers if geheugen.reeks is not None else frozenset()),
                    grondslag=next(g for g in bericht.kop.doelbinding.grondslagen if g in used),
                    doel=doel,
                )
                if versie is not None
                else None
            ),
        )

    def check_inhoud(self, bericht: Bericht, regel: BerichtRegel) -> None:
        """Content rules the XSD cannot express (``vereist``, ``tijdgrenzen``): refused
        SCHEMA_ONGELDIG naming the field."""
        soort = bericht.kop.berichttype
        for vereiste in regel.vereist:
            if not self._holds(vereiste.als, bericht):
                continue
            for pad in vereiste.velden:
                if resolve(bericht, pad) in (None, "", []):
                    wanneer = " and ".join(_beschrijf(c) for c in vereiste.als)
                    raise Refused(
                        Foutcode.SCHEMA_ONGELDIG,
                        f"a {soort} needs {pad}" + (f" when {wanneer}" if wanneer else ""),
                        element=pad.rsplit(".", 1)[-1],
                    )
        for grens in regel.tijdgrenzen:
            tijdstip = bericht.kop.tijdstip
            uiterlijk = _maanden_later(tijdstip.date(), grens.maanden)
            for waarde in resolve_all(bericht, grens.veld):
                datum = waarde.date() if isinstance(waarde, dt.datetime) else waarde
                if isinstance(datum, dt.date) and datum > uiterlijk:
                    raise Refused(
                        Foutcode.SCHEMA_ONGELDIG,
                        f"{grens.veld} {datum.isoformat()} of this {soort} is more than "
                        f"{grens.maanden} months after its Tijdstip (at most "
                        f"{uiterlijk.isoformat()})",
                        element=grens.veld.rsplit(".", 1)[-1],
                    )

    def check_afzender(self, bericht: Bericht, afzender: PartnerEntry, regel: BerichtRegel) -> None:
        """What this sender's rol may send of the type (``afzender_als``)."""
        als = regel.afzender_als.get(afzender.rol)
        if als is None:
            return
        for conditie in als:
            if not self._holds([conditie], bericht):
                raise Refused(
                    Foutcode.AFZENDER_NIET_GEAUTORISEERD,
                    f"{afzender.rol} may send a {bericht.kop.berichttype} only when "
                    f"{_beschrijf(conditie)}",
                    element=_veld_van(conditie),
                )

    def _vraag(
        self,
        bericht: Bericht,
        afzender: PartnerEntry,
        regel: BerichtRegel,
        doel: Doel,
        geheugen: Geheugen,
    ) -> PartnerEntry | None:
        """For an answer (``antwoord_op``): the partner whose question, named by
        kp:InAntwoordOp, was delivered to this sender; anything else is refused (v2 §6)."""
        if not regel.antwoord_op:
            return None
        kop = bericht.kop
        soorten = " or ".join(regel.antwoord_op)
        if kop.in_antwoord_op is None:
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"a {kop.berichttype} answers a {soorten}: kp:InAntwoordOp names its BerichtId",
                element="kp:InAntwoordOp",
            )
        gevraagd = [g for g in geheugen.gevraagd if g.berichttype in regel.antwoord_op]
        genoemd = {p.oin for p in kop.ontvangers}
        if genoemd:
            gevraagd = [g for g in gevraagd if g.afzender_oin in genoemd]
        if len(gevraagd) != 1:
            raise Refused(
                Foutcode.ONTVANGER_NIET_TOEGESTAAN,
                f"InAntwoordOp {kop.in_antwoord_op} names "
                + (
                    f"no {soorten} delivered to {afzender.oin}"
                    if not gevraagd
                    else "questions of several askers "
                    f"({', '.join(g.afzender_oin for g in gevraagd)}): name the asker as Ontvanger"
                )
                + f"; a {kop.berichttype} goes only to the asker",
                element="kp:InAntwoordOp",
            )
        vraag = gevraagd[0]
        if vraag.doel != doel:
            raise Refused(
                Foutcode.DOEL_NIET_TOEGESTAAN,
                f"a {kop.berichttype} has the doel of the {vraag.berichttype} it answers: "
                f"{vraag.doel}, not {doel}",
                element="kp:Doel",
            )
        asker = self.policy.partners.get(vraag.afzender_oin)
        if asker is None:
            raise Refused(
                Foutcode.ONTVANGER_NIET_TOEGESTAAN,
                f"the asker {vraag.afzender_oin} of {kop.in_antwoord_op} is no partner any more",
                element="kp:InAntwoordOp",
            )
        return asker

    # ----------------------------------------------------------------- helpers

    def _resolve(
        self, bericht: Bericht, afzender: PartnerEntry, regel: BerichtRegel, gesprek: _Gesprek
    ) -> list[_Uitkomst]:
        """Per rule that applies, the partners it resolves to, narrowed per rol to the named
        ones (or filled by them), and what an unresolved one missed. Refused: a named partner
        no rule admits (ONTVANGER_NIET_TOEGESTAAN), else the first required rule that cannot
        be resolved (GEEN_ONTVANGER)."""
        genoemd = self._genoemd(bericht, afzender)
        waarom = _waarom_niet(bericht, regel, genoemd)
        toegelaten: set[str] = set()
        uitkomsten: list[_Uitkomst] = []
        gat: Refused | None = None
        for nummer, route in enumerate(regel.routes, start=1):
            if not self._applies(route, bericht, gesprek):
                continue  # does not apply: no gap (v2 §9)
            gevonden, ontbreekt = self._partners_for(route, bericht, gesprek, afzender)
            gevonden = [p for p in gevonden if p.oin != afzender.oin]
            namen = genoemd.get(str(route.naar))
            if namen is not None:  # the sender selects among this rol's partners (v2 §5)
                waarom[str(route.naar)] = _regel_naam(bericht, nummer, route) + (
                    f" routes to {', '.join(p.oin for p in gevonden) or 'nobody'}"
                    if ontbreekt is None
                    else f" cannot be resolved: {ontbreekt}"
                )
                if ontbreekt is not None and route.verplicht:
                    gevonden, ontbreekt = list(namen.values()), None  # a named one fills it
                gevonden = [p for p in gevonden if p.oin in namen]
                toegelaten.update(p.oin for p in gevonden)
            if ontbreekt is not None and route.verplicht and gat is None:
                gat = Refused(
                    Foutcode.GEEN_ONTVANGER,
                    f"{_regel_naam(bericht, nummer, route)} cannot be resolved: {ontbreekt}",
                    element=_element(route),
                )
            uitkomsten.append(_Uitkomst(nummer, route, tuple(gevonden), ontbreekt))
        for rol, namen in genoemd.items():
            for oin in namen:
                if oin not in toegelaten:
                    raise Refused(
                        Foutcode.ONTVANGER_NIET_TOEGESTAAN,
                        f"{oin} ({rol}) may not receive this {bericht.kop.berichttype}: "
                        f"{waarom[rol]}",
                        element="kp:Ontvanger",
                    )
        if gat is not None:  # a required rule that cannot be resolved (v2 §9)
            raise gat
        return uitkomsten

    def _bereik(
        self,
        bericht: Bericht,
        doel: Doel,
        afzender: PartnerEntry,
        regel: BerichtRegel,
        uitkomst: _Uitkomst,
        ontvangers: dict[str, Ontvanger],
    ) -> Regeluitkomst:
        """The recipients of one rule, each under a cited grondslag (added to ``ontvangers``).
        A required recipient not covered refuses the message; an optional one is left out and
        reported (v2 §4)."""
        ontbreekt = uitkomst.ontbreekt
        bereikt: list[str] = []
        for partner in uitkomst.partners:
            if partner.oin not in ontvangers:
                try:
                    grondslag = self.grondslag_voor(bericht, doel, afzender, partner)
                except Refused as refused:
                    if uitkomst.route.verplicht:
                        raise
                    ontbreekt = refused.reden
                    continue
                ontvangers[partner.oin] = self._ontvanger(partner, grondslag, regel, doel, bericht)
            bereikt.append(partner.oin)
        return Regeluitkomst(
            nummer=uitkomst.nummer,
            naar=str(uitkomst.route.naar),
            verplicht=uitkomst.route.verplicht,
            ontvangers=tuple(bereikt),
            ontbreekt=None if bereikt else ontbreekt,
        )

    def _genoemd(
        self, bericht: Bericht, afzender: PartnerEntry
    ) -> dict[str, dict[str, PartnerEntry]]:
        """The Ontvangers in the Kop per rol; one that is no partner of that rol, or the sender
        itself, is ONTVANGER_NIET_TOEGESTAAN."""
        genoemd: dict[str, dict[str, PartnerEntry]] = {}
        for partij in bericht.kop.ontvangers:
            partner = self.policy.partners.get(partij.oin)
            if (
                partner is None
                or str(partner.rol) != str(partij.rol)
                or partner.oin == afzender.oin
            ):
                raise Refused(
                    Foutcode.ONTVANGER_NIET_TOEGESTAAN,
                    f"{partij.oin} ({partij.rol}) is no partner this "
                    f"{bericht.kop.berichttype} can be routed to",
                    element="kp:Ontvanger",
                )
            genoemd.setdefault(str(partner.rol), {})[partner.oin] = partner
        return genoemd

    def _partners_for(
        self, route: Route, bericht: Bericht, gesprek: _Gesprek, afzender: PartnerEntry
    ) -> tuple[list[PartnerEntry], str | None]:
        """The partners a rule resolves to, or none and what was missing: the first of its
        ``regio`` ways that finds one."""
        candidates = self.policy.partners_met_rol(route.naar)
        if any(isinstance(c, DeelnameConditie) for c in route.als):
            candidates = [p for p in candidates if p.oin in gesprek.deelnemers]
        if not route.regios:
            return candidates, None
        missing: list[str] = []
        for regio in route.regios:
            found, why = self._regio(regio, route, candidates, bericht, gesprek, afzender)
            if found:
                return found, None
            missing.append(why)
        return [], "; ".join(missing)

    def _regio(
        self,
        regio: str,
        route: Route,
        candidates: list[PartnerEntry],
        bericht: Bericht,
        gesprek: _Gesprek,
        afzender: PartnerEntry,
    ) -> tuple[list[PartnerEntry], str]:
        """One way of finding the partner of a rol (v2 §2, §5): the conversation, the asker,
        the casusregie holder, or a postcode through its gemeente (the sender's own regio
        when the address is afgeschermd, v2 §8)."""
        naar = route.naar
        if regio == CONVERSATIE:
            found = [p for p in candidates if p.oin in gesprek.deelnemers]
            return found, f"no {naar} took part in the conversation (routing memory)"
        if regio == VRAAG:
            found = [p for p in candidates if gesprek.vraag and p.oin == gesprek.vraag.oin]
            return found, f"the asker is no {naar}"
        if regio == CASUSREGIE:
            found = [p for p in candidates if p.oin == gesprek.casusregie]
            return found, f"no {naar} holds casusregie in the conversation (routing memory)"
        if resolve(bericht, f"{regio.rpartition('.')[0]}.{AFGESCHERMD}") is True:
            return self._eigen_regio(regio, naar, candidates, afzender)
        return self._via_postcode(regio, naar, candidates, bericht)

    def _eigen_regio(
        self, pad: str, naar: Rol, candidates: list[PartnerEntry], afzender: PartnerEntry
    ) -> tuple[list[PartnerEntry], str]:
        """The partner of ``naar`` in the sender's own regio, for an address marked
        afgeschermd (v2 §8): its postcode is never read, so the choice of recipient does not
        reveal the gemeente. Found when every gemeente the sender serves has the same partner
        of ``naar``; else the sender names it as Ontvanger."""
        gevonden = {
            partner.oin
            for gemeente in self.policy.gemeenten
            if afzender.oin in gemeente.partners
            and (partner := self.policy.partner_in_gemeente(gemeente, naar)) is not None
        }
        found = [p for p in candidates if p.oin in gevonden]
        if len(gevonden) == 1 and found:
            return found, ""
        return [], (
            f"the address of {pad.rpartition('.')[0]} is afgeschermd and not used for routing, "
            f"and the sender's own regio has {'no single' if gevonden else 'no'} {naar}: "
            "name it as Ontvanger"
        )

    def _via_postcode(
        self, pad: str, naar: Rol, candidates: list[PartnerEntry], bericht: Bericht
    ) -> tuple[list[PartnerEntry], str]:
        """The partner of ``naar`` in the gemeente of the postcode at ``pad`` (v2 §2); for the
        Veilig Thuis rol, else the v1 range that covers it."""
        postcode = resolve(bericht, pad)
        if not isinstance(postcode, str):
            return [], f"no postcode at {pad} to find the {naar}"
        gemeente = self.policy.gemeente_van_postcode(postcode)
        oin: str | None = None
        if gemeente is not None:
            partner = self.policy.partner_in_gemeente(gemeente, naar)
            oin = partner.oin if partner is not None else None
        if oin is None and naar == self.policy.regio_rol:  # v1's ranges: the VT regio alone
            oin = self.policy.regio_van_postcode(postcode)
        if oin is not None:
            return [p for p in candidates if p.oin == oin], ""
        cijfers = postcode[:4]
        if gemeente is not None:
            naam = f"gemeente {gemeente.code} ({gemeente.naam})"
            return [], f"{naam} of postcode {cijfers} has no {naar}"
        if naar == self.policy.regio_rol:
            return [], f"postcode {cijfers} is in no {naar} regio"
        return [], f"postcode {cijfers} is in no gemeente"

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

    def _applies(self, route: Route, bericht: Bericht, gesprek: _Gesprek) -> bool:
        """A rule's conditions hold; ``deelgenomen``: a partner of its rol took part. A rule
        that only goes to the asker or the casusregie holder applies when that is of its rol
        (and not the sender: a partner never receives its own message)."""
        for conditie in route.als:
            if isinstance(conditie, HgConditie):
                holds = gesprek.hg
            elif isinstance(conditie, DeelnameConditie):
                holds = any(
                    p.oin in gesprek.deelnemers for p in self.policy.partners_met_rol(route.naar)
                )
            elif isinstance(conditie, OverdrachtConditie):
                holds = gesprek.overdracht == conditie.overdracht
            elif isinstance(conditie, GenoemdConditie):
                holds = str(route.naar) in gesprek.genoemd
            else:
                holds = self._condition(conditie, bericht)
            if not holds:
                return False
        if route.regios and all(r in (VRAAG, CASUSREGIE) for r in route.regios):
            wie = {
                gesprek.casusregie if r == CASUSREGIE else _oin(gesprek.vraag) for r in route.regios
            }
            return any(
                p.oin in wie and p.oin != gesprek.afzender
                for p in self.policy.partners_met_rol(route.naar)
            )
        return True

    def _holds(self, als: list[Conditie], bericht: Bericht) -> bool:
        """Conditions on the message alone (the policy check keeps those on the conversation
        to routes)."""
        return all(
            not isinstance(c, GESPREK_CONDITIES) and self._condition(c, bericht) for c in als
        )

    @staticmethod
    def _condition(conditie: Conditie, bericht: Bericht) -> bool:
        if isinstance(conditie, DoelConditie):
            doelbinding = bericht.kop.doelbinding
            return doelbinding is not None and doelbinding.doel == conditie.doel
        if isinstance(conditie, VeldConditie):
            return conditie.holds(resolve(bericht, conditie.veld))
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


def _waarom_niet(
    bericht: Bericht, regel: BerichtRegel, genoemd: dict[str, dict[str, PartnerEntry]]
) -> dict[str, str]:
    """Per named rol, why a named partner of it would not be admitted (before resolving)."""
    waarom = {rol: f"no rule of {bericht.kop.berichttype} routes to {rol}" for rol in genoemd}
    for nummer, route in enumerate(regel.routes, start=1):
        if str(route.naar) in genoemd:
            waarom[str(route.naar)] = f"{_regel_naam(bericht, nummer, route)} does not apply"
    return waarom


def _regel_naam(bericht: Bericht, nummer: int, route: Route) -> str:
    """How a refusal names a rule: its place in the type's routes and its rol."""
    soort = "required" if route.verplicht else "optional"
    return f"rule {nummer} of {bericht.kop.berichttype} ({soort}, to {route.naar})"


def _element(route: Route) -> str | None:
    """The element a refusal points at for a rule that cannot be resolved."""
    return "Postcode" if any(r not in GEHEUGEN_REGIOS for r in route.regios) else None


def _maanden_later(datum: dt.date, maanden: int) -> dt.date:
    """The same day ``maanden`` months later (the last day of a shorter month)."""
    jaar, maand = divmod(datum.month - 1 + maanden, 12)
    jaar += datum.year
    maand += 1
    dagen = [31, 29 if calendar.isleap(jaar) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return dt.date(jaar, maand, min(datum.day, dagen[maand - 1]))


def _oin(partner: PartnerEntry | None) -> str | None:
    return partner.oin if partner is not None else None


def _beschrijf(conditie: Conditie) -> str:
    """A condition in words, for a refusal."""
    if isinstance(conditie, VeldConditie):
        if conditie.in_ is not None:
            return f"{conditie.veld} is one of {', '.join(str(v) for v in conditie.in_)}"
        return f"{conditie.veld} is {conditie.is_}"
    if isinstance(conditie, DoelConditie):
        return f"its doel is {conditie.doel}"
    if isinstance(conditie, LeeftijdConditie):
        grens = (
            f"at least {conditie.minimaal}"
            if conditie.minimaal is not None
            else f"under {conditie.onder}"
        )
        return f"{conditie.leeftijd} is {grens} years old on {conditie.op}"
    return conditie.model_dump_json(by_alias=True)


def _veld_van(conditie: Conditie) -> str | None:
    if isinstance(conditie, VeldConditie):
        return conditie.veld
    return None


__all__ = ["Geheugen", "Gevraagd", "Ontvanger", "Regeluitkomst", "Router", "Routering"]


def leeftijd_op(geboren: dt.date, peildatum: dt.date) -> int:
    """Age in whole years on ``peildatum`` of someone born on ``geboren``."""
    jaren = peildatum.year - geboren.year
    if (peildatum.month, peildatum.day) < (geboren.month, geboren.day):
        jaren -= 1
    return jaren
