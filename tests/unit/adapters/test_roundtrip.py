"""Round trips: canonical ↔ every partner format, the envelope, and the examples.

Property tests build valid canonical bodies from the shapes (``tests/strategies.py``) and
check that no partner format loses, adds or changes anything: the sender's own format
validates against its strict XSD, every recipient format against its -ontvangst XSD, and
parsing either gives the canonical body back.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters import ADAPTERS, PARTNERS
from adapters.codec import _part_type
from adapters.shape import Group, Node
from adapters.shapes import SHAPES
from gateway.codec.envelope import KP
from gateway.domain.model import (
    INHOUD_TYPES,
    Aard,
    Bericht,
    BerichtType,
    Inhoud,
    Instrument,
    OmUitkomst,
    Part,
    Persoon,
    Rol,
    VtMelding,
)
from gateway.safexml import xmlsafe
from tests.support.strategies import (
    EXAMPLES_DIR,
    MESSAGE_CODEC,
    RECEIVED,
    SENT,
    assert_xmlschema_valid,
    bericht,
    c14n,
    codec_for,
    example_id,
    examples,
    inhoud,
    pair_id,
    technisch_bericht,
    without_blank_text,
)

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

POL = "{urn:ketenpoort:politie:1}"
VT = "{urn:ketenpoort:vt:1}"
OM = "{urn:ketenpoort:om:1}"
RC = "{urn:ketenpoort:reclassering:1}"
RVDK = "{urn:ketenpoort:rvdk:1}"


def _reparse(element: etree._Element) -> etree._Element:
    """Serialise and parse again the way the gateway parses untrusted input."""
    return xmlsafe.parse(etree.tostring(element, encoding="UTF-8"))


def _same(left: Any, right: Any) -> None:
    """Equal models, and equal in JSON too (which also compares datetime offsets)."""
    assert left == right
    assert left.model_dump(mode="json") == right.model_dump(mode="json")


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize(("rol", "berichttype"), SENT, ids=[pair_id(p) for p in SENT])
@PROPERTY
@given(data=st.data())
def test_sender_format_round_trip(rol: Rol, berichttype: BerichtType, data: st.DataObject) -> None:
    """canonical → sender format (strict XSD) → canonical, and native → canonical → native."""
    canonical = data.draw(inhoud(berichttype), label="inhoud")
    adapter = ADAPTERS[rol]

    element = _reparse(adapter.render(canonical))
    MESSAGE_CODEC.schemas.check_body(element, sent=True)
    assert_xmlschema_valid(element, sent=True)
    assert adapter.sent_type(element) is berichttype
    parsed = adapter.parse(element)
    _same(parsed, canonical)

    native = etree.tostring(element)
    assert etree.tostring(adapter.render(adapter.parse(etree.fromstring(native)))) == native


@pytest.mark.parametrize(("rol", "berichttype"), RECEIVED, ids=[pair_id(p) for p in RECEIVED])
@PROPERTY
@given(data=st.data())
def test_recipient_format_round_trip(
    rol: Rol, berichttype: BerichtType, data: st.DataObject
) -> None:
    """canonical → recipient format (-ontvangst XSD) → canonical: no field lost."""
    canonical = data.draw(inhoud(berichttype), label="inhoud")
    codec = codec_for(rol, berichttype)

    element = _reparse(codec.render(canonical))
    MESSAGE_CODEC.schemas.check_body(element, sent=False)
    assert_xmlschema_valid(element, sent=False)
    _same(codec.parse(element), canonical)

    native = etree.tostring(element)
    assert etree.tostring(codec.render(codec.parse(etree.fromstring(native)))) == native


@pytest.mark.parametrize(("rol", "berichttype"), RECEIVED, ids=[pair_id(p) for p in RECEIVED])
@settings(PROPERTY, max_examples=15)
@given(data=st.data())
def test_recipient_format_round_trip_sparse(
    rol: Rol, berichttype: BerichtType, data: st.DataObject
) -> None:
    """Bodies with any fields left out (as need-to-know leaves them) still validate against
    the -ontvangst XSD and come back unchanged."""
    canonical = data.draw(inhoud(berichttype, sparse=True), label="inhoud")
    codec = codec_for(rol, berichttype)
    element = _reparse(codec.render(canonical))
    MESSAGE_CODEC.schemas.check_body(element, sent=False)
    _same(codec.parse(element), canonical)


@pytest.mark.parametrize(("rol", "berichttype"), SENT, ids=[pair_id(p) for p in SENT])
@PROPERTY
@given(data=st.data())
def test_envelope_round_trip(rol: Rol, berichttype: BerichtType, data: st.DataObject) -> None:
    """MessageCodec.write → read gives the same Bericht (kop and body)."""
    original = data.draw(bericht(rol, berichttype), label="bericht")
    written = MESSAGE_CODEC.write(original)
    _same(MESSAGE_CODEC.read(written), original)
    # writing what was read gives the same bytes
    assert MESSAGE_CODEC.write(MESSAGE_CODEC.read(written)) == written


@pytest.mark.parametrize(("rol", "berichttype"), RECEIVED, ids=[pair_id(p) for p in RECEIVED])
@settings(PROPERTY, max_examples=10)
@given(data=st.data())
def test_envelope_written_for_recipient_validates(
    rol: Rol, berichttype: BerichtType, data: st.DataObject
) -> None:
    """write(voor=recipient) renders the body in the recipient's namespace and checks it."""
    sender = next(r for r, t in SENT if t is berichttype)
    original = data.draw(bericht(sender, berichttype), label="bericht")
    written = MESSAGE_CODEC.write(original, voor=rol)
    root = xmlsafe.parse(written)
    MESSAGE_CODEC.schemas.check_envelope(root)
    body = root.find(f"{KP}Inhoud")[0]  # type: ignore[index]
    assert etree.QName(body).namespace == PARTNERS[rol].vocabulary.namespace
    codec = codec_for(rol, berichttype)
    assert body.tag == codec.tag
    _same(codec.parse(body), original.inhoud)


@pytest.mark.parametrize(
    "berichttype",
    [t for t in BerichtType if t.technisch],
    ids=str,
)
@settings(PROPERTY, max_examples=20)
@given(data=st.data())
def test_technical_envelope_round_trip(berichttype: BerichtType, data: st.DataObject) -> None:
    original = data.draw(technisch_bericht(berichttype), label="bericht")
    _same(MESSAGE_CODEC.read(MESSAGE_CODEC.write(original)), original)


# --------------------------------------------------------------------------- examples

EXAMPLES = examples()


def test_every_sent_type_has_an_example() -> None:
    found = {(p.parent.name, p.stem) for p in EXAMPLES}
    missing = [pair_id(p) for p in SENT if (p[0].value, p[1].value) not in found]
    assert not missing, f"no example under examples/<rol>/<Type>.xml for {missing}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
def test_example_read_write_read(path: Path) -> None:
    first = MESSAGE_CODEC.read(path.read_bytes())
    assert first.kop.afzender.rol.value == path.parent.name
    assert first.kop.berichttype.value == path.stem
    written = MESSAGE_CODEC.write(first)
    _same(MESSAGE_CODEC.read(written), first)


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
def test_example_body_preserved_exactly(path: Path) -> None:
    """native → canonical → native gives the example's body back (modulo indentation)."""
    original = without_blank_text(path.read_bytes())
    body = original.find(f"{KP}Inhoud")[0]  # type: ignore[index]
    adapter = ADAPTERS[Rol(path.parent.name)]
    rendered = adapter.render(adapter.parse(body))
    assert c14n(rendered).decode() == c14n(body).decode()

    rewritten = without_blank_text(MESSAGE_CODEC.write(MESSAGE_CODEC.read(path.read_bytes())))
    assert c14n(rewritten) == c14n(original)


# --------------------------------------------------------------------------- code lists


def _read(rel: str) -> Bericht:
    return MESSAGE_CODEC.read((EXAMPLES_DIR / rel).read_bytes())


def _written_body(bericht_: Bericht, voor: Rol | None = None) -> etree._Element:
    root = xmlsafe.parse(MESSAGE_CODEC.write(bericht_, voor=voor))
    return root.find(f"{KP}Inhoud")[0]  # type: ignore[index]


def _text(body: etree._Element, path: str) -> str:
    found = body.find(path)
    assert found is not None, f"{path} not in {etree.tostring(body).decode()[:400]}"
    return found.text or ""


def test_politie_hg_is_huiselijk_geweld_and_vt_spelling() -> None:
    melding = _read("politie/VtMelding.xml")
    assert isinstance(melding.inhoud, VtMelding)
    assert melding.inhoud.incident is not None
    assert melding.inhoud.incident.aard is Aard.HUISELIJK_GEWELD
    vt = _written_body(melding, voor=Rol.VEILIG_THUIS)
    assert vt.tag == f"{VT}melding"  # VT receives the VTMelding as vt:melding
    assert _text(vt, f"{VT}incident/{VT}aard") == "huiselijk-geweld"
    assert _text(vt, f"{VT}incident/{VT}geweldsvorm") == "fysiek"
    assert _text(vt, f"{VT}incident/{VT}middelen") == "alcohol"
    persoon = vt.find(f"{VT}betrokkenen/{VT}betrokkene")
    assert persoon is not None
    assert persoon.get("rol") == "slachtoffer"
    assert persoon.get("ref") == "p1"
    assert _text(persoon, f"{VT}geslacht") == "v"
    assert _text(persoon, f"{VT}geboren") == "1988-04-02"
    assert _text(vt, f"{VT}risicotaxatie/{VT}uitkomst") == "hoog"
    assert vt.find(f"{VT}risicotaxatie").get("instrument") == "rihg"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("native", "canonical"),
    [
        ("HG", Aard.HUISELIJK_GEWELD),
        ("KM", Aard.KINDERMISHANDELING),
        ("EPS", Aard.EX_PARTNERSTALKING),
        ("OM", Aard.OUDERENMISHANDELING),
        ("EGG", Aard.EERGERELATEERD_GEWELD),
    ],
)
def test_politie_aard_codes(native: str, canonical: Aard) -> None:
    data = (EXAMPLES_DIR / "politie/VtMelding.xml").read_bytes()
    changed = data.replace(b"<pol:Aard>HG</pol:Aard>", f"<pol:Aard>{native}</pol:Aard>".encode())
    melding = MESSAGE_CODEC.read(changed)
    assert isinstance(melding.inhoud, VtMelding)
    assert melding.inhoud.incident is not None
    assert melding.inhoud.incident.aard is canonical
    assert _text(_written_body(melding), f"{POL}Incident/{POL}Aard") == native
    assert _text(_written_body(melding, Rol.VEILIG_THUIS), f"{VT}incident/{VT}aard") == (
        canonical.value
    )


def test_politie_b_safer_instrument() -> None:
    data = (EXAMPLES_DIR / "politie/VtMelding.xml").read_bytes()
    changed = data.replace(b'instrument="RIHG"', b'instrument="B-SAFER"')
    assert changed != data
    melding = MESSAGE_CODEC.read(changed)
    assert isinstance(melding.inhoud, VtMelding)
    assert melding.inhoud.risicotaxatie is not None
    assert melding.inhoud.risicotaxatie.instrument is Instrument.B_SAFER
    pol = _written_body(melding)
    assert pol.find(f"{POL}Risicotaxatie").get("instrument") == "B-SAFER"  # type: ignore[union-attr]
    vt = _written_body(melding, Rol.VEILIG_THUIS)
    assert vt.find(f"{VT}risicotaxatie").get("instrument") == "b-safer"  # type: ignore[union-attr]


def test_om_uitkomst_in_every_recipient_format() -> None:
    beslissing = _read("openbaar-ministerie/OmBeslissing.xml")
    assert beslissing.inhoud.uitkomst is OmUitkomst.HEENZENDEN_MET_VOORWAARDEN  # type: ignore[union-attr]
    vt = _written_body(beslissing, Rol.VEILIG_THUIS)
    assert vt.tag == f"{VT}om-beslissing"
    assert _text(vt, f"{VT}uitkomst") == "heenzenden-met-voorwaarden"
    voorwaarde = vt.find(f"{VT}voorwaarde")
    assert voorwaarde is not None
    assert voorwaarde.get("soort") == "contactverbod"
    assert voorwaarde.get("persoon") == "Anna Jansen"
    assert vt.get("parketnummer") is None
    assert _text(vt, f"{VT}parketnummer") == "03-123456-26"
    pol = _written_body(beslissing, Rol.POLITIE)
    assert _text(pol, f"{POL}Uitkomst") == "HEENZENDEN_MET_VOORWAARDEN"
    assert pol.find(f"{POL}Voorwaarde").get("soort") == "CONTACTVERBOD"  # type: ignore[union-attr]
    rc = _written_body(beslissing, Rol.RECLASSERING)
    assert _text(rc, f"{RC}Uitkomst") == "HEENZENDEN_MET_VOORWAARDEN"
    assert _text(rc, f"{RC}Termijn") == "P6M"


def test_om_bsn_is_an_attribute() -> None:
    beslissing = _read("openbaar-ministerie/OmBeslissing.xml")
    assert beslissing.inhoud.verdachte.bsn == "999990020"  # type: ignore[union-attr]
    assert beslissing.inhoud.parketnummer == "03-123456-26"  # type: ignore[union-attr]
    # the reclassering's advice, rendered for the OM: bsn and parketnummer as attributes
    advies = _read("reclassering/Reclasseringsadvies.xml")
    om = _written_body(advies, Rol.OPENBAAR_MINISTERIE)
    assert om.tag == f"{OM}Reclasseringsadvies"
    assert om.get("parketnummer") == "03-123456-26"
    assert om.find(f"{OM}Parketnummer") is None
    verdachte = om.find(f"{OM}Verdachte")
    assert verdachte is not None
    assert verdachte.get("bsn") == "999990020"
    assert verdachte.find(f"{OM}Bsn") is None
    assert _text(verdachte, f"{OM}Naam") == "Peter Jansen"
    # and the police's persons in a ZsmAanmelding
    zsm = _written_body(_read("politie/ZsmAanmelding.xml"), Rol.OPENBAAR_MINISTERIE)
    persoon = zsm.find(f"{OM}Personen/{OM}Persoon")
    assert persoon is not None
    assert persoon.get("bsn") == "999990019"
    assert persoon.get("id") == "p1"
    assert persoon.get("rol") == "SLACHTOFFER"


def test_reclassering_calls_the_verdachte_client() -> None:
    advies = _read("reclassering/Reclasseringsadvies.xml")
    verdachte = advies.inhoud.verdachte  # type: ignore[union-attr]
    assert isinstance(verdachte, Persoon)
    assert (verdachte.bsn, verdachte.naam, verdachte.geboortedatum) == (
        "999990020",
        "Peter Jansen",
        dt.date(1985, 9, 17),
    )
    for rel in ("openbaar-ministerie/OmBeslissing.xml", "openbaar-ministerie/Adviesaanvraag.xml"):
        rc = _written_body(_read(rel), Rol.RECLASSERING)
        assert rc.find(f"{RC}Verdachte") is None
        client = rc.find(f"{RC}Client")
        assert client is not None, rel
        assert _text(client, f"{RC}Bsn") == "999990020"
        assert client.get("bsn") is None
        assert _text(client, f"{RC}Naam") == "Peter Jansen"
    # the police's ZsmAanmelding keeps its persons; only the verdachte field is renamed
    zsm = _written_body(_read("politie/ZsmAanmelding.xml"), Rol.RECLASSERING)
    assert zsm.find(f"{RC}Personen/{RC}Persoon") is not None


def test_rvdk_receives_the_verzoek_in_its_own_names() -> None:
    """Spec §8.4: rvdk:Onderzoeksverzoek with Kind, Gezagsdragers, Zorgen, IngezetteHulp and
    Informatiebron (attribute geaccordeerd)."""
    verzoek = _read("veilig-thuis/VerzoekTotOnderzoek.xml")
    rvdk = _written_body(verzoek, Rol.RAAD_KINDERBESCHERMING)
    assert rvdk.tag == f"{RVDK}Onderzoeksverzoek"
    assert _text(rvdk, f"{RVDK}Kind/{RVDK}Bsn") == "999990032"
    assert len(rvdk.findall(f"{RVDK}Gezagsdragers/{RVDK}Gezagsdrager")) == 2
    assert _text(rvdk, f"{RVDK}Zorgen").startswith("Jan is getuige")
    assert _text(rvdk, f"{RVDK}IngezetteHulp").startswith("Ambulante")
    bron = rvdk.find(f"{RVDK}Informatiebron")
    assert bron is not None
    assert (bron.get("bron"), bron.get("datum"), bron.get("geaccordeerd")) == (
        "huisarts",
        "2026-11-10",
        "true",
    )
    assert rvdk.get("spoed") == "false"


def test_rvdk_advies_is_a_reclasseringsadvies() -> None:
    advies = _read("raad-kinderbescherming/Reclasseringsadvies.xml")
    assert advies.inhoud.berichttype is BerichtType.RECLASSERINGSADVIES
    om = _written_body(advies, Rol.OPENBAAR_MINISTERIE)
    assert om.tag == f"{OM}Reclasseringsadvies"
    assert _text(om, f"{OM}Advies") == "BEHANDELING"
    assert _text(om, f"{OM}Risico") == "GEMIDDELD"
    assert om.find(f"{OM}Verdachte").get("bsn") == "999990044"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- nothing dropped


def test_vt_melding_with_a_full_name_is_not_silently_dropped() -> None:
    """Politie persons have voornamen/achternaam; a canonical naam cannot be carried."""
    melding = _read("politie/VtMelding.xml").inhoud
    assert isinstance(melding, VtMelding)
    personen = [p.model_copy(update={"naam": "Anna Jansen"}) for p in melding.personen]
    changed = melding.model_copy(update={"personen": personen})
    for rol in (Rol.POLITIE, Rol.VEILIG_THUIS):
        with pytest.raises(ValueError, match=r"Persoon\.naam\b"):
            ADAPTERS[rol].render(changed)


def test_every_body_field_has_a_place_in_its_shape() -> None:
    """A canonical body field the shape does not carry could never be sent: none exist."""
    missing = {
        t.value: sorted(set(model.model_fields) - {n.field for n in SHAPES[t].children})
        for t, model in INHOUD_TYPES.items()
    }
    assert not {t: m for t, m in missing.items() if m}


def _sample(annotation: Any) -> Any:
    """A non-empty value for a model field annotation."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin is list:
        return [_sample(args[0])]
    if isinstance(annotation, types.UnionType) or origin is typing.Union:
        return _sample(args[0])
    if origin is typing.Annotated:
        return _sample(args[0])
    samples: dict[Any, Any] = {
        str: "x",
        bool: True,
        int: 1,
        dt.date: dt.date(2000, 1, 1),
        dt.datetime: dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    }
    if annotation in samples:
        return samples[annotation]
    if isinstance(annotation, type) and issubclass(annotation, Part):
        return annotation()
    return next(iter(annotation))  # an enum: its first member


def _uncarried(
    model: type[Part], nodes: tuple[Node, ...], path: tuple[str, ...]
) -> list[tuple[tuple[str, ...], str]]:
    found = [(path, name) for name in model.model_fields if name not in {n.field for n in nodes}]
    for node in nodes:
        if isinstance(node, Group):
            found += _uncarried(_part_type(model, node.field), node.children, (*path, node.field))
    return found


def _set_at(part: Part, path: tuple[str, ...], name: str, value: Any) -> Part:
    if not path:
        return part.model_copy(update={name: value})
    head, rest = path[0], path[1:]
    current = getattr(part, head)
    if isinstance(current, list):
        assert current, f"the example has no {head} to change"
        return part.model_copy(
            update={head: [_set_at(current[0], rest, name, value), *current[1:]]}
        )
    assert current is not None, f"the example has no {head} to change"
    return part.model_copy(update={head: _set_at(current, rest, name, value)})


def _example_inhoud(berichttype: BerichtType) -> Inhoud:
    for path in EXAMPLES:
        if path.stem == berichttype.value:
            found = MESSAGE_CODEC.read(path.read_bytes()).inhoud
            assert isinstance(found, Inhoud)
            return found
    raise AssertionError(f"no example of {berichttype.value}")


UNCARRIED = [
    (rol, t, path, name)
    for t in SHAPES
    for path, name in _uncarried(INHOUD_TYPES[t], SHAPES[t].children, ())
    for rol in (r for r, p in PARTNERS.items() if t in (*p.sends, *p.receives))
]


def test_there_are_uncarried_sub_fields_to_check() -> None:
    assert len(UNCARRIED) > 20


@pytest.mark.parametrize(
    ("rol", "berichttype", "path", "name"),
    UNCARRIED,
    ids=[f"{r.value}-{t.value}-{'.'.join((*p, n))}" for r, t, p, n in UNCARRIED],
)
def test_render_refuses_a_field_the_shape_cannot_carry(
    rol: Rol, berichttype: BerichtType, path: tuple[str, ...], name: str
) -> None:
    base = _example_inhoud(berichttype)
    ADAPTERS[rol].render(base)  # the example itself renders
    holder = base
    for step in path:
        value = getattr(holder, step)
        holder = value[0] if isinstance(value, list) else value
    annotation = type(holder).model_fields[name].annotation
    changed = _set_at(base, path, name, _sample(annotation))
    assert changed != base
    with pytest.raises(ValueError, match=rf"\.{name}\b"):
        ADAPTERS[rol].render(changed)
