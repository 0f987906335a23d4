"""Hypothesis strategies for valid canonical messages, derived from the shapes, and helpers
the round-trip and schema tests share.

The strategies walk the catalogue's definitions (``policy/v1/typen.yaml``) generically:
every Leaf produces a value of its Kind that the XSD simple type of ``adapters.xsd._SIMPLE``
accepts, every Group produces its
sub-model (``adapters.codec._part_type``), with the occurrences the sender's strict XSD
requires (unbounded lists capped at 3). A body built here is valid for its sender, so every
partner format of its type must carry it without loss.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import xmlschema
from hypothesis import strategies as st
from lxml import etree

from adapters.codec import Codec, _part_type
from adapters.xsd import Richting, schema_name
from gateway.decision.afscherming import personen_in
from gateway.domain.bsn import elfproef
from gateway.domain.model import (
    Afleverbevestiging,
    AfsprakenSignaal,
    Bericht,
    BerichtType,
    Doelbinding,
    Foutbericht,
    Foutcode,
    Group,
    Inhoud,
    Kind,
    Kop,
    Leaf,
    Node,
    Ontvangstbevestiging,
    Part,
    Partij,
    Prioriteit,
    Rol,
    Statusantwoord,
    Statusregel,
    Statusvraag,
    TechnischType,
    field_plan,
    is_technisch,
)
from tests.support import catalogue
from tests.support.catalogue import ADAPTERS, PARTNERS, TYPEN
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
EXAMPLES_DIR = ROOT / "examples"
SCHEMA_DIR = ROOT / "schemas" / "v1"

UNBOUNDED_CAP = 3

#: One MessageCodec for every test module (loading the schemas is the expensive part).
MESSAGE_CODEC = catalogue.CODEC

#: (sender rol, BerichtType it sends), in a stable order.
SENT: list[tuple[Rol, BerichtType]] = [
    (rol, t) for rol, partner in PARTNERS.items() for t in partner.sends
]
#: (recipient rol, BerichtType it receives), in a stable order.
RECEIVED: list[tuple[Rol, BerichtType]] = [
    (rol, t) for rol, partner in PARTNERS.items() for t in partner.receives
]


def pair_id(pair: tuple[Rol, BerichtType]) -> str:
    return f"{pair[0]}-{pair[1]}"


def codec_for(rol: Rol, berichttype: BerichtType) -> Codec:
    return ADAPTERS[rol].codecs[berichttype]


# --------------------------------------------------------------------------- text


# XML 1.0 Char without the C0/C1 controls, surrogates and non-characters; '\r' is left out
# because XML parsing normalises it away. Tab and newline are real text and stay in.
XML_CHAR = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn")),
    st.sampled_from(" \t\n"),
    st.sampled_from(string.ascii_letters + string.digits + string.punctuation + " éëïöüß"),
)


def xml_text(max_len: int) -> st.SearchStrategy[str]:
    """1..max_len characters of XML-safe text, including leading/trailing blanks and the
    longest value the XSD allows."""
    core = st.text(XML_CHAR, min_size=1, max_size=min(max_len, 40))
    padded = st.builds(
        lambda before, middle, after: (before + middle + after)[:max_len],
        st.text(" \t\n", max_size=3),
        core,
        st.text(" ", max_size=3),
    )
    longest = st.builds(lambda ch: ch * max_len, XML_CHAR)
    return st.one_of(core, padded, longest)


# --------------------------------------------------------------------------- leaf values


def _bsn_from(first8: str) -> str | None:
    total = sum(int(d) * w for d, w in zip(first8, (9, 8, 7, 6, 5, 4, 3, 2), strict=True))
    last = total % 11  # total - last must be divisible by 11
    if last == 10:
        return None
    bsn = f"{first8}{last}"
    return bsn if elfproef(bsn) else None


BSN = st.from_regex(r"[0-9]{8}", fullmatch=True).map(_bsn_from).filter(lambda b: b is not None)

TIMEZONES = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)

TIJDSTIP = st.datetimes(
    min_value=dt.datetime(1900, 1, 1),  # naive bounds; the tz is drawn
    max_value=dt.datetime(2200, 12, 31),
    timezones=TIMEZONES,
)

DATUM = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


@st.composite
def duur(draw: st.DrawFn) -> str:
    """An xs:duration matching the pattern P.{1,30}: P6M, P1Y2M3D, PT5H, PT1.5S, ..."""
    number = st.integers(min_value=0, max_value=999)
    date_part = "".join(f"{draw(number)}{unit}" for unit in "YMD" if draw(st.booleans()))
    time_units = [u for u in "HMS" if draw(st.booleans())]
    time_part = ""
    for unit in time_units:
        if unit == "S" and draw(st.booleans()):
            time_part += f"{draw(number)}.{draw(st.integers(1, 999))}S"
        else:
            time_part += f"{draw(number)}{unit}"
    if not date_part and not time_part:
        date_part = f"{draw(number)}D"
    return "P" + date_part + (("T" + time_part) if time_part else "")


SIMPLE: dict[Kind, st.SearchStrategy[Any]] = {
    Kind.TEKST: xml_text(4000),
    Kind.KORT: xml_text(200),
    Kind.REF: st.from_regex(r"[A-Za-z0-9_.\-]{1,64}", fullmatch=True),
    Kind.UUID: st.uuids().map(str),
    Kind.BSN: BSN,
    Kind.POSTCODE: st.from_regex(r"[1-9][0-9]{3} ?[A-Z]{2}", fullmatch=True),
    Kind.TELEFOON: st.from_regex(r"[0-9+() \-]{3,20}", fullmatch=True),
    Kind.PARKETNUMMER: st.from_regex(r"[0-9]{2}-[0-9]{6}-[0-9]{2}", fullmatch=True),
    Kind.DATUM: DATUM,
    Kind.TIJDSTIP: TIJDSTIP,
    Kind.JANEE: st.booleans(),
    Kind.AANTAL: st.integers(min_value=0, max_value=9999),
    Kind.DUUR: duur(),
    Kind.BRON: st.from_regex(
        r"([a-z][a-z0-9]{0,20}(-[a-z0-9]{1,20})?/)?[a-z][a-z0-9]{0,20}(-[a-z0-9]{1,20})?",
        fullmatch=True,
    ),
}


def leaf_value(leaf: Leaf) -> st.SearchStrategy[Any]:
    """One value of a leaf, as the canonical model holds it."""
    if leaf.kind is Kind.CODE:
        assert leaf.codes is not None
        members = [v for v in leaf.codes.waarden if leaf.allowed is None or v in leaf.allowed]
        return st.sampled_from(members)
    if leaf.kind is Kind.ROL:
        return st.sampled_from(sorted(TYPEN.rollen))
    return SIMPLE[leaf.kind]


def _count(node: Node, sparse: bool, verplicht: frozenset[str]) -> st.SearchStrategy[int]:
    low = max(node.min, 1) if node.field in verplicht else node.min
    if sparse and not (isinstance(node, Leaf) and node.text):
        low = 0  # a recipient may get any field left out (need-to-know), not a text content
    high = UNBOUNDED_CAP if node.max is None else node.max
    return st.integers(min_value=low, max_value=max(low, high))


@st.composite
def _node_value(
    draw: st.DrawFn, model: type[Part], node: Node, sparse: bool, verplicht: frozenset[str]
) -> Any:
    count = draw(_count(node, sparse, verplicht))
    if isinstance(node, Group):
        sub = _part_type(model, node.field)
        items = [draw(part(sub, node.children, sparse, verplicht)) for _ in range(count)]
    else:
        items = [draw(leaf_value(node)) for _ in range(count)]
    if node.max == 1:
        return items[0] if items else None
    return items


@st.composite
def part(
    draw: st.DrawFn,
    model: type[Part],
    nodes: tuple[Node, ...],
    sparse: bool = False,
    verplicht: frozenset[str] = frozenset(),
) -> Any:
    """An instance of ``model`` with the fields ``nodes`` describe: a valid sender value, or
    with ``sparse`` any selection of them (what a recipient may get after need-to-know);
    the fields in ``verplicht`` are present in every part that has them."""
    values = {node.field: draw(_node_value(model, node, sparse, verplicht)) for node in nodes}
    # The spec's rule XSD 1.0 cannot say: a gezagsdrager not informed needs a reason.
    if values.get("geinformeerd") is False and not values.get("reden_niet_geinformeerd"):
        values["reden_niet_geinformeerd"] = draw(SIMPLE[Kind.TEKST])
    # v2 §8: a block under beroepsgeheim names the sender's ground, and a ground only with it
    if "doorbrekingsgrond" in values:
        if values.get("beroepsgeheim") is True and values["doorbrekingsgrond"] is None:
            values["doorbrekingsgrond"] = draw(st.sampled_from(TYPEN.doorbrekingsgronden))
        if values["doorbrekingsgrond"] is not None:
            values["beroepsgeheim"] = True
    # v2 §8: a person without a BSN carries the sender's persoonsnummer
    if (
        not sparse
        and "persoonsnummer" in values
        and values.get("bsn") is None
        and values["persoonsnummer"] is None
    ):
        values["persoonsnummer"] = draw(SIMPLE[Kind.KORT])
    return model(**values)


def _met_refs(part: Part, refs: tuple[str, ...]) -> Any:
    """``part`` with every ``niet_delen_met`` naming a betrokkene of the message (v2 §8):
    kept when it is one of ``refs``, else the first of them, else left out."""
    values: dict[str, Any] = {}
    for f in field_plan(type(part)):
        value = getattr(part, f.name)
        if f.name == "niet_delen_met" and value is not None and value not in refs:
            value = refs[0] if refs else None
        elif f.part is not None and isinstance(value, list):
            value = [_met_refs(item, refs) for item in value]
        elif f.part is not None and value is not None:
            value = _met_refs(value, refs)
        values[f.name] = value
    return type(part)(**values)


def _refs_kloppen(body: Inhoud) -> Inhoud:
    refs = tuple(p.ref for p in personen_in(body) if p.ref is not None)
    fixed = _met_refs(body, refs)
    assert isinstance(fixed, Inhoud)
    return fixed


@cache
def inhoud(
    berichttype: BerichtType, *, sparse: bool = False, verplicht: frozenset[str] = frozenset()
) -> st.SearchStrategy[Inhoud]:
    """A valid canonical body of ``berichttype``, as its sender's strict XSD demands it; with
    ``sparse`` every field (but an element's text content) may be missing; ``verplicht`` the
    fields the policy requires on top of the XSD in every part that has them (berichten.yaml
    ``verplicht``, e.g. geinformeerd)."""
    return part(TYPEN.model(berichttype), TYPEN[berichttype].children, sparse, verplicht).map(
        _refs_kloppen
    )


# --------------------------------------------------------------------------- envelope

UUID = st.uuids().map(str)
OIN = st.from_regex(r"[0-9]{20}", fullmatch=True)
GRONDSLAG = st.one_of(
    st.sampled_from(
        [
            "WMO2015-ART-5.2.6",
            "WPG-ART-19",
            "JW-ART-7.3.11",
            "WJSG-ART-39F",
            "SV-ART-148",
            "BR-ART-14",
            "BW1-ART-1.238",
        ]
    ),
    st.from_regex(r"[A-Z0-9][A-Z0-9.\-]{0,63}", fullmatch=True),
)
TRACEPARENT = st.from_regex(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}", fullmatch=True)


@dataclass(frozen=True)
class Koptekst:
    """What the texts of a generated Kop are drawn from: well-formed ones (:data:`GELDIG`, the
    default) or, for the envelope's own tests, any text at all."""

    ids: st.SearchStrategy[str]  # BerichtId, ConversatieId, InAntwoordOp
    oin: st.SearchStrategy[str]
    rol: st.SearchStrategy[str]  # an Ontvanger's rol (the Afzender's is given)
    doel: st.SearchStrategy[str]
    grondslagen: st.SearchStrategy[list[str]]
    traceparent: st.SearchStrategy[str]
    altijd_doelbinding: bool  # a catalogue type's Kop always has one (a technical one may)


GELDIG = Koptekst(
    ids=UUID,
    oin=OIN,
    rol=st.deferred(lambda: st.sampled_from(sorted(catalogue.TYPEN.rollen))),
    doel=st.deferred(lambda: st.sampled_from(sorted(catalogue.POLICY.doelen))),
    grondslagen=st.lists(GRONDSLAG, min_size=1, max_size=10),
    traceparent=TRACEPARENT,
    altijd_doelbinding=True,
)


def partij(
    rol: Rol | st.SearchStrategy[str] | None = None, tekst: Koptekst = GELDIG
) -> st.SearchStrategy[Partij]:
    """A Partij of ``rol`` (a rol, or what to draw it from; default: any of the register)."""
    if rol is None:
        rollen = tekst.rol
    elif isinstance(rol, str):
        rollen = st.just(rol)
    else:
        rollen = rol
    return st.builds(Partij, oin=tekst.oin, rol=rollen)


@st.composite
def kop(
    draw: st.DrawFn,
    berichttype: BerichtType,
    afzender: Rol | st.SearchStrategy[str],
    tekst: Koptekst = GELDIG,
) -> Kop:
    """A Kop of ``berichttype`` from a partner of rol ``afzender``, its texts from ``tekst``."""
    doelbinding = None
    if (tekst.altijd_doelbinding and not is_technisch(berichttype)) or draw(st.booleans()):
        doelbinding = Doelbinding(doel=draw(tekst.doel), grondslagen=tuple(draw(tekst.grondslagen)))
    return Kop(
        bericht_id=draw(tekst.ids),
        conversatie_id=draw(tekst.ids),
        in_antwoord_op=draw(st.none() | tekst.ids),
        berichttype=berichttype,
        afzender=draw(partij(afzender, tekst)),
        ontvangers=tuple(draw(st.lists(partij(tekst=tekst), max_size=3))),
        doelbinding=doelbinding,
        tijdstip=draw(TIJDSTIP),
        prioriteit=draw(st.none() | st.sampled_from(list(Prioriteit))),
        traceparent=draw(st.none() | tekst.traceparent),
    )


@st.composite
def bericht(
    draw: st.DrawFn, afzender: Rol | None = None, berichttype: BerichtType | None = None
) -> Bericht:
    """A whole catalogue message from a rol that sends its type (PARTNERS[rol].sends)."""
    if afzender is None or berichttype is None:
        afzender, berichttype = draw(st.sampled_from(SENT))
    assert berichttype in PARTNERS[afzender].sends
    return Bericht(kop=draw(kop(berichttype, afzender)), inhoud=draw(inhoud(berichttype)))


def _trimmed(max_len: int) -> st.SearchStrategy[str]:
    # The envelope's free texts are read with surrounding blanks stripped.
    return xml_text(max_len).map(str.strip).filter(bool)


TECHNISCH: dict[BerichtType, st.SearchStrategy[Part]] = {
    TechnischType.ONTVANGSTBEVESTIGING: st.builds(
        Ontvangstbevestiging,
        ontvangers=st.lists(partij(), max_size=5),
        uiterste_beslismoment=st.none() | TIJDSTIP,
    ),
    TechnischType.FOUTBERICHT: st.builds(
        Foutbericht,
        code=st.sampled_from(list(Foutcode)),
        reden=_trimmed(2000),
        element=st.none() | xml_text(2000),
        regel=st.none() | st.integers(min_value=1, max_value=10**6),
    ),
    TechnischType.AFLEVERBEVESTIGING: st.builds(Afleverbevestiging, ontvangen=st.none() | TIJDSTIP),
    TechnischType.STATUSVRAAG: st.builds(Statusvraag),
    TechnischType.AFSPRAKENSIGNAAL: st.builds(
        AfsprakenSignaal,
        reeks_id=UUID,
        versie=st.integers(min_value=1, max_value=9999),
        datum=DATUM,
        houder=partij(),
    ),
    TechnischType.STATUSANTWOORD: st.builds(
        Statusantwoord,
        bericht_id=UUID,
        bekend=st.booleans(),
        berichttype=st.none() | st.sampled_from([*catalogue.TYPEN, *TechnischType]),
        leveringen=st.lists(
            st.builds(
                Statusregel,
                ontvanger=partij(),
                status=st.sampled_from(
                    ["gepland", "gepubliceerd", "afgeleverd", "niet-afleverbaar"]
                ),
                pogingen=st.integers(min_value=0, max_value=100),
                bijgewerkt=TIJDSTIP,
            ),
            max_size=4,
        ),
    ),
}


@st.composite
def technisch_bericht(draw: st.DrawFn, berichttype: BerichtType) -> Bericht:
    """A gateway answer or a recipient's receipt (any rol may be the afzender)."""
    afzender = draw(st.sampled_from(sorted(catalogue.TYPEN.rollen)))
    return Bericht(kop=draw(kop(berichttype, afzender)), inhoud=draw(TECHNISCH[berichttype]))


# --------------------------------------------------------------------------- XML helpers


def c14n(element: etree._Element) -> bytes:
    """Exclusive canonical XML of one element (attribute order, namespace placement and
    empty-element syntax do not matter; whitespace does)."""
    return etree.tostring(element, method="c14n", exclusive=True)


def without_blank_text(data: bytes) -> etree._Element:
    """Parse, dropping the indentation between elements."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    return etree.fromstring(data, parser)


def examples() -> list[Path]:
    """Every example message, examples/<rol>/<Type>.xml."""
    return sorted(EXAMPLES_DIR.glob("*/*.xml"))


def example_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@cache
def xmlschema_for(namespace: str, *, sent: bool) -> Any:
    """The ``xmlschema`` (pure Python, independent of libxml2) validator of a partner XSD."""
    for partner in PARTNERS.values():
        if partner.vocabulary.namespace == namespace:
            richting = Richting.VERZENDEN if sent else Richting.ONTVANGEN
            return xmlschema.XMLSchema10(str(SCHEMA_DIR / schema_name(partner, richting)))
    raise KeyError(namespace)


def assert_xmlschema_valid(element: etree._Element, *, sent: bool) -> None:
    """The body is valid for the ``xmlschema`` library too (a second opinion on lxml's)."""
    schema = xmlschema_for(etree.QName(element).namespace or "", sent=sent)
    errors = list(schema.iter_errors(etree.tostring(element).decode()))
    assert not errors, f"xmlschema: {errors[0]}"
