"""The Statusvraag's rules and the store's view as a Statusantwoord (end to end over AMQP:
tests/system/test_pika_partner.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.domain.errors import Refused
from gateway.domain.model import BerichtType, Foutcode, Kop, Partij, Rol
from gateway.runtime.status import asked, statusantwoord
from gateway.store.state import Bekend, Levering, Status

POLITIE = "00000099000000000101"
VT = "00000099000000000102"
NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
ASKED = "6f1c2a4e-8d0b-4a51-9b1e-0c7d3f2a9e11"


def vraag(afzender: str = POLITIE, in_antwoord_op: str | None = ASKED) -> Kop:
    return Kop(
        bericht_id="0b8f3c52-93f4-4a43-8f44-2f0f3f7c1a01",
        conversatie_id="1b8f3c52-93f4-4a43-8f44-2f0f3f7c1a01",
        in_antwoord_op=in_antwoord_op,
        berichttype=BerichtType.STATUSVRAAG,
        afzender=Partij(oin=afzender, rol=Rol.POLITIE),
        tijdstip=NOW,
    )


def test_a_statusvraag_names_the_asked_id_and_comes_from_its_afzender() -> None:
    assert asked(vraag(), POLITIE) == ASKED
    with pytest.raises(Refused) as no_id:
        asked(vraag(in_antwoord_op=None), POLITIE)
    assert (no_id.value.code, no_id.value.element) == (Foutcode.SCHEMA_ONGELDIG, "kp:InAntwoordOp")
    with pytest.raises(Refused) as other:
        asked(vraag(afzender=VT), POLITIE)
    assert other.value.code is Foutcode.AFZENDER_ONJUIST


def test_unknown_is_bekend_false_and_known_lists_every_recipient() -> None:
    unknown = statusantwoord(ASKED, None)
    assert (unknown.bericht_id, unknown.bekend, unknown.leveringen) == (ASKED, False, [])
    bekend = Bekend(
        afzender_oin=POLITIE,
        bericht_id=ASKED,
        sha256="00" * 32,
        berichttype="VtMelding",
        conversatie_id="1b8f3c52-93f4-4a43-8f44-2f0f3f7c1a01",
        antwoord=b"<x/>",
        ontvangen=NOW,
        leveringen=(Levering(VT, "veilig-thuis", "11" * 32, Status.AFGELEVERD, 2, NOW),),
    )
    known = statusantwoord(ASKED, bekend)
    assert known.bekend
    assert known.berichttype == "VtMelding"
    (levering,) = known.leveringen
    assert (levering.ontvanger.oin, levering.ontvanger.rol) == (VT, Rol.VEILIG_THUIS)
    assert (levering.status, levering.pogingen, levering.bijgewerkt) == ("afgeleverd", 2, NOW)
