"""Free text cannot smuggle categories (spec v2 §8), on delivered bytes through the broker.

Each free-text field of the v1 types carries every category its content may hold (policy data,
``berichten.yaml`` ``vrije_tekst``). Here every field of v2 §8's table is filled with its own
marker in a real message of its type, sent through the real broker, and each recipient's inbox
is read: the marker is in what it received exactly when it is granted all of the field's
categories (the table's and the model's), and the audit's gefilterd record names each one
withheld. The table itself is checked against the spec's, row by row.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from pydantic import BaseModel

from gateway.audit.log import AuditLog
from gateway.audit.signing import Keyring
from gateway.decision.besluit import Aanvaarding
from gateway.domain.model import (
    Bericht,
    BerichtType,
    Categorie,
    Inhoud,
    Part,
    field_categorieen,
    part_type,
)
from gateway.store.database import Database
from tests.support import catalogue
from tests.support.broker import OINS
from tests.support.decisions import decide
from tests.support.gateways import ON_BOTH_TRANSPORTS, Running
from tests.support.messages import fresh
from tests.support.needtoknow import ExampleBytes
from tests.support.partners import NAME_OF, drain, inbox_until_answered, split
from tests.support.routing import took_part
from tests.support.strategies import MESSAGE_CODEC

POLICY = catalogue.POLICY

# Spec v2 §8, "Free text carries every category its content may hold", the rows of v1's types.
# the BerichtTypes of spec v1 §4 (v2 §6 added the others)
V1_TYPES = frozenset(
    {
        "VtMelding",
        "Veiligheidsbeoordeling",
        "Terugkoppeling",
        "Veiligheidsafspraken",
        "ZsmAanmelding",
        "Adviesaanvraag",
        "Reclasseringsadvies",
        "OmBeslissing",
        "VerzoekTotOnderzoek",
        "ActieoverlegAanmelding",
        "ActieoverlegBesluit",
    }
)
SPEC: dict[BerichtType, dict[str, frozenset[Categorie]]] = {
    "VtMelding": {
        "incident.omschrijving": frozenset({"incident"}),
        "incident.letsel": frozenset({"incident", "gezondheid"}),
    },
    "ZsmAanmelding": {
        "incident.omschrijving": frozenset({"incident"}),
        "incident.letsel": frozenset({"incident", "gezondheid"}),
    },
    "ActieoverlegAanmelding": {"aanleiding": frozenset({"incident"})},
    "ActieoverlegBesluit": {"casus": frozenset({"incident"})},
    "Veiligheidsbeoordeling": {
        "kernvragen.wat_is_er_gebeurd": frozenset({"incident"}),
        "kernvragen.wat_is_er_bekend": frozenset({"incident", "gezondheid", "kind"}),
        "kernvragen.is_het_nu_veilig": frozenset({"veiligheid", "kind"}),
        "kernvragen.wat_moet_er_nu_gebeuren": frozenset({"veiligheid", "kind"}),
        "kernvragen.wie_zijn_betrokken": frozenset({"identificatie", "kind"}),
        "onveilige_situatie": frozenset({"veiligheid", "kind"}),
        "veiligheidsvoorwaarde": frozenset({"veiligheid", "kind"}),
        "risicofactor": frozenset({"veiligheid", "gezondheid"}),
        "beschermende_factor": frozenset({"veiligheid", "gezondheid"}),
    },
    "Veiligheidsafspraken": {
        "afspraak.situatie": frozenset({"veiligheid", "kind"}),
        "afspraak.handeling": frozenset({"veiligheid", "kind"}),
    },
    "Terugkoppeling": {
        "toelichting": frozenset({"veiligheid", "hulpverlening", "kind"}),
    },
    "VerzoekTotOnderzoek": {
        "zorgen": frozenset({"kind", "gezondheid"}),
        "ingezette_hulp": frozenset({"hulpverlening", "kind"}),
    },
    "Reclasseringsadvies": {
        "lopende_hulp": frozenset({"hulpverlening", "gezondheid"}),
    },
}

# (example, sender, doel where the example's must change): every type of the table, and the
# Veiligheidsbeoordeling under each of its doelen (to reclassering: the case).
CASES = [
    ("politie/VtMelding.xml", "politie", None),
    ("politie/ZsmAanmelding.xml", "politie", None),
    ("politie/ActieoverlegAanmelding.xml", "politie", None),
    ("openbaar-ministerie/ActieoverlegBesluit.xml", "om", None),
    ("veilig-thuis/Veiligheidsbeoordeling.xml", "vt-twente", None),
    ("veilig-thuis/Veiligheidsbeoordeling.xml", "vt-twente", "RECLASSERINGSADVIES"),
    ("veilig-thuis/Veiligheidsbeoordeling.xml", "vt-twente", "ONDERZOEK_KINDERBESCHERMING"),
    ("veilig-thuis/Veiligheidsafspraken.xml", "vt-twente", None),
    ("veilig-thuis/Terugkoppeling.xml", "vt-twente", None),
    ("veilig-thuis/VerzoekTotOnderzoek.xml", "vt-twente", None),
    ("reclassering/Reclasseringsadvies.xml", "reclassering", None),
]
GRONDSLAG = {"ONDERZOEK_KINDERBESCHERMING": "JW-ART-7.3.11"}  # VT's own for that doel (v2 §4)


async def send_and_collect(
    gateway: Running, sender: str, raw: bytes, recipients: set[str]
) -> dict[str, Any]:
    """Send as ``sender``; each of ``recipients`` receives exactly one delivery (the answer
    comes after every delivery was confirmed, so the inboxes are final then)."""
    await gateway.partner(sender).send(fresh(raw))
    own, answers = await inbox_until_answered(gateway.partner(sender))
    assert own == []
    assert len(answers) == 1, [a.body for a in answers]
    delivered: dict[str, Any] = {}
    for name in recipients:
        deliveries, others = split(await drain(gateway.partner(name)))
        assert others == []
        assert len(deliveries) == 1, f"{name} got {len(deliveries)} deliveries"
        delivered[name] = deliveries[0]
    return delivered


def test_the_policy_carries_v2_s8_table_for_the_v1_types() -> None:
    """v2 §8's table for the v1 types (the v2 types' rows: tests/unit/policy)."""
    assert {t: v for t, v in POLICY.vrije_tekst.items() if v and t in V1_TYPES} == SPEC


def _marked(part: Part, path: str, counter: list[int]) -> tuple[Part, list[str]]:
    """``part`` with the free text at ``path`` set to fresh markers (every item of a list, every
    text of a part), and the markers."""
    head, _, rest = path.partition(".")
    value = getattr(part, head)
    markers: list[str] = []

    def marker() -> str:
        counter[0] += 1
        markers.append(f"Vt{counter[0]:04d}Marker")
        return markers[-1]

    def mark(item: Any) -> Any:
        if rest:
            assert isinstance(item, Part), (path, item)
            marked, inner = _marked(item, rest, counter)
            markers.extend(inner)
            return marked
        if isinstance(item, Part):  # a part as a whole: every text in it
            return item.model_copy(
                update={
                    n: marker()
                    for n in type(item).model_fields
                    if isinstance(getattr(item, n), str)
                }
            )
        return marker()

    assert value not in (None, []), f"the example has no {path}"
    new = [mark(i) for i in value] if isinstance(value, list) else mark(value)
    return part.model_copy(update={head: new}), markers


async def gefilterd(gateway: Running, bericht_id: str, oin: str) -> list[dict[str, Any]]:
    """The audit's gefilterd records of one message to one recipient, read from the running
    gateway's audit store (polled: the store may commit its group a moment later)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        db = Database(gateway.settings.audit_dsn)
        try:
            log = AuditLog(db, "lezer", Keyring(gateway.settings.audit_key_dir))
            records = [
                r.public
                for r in await log.journey(bericht_id)
                if r.public.get("gebeurtenis") == "gefilterd"
                and (r.public.get("ontvanger") or {}).get("oin") == oin
            ]
        finally:
            db.close()
        if records or loop.time() > deadline:
            return records
        await asyncio.sleep(0.1)


def _model_categorieen(model: type[BaseModel], path: str) -> frozenset[Categorie]:
    """The categories the model itself gives the field at ``path`` (its own and ancestors')."""
    cats: frozenset[Categorie] = frozenset()
    current: type[BaseModel] | None = model
    for name in path.split("."):
        assert current is not None
        cats |= field_categorieen(current, name)
        current = part_type(current, name)
    return cats


@ON_BOTH_TRANSPORTS
@pytest.mark.parametrize(
    ("rel", "sender", "doel"),
    CASES,
    ids=[f"{r.split('/')[1][:-4]}-{d or 'doel'}" for r, _, d in CASES],
)
async def test_free_text_reaches_only_a_recipient_granted_all_its_categories(
    gateway: Running, example_bytes: ExampleBytes, rel: str, sender: str, doel: str | None
) -> None:
    text = example_bytes(rel).decode()
    if doel is not None:
        text = re.sub(r"<kp:Doel>[^<]+</kp:Doel>", f"<kp:Doel>{doel}</kp:Doel>", text)
        text = re.sub(
            r"<kp:Grondslag>[^<]+</kp:Grondslag>",
            f"<kp:Grondslag>{GRONDSLAG.get(doel, 'WMO2015-ART-4.1.1')}</kp:Grondslag>",
            text,
        )
    bericht = MESSAGE_CODEC.read(text.encode())
    inhoud = bericht.inhoud
    assert isinstance(inhoud, Inhoud)
    berichttype = bericht.kop.berichttype
    counter = [0]
    markers: dict[str, list[str]] = {}
    for path in SPEC[berichttype]:
        marked, found = _marked(inhoud, path, counter)
        assert isinstance(marked, Inhoud)
        inhoud, markers[path] = marked, found
    raw = MESSAGE_CODEC.write(Bericht(kop=bericht.kop, inhoud=inhoud))

    # an ActieoverlegBesluit goes to each rol that took part (v2 §5): after an Aanmelding
    deelnemers: frozenset[str] = frozenset()
    if berichttype == "ActieoverlegBesluit":
        others = ["politie", "vt-twente", "rvdk", "reclassering"]
        await took_part(gateway.state, bericht.kop.conversatie_id, "om", others)
        deelnemers = frozenset(OINS[name] for name in ["om", *others])
    # who receives it and with which grants: the decision the gateway will take
    besluit = decide(raw, OINS[sender], deelnemers=deelnemers)
    assert isinstance(besluit, Aanvaarding)
    # the test partners' deliveries are read here (the v2 partners' own: test_lokaal_veld and
    # the need-to-know property, tests/unit/decision/test_needtoknow.py)
    granted = {
        lev.ontvanger.partner.oin: lev.ontvanger.granted
        for lev in besluit.leveringen
        if lev.ontvanger.partner.oin in NAME_OF
    }
    got = await send_and_collect(gateway, sender, raw, {NAME_OF[oin] for oin in granted})

    model = type(inhoud)
    withheld_somewhere = False
    for oin, grants in granted.items():
        received = got[NAME_OF[oin]].body.decode("utf-8")
        expected_withheld = []
        for path, cats in SPEC[berichttype].items():
            allowed = cats | _model_categorieen(model, path) <= grants
            for value in markers[path]:
                assert (value in received) is allowed, (NAME_OF[oin], path, sorted(cats - grants))
            if not allowed:
                expected_withheld.append(path)
        withheld_somewhere |= bool(expected_withheld)
        # the audit's gefilterd record names each free-text field withheld and why
        # send_and_collect sent it with a fresh BerichtId: the copy names it
        id_match = re.search(rb"<kp:BerichtId>([^<]+)</kp:BerichtId>", got[NAME_OF[oin]].body)
        assert id_match is not None
        bericht_id = id_match.group(1).decode()
        records = await gefilterd(gateway, bericht_id, oin)
        assert records, (oin, bericht_id)
        for public in records:
            named = (public.get("extra") or {}).get("vrije_tekst_achtergehouden", [])
            assert [v["veld"] for v in named] == sorted(expected_withheld), json.dumps(public)
            for v in named:
                assert set(v["ontbrekend"]) == set(v["categorieen"]) - grants
                assert v["ontbrekend"]
    if berichttype == "Veiligheidsbeoordeling" and doel == "RECLASSERINGSADVIES":
        assert withheld_somewhere  # the case: wat-is-er-bekend does not reach them
