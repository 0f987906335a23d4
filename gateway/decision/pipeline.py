"""The pipeline: one decision path, pure, fed with the facts it needs.

    validate → translate → authorise → doelbinding → route → beroepsgeheim → need-to-know
    → render → answer

:class:`Pipeline` is built once at start (codec, policy, trail, the gateway's OIN). For every
message the runtime calls, in this order::

    gelezen = pipeline.read(ontvangen)          # validate, translate, authorise (pure)
    feiten = await facts(pipeline.vraag(gelezen))  # the only I/O: state and audit lookups
    besluit = pipeline.decide(gelezen, feiten)  # doelbinding … answer (pure)

``read`` returns a :class:`Weigering` or :class:`Onbekend` directly when the message cannot
be read or may not be sent; ``decide`` returns a :data:`Besluit`: a refusal, a duplicate's
earlier answer, the deliveries with their audit entries and answer, or a recipient's
Afleverbevestiging recorded. Nothing here does I/O, logs or counts: the runtime carries out
the decision (claim → audit → publish → mark → answer → ack) and observes each step.
The AMQP consumer, the HTTPS door, ``ketenpoort route`` and the benches all use this path.
The later steps of a delivery outside the message path are decided here too: a recipient
that never took it (:meth:`Pipeline.niet_afleverbaar`) and a dead letter ops put back
(:meth:`Pipeline.opnieuw_aangeboden`), like a recipient's Afleverbevestiging, audited per data
subject the delivery carried by one method (:meth:`Pipeline._vervolg`); the runtime's bounces
gather their facts and carry them out.
"""

from __future__ import annotations

import dataclasses

from gateway.audit.record import Entry
from gateway.codec.envelope import MessageCodec
from gateway.decision import answers
from gateway.decision.afscherming import (
    afgeschermd,
    afscherming_voor,
    beperkingen,
    check_personen,
)
from gateway.decision.authorise import authorise
from gateway.decision.beroepsgeheim import herkomst_van, houd_geheim
from gateway.decision.besluit import (
    Aanvaarding,
    Besluit,
    Bevestiging,
    Feiten,
    Geleverd,
    Gelezen,
    Gerouteerd,
    Herhaling,
    Inlichting,
    Levering,
    Onbekend,
    Ontvangen,
    Vervolg,
    Vraag,
    Weigering,
    sha256,
)
from gateway.decision.needtoknow import Inventarisatie, filter_inhoud
from gateway.decision.normen import gesloten_door, gesloten_per_item, normen_bij
from gateway.decision.routing import Router, Routering
from gateway.decision.signaal import Signaal, signalen, sleutels
from gateway.decision.trail import Trail
from gateway.domain.errors import Refused
from gateway.domain.model import (
    Afleverbevestiging,
    Bericht,
    BerichtType,
    Blokken,
    Foutcode,
    Inhoud,
    Statusantwoord,
    Statusvraag,
    blokken_van,
    bouw_doelbinding,
    bouw_partij,
    is_technisch,
)
from gateway.policy.catalogue import Policy
from gateway.policy.fieldpath import resolve
from gateway.policy.files import (
    GEHEUGEN_REGIOS,
    REEKS_GELDIG,
    DeelnameConditie,
    HgConditie,
    OverdrachtConditie,
)

_GEEN: frozenset[str] = frozenset()


class Pipeline:
    """The decision path. Holds only what depends on shapes, vocabularies and policy."""

    def __init__(self, codec: MessageCodec, policy: Policy, trail: Trail, gateway_oin: str):
        self.codec = codec
        self.policy = policy
        self.router = Router(policy)
        self.trail = trail
        self.gateway_oin = gateway_oin
        # the types whose routing looks at the conversation (the routing memory: who took
        # part, whether it is HG)
        self._per_conversatie = frozenset(
            berichttype
            for berichttype, regel in policy.berichten.items()
            if any(
                any(r in GEHEUGEN_REGIOS for r in route.regios)
                or any(
                    isinstance(c, HgConditie | DeelnameConditie | OverdrachtConditie)
                    for c in route.als
                )
                for route in regel.routes
            )
        )
        # the answers: their question is looked up in the routing memory
        self._antwoorden = frozenset(
            t for t, regel in policy.berichten.items() if regel.antwoord_op
        )
        # per BerichtType the inventory walk with its free-text table (v2 §8)
        self._inventarisaties = {t: Inventarisatie(policy.vrije_tekst.get(t)) for t in policy.typen}

    # ----------------------------------------------------------------- read

    def read(self, ontvangen: Ontvangen, feiten: Feiten) -> Gelezen | Weigering | Onbekend:
        """validate → translate → authorise. ``feiten`` needs only the clock here."""
        if ontvangen.afzender_oin not in self.policy.partners:
            return Onbekend(ontvangen)
        bericht: Bericht | None = None
        blokken: Blokken = ()
        try:
            envelop = self.codec.read_envelope(ontvangen.raw, afzender_oin=ontvangen.afzender_oin)
            authorise(
                self.policy,
                envelop.kop,
                ontvangen.afzender_oin,
                regel=envelop.regel("BerichtType"),
            )
            bericht = self.codec.read_inhoud(envelop)
            # spec v2 §8: what the policy requires of this type on top of the sender's XSD
            self.codec.vereist(envelop, self.policy.vereist.get(bericht.kop.berichttype, _GEEN))
            # spec v2 §8: a person without a BSN has a persoonsnummer; niet-delen-met names one
            if isinstance(bericht.inhoud, Inhoud):
                blokken = blokken_van(bericht.inhoud)  # walked once, looked at several times
                check_personen(bericht.inhoud, blokken)
        except Refused as refused:
            return self.weiger(ontvangen, refused, feiten, bericht)
        gezien = (  # what it holds, for the filter of every recipient and the audit
            self.inventarisatie(bericht.kop.berichttype)(bericht.inhoud)
            if isinstance(bericht.inhoud, Inhoud)
            else None
        )
        return Gelezen(ontvangen=ontvangen, bericht=bericht, blokken=blokken, inventaris=gezien)

    def prepare(self) -> None:
        """Compile the generated code of every type now (the codec's parsers and composers,
        the inventory walks) and make the policy's derived tables (norms, postcode ranges),
        so that no message pays for them: a running gateway does at start; otherwise each
        piece is made when first used."""
        self.codec.prepare()
        self.policy.prepare()
        for berichttype, inventarisatie in self._inventarisaties.items():
            inventarisatie.walk_of(self.policy.typen.model(berichttype), "")

    def inventarisatie(self, berichttype: BerichtType) -> Inventarisatie:
        """The inventory walk of a BerichtType of the catalogue, with its free-text table
        (made at start)."""
        found = self._inventarisaties.get(berichttype)
        if found is None:  # a codec built from another catalogue than the policy's (tests)
            found = self._inventarisaties[berichttype] = Inventarisatie(
                self.policy.vrije_tekst.get(berichttype)
            )
        return found

    def vraag(self, gelezen: Gelezen) -> Vraag:
        """Which facts :meth:`decide` needs for this message."""
        kop = gelezen.bericht.kop
        bevestigt = (
            kop.in_antwoord_op if isinstance(gelezen.bericht.inhoud, Afleverbevestiging) else None
        )
        return Vraag(
            afzender_oin=gelezen.ontvangen.afzender_oin,
            bericht_id=kop.bericht_id,
            conversatie_id=kop.conversatie_id,
            deelnemers=kop.berichttype in self._per_conversatie,
            bevestigt=bevestigt,
            bevestigt_van=tuple(o.oin for o in kop.ontvangers) if bevestigt else (),
            status_van=(
                kop.in_antwoord_op if isinstance(gelezen.bericht.inhoud, Statusvraag) else None
            ),
            antwoord_op=kop.in_antwoord_op if kop.berichttype in self._antwoorden else None,
            reeks_id=self._reeks_id(gelezen.bericht),
            sleutels=self._sleutels(gelezen.bericht),
        )

    def _sleutels(self, bericht: Bericht) -> frozenset[str]:
        """The keyed pseudonyms a message is matched with against the afspraken (v2 §7)."""
        regel = self.policy.berichten.get(bericht.kop.berichttype)
        signaal = regel.afspraken_signaal if regel is not None else None
        if signaal is None:
            return frozenset()
        return sleutels(bericht, signaal.adres, signaal.personen, self.trail.pseudonymise)

    def _reeks_id(self, bericht: Bericht) -> str | None:
        """The reeks-id of an afspraken versie (v2 §6), whose record :meth:`decide` needs."""
        regel = self.policy.berichten.get(bericht.kop.berichttype)
        if regel is None or regel.reeks is None:
            return None
        reeks_id = resolve(bericht, regel.reeks.id)
        return reeks_id if isinstance(reeks_id, str) else None

    # ----------------------------------------------------------------- decide

    def decide(self, gelezen: Gelezen, feiten: Feiten) -> Besluit:
        """doelbinding → route → need-to-know → render → answer, for a read message."""
        eerder = feiten.eerder
        try:
            if isinstance(gelezen.bericht.inhoud, Statusvraag):
                return self._inlichting(gelezen, feiten)
            if is_technisch(gelezen.bericht.kop.berichttype):
                return self._bevestiging(gelezen, feiten)
            if eerder is not None:
                if eerder.sha256 != gelezen.ontvangen.sha256:
                    raise Refused(
                        Foutcode.DUBBEL_BERICHT,
                        f"BerichtId {gelezen.bericht.kop.bericht_id} was already received with "
                        "other content",
                        element="kp:BerichtId",
                    )
                if eerder.antwoord is not None:
                    return Herhaling(
                        bericht=gelezen.bericht,
                        antwoord=eerder.antwoord,
                        stil=gelezen.ontvangen.herbezorgd,
                    )
            aanvaarding = self._aanvaarding(gelezen, feiten)
        except Refused as refused:
            return self.weiger(gelezen.ontvangen, refused, feiten, gelezen.bericht)
        if eerder is None:
            return aanvaarding
        # Planned but never answered: resume. Only what was planned is delivered (the
        # policy may have changed since), and only the unconfirmed part is published again.
        return Aanvaarding(
            gerouteerd=aanvaarding.gerouteerd,
            leveringen=tuple(
                lev for lev in aanvaarding.leveringen if lev.ontvanger.partner.oin in eerder.gepland
            ),
            antwoord=aanvaarding.antwoord,
            entries=aanvaarding.entries,
            hervat=True,
            alleen=eerder.open,
            normen=aanvaarding.normen,
            sluit=aanvaarding.sluit,
            sluit_per_item=aanvaarding.sluit_per_item,
            signalen=aanvaarding.signalen,
            afspraken_generatie=aanvaarding.afspraken_generatie,
        )

    def route(self, ontvangen: Ontvangen, feiten: Feiten) -> Besluit:
        """The whole path for a message whose facts are known up front (``ketenpoort route``,
        the benches): :meth:`read`, then :meth:`decide`."""
        gelezen = self.read(ontvangen, feiten)
        if not isinstance(gelezen, Gelezen):
            return gelezen
        return self.decide(gelezen, feiten)

    def _aanvaarding(self, gelezen: Gelezen, feiten: Feiten) -> Aanvaarding:
        bericht = gelezen.bericht
        afzender = self.policy.partners[gelezen.ontvangen.afzender_oin]
        routering = self._met_sleutels(
            bericht, self.router.route(bericht, afzender, feiten.geheugen())
        )
        gerouteerd = Gerouteerd(gelezen=gelezen, routering=routering)
        leveringen = self._leveringen(gerouteerd)
        signalen = self._signalen(gerouteerd, feiten)
        normen = normen_bij(self.policy, bericht, routering, feiten.nu)
        antwoord = answers.ontvangstbevestiging(
            self.codec,
            bericht.kop,
            routering,
            self.gateway_oin,
            feiten.nu,
            next((n.uiterlijk for n in normen if n.ontvangstbevestiging), None),
        )
        entries = self.trail.accepted(
            gerouteerd, leveringen, self.policy.bewaartermijn_dagen(routering.doel)
        )
        for signaal in signalen:
            entries += self.trail.signaal(
                gerouteerd, signaal, self.policy.bewaartermijn_dagen(signaal.reeks.doel)
            )
        return Aanvaarding(
            gerouteerd=gerouteerd,
            leveringen=leveringen,
            antwoord=antwoord,
            entries=tuple(entries),
            normen=normen,
            sluit=self._sluit(bericht, str(afzender.rol)),
            sluit_per_item=gesloten_per_item(self.policy, bericht, str(afzender.rol)),
            signalen=signalen,
            afspraken_generatie=feiten.afspraken_generatie,
        )

    def _met_sleutels(self, bericht: Bericht, routering: Routering) -> Routering:
        """A geldig afspraken versie keeps the keyed pseudonyms of its adres and persons in
        its reeks record (v2 §7); a withdrawal drops them."""
        regel = self.policy.berichten[bericht.kop.berichttype].reeks
        reeks = routering.reeks
        if regel is None or reeks is None or reeks.status != REEKS_GELDIG:
            return routering
        gesleuteld = sleutels(bericht, regel.adres, regel.personen, self.trail.pseudonymise)
        return dataclasses.replace(routering, reeks=dataclasses.replace(reeks, sleutels=gesleuteld))

    def _signalen(self, gerouteerd: Gerouteerd, feiten: Feiten) -> tuple[Signaal, ...]:
        """The AfsprakenSignalen of an accepted message (v2 §7): to its recipients of the
        signal's rollen and to its sender, per valid reeks that matched."""
        bericht = gerouteerd.gelezen.bericht
        regel = self.policy.berichten[bericht.kop.berichttype].afspraken_signaal
        if regel is None or not feiten.afspraken:
            return ()
        routering = gerouteerd.routering
        wie = [o.partner for o in routering.ontvangers if str(o.partner.rol) in regel.ontvangers]
        if regel.afzender:
            wie.append(routering.afzender)
        return signalen(
            bericht,
            wie,
            feiten.afspraken,
            self.policy,
            self.gateway_oin,
            feiten.nu,
            self.codec.write,
        )

    def _sluit(self, bericht: Bericht, afzender_rol: str) -> frozenset[str]:
        return gesloten_door(self.policy, str(bericht.kop.berichttype), str(afzender_rol))

    def _leveringen(self, gerouteerd: Gerouteerd) -> tuple[Levering, ...]:
        """Per recipient: keep only granted categories, render in its format, check its XSD."""
        bericht = gerouteerd.gelezen.bericht
        routering = gerouteerd.routering
        assert isinstance(bericht.inhoud, Inhoud)
        # spec v2 §8: a block under beroepsgeheim on a ground the doel does not accept
        # reaches no recipient (before need-to-know, the same for all)
        geheim = houd_geheim(
            bericht.inhoud,
            self.policy.doorbrekingsgronden(routering.doel),
            routering.doel,
            gerouteerd.gelezen.blokken,
        )
        blokken = (
            gerouteerd.gelezen.blokken
            if geheim.inhoud is bericht.inhoud
            else blokken_van(geheim.inhoud)
        )
        shielded = afgeschermd(geheim.inhoud, blokken)  # spec v2 §8: addresses afgeschermd
        beperkt = beperkingen(geheim.inhoud, blokken)  # and blocks marked niet-delen-met
        herkomst = herkomst_van(geheim.inhoud, blokken)
        gezien = gerouteerd.gelezen.inventaris  # what it holds: once, not per recipient
        if gezien is None or gezien.inhoud is not geheim.inhoud:
            gezien = self.inventarisatie(bericht.kop.berichttype)(geheim.inhoud)
        vrije_tekst = gezien.vrije_tekst  # the type's free-text table (v2 §8), as walked
        leveringen = []
        for ontvanger in routering.ontvangers:
            gefilterd = filter_inhoud(geheim.inhoud, ontvanger.granted, vrije_tekst, gezien)
            alles = gefilterd.inhoud is geheim.inhoud
            partner = ontvanger.partner
            kop = bericht.kop.model_copy(
                update={
                    "ontvangers": (bouw_partij({"oin": partner.oin, "rol": partner.rol}),),
                    "doelbinding": bouw_doelbinding(
                        {"doel": routering.doel, "grondslagen": (ontvanger.grondslag,)}
                    ),
                    "prioriteit": routering.prioriteit,
                    "traceparent": bericht.kop.traceparent
                    or gerouteerd.gelezen.ontvangen.traceparent,
                }
            )
            payload = self.codec.write(Bericht(kop=kop, inhoud=gefilterd.inhoud), voor=partner.rol)
            leveringen.append(
                Levering(
                    ontvanger=ontvanger,
                    inhoud=gefilterd.inhoud,
                    kept=gefilterd.kept,
                    removed=gefilterd.removed,
                    payload=payload,
                    sha256=sha256(payload),
                    achtergehouden=gefilterd.achtergehouden,
                    beroepsgeheim=geheim.achtergehouden,
                    # what it receives is the body itself when nothing was filtered out
                    herkomst=herkomst if alles else herkomst_van(gefilterd.inhoud),
                    afscherming=afscherming_voor(shielded, ontvanger.granted) if shielded else (),
                    beperkingen=(
                        beperkt if alles or not beperkt else beperkingen(gefilterd.inhoud)
                    ),
                )
            )
        return tuple(leveringen)

    def _bevestiging(self, gelezen: Gelezen, feiten: Feiten) -> Bevestiging:
        """A recipient confirms a delivery: audit it for each sender whose message it was."""
        kop = gelezen.bericht.kop
        ontvanger = self.policy.partners[gelezen.ontvangen.afzender_oin]
        if kop.in_antwoord_op is None:
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                "an Afleverbevestiging names the delivered BerichtId in kp:InAntwoordOp",
                element="kp:InAntwoordOp",
            )
        if not feiten.geleverd:
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"InAntwoordOp {kop.in_antwoord_op} names no message delivered to {ontvanger.oin}",
                element="kp:InAntwoordOp",
            )
        entries = []
        for geleverd in feiten.geleverd:
            entries += self._vervolg(
                "bevestigd", geleverd, kop.in_antwoord_op, ontvanger.oin, status="afgeleverd"
            )
        return Bevestiging(
            gelezen=gelezen,
            bevestigd=kop.in_antwoord_op,
            afzenders=tuple(g.afzender_oin for g in feiten.geleverd),
            antwoord=answers.bevestiging(self.codec, kop, self.gateway_oin, feiten.nu),
            entries=tuple(entries),
            sluit=self._sluit(gelezen.bericht, str(ontvanger.rol)),
        )

    def _inlichting(self, gelezen: Gelezen, feiten: Feiten) -> Inlichting:
        """A sender asks how far its own message got: the store's view (``feiten.status``;
        keyed by the sender, so another's BerichtId is as unknown as a made-up one)."""
        kop = gelezen.bericht.kop
        if kop.in_antwoord_op is None:
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                "a Statusvraag names the asked BerichtId in kp:InAntwoordOp",
                element="kp:InAntwoordOp",
            )
        status = feiten.status or Statusantwoord(bericht_id=kop.in_antwoord_op, bekend=False)
        return Inlichting(
            gelezen=gelezen,
            gevraagd=kop.in_antwoord_op,
            antwoord=answers.statusantwoord(self.codec, kop, status, self.gateway_oin, feiten.nu),
        )

    # ----------------------------------------------------------------- later steps

    def niet_afleverbaar(
        self, bericht_id: str, ontvanger_oin: str, reden: str, pogingen: int, feiten: Feiten
    ) -> Vervolg:
        """A delivery its recipient never took (``pogingen`` attempts, the last ended by
        ``reden``: rejected, expired): audited ``niet-afleverbaar`` per data subject it
        carried, and the Foutbericht NIET_AFLEVERBAAR for its sender. ``feiten.geleverd``:
        the sender with those subjects; ``feiten.eerder``: the sender's message, when the
        state still knows it (its ConversatieId goes in the answer)."""
        (geleverd,) = feiten.geleverd
        refused = Refused(
            Foutcode.NIET_AFLEVERBAAR,
            f"recipient {ontvanger_oin} did not take message {bericht_id} after {pogingen} "
            f"attempts ({reden}); it is kept in the dead-letter queue",
        )
        conversatie_id = feiten.eerder.conversatie_id if feiten.eerder else None
        return Vervolg(
            entries=tuple(
                self._vervolg("niet-afleverbaar", geleverd, bericht_id, ontvanger_oin, reden)
            ),
            antwoord=self.foutbericht(refused, bericht_id, conversatie_id, feiten),
        )

    def opnieuw_aangeboden(
        self, bericht_id: str, ontvanger_oin: str, poging_id: str, feiten: Feiten
    ) -> tuple[Entry, ...]:
        """Ops put a dead letter back in its recipient's inbox (``ketenpoort dlq replay``):
        the audit entries ``replayed``, one per data subject it carried (``feiten.geleverd``),
        once per replay (``poging_id``), recorded before it is delivered again. Nobody is
        answered."""
        (geleverd,) = feiten.geleverd
        return tuple(
            self._vervolg(
                "replayed",
                geleverd,
                bericht_id,
                ontvanger_oin,
                "opnieuw-aangeboden",
                unique=poging_id,
            )
        )

    def _vervolg(
        self,
        gebeurtenis: str,
        geleverd: Geleverd,
        bericht_id: str,
        ontvanger_oin: str,
        status: str,
        *,
        unique: str = "",
    ) -> list[Entry]:
        """The audit entries of a later step of one delivery (bevestigd, niet-afleverbaar,
        replayed): one per data subject it carried, under the policy's default retention."""
        partner = self.policy.partners.get(ontvanger_oin)
        return self.trail.follow_up(
            gebeurtenis,
            afzender=geleverd.afzender_oin,
            bericht_id=bericht_id,
            ontvanger=(ontvanger_oin, partner.rol if partner else ""),
            subjects=geleverd.betrokkenen,
            status=status,
            bewaartermijn_dagen=self.policy.bewaartermijn_dagen(),
            unique=unique,
        )

    # ----------------------------------------------------------------- refusals

    def weiger(
        self,
        ontvangen: Ontvangen,
        refused: Refused,
        feiten: Feiten,
        bericht: Bericht | None = None,
    ) -> Weigering:
        """Refused (here, or at the door: size, content type): the Foutbericht and its audit."""
        bericht_id, conversatie_id = answers.answer_ids(ontvangen, bericht)
        doel = bericht.kop.doelbinding.doel if bericht and bericht.kop.doelbinding else None
        entries = self.trail.refused(
            refused, ontvangen, bericht, bericht_id, self.policy.bewaartermijn_dagen(doel)
        )
        antwoord = self.foutbericht(refused, bericht_id, conversatie_id, feiten)
        return Weigering(
            refused=refused,
            ontvangen=ontvangen,
            bericht=bericht,
            bericht_id=bericht_id,
            antwoord=antwoord,
            entries=tuple(entries),
        )

    def foutbericht(
        self,
        refused: Refused,
        bericht_id: str | None,
        conversatie_id: str | None,
        feiten: Feiten,
    ) -> bytes:
        """The Foutbericht for a refusal (answering ``bericht_id``): a message refused, or one
        a recipient never took (NIET_AFLEVERBAAR)."""
        return answers.foutbericht(
            self.codec,
            refused,
            self.gateway_oin,
            feiten.nu,
            in_antwoord_op=bericht_id,
            conversatie_id=conversatie_id,
        )


__all__ = ["Pipeline"]
