"""Afspraken as a series (v2 §6) on the decision path: versions, withdrawals, VERSIE_ONGELDIG,
the content a versie must (not) carry, and who receives each versie."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict, Unpack

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.decision.besluit import Aanvaarding, Feiten, Gelezen, Weigering, ingress
from gateway.decision.reeks import Reeksstand
from gateway.domain.errors import Refused
from gateway.domain.model import Bericht, Foutcode, Partij
from tests.support import catalogue
from tests.support.decisions import offline_pipeline
from tests.support.messages import fresh, reeks_id_of, replace_once
from tests.support.paths import EXAMPLES_DIR

POLITIE = "00000099000000000101"
VT_TWENTE = "00000099000000000102"
WIJKTEAM_ENSCHEDE = "00000099000000000107"
JB_OVERIJSSEL = "00000099000000000110"
CRISISDIENST_TWENTE = "00000099000000000111"
NU = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)

VERSIE_1 = (EXAMPLES_DIR / "veilig-thuis" / "Veiligheidsafspraken.xml").read_bytes()
VERSIE_2 = (EXAMPLES_DIR / "veilig-thuis" / "reeks" / "versie-2.xml").read_bytes()
INGETROKKEN = (EXAMPLES_DIR / "veilig-thuis" / "reeks" / "ingetrokken.xml").read_bytes()
REEKS = reeks_id_of(VERSIE_1)


def stand(
    versie: int = 1,
    *,
    houder: str = VT_TWENTE,
    status: str = "geldig",
    ontvangers: frozenset[str] = frozenset({POLITIE, CRISISDIENST_TWENTE}),
) -> Reeksstand:
    return Reeksstand(
        reeks_id=REEKS,
        houder_oin=houder,
        versie=versie,
        status=status,
        geldig_tot=dt.date(2027, 5, 21),
        ontvangers=ontvangers,
        grondslag="WMO2015-ART-4.1.1",
        doel="ACUTE_VEILIGHEID",
    )


def besluit(
    raw: bytes,
    afzender: str = VT_TWENTE,
    *,
    reeks: Reeksstand | None = None,
    deelnemers: frozenset[str] = frozenset(),
) -> Aanvaarding | Weigering:
    uitkomst = offline_pipeline().route(
        ingress(raw, afzender), Feiten(nu=NU, reeks=reeks, deelnemers=deelnemers)
    )
    assert isinstance(uitkomst, Aanvaarding | Weigering), uitkomst
    return uitkomst


class Omstandigheden(TypedDict, total=False):
    """What :func:`besluit` takes besides the message and its sender."""

    reeks: Reeksstand | None
    deelnemers: frozenset[str]


def aanvaard(
    raw: bytes, afzender: str = VT_TWENTE, **kwargs: Unpack[Omstandigheden]
) -> Aanvaarding:
    uitkomst = besluit(raw, afzender, **kwargs)
    assert isinstance(uitkomst, Aanvaarding), uitkomst
    return uitkomst


def geweigerd(raw: bytes, afzender: str = VT_TWENTE, **kwargs: Unpack[Omstandigheden]) -> Refused:
    uitkomst = besluit(raw, afzender, **kwargs)
    assert isinstance(uitkomst, Weigering), uitkomst
    return uitkomst.refused


def ontvangers(aanvaarding: Aanvaarding) -> set[str]:
    return {lev.ontvanger.partner.oin for lev in aanvaarding.leveringen}


def versie(raw: bytes, nummer: int) -> bytes:
    text = raw.decode()
    for oud in ('versie="1"', 'versie="2"', 'versie="3"'):
        if oud in text:
            return replace_once(text, oud, f'versie="{nummer}"').encode()
    raise AssertionError("no versie")


def als(raw: bytes, rol: str, oin: str, grondslag: str) -> bytes:
    """The message as partner ``oin`` of ``rol`` sends it: in its own format, its grondslag."""
    bericht = catalogue.CODEC.read(raw)
    assert bericht.kop.doelbinding is not None
    kop = bericht.kop.model_copy(
        update={
            "afzender": Partij(oin=oin, rol=rol),
            "doelbinding": bericht.kop.doelbinding.model_copy(update={"grondslagen": (grondslag,)}),
        }
    )
    return catalogue.CODEC.write(Bericht(kop=kop, inhoud=bericht.inhoud), voor=rol)


# --------------------------------------------------------------------------- versie 1


def test_versie_1_goes_to_politie_and_the_crisisdienst_of_the_gemeente() -> None:
    aanvaarding = aanvaard(VERSIE_1)
    assert ontvangers(aanvaarding) == {POLITIE, CRISISDIENST_TWENTE}
    reeks = aanvaarding.gerouteerd.routering.reeks
    assert reeks is not None
    assert (reeks.reeks_id, reeks.houder_oin, reeks.versie, reeks.status) == (
        REEKS,
        VT_TWENTE,
        1,
        "geldig",
    )
    assert reeks.geldig_tot == dt.date(2027, 5, 21)
    assert reeks.ontvangers == {POLITIE, CRISISDIENST_TWENTE}
    assert reeks.grondslag == "WMO2015-ART-4.1.1"


def test_versie_1_reaches_the_lokaal_team_and_gi_that_took_part() -> None:
    aanvaarding = aanvaard(
        VERSIE_1, deelnemers=frozenset({WIJKTEAM_ENSCHEDE, JB_OVERIJSSEL, VT_TWENTE})
    )
    assert ontvangers(aanvaarding) == {
        POLITIE,
        CRISISDIENST_TWENTE,
        WIJKTEAM_ENSCHEDE,
        JB_OVERIJSSEL,
    }
    granted = {lev.ontvanger.partner.oin: lev.kept for lev in aanvaarding.leveringen}
    assert "veiligheid" in granted[WIJKTEAM_ENSCHEDE]
    assert "kind" in granted[CRISISDIENST_TWENTE]


@pytest.mark.parametrize(
    ("rol", "oin", "grondslag"),
    [
        ("lokaal-team", WIJKTEAM_ENSCHEDE, "AVG-ART-6.1.D"),
        ("gecertificeerde-instelling", JB_OVERIJSSEL, "JW-ART-7.3.8"),
    ],
)
def test_a_lokaal_team_or_gi_holds_a_reeks_and_vt_that_took_part_receives_it(
    rol: str, oin: str, grondslag: str
) -> None:
    raw = als(VERSIE_1, rol, oin, grondslag)
    aanvaarding = aanvaard(raw, oin, deelnemers=frozenset({VT_TWENTE, oin}))
    assert ontvangers(aanvaarding) == {POLITIE, CRISISDIENST_TWENTE, VT_TWENTE}
    reeks = aanvaarding.gerouteerd.routering.reeks
    assert reeks is not None
    assert reeks.houder_oin == oin
    assert reeks.grondslag == grondslag


def test_the_wrong_grondslag_for_the_sending_rol_is_refused() -> None:
    raw = als(VERSIE_1, "lokaal-team", WIJKTEAM_ENSCHEDE, "JW-ART-7.3.8")
    assert geweigerd(raw, WIJKTEAM_ENSCHEDE).code is Foutcode.GRONDSLAG_ONTBREEKT


# --------------------------------------------------------------------------- later versies


def test_a_new_versie_reaches_every_earlier_recipient() -> None:
    """The lokaal team got versie 1 (it took part then); versie 2 reaches it from the reeks
    record even when the routing memory of this conversation no longer names it."""
    eerder = stand(ontvangers=frozenset({POLITIE, CRISISDIENST_TWENTE, WIJKTEAM_ENSCHEDE}))
    aanvaarding = aanvaard(VERSIE_2, reeks=eerder)
    assert ontvangers(aanvaarding) == {POLITIE, CRISISDIENST_TWENTE, WIJKTEAM_ENSCHEDE}
    reeks = aanvaarding.gerouteerd.routering.reeks
    assert reeks is not None
    assert reeks.versie == 2
    assert reeks.geldig_tot == dt.date(2027, 6, 4)
    assert reeks.ontvangers == {POLITIE, CRISISDIENST_TWENTE, WIJKTEAM_ENSCHEDE}


def test_a_withdrawal_reaches_every_earlier_recipient_and_nobody_else() -> None:
    eerder = stand(2, ontvangers=frozenset({POLITIE, CRISISDIENST_TWENTE, WIJKTEAM_ENSCHEDE}))
    aanvaarding = aanvaard(INGETROKKEN, reeks=eerder, deelnemers=frozenset({JB_OVERIJSSEL}))
    assert ontvangers(aanvaarding) == {POLITIE, CRISISDIENST_TWENTE, WIJKTEAM_ENSCHEDE}
    assert aanvaarding.gerouteerd.routering.regels == ()  # by memory, not by the routes
    reeks = aanvaarding.gerouteerd.routering.reeks
    assert reeks is not None
    assert (reeks.versie, reeks.status) == (3, "ingetrokken")
    assert reeks.geldig_tot == eerder.geldig_tot
    for levering in aanvaarding.leveringen:
        assert b"ingetrokken" in levering.payload.lower()
        assert b"Lindelaan" not in levering.payload


# --------------------------------------------------------------------------- VERSIE_ONGELDIG


@pytest.mark.parametrize(
    ("raw", "reeks", "afzender", "waarom"),
    [
        pytest.param(VERSIE_1, stand(1), VT_TWENTE, "not higher than the last", id="again"),
        pytest.param(VERSIE_2, stand(2), VT_TWENTE, "not higher than the last", id="same"),
        pytest.param(versie(VERSIE_2, 2), stand(3), VT_TWENTE, "not higher", id="stale"),
        pytest.param(VERSIE_2, None, VT_TWENTE, "unknown reeks", id="unknown-reeks"),
        pytest.param(INGETROKKEN, None, VT_TWENTE, "withdrawal of an unknown reeks", id="w"),
        pytest.param(
            VERSIE_2, stand(1, status="ingetrokken"), VT_TWENTE, "was withdrawn", id="withdrawn"
        ),
        pytest.param(
            als(VERSIE_2, "gecertificeerde-instelling", JB_OVERIJSSEL, "JW-ART-7.3.8"),
            stand(1),
            JB_OVERIJSSEL,
            f"only the holder {VT_TWENTE}",
            id="another-partner",
        ),
        pytest.param(
            als(INGETROKKEN, "lokaal-team", WIJKTEAM_ENSCHEDE, "AVG-ART-6.1.D"),
            stand(2),
            WIJKTEAM_ENSCHEDE,
            f"only the holder {VT_TWENTE}",
            id="withdrawal-by-another",
        ),
        pytest.param(versie(VERSIE_1, 0), None, VT_TWENTE, "starts at versie 1", id="versie-0"),
    ],
)
def test_versie_ongeldig(raw: bytes, reeks: Reeksstand | None, afzender: str, waarom: str) -> None:
    refused = geweigerd(raw, afzender, reeks=reeks)
    assert refused.code is Foutcode.VERSIE_ONGELDIG
    assert refused.reden.startswith(f"reeks {REEKS} versie ")
    assert waarom in refused.reden


def test_the_foutbericht_names_reeks_versie_and_why() -> None:
    uitkomst = besluit(VERSIE_2, reeks=stand(2))
    assert isinstance(uitkomst, Weigering)
    tekst = uitkomst.antwoord.decode()
    assert "VERSIE_ONGELDIG" in tekst
    assert f"reeks {REEKS} versie 2: not higher than the last accepted versie 2" in tekst
    assert uitkomst.entries  # audited


@given(laatste=st.integers(1, 50), nieuw=st.integers(1, 60))
def test_a_versie_is_accepted_exactly_when_higher_than_the_last(laatste: int, nieuw: int) -> None:
    uitkomst = besluit(versie(VERSIE_2, nieuw), reeks=stand(laatste))
    if nieuw > laatste:
        assert isinstance(uitkomst, Aanvaarding)
    else:
        assert isinstance(uitkomst, Weigering)
        assert uitkomst.refused.code is Foutcode.VERSIE_ONGELDIG


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize(
    ("weg", "element"),
    [
        (
            "<vt:bij-blijver><vt:naam>M. Bakker</vt:naam><vt:organisatie>Wijkteam Enschede-Zuid"
            "</vt:organisatie><vt:telefoon>053-4811111</vt:telefoon></vt:bij-blijver>",
            "bij_blijver",
        ),
        ("<vt:dossier>VT-TW-2026-004711</vt:dossier>", "dossier"),
        (' geldig-tot="2027-05-21"', "geldig_tot"),
    ],
)
def test_a_geldig_versie_carries_its_content(weg: str, element: str) -> None:
    refused = geweigerd(fresh(replace_once(VERSIE_1.decode(), weg, "").encode()))
    assert refused.code is Foutcode.SCHEMA_ONGELDIG
    assert refused.element == element
    assert "is geldig: it carries" in refused.reden


def test_a_withdrawal_carries_no_content() -> None:
    raw = replace_once(
        INGETROKKEN.decode(), "<vt:reden>", "<vt:dossier>VT-TW-2026-004711</vt:dossier><vt:reden>"
    ).encode()
    refused = geweigerd(raw, reeks=stand(2))
    assert refused.code is Foutcode.SCHEMA_ONGELDIG
    assert refused.element == "dossier"
    assert "withdrawal" in refused.reden


def test_a_withdrawal_names_its_reden() -> None:
    text = INGETROKKEN.decode()
    start, end = text.index("<vt:reden>"), text.index("</vt:reden>") + len("</vt:reden>")
    refused = geweigerd((text[:start] + text[end:]).encode(), reeks=stand(2))
    assert refused.code is Foutcode.SCHEMA_ONGELDIG
    assert refused.element == "reden"


def test_the_vraag_asks_for_the_reeks_record_of_a_versie_only() -> None:
    pipeline = offline_pipeline()
    gelezen = pipeline.read(ingress(VERSIE_2, VT_TWENTE), Feiten(nu=NU))
    assert isinstance(gelezen, Gelezen)
    assert pipeline.vraag(gelezen).reeks_id == REEKS
    melding = (EXAMPLES_DIR / "politie" / "VtMelding.xml").read_bytes()
    gelezen = pipeline.read(ingress(melding, POLITIE), Feiten(nu=NU))
    assert isinstance(gelezen, Gelezen)
    assert pipeline.vraag(gelezen).reeks_id is None
