"""Need-to-know (spec §7): what each recipient receives, down to the delivered bytes.

Three layers:

- the §7 rules, each through the real broker: a partner sends an example, the recipient's
  inbox is read, and the values of removed categories occur nowhere in what it receives
  (body, headers, properties), while the granted ones do;
- properties at pipeline level (no broker): random valid messages of every BerichtType from
  every sender, routed by the default policy; every delivered payload is parsed back with the
  recipient's own codec and holds exactly the granted part of the message;
- the model: every leaf field has a category, and the filter with every / no category.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from aio_pika.abc import AbstractIncomingMessage
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import BaseModel

from adapters import ADAPTERS
from adapters.codec import _part_type
from adapters.shape import Group, Kind, Node
from adapters.shapes import SHAPES
from gateway.codec.envelope import KP
from gateway.decision.besluit import Aanvaarding
from gateway.decision.needtoknow import filter_inhoud
from gateway.domain.errors import Refused
from gateway.domain.model import (
    INHOUD_TYPES,
    ActieoverlegAanmelding,
    Bericht,
    BerichtType,
    Categorie,
    Doel,
    Doelbinding,
    Foutcode,
    Inhoud,
    Kop,
    Ontvangstbevestiging,
    Part,
    Partij,
    Persoon,
    PersoonRol,
    Prioriteit,
    Rol,
    Terugkoppeling,
    Veiligheidsafspraken,
    Veiligheidsbeoordeling,
    ZsmAanmelding,
    categorieen_in,
    field_categorieen,
    is_empty,
    part_type,
)
from gateway.policy.catalogue import load_policy
from gateway.safexml import xmlsafe
from tests.conftest import Running, fresh
from tests.support.broker import OINS, Partner, split
from tests.support.decisions import decide
from tests.support.paths import REPO_ROOT
from tests.support.strategies import MESSAGE_CODEC, SENT, TIJDSTIP, UUID, inhoud, pair_id

ROOT = REPO_ROOT
POLICY = load_policy(ROOT / "policy" / "v1")
ALL = frozenset(Categorie)
NONE: frozenset[Categorie] = frozenset()

ExampleBytes = Callable[[str], bytes]

# Partner names of tests/broker.py by rol (Veilig Thuis: the Twente regio of the examples).
NAAM = {
    Rol.POLITIE: "politie",
    Rol.VEILIG_THUIS: "vt-twente",
    Rol.OPENBAAR_MINISTERIE: "om",
    Rol.RAAD_KINDERBESCHERMING: "rvdk",
    Rol.RECLASSERING: "reclassering",
}
ROL = {naam: rol for rol, naam in NAAM.items()}


# --------------------------------------------------------------------------- model helpers


def leaves(
    part: BaseModel,
    inherited: frozenset[Categorie] = NONE,
    path: tuple[str, ...] = (),
    vrij: Mapping[str, frozenset[Categorie]] | None = None,
) -> Iterator[tuple[str, Any, frozenset[Categorie]]]:
    """Every filled leaf value of a canonical part: (dotted field path, value, effective
    categories: its own, its ancestors', what a list item adds from its content and, for a
    free-text field in ``vrij`` (the policy's v2 §8 table), what its content may hold)."""
    for name in type(part).model_fields:
        value = getattr(part, name)
        dotted = ".".join((*path, name))
        cats = inherited | field_categorieen(type(part), name) | (vrij or {}).get(dotted, NONE)
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, Part):
                yield from leaves(item, cats | item.extra_categorieen(), (*path, name), vrij)
            else:
                yield dotted, item, cats


def leaf_multiset(
    part: BaseModel,
    granted: frozenset[Categorie] = ALL,
    vrij: Mapping[str, frozenset[Categorie]] | None = None,
) -> Counter[str]:
    """The leaves of ``part`` whose categories are all granted, as (path, value) reprs."""
    return Counter(f"{p}={v!r}" for p, v, cats in leaves(part, vrij=vrij) if cats <= granted)


def declared_leaves(
    model: type[BaseModel], inherited: frozenset[Categorie] = NONE, path: str = ""
) -> Iterator[tuple[str, frozenset[Categorie]]]:
    """Every leaf field a model declares, with the categories it always has."""
    for name in model.model_fields:
        cats = inherited | field_categorieen(model, name)
        sub = part_type(model, name)
        where = f"{path}{name}"
        if sub is None:
            yield where, cats
        else:
            yield from declared_leaves(sub, cats, f"{where}.")


def body_element(payload: bytes) -> etree._Element:
    root = xmlsafe.parse(payload)
    inhoud_el = root.find(f"{KP}Inhoud")
    assert inhoud_el is not None
    children = [c for c in inhoud_el if isinstance(c.tag, str)]
    assert len(children) == 1
    return children[0]


def parse_delivered(payload: bytes, rol: Rol, berichttype: BerichtType) -> Inhoud:
    """The delivered body, parsed back with the recipient's own codec."""
    body = body_element(payload)
    codec = ADAPTERS[rol].codecs[berichttype]
    assert body.tag == codec.tag, f"{rol} got {body.tag}, expects {codec.tag}"
    MESSAGE_CODEC.schemas.check_body(body, sent=False)
    return codec.parse(body)


def body_values(payload: bytes) -> set[str]:
    """Every text and attribute value in the delivered body, stripped."""
    values: set[str] = set()
    for element in body_element(payload).iter():
        if element.text and element.text.strip():
            values.add(element.text.strip())
        values.update(v.strip() for v in element.attrib.values())
    return values


# --------------------------------------------------------------------------- broker helpers


def received_text(message: AbstractIncomingMessage) -> str:
    """Everything a recipient gets: the body and every header and property."""
    return "\n".join(
        [
            message.body.decode("utf-8"),
            repr(message.headers),
            repr(message.properties),
        ]
    )


async def answers_of(partner: Partner, timeout: float = 20.0) -> list[AbstractIncomingMessage]:
    """Wait for the gateway's answer(s) in a partner's inbox."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        _, answers = split(await partner.inbox(settle=0.2))
        if answers:
            return answers
    raise AssertionError(f"no answer for {partner.oin} within {timeout} s")


async def send_and_collect(
    gateway: Running, sender: str, raw: bytes, recipients: set[str]
) -> dict[str, AbstractIncomingMessage]:
    """Send as ``sender``; the gateway accepts it for exactly ``recipients``, each of which
    receives exactly one delivery (and nobody else receives anything)."""
    await gateway.partner(sender).send(fresh(raw))
    answers = await answers_of(gateway.partner(sender))
    assert len(answers) == 1
    answer = MESSAGE_CODEC.read(answers[0].body)
    assert isinstance(answer.inhoud, Ontvangstbevestiging), answers[0].body.decode()
    assert {o.oin for o in answer.inhoud.ontvangers} == {OINS[r] for r in recipients}
    delivered: dict[str, AbstractIncomingMessage] = {}
    for name in OINS:
        if name == sender:
            continue
        deliveries, others = split(await gateway.partner(name).inbox(settle=0.2))
        assert others == []
        if name in recipients:
            assert len(deliveries) == 1, f"{name} got {len(deliveries)} deliveries"
            delivered[name] = deliveries[0]
        else:
            assert deliveries == [], f"{name} got a delivery it should not"
    return delivered


def assert_has(text: str, *values: str) -> None:
    for value in values:
        assert value in text, f"{value!r} missing from what the recipient received"


def assert_lacks(text: str, *values: str) -> None:
    for value in values:
        assert value not in text, f"{value!r} was delivered but is not granted"


# --------------------------------------------------------------------------- §7 through the broker

TOELICHTING = "Vervolg is ingezet; gezin werkt mee."
KIND_BSN = "999990032"
KIND_GEBOREN = "2017-06-30"
KIND_NAAM = re.compile(r"\bJan\b")  # not "Jansen"
ADRES = ("Lindelaan", "7511AB", "Enschede")


@pytest.mark.broker
async def test_terugkoppeling_to_politie_has_proces_and_casusregisseur_only(
    gateway: Running, example_bytes: ExampleBytes
) -> None:
    raw = example_bytes("veilig-thuis/Terugkoppeling.xml")
    assert TOELICHTING.encode() in raw  # the example carries the free text
    got = await send_and_collect(gateway, "vt-twente", raw, {"politie"})
    message = got["politie"]
    text = received_text(message)
    assert_has(
        text,
        "PL0900-2026112012345",  # melding-referentie
        "VT-TW-2026-004711",  # dossier
        "2026-11-21",  # ontvangen-op
        "M. Bakker",  # casusregisseur
        "053-4811111",
        "<pol:VeiligheidsafsprakenAanwezig>true</pol:VeiligheidsafsprakenAanwezig>",
    )
    assert_lacks(text, TOELICHTING, "Vervolg is ingezet", "gezin werkt mee", "Toelichting")
    parsed = parse_delivered(message.body, Rol.POLITIE, BerichtType.TERUGKOPPELING)
    assert isinstance(parsed, Terugkoppeling)
    assert parsed.toelichting is None
    assert parsed.veiligheidsafspraken_aanwezig is True
    assert parsed.casusregisseur is not None
    assert (parsed.casusregisseur.naam, parsed.casusregisseur.telefoon) == (
        "M. Bakker",
        "053-4811111",
    )
    assert categorieen_in(parsed) == {Categorie.PROCES, Categorie.HULPVERLENING}


@pytest.mark.broker
async def test_veiligheidsafspraken_to_politie_has_afspraken_address_and_names(
    gateway: Running, example_bytes: ExampleBytes
) -> None:
    raw = example_bytes("veilig-thuis/Veiligheidsafspraken.xml")
    got = await send_and_collect(gateway, "vt-twente", raw, {"politie"})
    message = got["politie"]
    text = received_text(message)
    assert_has(
        text,
        "Melding van geluidsoverlast of ruzie op dit adres",
        "Vermoeden HG: Peter aanhouden en protocol tijdelijk huisverbod starten",
        "Kinderen moeten de woning uit",
        "Opvang bij tante, Dennenweg 3",
        "06-12345678",
        "M. Bakker",  # bij-blijver: who to call
        "053-4811111",
        *ADRES,
        "Anna Jansen",
        "Peter Jansen",
        "999990020",
        "2027-05-21",  # geldig-tot
        "VT-TW-2026-004711",
    )
    parsed = parse_delivered(message.body, Rol.POLITIE, BerichtType.VEILIGHEIDSAFSPRAKEN)
    assert isinstance(parsed, Veiligheidsafspraken)
    assert categorieen_in(parsed) == {
        Categorie.IDENTIFICATIE,
        Categorie.CONTACT,
        Categorie.VEILIGHEID,
        Categorie.PROCES,
    }
    # Everything VT sent is in it: nothing of this type needs removing for the politie.
    assert parsed == MESSAGE_CODEC.read(raw).inhoud


@pytest.mark.broker
async def test_zsm_aanmelding_to_reclassering_has_the_verdachte_not_the_child(
    gateway: Running, example_bytes: ExampleBytes
) -> None:
    raw = example_bytes("politie/ZsmAanmelding.xml")
    assert KIND_BSN.encode() in raw
    assert b"<pol:HgLabel>true</pol:HgLabel>" in raw
    got = await send_and_collect(gateway, "politie", raw, {"om", "vt-twente", "reclassering"})

    reclassering = received_text(got["reclassering"])
    assert_has(
        reclassering,
        "999990020",  # the verdachte
        "<rc:Voornamen>Peter</rc:Voornamen>",
        "1985-09-17",
        "Mevrouw verklaart dat zij door haar man bij de keel is gegrepen.",  # incident
        "Rode striemen in de hals",
        "PL0900-2026112012399",  # Zaak
        "<rc:Feit>MISHANDELING</rc:Feit>",
        "<rc:Feit>BEDREIGING</rc:Feit>",
        "2026-11-20T23:05:00+01:00",
        "<rc:HgLabel>true</rc:HgLabel>",
    )
    assert_lacks(reclassering, KIND_BSN, KIND_GEBOREN, *ADRES, "Adres>")
    assert KIND_NAAM.search(reclassering) is None
    parsed = parse_delivered(got["reclassering"].body, Rol.RECLASSERING, BerichtType.ZSM_AANMELDING)
    assert isinstance(parsed, ZsmAanmelding)
    assert Categorie.KIND not in categorieen_in(parsed)
    assert Categorie.CONTACT not in categorieen_in(parsed)
    assert PersoonRol.KIND not in {p.rol for p in parsed.personen}
    verdachte = parsed.verdachte()
    assert verdachte is not None
    assert verdachte.bsn == "999990020"

    # The OM (everything under this doel) does get the child and the address: the example
    # really carries them, and the filter is per recipient.
    om = received_text(got["om"])
    assert_has(om, KIND_BSN, KIND_GEBOREN, *ADRES)
    assert KIND_NAAM.search(om) is not None


@pytest.mark.broker
@pytest.mark.parametrize("deel", [False, True], ids=["gezondheid-niet-delen", "delen"])
async def test_veiligheidsbeoordeling_to_om_shares_gezondheid_only_when_marked(
    gateway: Running, example_bytes: ExampleBytes, deel: bool
) -> None:
    original = example_bytes("veilig-thuis/Veiligheidsbeoordeling.xml").decode()
    assert original.count('deel-gezondheid-met-om="false"') == 1
    raw = original.replace(
        'deel-gezondheid-met-om="false"', f'deel-gezondheid-met-om="{str(deel).lower()}"'
    ).encode()
    bericht = MESSAGE_CODEC.read(raw)
    assert bericht.kop.doelbinding is not None
    assert bericht.kop.doelbinding.doel is Doel.STRAFRECHTELIJKE_BESLISSING
    got = await send_and_collect(gateway, "vt-twente", raw, {"om"})
    text = received_text(got["om"])

    gezondheid = ("alcoholverslaving", "Tactus")
    if deel:
        assert_has(text, *gezondheid)
    else:
        assert_lacks(text, *gezondheid, "Gezondheid>")
    assert_has(
        text,
        "<om:Gezinsprofiel>GEZIN_IN_STRESS</om:Gezinsprofiel>",
        "<om:Veiligheidsschaal>2</om:Veiligheidsschaal>",
        "<om:AcuutOnveilig>false</om:AcuutOnveilig>",
        "Peter heeft Anna bij de keel gegrepen terwijl Jan in de kamer was.",
        "Anna wordt sinds 2024 bij ruzie door Peter bij de keel gegrepen",
        "Schulden sinds faillissement",
        "Tante woont om de hoek",
        "Peter slaapt bij zijn broer als hij gedronken heeft",
        "<om:Besluit>VOORWAARDEN_EN_VERVOLG</om:Besluit>",
        "M. Bakker",
        "999990019",
        "999990020",
        KIND_BSN,  # the OM may receive kind under this doel
        "VT-TW-2026-004711",
    )
    parsed = parse_delivered(got["om"].body, Rol.OPENBAAR_MINISTERIE, bericht.kop.berichttype)
    assert isinstance(parsed, Veiligheidsbeoordeling)
    # Everything else is there, unchanged.
    expected = bericht.inhoud if deel else bericht.inhoud.model_copy(update={"gezondheid": None})
    assert parsed == expected
    assert (Categorie.GEZONDHEID in categorieen_in(parsed)) is deel


ACTIEOVERLEG_GRANTS = {
    rol: frozenset(grant.categorieen)
    for rol, grant in POLICY.doelen[Doel.ACTIEOVERLEG].ontvangers.items()
}


@pytest.mark.broker
@pytest.mark.parametrize(
    ("example", "sender"),
    [
        ("politie/ActieoverlegAanmelding.xml", "politie"),
        ("veilig-thuis/ActieoverlegAanmelding.xml", "vt-twente"),
    ],
    ids=["van-politie", "van-veilig-thuis"],
)
async def test_actieoverleg_aanmelding_each_rol_gets_its_doel_grants(
    gateway: Running, example_bytes: ExampleBytes, example: str, sender: str
) -> None:
    raw = example_bytes(example)
    recipients = set(NAAM.values()) - {sender}
    got = await send_and_collect(gateway, sender, raw, recipients)
    original = MESSAGE_CODEC.read(raw).inhoud
    assert isinstance(original, ActieoverlegAanmelding)

    for name, message in got.items():
        rol = ROL[name]
        granted = ACTIEOVERLEG_GRANTS[rol]
        text = received_text(message)
        parsed = parse_delivered(message.body, rol, BerichtType.ACTIEOVERLEG_AANMELDING)
        assert categorieen_in(parsed) <= granted, name
        # exactly the granted part of what was sent, nothing less
        assert leaf_multiset(parsed) == leaf_multiset(original, granted), name
        child = Categorie.KIND in granted
        assert (KIND_BSN in text) is child, name
        assert (KIND_GEBOREN in text) is child, name
        assert (KIND_NAAM.search(text) is not None) is child, name
        for value in ADRES:
            assert (value in text) is (Categorie.CONTACT in granted), (name, value)

    assert Categorie.KIND in ACTIEOVERLEG_GRANTS[Rol.RAAD_KINDERBESCHERMING]
    assert Categorie.KIND not in ACTIEOVERLEG_GRANTS[Rol.RECLASSERING]
    assert_has(received_text(got["rvdk"]), KIND_BSN, KIND_GEBOREN)
    assert KIND_NAAM.search(received_text(got["rvdk"])) is not None
    assert_lacks(received_text(got["reclassering"]), KIND_BSN, KIND_GEBOREN, *ADRES)
    assert KIND_NAAM.search(received_text(got["reclassering"])) is None


# --------------------------------------------------------------------------- properties (pipeline)

FREE_TEXT = (Kind.TEKST, Kind.KORT)
MARKER = re.compile(r"Qz\d{5}zQ")


def _marked(part: Part, nodes: tuple[Node, ...], counter: Iterator[int]) -> Part:
    """``part`` with every free text replaced by a unique marker (Qz00001zQ, ...), so its
    presence in the delivered bytes is exact."""
    updates: dict[str, Any] = {}
    for node in nodes:
        value = getattr(part, node.field)
        if value is None:
            continue
        if isinstance(node, Group):
            _part_type(type(part), node.field)  # fails loudly if the shape drifts
            if isinstance(value, list):
                updates[node.field] = [_marked(v, node.children, counter) for v in value]
            else:
                updates[node.field] = _marked(value, node.children, counter)
        elif node.kind in FREE_TEXT:
            if isinstance(value, list):
                updates[node.field] = [f"Qz{next(counter):05d}zQ" for _ in value]
            else:
                updates[node.field] = f"Qz{next(counter):05d}zQ"
    return part.model_copy(update=updates)


def _set_path(part: Part, path: str, value: str) -> Part:
    head, _, rest = path.partition(".")
    current = getattr(part, head)
    if current is None:
        return part  # no such part: routing will find no postcode (GEEN_ONTVANGER)
    if not rest:
        return part.model_copy(update={head: value})
    return part.model_copy(update={head: _set_path(current, rest, value)})


POSTCODE = st.builds(
    lambda number, space, letters: f"{number}{space}{letters}",
    st.integers(7400, 7699) | st.integers(3000, 3299),
    st.sampled_from(["", " "]),
    st.from_regex(r"[A-Z]{2}", fullmatch=True),
)


@st.composite
def routable(draw: st.DrawFn, rol: Rol, berichttype: BerichtType) -> tuple[Bericht, str]:
    """A valid message of ``berichttype`` from a partner of ``rol``, with a doel and
    grondslagen the policy accepts and postcodes in a Veilig Thuis regio."""
    regel = POLICY.berichten[berichttype]
    body = draw(inhoud(berichttype), label="inhoud")
    for route in regel.routes:
        if route.regio not in (None, "conversatie"):
            body = _set_path(body, route.regio, draw(POSTCODE, label="postcode"))
    body = _marked(body, SHAPES[berichttype].children, itertools.count(1))
    doel = draw(st.sampled_from(regel.doelen), label="doel")
    # every code the sending rol has for the doel (v2 §4), in any order: each recipient covered
    codes = sorted(
        {c for r in POLICY.doelen[doel].grondslagen if r.afzender is rol for c in r.codes}
    )
    grondslagen = draw(st.permutations(codes), label="grondslagen")
    afzender = draw(st.sampled_from(POLICY.partners_met_rol(rol)), label="afzender")
    kop = Kop(
        bericht_id=draw(UUID),
        conversatie_id=draw(UUID),
        berichttype=berichttype,
        afzender=Partij(oin=afzender.oin, rol=rol),
        doelbinding=Doelbinding(doel=doel, grondslagen=tuple(grondslagen)),
        tijdstip=draw(TIJDSTIP),
        prioriteit=draw(st.none() | st.sampled_from(list(Prioriteit))),
    )
    return Bericht(kop=kop, inhoud=body), afzender.oin


PIPELINE = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _check_levering(besluit: Aanvaarding, index: int) -> None:
    bericht = besluit.bericht
    original = bericht.inhoud
    assert isinstance(original, Inhoud)
    berichttype = bericht.kop.berichttype
    routering = besluit.gerouteerd.routering
    levering = besluit.leveringen[index]
    partner = levering.ontvanger.partner
    rol = partner.rol
    granted = levering.ontvanger.granted

    # The grants come from the policy: never more than the doel allows the rol, never more
    # than the type's toegang, and gezondheid to the OM only when VT marked it.
    cap = POLICY.doelen[routering.doel].ontvangers[rol]
    assert granted <= frozenset(cap.categorieen)
    # v2 §4: delivered under a cited grondslag acceptable for (doel, sender, this recipient)
    assert bericht.kop.doelbinding is not None
    assert levering.ontvanger.grondslag in bericht.kop.doelbinding.grondslagen
    acceptabel = POLICY.doelen[routering.doel].acceptabel(routering.afzender.rol, rol)
    assert levering.ontvanger.grondslag in acceptabel
    toegang = POLICY.berichten[berichttype].toegang.get(routering.doel, {}).get(rol)
    if toegang is not None:
        widest = set(toegang.categorieen).union(*(e.categorieen for e in toegang.extra))
        assert granted <= widest
    if berichttype is BerichtType.VEILIGHEIDSBEOORDELING and rol is Rol.OPENBAAR_MINISTERIE:
        assert isinstance(original, Veiligheidsbeoordeling)
        assert (Categorie.GEZONDHEID in granted) is (original.deel_gezondheid_met_om is True)

    # The envelope names this recipient and the grondslag it was delivered under.
    root = xmlsafe.parse(levering.payload)
    ontvangers = root.findall(f"{KP}Kop/{KP}Ontvanger")
    assert [(o.get("oin"), o.get("rol")) for o in ontvangers] == [(partner.oin, rol.value)]
    assert [g.text for g in root.iter(f"{KP}Grondslag")] == [levering.ontvanger.grondslag]

    # Parsed back with the recipient's own codec: only granted categories, free text counted
    # with every category its content may hold (v2 §8) ...
    vrij = POLICY.vrije_tekst.get(berichttype, {})
    parsed = parse_delivered(levering.payload, rol, berichttype)
    present = frozenset(c for _, _, cats in leaves(parsed, vrij=vrij) for c in cats)
    assert present <= granted, f"{rol}: {sorted(present - granted)} not granted"
    assert levering.kept == present
    sent = frozenset(c for _, _, cats in leaves(original, vrij=vrij) for c in cats)
    assert levering.removed == sent - granted
    # ... and all of them: exactly the granted leaves of what was sent.
    assert leaf_multiset(parsed, vrij=vrij) == leaf_multiset(original, granted, vrij)
    assert parsed == filter_inhoud(original, granted, vrij).inhoud
    # Each free-text field withheld is named, with the categories the recipient lacks.
    withheld = {
        v
        for p, _, cats in leaves(original, vrij=vrij)
        for v in vrij
        if (p == v or p.startswith(f"{v}.")) and not vrij[v] | cats <= granted
    }
    assert {a.veld for a in levering.achtergehouden} == withheld
    for a in levering.achtergehouden:
        assert a.ontbrekend, a
        assert a.ontbrekend == a.categorieen - granted, a

    # The audit's account equals what the bytes contain: kept and removed categories per
    # delivery, the free-text fields withheld in the gefilterd entries.
    for entry in besluit.entries:
        if entry.ontvanger != (partner.oin, rol.value) or entry.status == "weggelaten":
            continue
        if entry.gebeurtenis in ("gefilterd", "afgeleverd"):
            assert set(entry.categorieen) == present, entry
            assert set(entry.verwijderd) == sent - granted, entry
        if entry.gebeurtenis == "gefilterd":
            named = entry.extra.get("vrije_tekst_achtergehouden", [])
            assert [v["veld"] for v in named] == sorted(withheld), entry

    # In the bytes: a field lacking a category occurs nowhere, a granted one does.
    text = levering.payload.decode("utf-8")
    for path, value, cats in leaves(original, vrij=vrij):
        if isinstance(value, str) and MARKER.fullmatch(value):
            assert (value in text) is (cats <= granted), (rol, path, sorted(cats))
    # A removed BSN is in no value of the body, unless a granted field holds the same one.
    kept_bsns = {v for p, v, _ in leaves(parsed) if p.endswith("bsn")}
    values = body_values(levering.payload)
    for path, value, cats in leaves(original):
        if path.endswith("bsn") and not cats <= granted and value not in kept_bsns:
            assert value not in values, (rol, path)


def _decide(raw: bytes, oin: str, deelnemers: frozenset[str]) -> Aanvaarding | Refused:
    try:
        return decide(raw, oin, deelnemers=deelnemers)
    except Refused as refused:
        return refused


@pytest.mark.parametrize(("rol", "berichttype"), SENT, ids=[pair_id(p) for p in SENT])
@PIPELINE
@given(data=st.data())
def test_every_delivery_holds_exactly_the_granted_categories(
    rol: Rol, berichttype: BerichtType, data: st.DataObject
) -> None:
    bericht, oin = data.draw(routable(rol, berichttype), label="bericht")
    vt = data.draw(st.sampled_from(POLICY.partners_met_rol(Rol.VEILIG_THUIS)), label="regio")
    raw = MESSAGE_CODEC.write(bericht)
    besluit = _decide(raw, oin, frozenset({vt.oin}))
    if isinstance(besluit, Refused):
        # Only routing may find nobody (no postcode, no age, doel routes to the sender).
        assert besluit.code is Foutcode.GEEN_ONTVANGER, str(besluit)
        reject()
    assert besluit.bericht.inhoud == bericht.inhoud  # the sender's format lost nothing
    assert besluit.leveringen
    assert oin not in {lev.ontvanger.partner.oin for lev in besluit.leveringen}
    for index in range(len(besluit.leveringen)):
        _check_levering(besluit, index)


# --------------------------------------------------------------------------- the model

BODY_TYPES = sorted(INHOUD_TYPES.items())


@pytest.mark.parametrize(("berichttype", "model"), BODY_TYPES, ids=[t.value for t, _ in BODY_TYPES])
def test_every_leaf_field_has_a_category(berichttype: BerichtType, model: type[Inhoud]) -> None:
    found = list(declared_leaves(model))
    assert found, model
    without = [path for path, cats in found if not cats]
    assert without == [], f"{berichttype}: no category, so never filtered: {without}"
    for _, cats in found:
        assert cats <= ALL


def test_a_person_with_rol_kind_needs_kind() -> None:
    kind = Persoon(rol=PersoonRol.KIND, bsn=KIND_BSN, voornamen="Jan")
    ouder = Persoon(rol=PersoonRol.SLACHTOFFER, bsn="999990019", voornamen="Anna")
    body = ZsmAanmelding(personen=[ouder, kind])
    assert categorieen_in(body) == {Categorie.IDENTIFICATIE, Categorie.KIND}
    only_id = filter_inhoud(body, frozenset({Categorie.IDENTIFICATIE}))
    assert only_id.inhoud == ZsmAanmelding(personen=[ouder])
    assert only_id.kept == {Categorie.IDENTIFICATIE}
    assert only_id.removed == {Categorie.KIND}
    assert filter_inhoud(body, frozenset({Categorie.KIND})).inhoud == ZsmAanmelding()
    both = filter_inhoud(body, frozenset({Categorie.IDENTIFICATIE, Categorie.KIND}))
    assert both.inhoud == body
    assert both.removed == frozenset()


def test_a_nested_field_needs_every_ancestor_category() -> None:
    """incident.adres is contact *and* incident: granting one of them is not enough."""
    bericht = MESSAGE_CODEC.read((ROOT / "examples/politie/ZsmAanmelding.xml").read_bytes())
    body = bericht.inhoud
    assert isinstance(body, ZsmAanmelding)
    assert body.incident is not None
    assert body.incident.adres is not None
    only_contact = filter_inhoud(body, frozenset({Categorie.CONTACT})).inhoud
    assert isinstance(only_contact, ZsmAanmelding)
    assert only_contact.incident is None
    without_contact = filter_inhoud(body, ALL - {Categorie.CONTACT}).inhoud
    assert isinstance(without_contact, ZsmAanmelding)
    assert without_contact.incident is not None
    assert without_contact.incident.adres is None
    assert without_contact.incident.omschrijving == body.incident.omschrijving


MODEL = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TYPES = [t for t in BerichtType if not t.technisch]


@pytest.mark.parametrize("berichttype", TYPES, ids=[t.value for t in TYPES])
@MODEL
@given(data=st.data())
def test_filter_with_every_category_is_the_identity(
    berichttype: BerichtType, data: st.DataObject
) -> None:
    body = data.draw(inhoud(berichttype), label="inhoud")
    gefilterd = filter_inhoud(body, ALL)
    assert gefilterd.inhoud == body
    assert gefilterd.removed == frozenset()
    assert gefilterd.kept == categorieen_in(body)


@pytest.mark.parametrize("berichttype", TYPES, ids=[t.value for t in TYPES])
@MODEL
@given(data=st.data())
def test_filter_with_no_category_is_empty(berichttype: BerichtType, data: st.DataObject) -> None:
    body = data.draw(inhoud(berichttype, sparse=data.draw(st.booleans())), label="inhoud")
    gefilterd = filter_inhoud(body, NONE)
    assert gefilterd.inhoud == type(body)()
    assert is_empty(gefilterd.inhoud)
    assert gefilterd.kept == frozenset()
    assert gefilterd.removed == categorieen_in(body)


@pytest.mark.parametrize("berichttype", TYPES, ids=[t.value for t in TYPES])
@MODEL
@given(data=st.data())
def test_filter_keeps_exactly_the_granted_leaves(
    berichttype: BerichtType, data: st.DataObject
) -> None:
    body = data.draw(inhoud(berichttype, sparse=data.draw(st.booleans())), label="inhoud")
    granted = frozenset(data.draw(st.sets(st.sampled_from(list(Categorie))), label="granted"))
    gefilterd = filter_inhoud(body, granted)
    assert categorieen_in(gefilterd.inhoud) <= granted
    assert leaf_multiset(gefilterd.inhoud) == leaf_multiset(body, granted)
    assert gefilterd.kept == categorieen_in(gefilterd.inhoud)
    assert gefilterd.removed == categorieen_in(body) - granted
    assert filter_inhoud(gefilterd.inhoud, granted).inhoud == gefilterd.inhoud  # idempotent


@pytest.mark.parametrize(
    "rel",
    sorted(str(p.relative_to(ROOT / "examples")) for p in (ROOT / "examples").glob("*/*.xml")),
)
def test_examples_filter_with_every_and_no_category(rel: str) -> None:
    body = MESSAGE_CODEC.read((ROOT / "examples" / rel).read_bytes()).inhoud
    assert isinstance(body, Inhoud)
    assert filter_inhoud(body, ALL).inhoud == body
    assert filter_inhoud(body, NONE).inhoud == type(body)()
