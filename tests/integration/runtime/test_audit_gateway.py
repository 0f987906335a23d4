"""The audit trail of the running gateway, through the real RabbitMQ (and SQLite/PostgreSQL).

- privacy: every example message goes through the gateway; afterwards no BSN, name, street,
  phone number, birth date or free text of those messages is anywhere in the audit store (every
  column of every table, as text and as bytes; for SQLite also the database files) or in an
  export folder, while the pseudonym of every BSN is there (inzage works);
- inzage: ``ketenpoort audit inzage`` (the installed command, as an officer runs it) lists each
  disclosure about one person (to whom, when in Dutch time, grondslag, what was withheld,
  confirmed or not) in text, json and csv, records the read itself, refuses a bad BSN;
- fail closed: while the audit store cannot be written nothing is delivered and the gateway
  is not ready; when the store is back the gateway resumes by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gc
import io
import json
import os
import re
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aio_pika.abc import AbstractIncomingMessage
from lxml import etree

from gateway.audit.export import verify_export
from gateway.audit.inzage import INZAGE_COLUMNS
from gateway.audit.log import AuditLog, Pseudonymiser
from gateway.audit.signing import Keyring
from gateway.codec.envelope import MessageCodec
from gateway.domain.bsn import elfproef
from gateway.domain.errors import Transient
from gateway.domain.model import Foutbericht, Ontvangstbevestiging
from gateway.observe import logs
from gateway.runtime import audit_access
from gateway.runtime import ops as gateway_ops
from gateway.runtime.settings import ROOT, Settings
from gateway.store.database import Database
from tests.support.broker import OINS
from tests.support.gateways import capture_parts, run_gateway
from tests.support.messages import fresh, replace_once
from tests.support.partners import (
    NAME_OF,
    PartnerClient,
    RabbitPartner,
    drain,
    inbox_until_answered,
    split,
    take,
)
from tests.support.paths import EXAMPLES_DIR
from tests.support.routing import (
    HG_FALSE,
    VT_MELDING,
    ZSM,
    afleverbevestiging,
    assert_routed,
    build,
    send,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker

PG = "postgresql://postgres@127.0.0.1:5432/test"
KP = "{urn:ketenpoort:envelop:1}"
KETENPOORT = Path(sys.executable).parent / "ketenpoort"


# --------------------------------------------------------------------------- stores


@dataclass
class Audit:
    settings: Settings
    engine: str

    @property
    def sqlite_path(self) -> Path:
        return Path(self.settings.audit_dsn.removeprefix("sqlite:///"))

    def database(self) -> Database:
        return Database(self.settings.audit_dsn)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KETENPOORT_AUDIT_DSN": self.settings.audit_dsn,
            "KETENPOORT_AUDIT_KEY_DIR": str(self.settings.audit_key_dir),
            "KETENPOORT_AUDIT_LOG_ID": self.settings.audit_log_id,
            "KETENPOORT_STATE_DSN": self.settings.state_dsn,
        }

    def pseudonym(self, bsn: str) -> str:
        return Pseudonymiser.from_file(self.settings.audit_key_dir / "pseudoniem.secret")(bsn)


@pytest.fixture(params=["sqlite", "postgresql"])
def audit(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Audit]:
    log_id = f"gw-{uuid.uuid4().hex[:8]}"
    if request.param == "sqlite":
        yield Audit(settings.model_copy(update={"audit_log_id": log_id}), "sqlite")
        return
    schema = f"kp_audit_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    dsn = f"{PG}?options=-csearch_path%3D{schema}"
    try:
        yield Audit(
            settings.model_copy(update={"audit_dsn": dsn, "audit_log_id": log_id}), "postgresql"
        )
    finally:
        with psycopg.connect(PG, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


# --------------------------------------------------------------------------- inboxes


async def answers_of(partner: PartnerClient, count: int) -> list[Any]:
    """Wait for ``count`` answers of the gateway in the partner's inbox."""
    _, answers = await inbox_until_answered(partner, count)
    return answers


# =========================================================================== 6. privacy

CODE = re.compile(
    r"^(?:[A-Z0-9][A-Z0-9_\-]*"  # BEDREIGING, PL0900-2026112012345, RIHG
    r"|[a-z]+(?:-[a-z]+)*"  # veilig-thuis, ex-partner, kind
    r"|[\d\-.,:+TZ]+"  # numbers, dates, times, 03-123456-26
    r"|P[0-9YMWDTHS]+"  # durations
    r"|true|false)$"
)
PERSONAL_ELEMENTS = {
    "bsn": "bsn",
    "voornamen": "naam",
    "achternaam": "naam",
    "naam": "naam",
    "persoon": "naam",
    "straat": "straat",
    "plaats": "adres",
    "postcode": "adres",
    "telefoon": "telefoon",
    "geboortedatum": "geboortedatum",
    "geboren": "geboortedatum",
}


def example_terms() -> dict[str, str]:
    """Every value of the example bodies that must never reach the audit trail: term → kind."""
    terms: dict[str, str] = {}

    def consider(name: str, value: str) -> None:
        value = value.strip()
        kind = PERSONAL_ELEMENTS.get(name.lower())
        if kind is not None:
            terms[value] = kind
            if kind == "naam":
                for word in value.split():
                    if word[:1].isupper() and len(word) >= 3:
                        terms[word] = kind
            return
        for number in re.findall(r"(?<!\d)\d{9}(?!\d)", value):
            if elfproef(number):
                terms[number] = "bsn"
        if len(value) > 3 and not CODE.match(value):
            terms[value] = "vrije tekst"

    for path in sorted(EXAMPLES_DIR.glob("*/*.xml")):
        inhoud = etree.parse(str(path)).getroot().find(f"{KP}Inhoud")
        assert inhoud is not None
        for element in inhoud.iter():
            if not isinstance(element.tag, str):
                continue
            name = etree.QName(element).localname
            if element.text and element.text.strip():
                consider(name, element.text)
            for attribute, value in element.attrib.items():
                # lxml gives str in Python 3 (its stubs also allow bytes)
                assert isinstance(attribute, str)
                assert isinstance(value, str)
                consider(attribute, value)
    return terms


def pattern(term: str) -> re.Pattern[str]:
    """Short terms only as a whole token (not inside base64 or hex)."""
    if len(term) >= 6:
        return re.compile(re.escape(term))
    return re.compile(rf"(?<![A-Za-z0-9+/]){re.escape(term)}(?![A-Za-z0-9+/])")


def store_values(audit: Audit) -> list[tuple[str, Any]]:
    """(table.column, value) of every column of every table in the audit store."""

    def work(ex: Any) -> list[tuple[str, Any]]:
        if audit.engine == "sqlite":
            tables = [r[0] for r in ex("SELECT name FROM sqlite_master WHERE type = 'table'")]
        else:
            tables = [
                r[0]
                for r in ex(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            ]
        assert {"audit_record", "audit_node", "audit_checkpoint"} <= set(tables), tables
        found: list[tuple[str, Any]] = []
        for table in tables:
            cursor = ex(f"SELECT * FROM {table}")
            columns = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                found.extend((f"{table}.{c}", v) for c, v in zip(columns, row, strict=True))
        return found

    db = audit.database()
    try:
        values: list[tuple[str, Any]] = db.run_sync(work)
    finally:
        db.close()
    return values


def leaks(terms: dict[str, str], where: str, value: Any) -> list[str]:
    """The terms found in one value (text: as text; bytes: as bytes, terms of 4+ chars)."""
    found = []
    if isinstance(value, bytes | memoryview):
        data = bytes(value)
        found += [
            f"{terms[t]} {t!r} in {where} (bytes)"
            for t in terms
            if len(t) >= 4 and t.encode() in data
        ]
        text = data.decode("utf-8", errors="ignore")
    else:
        text = str(value)
    found += [f"{terms[t]} {t!r} in {where}" for t in terms if pattern(t).search(text)]
    return found


def _examples_of_test_partners() -> list[tuple[bytes, str]]:
    found = []
    for path in sorted(EXAMPLES_DIR.glob("*/*.xml")):
        raw = path.read_bytes()
        oin = re.search(rb'<kp:Afzender oin="(\d{20})"', raw)
        assert oin is not None
        if oin.group(1).decode() in NAME_OF:
            found.append((raw, oin.group(1).decode()))
    return found


async def test_no_personal_data_in_the_audit_trail(
    audit: Audit, vhost: str, codec: MessageCodec, tmp_path: Path
) -> None:
    settings = audit.settings
    terms = example_terms()
    kinds = set(terms.values())
    assert {"bsn", "naam", "straat", "telefoon", "vrije tekst", "geboortedatum"} <= kinds
    for must in ("999990019", "999990044", "Anna", "Jan", "Jansen", "Lindelaan", "0900-8844"):
        assert must in terms, must
    bsns = sorted(t for t, k in terms.items() if k == "bsn")

    sent: dict[str, list[str]] = {}
    async with run_gateway(settings, vhost) as running:
        # the test partners' examples (the v2 partners': tests/system/test_lokaal_veld.py)
        for raw, oin in _examples_of_test_partners():
            sender = NAME_OF[oin]
            bericht_id = str(uuid.uuid4())
            await running.partner(sender).send(fresh(raw, bericht_id=bericht_id))
            sent.setdefault(sender, []).append(bericht_id)
        kinds_of_answer = []
        for sender, ids in sent.items():
            for answer in await answers_of(running.partner(sender), len(ids)):
                inhoud = codec.read(answer.body).inhoud
                assert isinstance(inhoud, Ontvangstbevestiging | Foutbericht)
                kinds_of_answer.append(type(inhoud).__name__)
        assert kinds_of_answer.count("Ontvangstbevestiging") >= 10, kinds_of_answer
    # the gateway stopped: its last checkpoint covers every record

    db = audit.database()
    reader = AuditLog(db, "lezer", Keyring(settings.audit_key_dir))
    try:
        for ids in sent.values():
            for bericht_id in ids:
                assert await reader.journey(bericht_id), f"no audit records for {bericht_id}"
    finally:
        db.close()

    directory = tmp_path / "export"
    result = await audit_access.audit_export(settings, directory, "auditor")
    assert result["nog_niet_getekend"] == {settings.audit_log_id: 0}
    assert verify_export(directory).sound

    found: list[str] = []
    values = store_values(audit)
    for where, value in values:
        found += leaks(terms, where, value)
    if audit.engine == "sqlite":
        files = sorted(audit.sqlite_path.parent.glob(audit.sqlite_path.name + "*"))
        assert audit.sqlite_path in files
        for file in files:
            found += leaks(terms, file.name, file.read_bytes())
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    assert {"manifest.json", "records.jsonl", "checkpoints.jsonl", "LEESMIJ.md"} <= {
        p.name for p in files
    }
    for file in files:
        found += leaks(terms, f"export/{file.relative_to(directory)}", file.read_bytes())
    assert found == [], "\n".join(found)

    # the pseudonym of every BSN is there, and inzage finds the person
    subjects = {str(v) for w, v in values if w == "audit_record.betrokkene" and v is not None}
    for bsn in bsns:
        assert audit.pseudonym(bsn) in subjects, bsn
        overzicht = await audit_access.audit_inzage(settings, bsn, "privacy-test")
        assert overzicht.verstrekkingen or overzicht.niet_verstrekt, bsn
        assert overzicht.raadplegingen[-1].lezer == "privacy-test"


# =========================================================================== 7. inzage


async def ketenpoort(audit: Audit, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(KETENPOORT),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=audit.env(),
        cwd=ROOT,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_inzage_of_a_child_after_a_zsm_aanmelding(audit: Audit, vhost: str) -> None:
    settings = audit.settings
    om, vt, rc = OINS["om"], OINS["vt-twente"], OINS["reclassering"]
    bericht_id = str(uuid.uuid4())
    async with run_gateway(settings, vhost) as running:
        politie = running.partner("politie")
        raw = fresh(
            (EXAMPLES_DIR / "politie" / "ZsmAanmelding.xml").read_bytes(), bericht_id=bericht_id
        )
        await politie.send(raw)
        await answers_of(politie, 1)
        for name in ("om", "vt-twente", "reclassering"):
            deliveries, _ = split(await drain(running.partner(name)))
            assert len(deliveries) == 1, name

        # the OM confirms; VT and reclassering do not
        conf, _ = afleverbevestiging("om", bericht_id, original_sender="politie")
        await running.partner("om").send(conf)
        await answers_of(running.partner("om"), 1)
        # the same aanmelding without the grondslag towards the OM: refused, nothing delivered
        refused_id = str(uuid.uuid4())
        without = replace_once(raw.decode(), "<kp:Grondslag>WPG-ART-15</kp:Grondslag>", "")
        await politie.send(fresh(without.encode(), bericht_id=refused_id))
        (foutbericht,) = await answers_of(politie, 1)
        assert b"GRONDSLAG_ONTBREEKT" in foutbericht.body

        # while the gateway runs (its own log), as an officer would
        code, out, err = await ketenpoort(
            audit,
            "audit",
            "inzage",
            "--bsn",
            "999990032",
            "--format",
            "json",
            "--lezer",
            "j.jansen",
        )
        assert code == 0, err
        data = json.loads(out)
        # one line per delivered copy: the child went to the OM and VT...
        mine = [v for v in data["verstrekkingen"] if v["bericht_id"] == bericht_id]
        assert sorted(v["ontvanger"]["oin"] for v in mine) == sorted([om, vt])
        by = {v["ontvanger"]["oin"]: v for v in mine}
        for v in mine:
            assert v["afzender"] == {
                "oin": OINS["politie"],
                "rol": "politie",
                "naam": "Nationale Politie",
            }
            assert v["berichttype"] == "ZsmAanmelding"
            assert v["doel"] == "STRAFRECHTELIJKE_BESLISSING"
            assert "kind" in v["gegeven"]
            assert v["tijd"][-6:] in ("+01:00", "+02:00")  # Dutch local time
        assert by[om]["ontvanger"]["naam"] == "Openbaar Ministerie (ZSM)"
        assert by[om]["grondslag"] == "WPG-ART-15"
        assert by[vt]["grondslag"] == "WPG-ART-20"
        assert by[om]["bevestigd"]  # the OM's Afleverbevestiging
        assert by[vt]["bevestigd"] is None
        assert by[vt]["achtergehouden"] == ["gezondheid"]
        assert by[vt]["vrije_tekst"] == [
            {"wat": "incident.letsel", "waarom": "niet toegekend: gezondheid"}
        ]
        # ... and nothing about the child to reclassering (a minor): not a disclosure; nor
        # the refused message
        assert [(n["ontvanger"], n["reden"]) for n in data["niet_verstrekt"]] == [
            ({"oin": rc, "rol": "reclassering", "naam": "Reclassering"}, "weggelaten"),
            (None, "GRONDSLAG_ONTBREEKT"),
        ]
        assert data["niet_verstrekt"][1]["bericht_id"] == refused_id
        assert refused_id not in {v["bericht_id"] for v in data["verstrekkingen"]}
        assert [r["lezer"] for r in data["raadplegingen"]] == ["j.jansen"]  # the read itself

        code, out, err = await ketenpoort(
            audit, "audit", "inzage", "--bsn", "999990032", "--format", "csv", "--lezer", "a.bakker"
        )
        assert code == 0, err
        table = list(csv.reader(io.StringIO(out)))
        assert table[0] == list(INZAGE_COLUMNS)
        records = list(csv.DictReader(io.StringIO(out)))
        assert [r["soort"] for r in records] == [
            "verstrekking",
            "verstrekking",
            "weggelaten",
            "geweigerd",
            "raadpleging",
            "raadpleging",
        ]
        assert [r["lezer"] for r in records if r["soort"] == "raadpleging"] == [
            "j.jansen",
            "a.bakker",
        ]
        assert {r["ontvanger"] for r in records if r["soort"] == "verstrekking"} == {om, vt}

        code, out, err = await ketenpoort(audit, "audit", "inzage", "--bsn", "999990032")
        assert code == 0, err
        assert "2 verstrekkingen" in out
        for shown in (
            "Openbaar Ministerie (ZSM)",
            "WPG-ART-15",
            "incident.letsel",
            "Niet verstrekt",
        ):
            assert shown in out, shown
        assert re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d:\d\d CES?T", out), out

        def inzage_count() -> int:
            db = audit.database()
            try:
                (n,) = db.run_sync(
                    lambda ex: ex(
                        "SELECT COUNT(*) FROM audit_record WHERE public LIKE ?",
                        ('%"gebeurtenis":"inzage"%',),
                    ).fetchone()
                )
            finally:
                db.close()
            return int(n)

        before = inzage_count()
        assert before == 3
        code, out, err = await ketenpoort(audit, "audit", "inzage", "--bsn", "123456789")
        assert code == 2
        assert "not a valid BSN" in err
        assert inzage_count() == before  # nothing read, nothing recorded
        # other people's histories do not show this child's reads
        code, out, err = await ketenpoort(
            audit, "audit", "inzage", "--bsn", "999990044", "--format", "json"
        )
        assert code == 0, err
        assert json.loads(out)["verstrekkingen"] == []
        assert len(json.loads(out)["raadplegingen"]) == 1
    code, out, err = await ketenpoort(audit, "audit", "verify")
    assert code == 3, out + err  # sound, but no pinned keys: internal consistency only
    assert "only internally consistent" in out
    code, keys, err = await ketenpoort(audit, "audit", "keys")
    assert code == 0, err
    pinned = settings.audit_key_dir.parent / "trusted-keys.txt"
    pinned.write_text(keys)
    code, out, err = await ketenpoort(audit, "audit", "verify", "--trusted-keys", str(pinned))
    assert code == 0, out + err


async def test_inzage_of_a_person_without_a_bsn_by_name_and_birth_date(
    audit: Audit, vhost: str
) -> None:
    """Spec v2 §8: `audit inzage --naam --geboortedatum` finds, through the keyed lookup, the
    victim VT knows by its own persoonsnummer; the read is recorded in her history."""
    bericht_id = str(uuid.uuid4())
    async with run_gateway(audit.settings, vhost) as running:
        vt = running.partner("vt-twente")
        raw = (EXAMPLES_DIR / "veilig-thuis" / "Veiligheidsafspraken.xml").read_bytes()
        await vt.send(fresh(raw, bericht_id=bericht_id))
        await answers_of(vt, 1)
        deliveries, _ = split(await drain(running.partner("politie")))
        assert len(deliveries) == 1
        code, out, err = await ketenpoort(
            audit,
            "audit",
            "inzage",
            "--naam",
            "Anna Jansen",
            "--geboortedatum",
            "1988-04-02",
            "--format",
            "json",
            "--lezer",
            "a.bakker",
        )
        assert code == 0, err
        found = json.loads(out)
        delivered = {(v["bericht_id"], v["ontvanger"]["rol"]) for v in found["verstrekkingen"]}
        assert (bericht_id, "politie") in delivered
        assert [r["lezer"] for r in found["raadplegingen"]] == ["a.bakker"]
        # nobody under another birth date: said so, and the question is still recorded
        code, out, err = await ketenpoort(
            audit, "audit", "inzage", "--naam", "Anna Jansen", "--geboortedatum", "1988-04-03"
        )
        assert code == 0, err
        assert "nobody without a BSN is recorded under that name and birth date" in err
        for wrong in (("--naam", "Anna"), ("--naam", "Anna", "--geboortedatum", "2 april")):
            code, out, err = await ketenpoort(audit, "audit", "inzage", *wrong)
            assert code == 2, wrong
        code, out, err = await ketenpoort(
            audit, "audit", "inzage", "--bsn", "999990019", "--naam", "Anna"
        )
        assert code == 2
        assert "give --bsn, or --naam with --geboortedatum" in err


# =========================================================================== 8. fail closed


@dataclass
class Outage:
    """Makes the audit store unwritable and back again."""

    audit: Audit
    handle: Any = None

    def start(self) -> None:
        if self.audit.engine == "sqlite":
            # a writer that holds the database: the gateway's busy_timeout (10 s) runs out
            self.handle = sqlite3.connect(self.audit.sqlite_path, isolation_level=None, timeout=30)
            self.handle.execute("BEGIN EXCLUSIVE")
            return
        schema = self._schema()
        with psycopg.connect(PG, autocommit=True) as admin:  # the tables are gone
            admin.execute(f"ALTER SCHEMA {schema} RENAME TO {schema}_weg")

    def stop(self) -> None:
        if self.audit.engine == "sqlite":
            self.handle.rollback()
            self.handle.close()
            return
        schema = self._schema()
        with psycopg.connect(PG, autocommit=True) as admin:
            admin.execute(f"ALTER SCHEMA {schema}_weg RENAME TO {schema}")

    def _schema(self) -> str:
        found = re.search(r"search_path%3D(\w+)", self.audit.settings.audit_dsn)
        assert found is not None
        return found.group(1)


async def test_fail_closed_while_the_audit_store_cannot_be_written(
    audit: Audit,
    vhost: str,
    codec: MessageCodec,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = audit.settings
    built = capture_parts(monkeypatch)
    logs.configure("info", json=True)
    vt_melding = (EXAMPLES_DIR / "politie" / "VtMelding.xml").read_bytes()
    first, second, third = (str(uuid.uuid4()) for _ in range(3))

    async with run_gateway(settings, vhost) as running:
        (parts,) = built
        gateway = parts.gateway
        politie, vt = running.partner("politie"), running.partner("vt-twente")
        assert gateway.ready
        await politie.send(fresh(vt_melding, bericht_id=first))
        await answers_of(politie, 1)
        assert len(split(await take(vt, 1))[0]) == 1

        outage = Outage(audit)
        outage.start()
        try:
            await politie.send(fresh(vt_melding, bericht_id=second))
            await politie.send(fresh(vt_melding, bericht_id=third))
            await eventually(lambda: not gateway.ready, "not ready with no audit store")
            await asyncio.sleep(1.5)
            assert not gateway.ready
            for name, partner in running.partners.items():
                assert await drain(partner) == [], f"{name} got a message during the outage"
        finally:
            outage.stop()

        # back by itself: both messages are delivered and answered
        deliveries, _ = split(await take(vt, 2))
        assert sorted(m.message_id for m in deliveries) == sorted([second, third])
        answers = await answers_of(politie, 2)
        assert sorted(codec.read(a.body).kop.in_antwoord_op for a in answers) == sorted(
            [second, third]
        )
        assert gateway.ready
    events = [
        json.loads(line).get("event")
        for line in capsys.readouterr().err.splitlines()
        if line.startswith("{")
    ]
    assert "audit_niet_schrijfbaar" in events
    assert "gateway_niet_gereed" in events
    assert "gateway_weer_gereed" in events
    assert events.index("gateway_niet_gereed") < events.index("gateway_weer_gereed")

    outcome, unsigned = await audit_access.audit_verify_store(settings)
    assert outcome.sound, outcome.problem
    assert unsigned == {settings.audit_log_id: 0}
    db = audit.database()
    reader = AuditLog(db, "lezer", Keyring(settings.audit_key_dir))
    try:
        for bericht_id in (first, second, third):
            steps = [r.public["gebeurtenis"] for r in await reader.journey(bericht_id)]
            assert steps.count("afgeleverd") == 3, (bericht_id, steps)  # three subjects
    finally:
        db.close()


# --------------------------------------------------------------------------- dead letters

BLOCK = {
    "sqlite": [
        "CREATE TRIGGER kp_test_weg BEFORE INSERT ON audit_record "
        "BEGIN SELECT RAISE(ABORT, 'audit store read-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION kp_test_weg() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit store read-only'; END $$",
        "CREATE TRIGGER kp_test_weg BEFORE INSERT ON audit_record "
        "FOR EACH ROW EXECUTE FUNCTION kp_test_weg()",
    ],
}


def block_audit_writes(audit: Audit, blocked: bool) -> None:
    """A trigger that refuses every new audit record (the store cannot be written)."""
    statements = (
        BLOCK[audit.engine]
        if blocked
        else ["DROP TRIGGER kp_test_weg" + (" ON audit_record" if audit.engine != "sqlite" else "")]
    )
    db = audit.database()
    try:
        db.run_sync(lambda ex: [ex(s) for s in statements])
    finally:
        db.close()


async def test_dlq_replay_delivers_nothing_while_the_audit_store_cannot_be_written(
    audit: Audit, vhost: str, codec: MessageCodec
) -> None:
    settings = audit.settings
    bericht_id = str(uuid.uuid4())
    async with run_gateway(settings, vhost) as running:
        politie, vt = running.partner("politie"), running.partner("vt-twente")
        assert isinstance(vt, RabbitPartner)  # run_gateway's default transport
        inbox = await vt.channel.get_queue(vt.topology.inbox(vt.oin), ensure=False)

        async def reject(message: AbstractIncomingMessage) -> None:
            await message.reject(requeue=False)

        tag = await inbox.consume(reject)
        vt_melding = (EXAMPLES_DIR / "politie" / "VtMelding.xml").read_bytes()
        await politie.send(fresh(vt_melding, bericht_id=bericht_id))
        answers = await answers_of(politie, 2)  # Ontvangstbevestiging, then NIET_AFLEVERBAAR
        await inbox.cancel(tag)
        assert {type(codec.read(a.body).inhoud).__name__ for a in answers} == {
            "Ontvangstbevestiging",
            "Foutbericht",
        }
        assert [e["bericht_id"] for e in await gateway_ops.dlq_list(settings)] == [bericht_id]

        block_audit_writes(audit, True)
        try:
            with contextlib.suppress(Transient):
                await gateway_ops.dlq_replay(settings, ontvanger=vt.oin)
            # a swallowed failure leaves a future in a reference cycle; collect it now, not
            # while pytest renders the report (CPython 3.11.7 then fails with an AST SystemError)
            gc.collect()
            await asyncio.sleep(0.5)
            db = audit.database()
            try:
                journey = await AuditLog(db, "lezer", Keyring(settings.audit_key_dir)).journey(
                    bericht_id
                )
            finally:
                db.close()
            assert "replayed" not in [r.public["gebeurtenis"] for r in journey]  # not recorded
            delivered, _ = split(await drain(vt))
            assert delivered == [], "replayed without its audit record"
        finally:
            block_audit_writes(audit, False)
        replayed = await gateway_ops.dlq_replay(settings, ontvanger=vt.oin)
        assert replayed == [{"ontvanger": vt.oin, "bericht_id": bericht_id}]
        assert len(split(await take(vt, 1))[0]) == 1


# --------------------------------------------------------------------------- follow-up steps


async def test_bevestigd_niet_afleverbaar_and_replayed_are_audited(
    gateway: Any, codec: MessageCodec, settings: Settings
) -> None:
    """The later steps of a delivery are audited per data subject, like the delivery itself."""

    # 1. OM confirms a ZsmAanmelding (no HG: only the OM receives it): bevestigd.
    raw, zsm_id = build(ZSM, HG_FALSE)
    outcome = await send(gateway, codec, "politie", raw, zsm_id)
    assert_routed(outcome, "politie", ["om"])
    conf, conf_id = afleverbevestiging("om", zsm_id, conversatie_id=str(uuid.uuid4()))
    await send(gateway, codec, "om", conf, conf_id)

    # 2. VT rejects every delivery of a VtMelding: niet-afleverbaar, then replayed.
    vt = gateway.partner("vt-twente")
    inbox = await vt.channel.get_queue(vt.topology.inbox(vt.oin), ensure=False)

    async def reject(message: AbstractIncomingMessage) -> None:
        await message.reject(requeue=False)

    tag = await inbox.consume(reject)
    raw, melding_id = build(VT_MELDING)
    await gateway.partner("politie").send(raw)
    await inbox_until_answered(gateway.partner("politie"), 2)
    await inbox.cancel(tag)
    assert await gateway_ops.dlq_replay(settings, ontvanger=vt.oin)

    db = Database(settings.audit_dsn)
    reader = AuditLog(db, "lezer", Keyring(settings.audit_key_dir))
    try:
        zsm = await reader.journey(zsm_id)
        melding = await reader.journey(melding_id)
    finally:
        db.close()

    def subjects(records: list[Any], gebeurtenis: str, ontvanger: str) -> set[str | None]:
        return {
            (r.personal or {}).get("betrokkene")
            for r in records
            if r.public["gebeurtenis"] == gebeurtenis
            and (r.public.get("ontvanger") or {}).get("oin") == ontvanger
        }

    om, vt_oin = OINS["om"], OINS["vt-twente"]
    delivered_to_om = subjects(zsm, "afgeleverd", om)
    assert delivered_to_om  # the persons whose data the OM received ...
    assert subjects(zsm, "bevestigd", om) == delivered_to_om  # ... are confirmed, each
    delivered_to_vt = subjects(melding, "afgeleverd", vt_oin)
    assert subjects(melding, "niet-afleverbaar", vt_oin) == delivered_to_vt
    assert subjects(melding, "replayed", vt_oin) == delivered_to_vt
    assert None not in delivered_to_vt  # every VtMelding person has a BSN here
