"""A person's inzage folded from their audit records (gateway.audit.inzage): one line per
delivered copy, with what was given and withheld and why, confirmed or not, in Dutch time;
refused messages and copies without the person as such; reads listed.

The records are the real ones: the offline decision path decides example messages and its
Trail writes the entries, which become records as the audit log would store them (JSON).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.audit.inzage import (
    BEPERKT,
    INZAGE_COLUMNS,
    Ketenpartner,
    Weglating,
    fold,
    lokale_tijd,
    write_csv,
)
from gateway.audit.log import Entry
from gateway.audit.record import Record, build_record, canonical
from gateway.decision.besluit import Feiten, Weigering, ingress
from gateway.decision.trail import Trail
from tests.support.broker import OINS
from tests.support.decisions import decide, offline_pipeline
from tests.support.messages import fresh, replace_once
from tests.support.paths import EXAMPLES_DIR

VICTIM, CHILD = "999990019", "999990032"
OM, VT, RC, POLITIE = OINS["om"], OINS["vt-twente"], OINS["reclassering"], OINS["politie"]
NAMEN = {OM: "Openbaar Ministerie (ZSM)", VT: "Veilig Thuis Twente", POLITIE: "Politie"}
START = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # 10:00 in Amsterdam (CET)


def zsm(bericht_id: str) -> bytes:
    """The politie's ZsmAanmelding (HG, an adult suspect): to the OM, VT and reclassering."""
    raw = (EXAMPLES_DIR / "politie" / "ZsmAanmelding.xml").read_bytes()
    return fresh(raw, bericht_id=bericht_id)


def records(entries: Iterable[Entry], start: dt.datetime = START, log: str = "t") -> list[Record]:
    """The entries as the audit log stores them (one second apart, JSON round trip)."""
    found = []
    for seq, entry in enumerate(entries):
        record = build_record(log, entry, seq, start + dt.timedelta(seconds=seq))
        found.append(Record(log, seq, json.loads(canonical(record.public)), record.personal))
    return found


def history(all_records: Iterable[Record], bsn: str) -> list[Record]:
    """A person's history, as AuditReader.history selects it (by pseudonym)."""
    pseudonym = offline_pipeline().trail.pseudonymise(bsn)
    return [r for r in all_records if (r.personal or {}).get("betrokkene") == pseudonym]


def confirmed(bericht_id: str, ontvanger: str, bsn: str) -> list[Entry]:
    """The recipient's Afleverbevestiging, as the pipeline audits it."""
    return Trail.follow_up(
        "bevestigd",
        afzender=POLITIE,
        bericht_id=bericht_id,
        ontvanger=(ontvanger, "openbaar-ministerie"),
        subjects=[offline_pipeline().trail.pseudonymise(bsn)],
        status="afgeleverd",
        bewaartermijn_dagen=30,
    )


def test_a_message_to_three_recipients_is_three_disclosures_each_with_what_it_withheld() -> None:
    bericht_id = str(uuid.uuid4())
    accepted = decide(zsm(bericht_id), POLITIE)
    trail = records([*accepted.entries, *confirmed(bericht_id, OM, VICTIM)])

    overzicht = fold(history(trail, VICTIM), NAMEN)

    assert overzicht.niet_verstrekt == ()
    by = {v.ontvanger.oin: v for v in overzicht.verstrekkingen}
    assert sorted(by) == sorted([OM, VT, RC])  # one line per copy, not four steps each
    for v in by.values():
        assert v.bericht_id == bericht_id
        assert v.berichttype == "ZsmAanmelding"
        assert v.doel == "STRAFRECHTELIJKE_BESLISSING"
        assert v.afzender == Ketenpartner(POLITIE, "politie", "Politie")
        assert v.beroepsgeheim == ()
        assert v.afscherming == ()
        assert (v.log, v.seq) != ("", -1)
        assert trail[v.seq].public["gebeurtenis"] == "afgeleverd"  # prove names that record
    # the sender's grondslag towards each recipient (v2 §4)
    assert by[OM].grondslag == "WPG-ART-15"
    assert by[VT].grondslag == by[RC].grondslag == "WPG-ART-20"
    assert by[OM].ontvanger == Ketenpartner(OM, "openbaar-ministerie", NAMEN[OM])
    assert by[RC].ontvanger.naam == RC  # not in the names given: the OIN stands in
    # what each was given and what withheld, and why
    assert "gezondheid" in by[OM].gegeven
    assert by[OM].achtergehouden == ()
    assert by[OM].vrije_tekst == ()
    assert by[VT].achtergehouden == ("gezondheid",)
    assert by[VT].vrije_tekst == (Weglating("incident.letsel", "niet toegekend: gezondheid"),)
    assert by[RC].achtergehouden == ("contact", "gezondheid", "kind")
    assert "kind" not in by[RC].gegeven
    assert by[RC].vrije_tekst == by[VT].vrije_tekst
    # the OM confirmed; VT and reclassering did not
    assert by[OM].bevestigd is not None
    assert by[VT].bevestigd is None
    assert by[RC].bevestigd is None
    assert by[VT].niet_afleverbaar is None


def test_a_copy_without_the_person_is_not_a_disclosure_to_that_recipient() -> None:
    bericht_id = str(uuid.uuid4())
    trail = records(decide(zsm(bericht_id), POLITIE).entries)

    overzicht = fold(history(trail, CHILD), NAMEN)

    assert sorted(v.ontvanger.oin for v in overzicht.verstrekkingen) == sorted([OM, VT])
    (left_out,) = overzicht.niet_verstrekt
    assert left_out.ontvanger is not None
    assert left_out.ontvanger.oin == RC  # a minor's data does not go to reclassering
    assert left_out.reden == "weggelaten"
    assert left_out.bericht_id == bericht_id


def test_an_undeliverable_copy_says_so() -> None:
    bericht_id = str(uuid.uuid4())
    pseudonym = offline_pipeline().trail.pseudonymise(VICTIM)
    bounced = Trail.follow_up(
        "niet-afleverbaar",
        afzender=POLITIE,
        bericht_id=bericht_id,
        ontvanger=(VT, "veilig-thuis"),
        subjects=[pseudonym],
        status="rejected",
        bewaartermijn_dagen=30,
    )
    trail = records([*decide(zsm(bericht_id), POLITIE).entries, *bounced])

    by = {v.ontvanger.oin: v for v in fold(history(trail, VICTIM), NAMEN).verstrekkingen}

    assert by[VT].niet_afleverbaar == "rejected"
    assert by[VT].bevestigd is None
    assert by[OM].niet_afleverbaar is None


def test_a_refused_message_is_listed_as_refused_not_as_a_disclosure() -> None:
    bericht_id = str(uuid.uuid4())
    text = zsm(bericht_id).decode()
    raw = replace_once(text, "<kp:Grondslag>WPG-ART-15</kp:Grondslag>", "").encode()
    besluit = offline_pipeline().route(ingress(raw, POLITIE), Feiten(nu=START))
    assert isinstance(besluit, Weigering)

    overzicht = fold(history(records(besluit.entries), VICTIM), NAMEN)

    assert overzicht.verstrekkingen == ()
    (refused,) = overzicht.niet_verstrekt
    assert refused.reden == "GRONDSLAG_ONTBREEKT"
    assert refused.ontvanger is None
    assert refused.bericht_id == bericht_id
    assert refused.afzender == Ketenpartner(POLITIE, "politie", "Politie")
    assert "Foutbericht" in refused.toelichting


def test_reads_of_the_history_are_listed_with_who_read() -> None:
    trail = Trail(offline_pipeline().trail.pseudonymise)
    entries = [
        trail.inzage("a.bakker", VICTIM, str(uuid.uuid4()), 30),
        Trail.pagina(
            "j.jansen",
            "tijdlijn van een betrokkene",
            str(uuid.uuid4()),
            30,
            betrokkene=trail.pseudonymise(VICTIM),
        ),
    ]

    overzicht = fold(history(records(entries), VICTIM), NAMEN)

    assert [(r.lezer, r.wat) for r in overzicht.raadplegingen] == [
        ("a.bakker", "historie van een betrokkene (BSN, gepseudonimiseerd)"),
        ("j.jansen", "tijdlijn van een betrokkene"),
    ]
    assert overzicht.verstrekkingen == ()


def test_dutch_time_across_both_changes_of_summer_time() -> None:
    # 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC)
    assert lokale_tijd(dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)) == "2026-03-29 01:30:00 CET"
    assert lokale_tijd(dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)) == "2026-03-29 03:30:00 CEST"
    # 25 October 2026: 03:00 CEST becomes 02:00 CET; the hour 02:00-03:00 comes twice
    first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    second = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    assert lokale_tijd(first) == "2026-10-25 02:30:00 CEST"
    assert lokale_tijd(second) == "2026-10-25 02:30:00 CET"
    assert lokale_tijd(first, iso=True) == "2026-10-25T02:30:00+02:00"
    assert lokale_tijd(second, iso=True) == "2026-10-25T02:30:00+01:00"
    assert lokale_tijd(None) == ""


def test_disclosures_on_the_night_summer_time_ends_keep_their_order_and_zone() -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    trail = [
        *records(
            decide(zsm(first), POLITIE).entries, dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
        ),
        *records(
            decide(zsm(second), POLITIE).entries,
            dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
            log="t2",
        ),
    ]

    overzicht = fold(history(trail, VICTIM), NAMEN)

    om = [v for v in overzicht.verstrekkingen if v.ontvanger.oin == OM]
    assert [v.bericht_id for v in om] == [first, second]
    shown = [lokale_tijd(v.tijd) for v in om]  # the records are seconds after the half hour
    assert [(t[:16], t[19:]) for t in shown] == [
        ("2026-10-25 02:30", " CEST"),
        ("2026-10-25 02:30", " CET"),
    ]
    out = io.StringIO()
    write_csv(overzicht, out)
    times = [r["tijd"] for r in csv.DictReader(io.StringIO(out.getvalue())) if r["ontvanger"] == OM]
    assert [t[-6:] for t in times] == ["+02:00", "+01:00"]


def test_withheld_blocks_under_beroepsgeheim_and_shielded_addresses_have_their_columns() -> None:
    """Recorded once those features exist (issue 16, points 1 and 3): the row holds them."""
    bericht_id = str(uuid.uuid4())
    entries = list(decide(zsm(bericht_id), POLITIE).entries)
    extra = {
        "beroepsgeheim_achtergehouden": [{"veld": "incident.omschrijving", "reden": "geen grond"}],
        "afscherming_achtergehouden": [{"veld": "adres", "reden": "afgeschermd adres"}],
    }
    entries = [
        Entry(**{**vars(e), "extra": {**e.extra, **extra}}) if e.gebeurtenis == "gefilterd" else e
        for e in entries
    ]

    (v, *_) = fold(history(records(entries), VICTIM), NAMEN).verstrekkingen

    assert v.beroepsgeheim == (Weglating("incident.omschrijving", "geen grond"),)
    assert v.afscherming == (Weglating("adres", "afgeschermd adres"),)


def test_the_csv_report_has_a_line_per_disclosure_refusal_and_read() -> None:
    bericht_id = str(uuid.uuid4())
    trail = Trail(offline_pipeline().trail.pseudonymise)
    entries = [
        *decide(zsm(bericht_id), POLITIE).entries,
        *confirmed(bericht_id, OM, VICTIM),
        trail.inzage("a.bakker", VICTIM, str(uuid.uuid4()), 30),
    ]
    overzicht = fold(history(records(entries), VICTIM), NAMEN)
    out = io.StringIO()

    write_csv(overzicht, out)

    assert out.getvalue().splitlines()[0] == ",".join(INZAGE_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["soort"] for r in rows] == ["verstrekking"] * 3 + ["raadpleging"]
    by = {r["ontvanger"]: r for r in rows if r["soort"] == "verstrekking"}
    assert by[VT]["ontvanger_naam"] == "Veilig Thuis Twente"
    assert by[VT]["achtergehouden"] == "gezondheid"
    assert by[VT]["vrije_tekst_achtergehouden"] == "incident.letsel (niet toegekend: gezondheid)"
    assert by[VT]["bevestigd"] == ""
    assert by[OM]["bevestigd"].endswith("+01:00")  # Dutch winter time
    assert by[OM]["tijd"].startswith("2026-11-30T10:00:")
    assert rows[-1]["lezer"] == "a.bakker"
    assert VICTIM not in out.getvalue()
    # and the JSON form (`ketenpoort audit inzage --format json`) is plain JSON
    data = json.loads(json.dumps(overzicht.to_json()))
    assert data["verstrekkingen"][0]["tijd"].startswith("2026-11-30T10:00:")
    assert data["verstrekkingen"][0]["afzender"] == {
        "oin": POLITIE,
        "rol": "politie",
        "naam": "Politie",
    }


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_the_fold_does_not_depend_on_the_order_records_are_read_in(data: st.DataObject) -> None:
    bericht_id = str(uuid.uuid4())
    trail = history(
        records([*decide(zsm(bericht_id), POLITIE).entries, *confirmed(bericht_id, OM, VICTIM)]),
        VICTIM,
    )

    shuffled = data.draw(st.permutations(trail))

    assert fold(shuffled, NAMEN) == fold(trail, NAMEN)


def test_a_disclosure_restricted_for_this_person_is_listed_without_its_categories() -> None:
    """Spec v2 §8 (AVG art. 23): afspraken marked niet-delen-met the pleger are listed in his
    inzage with the restriction and without their categories, for the officer to decide; the
    victim's own view is not restricted."""
    text = (EXAMPLES_DIR / "veilig-thuis" / "Veiligheidsafspraken.xml").read_text("utf-8")
    raw = fresh(text.replace("<vt:afspraak>", '<vt:afspraak niet-delen-met="b2">', 1).encode())
    alle = records(decide(raw, VT).entries)

    peter = fold(history(alle, "999990020"), NAMEN)
    assert peter.verstrekkingen
    for v in peter.verstrekkingen:
        assert v.beperking == ("afspraak[1]",)
        assert (v.gegeven, v.achtergehouden) == ((), ())
    out = io.StringIO()
    write_csv(peter, out)
    [row, *_] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["beperking"] == f"{BEPERKT}: afspraak[1]"
    assert row["gegeven"] == ""

    anna = offline_pipeline().trail.pseudonymise(f"persoonsnummer|{VT}|VTT-P-2026-0417")
    hers = fold([r for r in alle if (r.personal or {}).get("betrokkene") == anna], NAMEN)
    assert hers.verstrekkingen
    for v in hers.verstrekkingen:
        assert v.beperking == ()
        assert "identificatie" in v.gegeven
