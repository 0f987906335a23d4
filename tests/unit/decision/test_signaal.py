"""The AfsprakenSignaal (v2 §7) on the decision path: matching keys, who is told, what the
signal holds (never content), its audit as a disclosure, and no signal after withdrawal or
expiry or towards a VT regio that does not receive the melding."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from gateway.decision.besluit import Aanvaarding, Feiten, Gelezen, ingress
from gateway.decision.reeks import Reeksstand
from gateway.decision.signaal import adres_sleutel, bsn_sleutel
from gateway.domain.model import AfsprakenSignaal, Partij
from tests.support import catalogue
from tests.support.decisions import offline_pipeline
from tests.support.messages import replace_once
from tests.support.paths import EXAMPLES_DIR

POLITIE = "00000099000000000101"
VT_TWENTE = "00000099000000000102"
WIJKTEAM_ENSCHEDE = "00000099000000000107"
NU = dt.datetime(2026, 12, 4, 2, 30, tzinfo=dt.UTC)
REEKS = "5f0c2d7e-3b1a-4c8e-9d2f-7a6b5c4d3e21"

AFSPRAKEN = (EXAMPLES_DIR / "veilig-thuis" / "Veiligheidsafspraken.xml").read_bytes()
MELDING = (EXAMPLES_DIR / "politie" / "VtMelding.xml").read_bytes()
ZSM = (EXAMPLES_DIR / "politie" / "ZsmAanmelding.xml").read_bytes()


def stand(
    *, status: str = "geldig", geldig_tot: dt.date = dt.date(2027, 5, 21), houder: str = VT_TWENTE
) -> Reeksstand:
    return Reeksstand(
        reeks_id=REEKS,
        houder_oin=houder,
        versie=2,
        status=status,
        geldig_tot=geldig_tot,
        ontvangers=frozenset({POLITIE}),
        grondslag="AVG-ART-6.1.D" if houder == WIJKTEAM_ENSCHEDE else "WMO2015-ART-4.1.1",
        doel="ACUTE_VEILIGHEID",
        bijgewerkt=dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC),
    )


def gelezen(raw: bytes, oin: str) -> Gelezen:
    uitkomst = offline_pipeline().read(ingress(raw, oin), Feiten(nu=NU))
    assert isinstance(uitkomst, Gelezen), uitkomst
    return uitkomst


def aanvaard(raw: bytes, *afspraken: Reeksstand) -> Aanvaarding:
    besluit = offline_pipeline().decide(
        gelezen(raw, POLITIE), Feiten(nu=NU, afspraken=tuple(afspraken))
    )
    assert isinstance(besluit, Aanvaarding), besluit
    return besluit


def test_a_melding_is_matched_by_keyed_pseudonyms_of_its_address_and_bsns() -> None:
    pseudonymise = offline_pipeline().trail.pseudonymise
    sleutels = offline_pipeline().vraag(gelezen(MELDING, POLITIE)).sleutels
    assert adres_sleutel("7511 ab", " 12", pseudonymise) in sleutels  # normalised
    assert bsn_sleutel("999990020", pseudonymise) in sleutels
    assert len(sleutels) == 4  # the address and three BSNs
    for sleutel in sleutels:  # nothing in clear, and not the audit trail's subject pseudonym
        assert "7511" not in sleutel
        assert "99999" not in sleutel
        assert sleutel != pseudonymise("999990020")
    # the afspraken keep the same keys for the same address and person
    afspraken = offline_pipeline().route(ingress(AFSPRAKEN, VT_TWENTE), Feiten(nu=NU))
    assert isinstance(afspraken, Aanvaarding)
    reeks = afspraken.gerouteerd.routering.reeks
    assert reeks is not None
    assert reeks.sleutels == {
        adres_sleutel("7511AB", "12", pseudonymise),
        bsn_sleutel("999990020", pseudonymise),
    }
    # a message of a type without afspraken_signaal is not matched
    assert offline_pipeline().vraag(gelezen(AFSPRAKEN, VT_TWENTE)).sleutels == frozenset()


def test_a_valid_reeks_is_signalled_to_the_vt_regio_and_the_sending_politie() -> None:
    aanvaarding = aanvaard(MELDING, stand())
    assert {s.ontvanger.oin for s in aanvaarding.signalen} == {VT_TWENTE, POLITIE}
    for signaal in aanvaarding.signalen:
        bericht = catalogue.CODEC.read(signaal.payload)
        kop = bericht.kop
        assert kop.berichttype == "AfsprakenSignaal"
        assert (kop.afzender.rol, kop.afzender.oin) == (
            "ketenpoort",
            offline_pipeline().gateway_oin,
        )
        assert [o.oin for o in kop.ontvangers] == [signaal.ontvanger.oin]
        assert kop.in_antwoord_op == aanvaarding.bericht.kop.bericht_id
        assert kop.conversatie_id == aanvaarding.bericht.kop.conversatie_id
        assert kop.doelbinding is not None
        assert (kop.doelbinding.doel, kop.doelbinding.grondslagen) == (
            "ACUTE_VEILIGHEID",
            ("WMO2015-ART-4.1.1",),
        )
        assert bericht.inhoud == AfsprakenSignaal(
            reeks_id=REEKS,
            versie=2,
            datum=dt.date(2026, 12, 1),
            houder=Partij(oin=VT_TWENTE, rol="veilig-thuis"),
        )
        # never content: only the four fields of the signal
        body = etree.fromstring(signaal.payload).find(".//{urn:ketenpoort:envelop:1}Inhoud")
        assert body is not None
        assert [etree.QName(e).localname for e in body.iter()][1:] == [
            "AfsprakenSignaal",
            "ReeksId",
            "Versie",
            "Datum",
            "Houder",
        ]


def test_each_signal_is_audited_as_a_disclosure_under_the_holders_grondslag() -> None:
    aanvaarding = aanvaard(MELDING, stand(houder=WIJKTEAM_ENSCHEDE))
    signaal_ids = {s.bericht.kop.bericht_id: s for s in aanvaarding.signalen}
    entries = [e for e in aanvaarding.entries if e.berichttype == "AfsprakenSignaal"]
    assert {e.bericht_id for e in entries} == set(signaal_ids)
    for entry in entries:
        signaal = signaal_ids[str(entry.bericht_id)]
        assert entry.gebeurtenis == "afgeleverd"
        assert entry.ontvanger == (signaal.ontvanger.oin, signaal.ontvanger.rol)
        assert entry.grondslag == "AVG-ART-6.1.D"
        assert entry.doel == "ACUTE_VEILIGHEID"
        assert entry.sha256 == signaal.sha256
        assert entry.categorieen == ("proces",)
        assert entry.betrokkene is not None  # per data subject of the melding, pseudonymised
        assert "99999" not in str(entry)
    # three BSNs in the melding, two recipients
    assert len(entries) == 6


def test_no_signal_after_withdrawal_or_expiry() -> None:
    assert aanvaard(MELDING, stand(status="ingetrokken")).signalen == ()
    assert aanvaard(MELDING, stand(geldig_tot=NU.date() - dt.timedelta(days=1))).signalen == ()
    assert len(aanvaard(MELDING, stand(geldig_tot=NU.date())).signalen) == 2  # last valid day
    assert aanvaard(MELDING).signalen == ()


def test_a_zsm_aanmelding_without_hg_signals_the_politie_only() -> None:
    zonder_hg = replace_once(
        ZSM.decode(), "<pol:HgLabel>true</pol:HgLabel>", "<pol:HgLabel>false</pol:HgLabel>"
    ).encode()
    aanvaarding = aanvaard(zonder_hg, stand())
    assert VT_TWENTE not in {lev.ontvanger.partner.oin for lev in aanvaarding.leveringen}
    assert {s.ontvanger.oin for s in aanvaarding.signalen} == {POLITIE}
    met_hg = aanvaard(ZSM, stand())
    assert {s.ontvanger.oin for s in met_hg.signalen} == {POLITIE, VT_TWENTE}


def test_a_signal_has_a_stable_berichtid_per_melding_reeks_and_recipient() -> None:
    eerste = {
        s.ontvanger.oin: s.bericht.kop.bericht_id for s in aanvaard(MELDING, stand()).signalen
    }
    tweede = {
        s.ontvanger.oin: s.bericht.kop.bericht_id for s in aanvaard(MELDING, stand()).signalen
    }
    assert eerste == tweede
    assert len(set(eerste.values())) == 2
