"""Afspraken as a series of versions (spec v2 §6): the pure checks of one versie against the
reeks record the routing memory holds.

A type whose policy entry has ``reeks`` (berichten.yaml; Veiligheidsafspraken by default)
sends versions of a series: ``reeks-id`` (a UUID), ``versie`` (1, 2, …), ``status``
(``geldig`` or ``ingetrokken``) and ``geldig-tot``. The rules, from v2 §6, with the choices
where the spec is silent (README, "Afspraken as a series"):

- versie 1 opens the reeks; its sender is the holder. A versie 1 of a reeks-id that exists,
  a later versie of an unknown reeks, a versie not higher than the last accepted one, a
  versie from another partner than the holder, and any versie of a withdrawn reeks are
  refused ``VERSIE_ONGELDIG`` (the reason names reeks, versie and why). Versions need not be
  consecutive (3 may follow 1: a versie refused for another reason leaves a gap);
- a ``geldig`` versie carries every field of ``reeks.inhoud`` (else ``SCHEMA_ONGELDIG`` naming
  the field) and goes by the type's routes and to every earlier recipient of the reeks, so
  that each recipient replaces the versie it holds (a recipient replaces by reeks-id);
- a withdrawal (``ingetrokken``) carries reeks-id, versie, status and reden only (content is
  refused ``SCHEMA_ONGELDIG`` naming the field; the reden is required) and goes to every
  earlier recipient of the reeks, not by the routes: it needs no adres. A versie 1 cannot be
  a withdrawal;
- the record (holder, last versie, status, geldig-tot, recipients, the holder's grondslag; no
  content, no personal data) is kept for the doel's bewaartermijn, so that stale versions stay
  refusable after the afspraken expired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.domain.errors import Refused
from gateway.domain.model import Bericht, Foutcode
from gateway.policy.fieldpath import resolve
from gateway.policy.files import REEKS_GELDIG, REEKS_INGETROKKEN, Reeksregel

__all__ = ["Reeksstand", "Reeksversie", "lees_versie", "toets_versie"]


@dataclass(frozen=True)
class Reeksstand:
    """What the routing memory keeps of one afspraken reeks (v2 §6, §7): metadata only."""

    reeks_id: str
    houder_oin: str
    versie: int
    status: str  # geldig or ingetrokken
    geldig_tot: dt.date | None
    ontvangers: frozenset[str]  # every partner that received a versie of it
    grondslag: str = ""  # the grondslag the holder cited for its last versie
    doel: str = ""
    bijgewerkt: dt.datetime | None = None  # when the last versie was accepted
    # the keyed pseudonyms of its adres and persons (v2 §7), to store with a geldig versie;
    # none for a withdrawal (they are dropped)
    sleutels: frozenset[str] = frozenset()

    def geldig_op(self, dag: dt.date) -> bool:
        """Valid on ``dag``: not withdrawn and not expired (geldig-tot is the last valid day)."""
        return self.status == REEKS_GELDIG and (self.geldig_tot is None or dag <= self.geldig_tot)


@dataclass(frozen=True)
class Reeksversie:
    """The reeks fields of one message, as read from its body."""

    reeks_id: str
    versie: int
    status: str
    geldig_tot: dt.date | None


def lees_versie(bericht: Bericht, regel: Reeksregel) -> Reeksversie:
    """The reeks fields of a message of a reeks type (required by its format)."""
    reeks_id = resolve(bericht, regel.id)
    versie = resolve(bericht, regel.versie)
    status = resolve(bericht, regel.status)
    geldig_tot = resolve(bericht, regel.geldig_tot)
    assert isinstance(reeks_id, str)
    assert isinstance(versie, int)
    assert isinstance(status, str)
    return Reeksversie(
        reeks_id=reeks_id,
        versie=versie,
        status=status,
        geldig_tot=geldig_tot if isinstance(geldig_tot, dt.date) else None,
    )


def toets_versie(
    bericht: Bericht, regel: Reeksregel, afzender_oin: str, stand: Reeksstand | None
) -> Reeksversie:
    """The versie fits the reeks (``stand``: the record, None when unknown) and carries what
    its status asks; else :class:`Refused`."""
    versie = lees_versie(bericht, regel)
    naam = f"reeks {versie.reeks_id} versie {versie.versie}"

    def ongeldig(waarom: str, element: str) -> Refused:
        return Refused(Foutcode.VERSIE_ONGELDIG, f"{naam}: {waarom}", element=element)

    if versie.versie < 1:
        raise ongeldig("a reeks starts at versie 1", regel.versie)
    if stand is None:
        if versie.status == REEKS_INGETROKKEN:
            raise ongeldig("withdrawal of an unknown reeks", regel.id)
        if versie.versie != 1:
            raise ongeldig("unknown reeks: a reeks starts at versie 1", regel.id)
    else:
        if stand.houder_oin != afzender_oin:
            raise ongeldig(
                f"only the holder {stand.houder_oin} (the sender of versie 1) sends later "
                "versies or withdraws",
                regel.id,
            )
        if stand.status == REEKS_INGETROKKEN:
            raise ongeldig(f"the reeks was withdrawn at versie {stand.versie}", regel.versie)
        if versie.versie <= stand.versie:
            raise ongeldig(f"not higher than the last accepted versie {stand.versie}", regel.versie)
    _toets_inhoud(bericht, regel, versie, naam)
    return versie


def _toets_inhoud(bericht: Bericht, regel: Reeksregel, versie: Reeksversie, naam: str) -> None:
    """A geldig versie carries all of ``inhoud``; a withdrawal none of it, and a reden."""
    if versie.status == REEKS_GELDIG:
        for pad in regel.inhoud:
            if resolve(bericht, pad) in (None, [], ""):
                raise Refused(
                    Foutcode.SCHEMA_ONGELDIG,
                    f"{naam} is geldig: it carries {pad} (only a withdrawal leaves it out)",
                    element=pad,
                )
        return
    for pad in regel.inhoud:
        if resolve(bericht, pad) not in (None, [], ""):
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"{naam} is a withdrawal: it carries reeks-id, versie, status and reden only, "
                f"not {pad}",
                element=pad,
            )
    if resolve(bericht, regel.reden) in (None, ""):
        raise Refused(
            Foutcode.SCHEMA_ONGELDIG,
            f"{naam} is a withdrawal: it names its reden",
            element=regel.reden,
        )
