"""``ketenpoort demo``: the seed scenarios played through a real gateway.

The gateway runs as in production (HTTPS door with mutual TLS, AMQP, RabbitMQ, audit trail in
SQLite in a temporary folder unless told otherwise). Each partner system sends with its own
client certificate, in its own format, reads its inbox and confirms what it received. After
the scenarios the gateway stops (signing its last checkpoint), the audit trail is verified and
the inzage report of one person is drawn up.

The scenarios are data in :mod:`gateway.tools.demo_scenarios`; this module plays them. The
result is a plain data structure (``Result``), printed as a rich timeline or as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import ssl
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from lxml import etree

from gateway.audit.inzage import Inzageoverzicht
from gateway.decision.termijnen import TIJDZONE
from gateway.policy.catalogue import Policy
from gateway.runtime import app as core
from gateway.runtime import audit_access, certs
from gateway.runtime.settings import Settings, load_settings
from gateway.safexml import xmlsafe
from gateway.tools.demo_scenarios import NAME_OF, PARTNERS, SCENARIOS, Step
from gateway.web import server

__all__ = ["Aflevering", "Normregel", "Players", "Result", "StapUitkomst", "play", "run"]

KP = "{urn:ketenpoort:envelop:1}"
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
INZAGE_BSN = "999990019"  # Anna, the victim in the seed cases (a test BSN)

# --------------------------------------------------------------------------- results


@dataclass
class Aflevering:
    ontvanger: str  # name
    oin: str
    categorieen: list[str]
    verwijderd: list[str]
    bevestigd: bool  # the recipient sent its Afleverbevestiging
    bevestiging: str = ""  # the gateway's answer to it (HTTP status and start of the body)
    # each free-text field withheld and why (from the audit's gefilterd record, spec v2 §8)
    vrije_tekst_achtergehouden: list[str] = field(default_factory=list)


@dataclass
class StapUitkomst:
    titel: str
    afzender: str
    berichttype: str
    bericht_id: str
    doel: str | None
    http_status: int
    antwoord: str  # Ontvangstbevestiging | Foutbericht
    foutcode: str | None = None
    reden: str | None = None
    ontvangers: list[Aflevering] = field(default_factory=list)
    uiterste_beslismoment: str | None = None
    dubbel: bool = False  # the original answer again, nothing delivered twice
    toont: dict[str, Any] | None = None  # what the step's `toont` recipient's system shows
    # the AfsprakenSignalen this message gave rise to (v2 §7): "recipient: reeks, versie"
    signalen: list[str] = field(default_factory=list)


@dataclass
class Normregel:
    """One step of the chain's norm timeline (what a chain coordinator sees on /keten):
    BerichtIds, types, partners and times, no personal data."""

    norm: str
    sleutel: str  # a step per item: its key (a voorwaarde-id)
    berichttype: str
    bericht_id: str
    van: str  # the sender's name
    aan_zet: str  # the partner whose step it is (empty: nobody routed can close it)
    uiterlijk: str
    gesloten: str | None
    status: str  # open | overschreden | op tijd | te laat


@dataclass
class Result:
    scenarios: list[dict[str, Any]]
    verificatie: dict[str, Any]
    inzage: dict[str, Any]  # the person's inzage as JSON (Inzageoverzicht.to_json)
    seconden: float
    ok: bool
    overzicht: Inzageoverzicht = field(default_factory=Inzageoverzicht)  # for printing
    normen: list[Normregel] = field(default_factory=list)  # the norm timeline (spec v2 §10)


# --------------------------------------------------------------------------- running


def _kop(root: etree._Element, name: str) -> str | None:
    found = root.find(f"{KP}Kop/{KP}{name}")
    return None if found is None else found.text


class Players:
    """The partner systems: an HTTPS client each, with its own certificate."""

    def __init__(self, base_url: str, pki: certs.DevFiles) -> None:
        self.clients: dict[str, httpx.AsyncClient] = {}
        for name, oin in PARTNERS.items():
            context = ssl.create_default_context(cafile=str(pki.ca))
            cert, key = pki.partners[oin]
            context.load_cert_chain(str(cert), str(key))
            self.clients[name] = httpx.AsyncClient(base_url=base_url, verify=context, timeout=30)

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def _build(
    step: Step,
    conversatie: str,
    bericht_id: str,
    policy: Policy,
    antwoord_op: str | None = None,
) -> bytes:
    text = (EXAMPLES / step.example).read_text()
    text = re.sub(r"(<kp:BerichtId>)[^<]+(</kp:BerichtId>)", rf"\g<1>{bericht_id}\g<2>", text)
    text = re.sub(
        r"(<kp:ConversatieId>)[^<]+(</kp:ConversatieId>)", rf"\g<1>{conversatie}\g<2>", text
    )
    if antwoord_op is not None:  # the answer names the question (an example's own goes)
        text = re.sub(r"\s*<kp:InAntwoordOp>[^<]*</kp:InAntwoordOp>", "", text)
        text = re.sub(
            r"(</kp:ConversatieId>)",
            rf"\g<1><kp:InAntwoordOp>{antwoord_op}</kp:InAntwoordOp>",
            text,
        )
    for pattern, replacement in step.edits:
        text, n = re.subn(pattern, replacement, text, count=1)
        if n != 1:
            raise ValueError(f"{step.example}: {pattern!r} not found")
    if step.ontvangers:
        narrowed = "".join(
            f'<kp:Ontvanger oin="{PARTNERS[n]}" rol="{policy.partners[PARTNERS[n]].rol}"/>'
            for n in step.ontvangers
        )
        text = re.sub(r"(<kp:Afzender [^>]+/>)", rf"\g<1>{narrowed}", text, count=1)
    return text.encode()


async def _collect(
    players: Players, name: str, bericht_id: str, timeout: float = 10
) -> dict[str, Any] | None:
    """Read ``name``'s inbox until the message arrives; confirm it; return the item."""
    client = players.clients[name]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await client.get("/v1/berichten", params={"limit": 100})
        response.raise_for_status()
        for item in response.json()["berichten"]:
            if item["id"] == bericht_id:
                confirmed = await client.post(f"/v1/berichten/{bericht_id}/afleverbevestiging")
                item["bevestigd"] = confirmed.status_code == 200
                item["bevestiging"] = f"{confirmed.status_code} {confirmed.text[:300]}"
                return dict(item)
        await asyncio.sleep(0.05)
    return None


async def _filtered(
    parts: core.Parts, bericht_id: str
) -> dict[str, tuple[list[str], list[str], list[str]]]:
    """Per recipient OIN: the categories that went out, those removed and the free-text fields
    withheld with why (from the audit)."""
    kept: dict[str, set[str]] = {}
    removed: dict[str, set[str]] = {}
    withheld: dict[str, set[str]] = {}
    for record in await parts.audit.journey(bericht_id):
        row = audit_access.inzage_row(record)
        if row["gebeurtenis"] == "gefilterd" and row["ontvanger"]:
            # one record per data subject: the recipient got the union of what was kept
            kept.setdefault(row["ontvanger"], set()).update(row["categorieen"])
            removed.setdefault(row["ontvanger"], set()).update(row["verwijderd"])
            extra = record.public.get("extra") or {}
            withheld.setdefault(row["ontvanger"], set()).update(
                f"{v['veld']} (ontbreekt: {', '.join(v['ontbrekend'])})"
                for v in extra.get("vrije_tekst_achtergehouden", [])
            )
    return {
        oin: (sorted(kept[oin]), sorted(removed[oin] - kept[oin]), sorted(withheld[oin]))
        for oin in kept
    }


async def _signalen(players: Players, bericht_id: str) -> list[str]:
    """The AfsprakenSignalen in any partner's inbox that answer ``bericht_id`` (published
    before the sender's answer: no waiting). A signal is the gateway's disclosure, not a
    partner's message: nobody confirms it (it leaves the inbox when read as usual)."""
    found = []
    for name, client in players.clients.items():
        response = await client.get("/v1/berichten", params={"limit": 100})
        response.raise_for_status()
        for item in response.json()["berichten"]:
            if item.get("berichttype") != "AfsprakenSignaal" or bericht_id not in item["xml"]:
                continue
            root = xmlsafe.parse(str(item["xml"]).encode())
            if _kop(root, "InAntwoordOp") != bericht_id:
                continue
            signaal = root.find(f"{KP}Inhoud/{KP}AfsprakenSignaal")
            assert signaal is not None, item["id"]
            houder = signaal.find(f"{KP}Houder")
            found.append(
                f"{name}: afspraken {signaal.findtext(f'{KP}ReeksId', '')[:8]} versie "
                f"{signaal.findtext(f'{KP}Versie', '')} van "
                f"{signaal.findtext(f'{KP}Datum', '')}, houder "
                f"{NAME_OF.get(houder.get('oin', '') if houder is not None else '', '?')}"
            )
    return found


def _afspraken(xml: str) -> dict[str, Any]:
    """What the responding officer's system shows of the Veiligheidsafspraken it received."""
    root = xmlsafe.parse(xml.encode())
    body = root.find(f"{KP}Inhoud")
    assert body is not None
    shown: dict[str, Any] = {"afspraken": [], "bellen": [], "velden": []}
    for element in body.iter():
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        shown["velden"].append(local)
        if local in {"Afspraak", "afspraak"}:
            parts = {etree.QName(c).localname: (c.text or "") for c in element}
            shown["afspraken"].append(parts)
        if local in {"BijBlijver", "bij-blijver", "Bijblijver"}:
            parts = {etree.QName(c).localname: (c.text or "") for c in element}
            shown["bellen"].append(parts)
    shown["velden"] = sorted(set(shown["velden"]))
    return shown


async def play(parts: core.Parts, players: Players) -> list[dict[str, Any]]:
    sent: dict[str, tuple[bytes, str]] = {}
    out: list[dict[str, Any]] = []
    for scenario in SCENARIOS:
        conversatie = str(uuid.uuid4())
        uitkomsten: list[StapUitkomst] = []
        for index, step in enumerate(scenario.stappen):
            if step.herhaal is not None:
                raw, bericht_id = sent[step.herhaal]
            else:
                bericht_id = str(uuid.uuid4())
                vraag = sent[step.antwoord_op][1] if step.antwoord_op else None
                raw = _build(step, conversatie, bericht_id, parts.policy, vraag)
            sent[f"{scenario.key}/{index}"] = (raw, bericht_id)
            response = await players.clients[step.afzender].post(
                "/v1/berichten", content=raw, headers={"content-type": "application/xml"}
            )
            answer = xmlsafe.parse(response.content)
            root = xmlsafe.parse(raw)
            uitkomst = StapUitkomst(
                titel=step.titel,
                afzender=step.afzender,
                berichttype=_kop(root, "BerichtType") or "",
                bericht_id=bericht_id,
                doel=root.findtext(f"{KP}Kop/{KP}Doelbinding/{KP}Doel"),
                http_status=response.status_code,
                antwoord=_kop(answer, "BerichtType") or "",
                dubbel=step.herhaal is not None,
            )
            if uitkomst.antwoord == "Foutbericht":
                uitkomst.foutcode = answer.findtext(f".//{KP}Code")
                uitkomst.reden = answer.findtext(f".//{KP}Reden")
            else:
                uitkomst.uiterste_beslismoment = answer.findtext(f".//{KP}UitersteBeslismoment")
                inhoud = answer.find(f"{KP}Inhoud")
                oins = (
                    [
                        e.get("oin")
                        for e in inhoud.iterfind(f"{KP}Ontvangstbevestiging/{KP}Ontvanger")
                        if e.get("oin")
                    ]
                    if inhoud is not None
                    else []
                )
                filtered = await _filtered(parts, bericht_id)
                for oin in oins:
                    assert oin is not None
                    name = NAME_OF.get(oin, oin)
                    item = None if step.herhaal else await _collect(players, name, bericht_id)
                    kept, removed, withheld = filtered.get(oin, ([], [], []))
                    uitkomst.ontvangers.append(
                        Aflevering(
                            name,
                            oin,
                            kept,
                            removed,
                            bool(item and item["bevestigd"]),
                            str(item["bevestiging"]) if item else "not in the inbox",
                            withheld,
                        )
                    )
                    if step.toont == name and item is not None:
                        uitkomst.toont = _afspraken(str(item["xml"]))
                if not step.herhaal:
                    uitkomst.signalen = await _signalen(players, bericht_id)
            uitkomsten.append(uitkomst)
        out.append(
            {
                "key": scenario.key,
                "titel": scenario.titel,
                "stappen": [asdict(u) for u in uitkomsten],
            }
        )
    return out


async def _normen(parts: core.Parts, sinds: dt.datetime) -> list[Normregel]:
    """Every norm step the demo opened, oldest first, where it stands now."""
    nu = parts.normen.clock()

    def naam(oin: str) -> str:
        return NAME_OF.get(oin, oin) if oin else ""

    def tijd(moment: dt.datetime) -> str:
        return moment.astimezone(TIJDZONE).isoformat(timespec="minutes")

    return [
        Normregel(
            norm=r.naam,
            sleutel=r.sleutel,
            berichttype=r.berichttype,
            bericht_id=r.bericht_id,
            van=naam(r.afzender_oin),
            aan_zet=naam(r.partner_oin),
            uiterlijk=tijd(r.uiterlijk),
            gesloten=tijd(r.gesloten) if r.gesloten is not None else None,
            status=r.status(nu),
        )
        for r in reversed(await parts.normen.store.recent(sinds, limit=10_000))
    ]


async def _delete_topology(settings: Settings, parts: core.Parts) -> None:
    """The demo's queues and exchanges go again (it used its own prefix)."""
    connection = await aio_pika.connect(settings.amqp_url.get_secret_value())
    try:
        channel = await connection.channel()
        for name, _ in parts.topology.queues():
            await channel.queue_delete(name)
        for name, _ in parts.topology.exchanges():
            await channel.exchange_delete(name)
    finally:
        await connection.close()


async def run(settings: Settings | None = None, workdir: Path | None = None) -> Result:
    started = time.monotonic()
    begin = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kp-demo-")))
        pki = certs.dev_ca(workdir / "certs", [(oin, name) for name, oin in PARTNERS.items()])
        base = settings or load_settings()
        settings = base.model_copy(
            update={
                "amqp_prefix": f"kp-demo-{uuid.uuid4().hex[:8]}",
                "http_enabled": True,
                "http_host": "127.0.0.1",
                "http_port": 0,
                "tls_cert_file": pki.server_cert,
                "tls_key_file": pki.server_key,
                "tls_ca_file": pki.ca,
                "state_dsn": f"sqlite:///{workdir / 'state.db'}",
                "audit_dsn": (
                    base.audit_dsn
                    if settings is not None and "audit_dsn" in base.model_fields_set
                    else f"sqlite:///{workdir / 'audit.db'}"
                ),
                "audit_key_dir": workdir / "keys",
                "audit_log_id": "demo",
                "officers_file": workdir / "officers.json",
                "retry_delays_ms": (1000, 5000),
            }
        )
        async with server.running(settings) as (parts, door):
            players = Players(f"https://127.0.0.1:{door.partner_port}", pki)
            try:
                scenarios = await play(parts, players)
                normen = await _normen(parts, begin)
            finally:
                await players.close()
        await _delete_topology(settings, parts)  # after the consumers stopped
        outcome, unsigned = await audit_access.audit_verify_store(settings)
        overzicht = await audit_access.audit_inzage(settings, INZAGE_BSN, "demo-privacy-officer")
    return Result(
        scenarios=scenarios,
        verificatie={
            "in_orde": outcome.sound,
            "probleem": outcome.problem,
            "logs": outcome.logs,
            "checkpoints": outcome.checkpoints,
            "nog_niet_getekend": unsigned,
        },
        inzage={"bsn": "999990019 (test-BSN, gepseudonimiseerd opgezocht)", **overzicht.to_json()},
        seconden=round(time.monotonic() - started, 2),
        ok=outcome.sound and _as_expected(scenarios),
        overzicht=overzicht,
        normen=normen,
    )


def _as_expected(scenarios: list[dict[str, Any]]) -> bool:
    """Every step accepted and delivered and confirmed, except the deliberate refusals (a doel
    the type may not carry, a grondslag of another party)."""
    for scenario in scenarios:
        for step in scenario["stappen"]:
            if scenario["key"] == "geweigerd-en-dubbel" and not step["dubbel"]:
                if step["foutcode"] not in ("DOEL_NIET_TOEGESTAAN", "GRONDSLAG_ONTBREEKT"):
                    return False
                continue
            if step["antwoord"] != "Ontvangstbevestiging" or not step["ontvangers"]:
                return False
            if not step["dubbel"] and not all(o["bevestigd"] for o in step["ontvangers"]):
                return False
    return True
