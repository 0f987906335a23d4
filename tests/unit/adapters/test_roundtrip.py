"""Round trips: canonical ↔ every partner format, the envelope, and the examples.

Property tests build valid canonical bodies from the shapes (``tests/strategies.py``) and
check that no partner format loses, adds or changes anything: the sender's own format
validates against its strict XSD, every recipient format against its -ontvangst XSD, and
parsing either gives the canonical body back.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from adapters.codec import _part_type
from gateway.codec.envelope import KP
from gateway.domain.model import Bericht, BerichtType, Group, Inhoud, Node, Part, Rol, TechnischType
from gateway.safexml import xmlsafe
from tests.support.catalogue import ADAPTERS, PARTNERS, TYPEN, model, part_of
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


def _body(envelope: etree._Element) -> etree._Element:
    """The body: the first child of the envelope's kp:Inhoud."""
    inhoud_ = envelope.find(f"{KP}Inhoud")
    assert inhoud_ is not None
    return inhoud_[0]


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
    assert adapter.sent_type(element) == berichttype
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
    sender = next(r for r, t in SENT if t == berichttype)
    original = data.draw(bericht(sender, berichttype), label="bericht")
    written = MESSAGE_CODEC.write(original, voor=rol)
    root = xmlsafe.parse(written)
    MESSAGE_CODEC.schemas.check_envelope(root)
    body = _body(root)
    assert etree.QName(body).namespace == PARTNERS[rol].vocabulary.namespace
    codec = codec_for(rol, berichttype)
    assert body.tag == codec.tag
    _same(codec.parse(body), original.inhoud)


@pytest.mark.parametrize(
    "berichttype",
    list(TechnischType),
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
    missing = [pair_id(p) for p in SENT if (p[0], p[1]) not in found]
    assert not missing, f"no example under examples/<rol>/<Type>.xml for {missing}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
def test_example_read_write_read(path: Path) -> None:
    first = MESSAGE_CODEC.read(path.read_bytes())
    assert first.kop.afzender.rol == path.parent.name
    assert first.kop.berichttype == path.stem
    written = MESSAGE_CODEC.write(first)
    _same(MESSAGE_CODEC.read(written), first)


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
def test_example_body_preserved_exactly(path: Path) -> None:
    """native → canonical → native gives the example's body back (modulo indentation)."""
    original = without_blank_text(path.read_bytes())
    body = _body(original)
    adapter = ADAPTERS[path.parent.name]
    rendered = adapter.render(adapter.parse(body))
    assert c14n(rendered).decode() == c14n(body).decode()

    rewritten = without_blank_text(MESSAGE_CODEC.write(MESSAGE_CODEC.read(path.read_bytes())))
    assert c14n(rewritten) == c14n(original)


# --------------------------------------------------------------------------- code lists


def _read(rel: str) -> Bericht:
    return MESSAGE_CODEC.read((EXAMPLES_DIR / rel).read_bytes())


def _written_body(bericht_: Bericht, voor: Rol | None = None) -> etree._Element:
    root = xmlsafe.parse(MESSAGE_CODEC.write(bericht_, voor=voor))
    return _body(root)


def _text(body: etree._Element, path: str) -> str:
    found = body.find(path)
    assert found is not None, f"{path} not in {etree.tostring(body).decode()[:400]}"
    return found.text or ""


def test_politie_hg_is_huiselijk_geweld_and_vt_spelling() -> None:
    melding = _read("politie/VtMelding.xml")
    assert isinstance(melding.inhoud, model("VtMelding"))
    assert melding.inhoud.incident is not None
    assert melding.inhoud.incident.aard == "huiselijk-geweld"
    vt = _written_body(melding, voor="veilig-thuis")
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
    risicotaxatie = vt.find(f"{VT}risicotaxatie")
    assert risicotaxatie is not None
    assert risicotaxatie.get("instrument") == "rihg"


@pytest.mark.parametrize(
    ("native", "canonical"),
    [
        ("HG", "huiselijk-geweld"),
        ("KM", "kindermishandeling"),
        ("EPS", "ex-partnerstalking"),
        ("OM", "ouderenmishandeling"),
        ("EGG", "eergerelateerd-geweld"),
    ],
)
def test_politie_aard_codes(native: str, canonical: str) -> None:
    data = (EXAMPLES_DIR / "politie/VtMelding.xml").read_bytes()
    changed = data.replace(b"<pol:Aard>HG</pol:Aard>", f"<pol:Aard>{native}</pol:Aard>".encode())
    melding = MESSAGE_CODEC.read(changed)
    assert isinstance(melding.inhoud, model("VtMelding"))
    assert melding.inhoud.incident is not None
    assert melding.inhoud.incident.aard == canonical
    assert _text(_written_body(melding), f"{POL}Incident/{POL}Aard") == native
    assert _text(_written_body(melding, "veilig-thuis"), f"{VT}incident/{VT}aard") == (canonical)


def test_politie_b_safer_instrument() -> None:
    data = (EXAMPLES_DIR / "politie/VtMelding.xml").read_bytes()
    changed = data.replace(b'instrument="RIHG"', b'instrument="B-SAFER"')
    assert changed != data
    melding = MESSAGE_CODEC.read(changed)
    assert isinstance(melding.inhoud, model("VtMelding"))
    assert melding.inhoud.risicotaxatie is not None
    assert melding.inhoud.risicotaxatie.instrument == "b-safer"
    pol_taxatie = _written_body(melding).find(f"{POL}Risicotaxatie")
    assert pol_taxatie is not None
    assert pol_taxatie.get("instrument") == "B-SAFER"
    vt_taxatie = _written_body(melding, "veilig-thuis").find(f"{VT}risicotaxatie")
    assert vt_taxatie is not None
    assert vt_taxatie.get("instrument") == "b-safer"


def test_om_uitkomst_in_every_recipient_format() -> None:
    beslissing = _read("openbaar-ministerie/OmBeslissing.xml")
    assert isinstance(beslissing.inhoud, model("OmBeslissing"))
    assert beslissing.inhoud.uitkomst == "heenzenden-met-voorwaarden"
    vt = _written_body(beslissing, "veilig-thuis")
    assert vt.tag == f"{VT}om-beslissing"
    assert _text(vt, f"{VT}uitkomst") == "heenzenden-met-voorwaarden"
    voorwaarde = vt.find(f"{VT}voorwaarde")
    assert voorwaarde is not None
    assert voorwaarde.get("soort") == "contactverbod"
    assert voorwaarde.get("persoon") == "Anna Jansen"
    assert vt.get("parketnummer") is None
    assert _text(vt, f"{VT}parketnummer") == "03-123456-26"
    pol = _written_body(beslissing, "politie")
    assert _text(pol, f"{POL}Uitkomst") == "HEENZENDEN_MET_VOORWAARDEN"
    pol_voorwaarde = pol.find(f"{POL}Voorwaarde")
    assert pol_voorwaarde is not None
    assert pol_voorwaarde.get("soort") == "CONTACTVERBOD"
    rc = _written_body(beslissing, "reclassering")
    assert _text(rc, f"{RC}Uitkomst") == "HEENZENDEN_MET_VOORWAARDEN"
    assert _text(rc, f"{RC}Termijn") == "P6M"


def test_om_bsn_is_an_attribute() -> None:
    beslissing = _read("openbaar-ministerie/OmBeslissing.xml")
    assert isinstance(beslissing.inhoud, model("OmBeslissing"))
    assert beslissing.inhoud.verdachte.bsn == "999990020"
    assert beslissing.inhoud.parketnummer == "03-123456-26"
    # the reclassering's advice, rendered for the OM: bsn and parketnummer as attributes
    advies = _read("reclassering/Reclasseringsadvies.xml")
    om = _written_body(advies, "openbaar-ministerie")
    assert om.tag == f"{OM}Reclasseringsadvies"
    assert om.get("parketnummer") == "03-123456-26"
    assert om.find(f"{OM}Parketnummer") is None
    verdachte = om.find(f"{OM}Verdachte")
    assert verdachte is not None
    assert verdachte.get("bsn") == "999990020"
    assert verdachte.find(f"{OM}Bsn") is None
    assert _text(verdachte, f"{OM}Naam") == "Peter Jansen"
    # and the police's persons in a ZsmAanmelding
    zsm = _written_body(_read("politie/ZsmAanmelding.xml"), "openbaar-ministerie")
    persoon = zsm.find(f"{OM}Personen/{OM}Persoon")
    assert persoon is not None
    assert persoon.get("bsn") == "999990019"
    assert persoon.get("id") == "p1"
    assert persoon.get("rol") == "SLACHTOFFER"


def test_reclassering_calls_the_verdachte_client() -> None:
    advies = _read("reclassering/Reclasseringsadvies.xml")
    assert isinstance(advies.inhoud, model("Reclasseringsadvies"))
    verdachte = advies.inhoud.verdachte
    assert isinstance(verdachte, part_of(model("Reclasseringsadvies"), "verdachte"))
    assert (verdachte.bsn, verdachte.naam, verdachte.geboortedatum) == (
        "999990020",
        "Peter Jansen",
        dt.date(1985, 9, 17),
    )
    for rel in ("openbaar-ministerie/OmBeslissing.xml", "openbaar-ministerie/Adviesaanvraag.xml"):
        rc = _written_body(_read(rel), "reclassering")
        assert rc.find(f"{RC}Verdachte") is None
        client = rc.find(f"{RC}Client")
        assert client is not None, rel
        assert _text(client, f"{RC}Bsn") == "999990020"
        assert client.get("bsn") is None
        assert _text(client, f"{RC}Naam") == "Peter Jansen"
    # the police's ZsmAanmelding keeps its persons; only the verdachte field is renamed
    zsm = _written_body(_read("politie/ZsmAanmelding.xml"), "reclassering")
    assert zsm.find(f"{RC}Personen/{RC}Persoon") is not None


def test_rvdk_receives_the_verzoek_in_its_own_names() -> None:
    """Spec §8.4: rvdk:Onderzoeksverzoek with Kind, Gezagsdragers, Zorgen, IngezetteHulp and
    Informatiebron (attribute geaccordeerd)."""
    verzoek = _read("veilig-thuis/VerzoekTotOnderzoek.xml")
    rvdk = _written_body(verzoek, "raad-kinderbescherming")
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
    assert isinstance(advies.inhoud, Inhoud)
    assert advies.inhoud.berichttype == "Reclasseringsadvies"
    om = _written_body(advies, "openbaar-ministerie")
    assert om.tag == f"{OM}Reclasseringsadvies"
    assert _text(om, f"{OM}Advies") == "BEHANDELING"
    assert _text(om, f"{OM}Risico") == "GEMIDDELD"
    verdachte = om.find(f"{OM}Verdachte")
    assert verdachte is not None
    assert verdachte.get("bsn") == "999990044"


# --------------------------------------------------------------------------- nothing dropped


def test_vt_melding_cannot_hold_a_field_its_definition_lacks() -> None:
    """Politie persons have voornamen/achternaam; a canonical naam has no place in a
    VtMelding, so it cannot be set and then be silently dropped by a renderer."""
    melding = _read("politie/VtMelding.xml").inhoud
    assert isinstance(melding, model("VtMelding"))
    persoon_model = type(melding.personen[0])
    with pytest.raises(ValidationError, match="naam"):
        persoon_model(naam="Anna Jansen")


def _fields_of(model_: type[Part], nodes: tuple[Node, ...]) -> list[str]:
    """Where a model's fields and its definition's differ (empty: one and the same)."""
    differ = []
    if list(model_.model_fields) != [n.field for n in nodes]:
        differ.append(f"{model_.__name__}: {list(model_.model_fields)}")
    for node in nodes:
        if isinstance(node, Group):
            differ += _fields_of(_part_type(model_, node.field), node.children)
    return differ


def test_every_model_is_its_definition() -> None:
    """The model of a BerichtType is built from its definition: every field at every depth,
    in order, and nothing else (so every field has a place in every partner format)."""
    for berichttype, definitie in TYPEN.items():
        assert _fields_of(definitie.model, definitie.children) == [], berichttype


def _example_inhoud(berichttype: BerichtType) -> Inhoud:
    for path in EXAMPLES:
        if path.stem == berichttype:
            found = MESSAGE_CODEC.read(path.read_bytes()).inhoud
            assert isinstance(found, Inhoud)
            return found
    raise AssertionError(f"no example of {berichttype}")


# --------------------------------------------------------------------------- composed text

COMPOSED = sorted({*SENT, *RECEIVED})


@pytest.mark.parametrize(("rol", "berichttype"), COMPOSED, ids=[pair_id(p) for p in COMPOSED])
@settings(PROPERTY, max_examples=15)
@given(data=st.data())
def test_composed_body_is_the_built_body(
    rol: Rol, berichttype: BerichtType, data: st.DataObject
) -> None:
    """render (composed as XML text, parsed) gives the tree build gives, byte for byte."""
    canonical = data.draw(inhoud(berichttype, sparse=data.draw(st.booleans())), label="inhoud")
    codec = codec_for(rol, berichttype)
    assert etree.tostring(codec.render(canonical)) == etree.tostring(codec.build(canonical))


_P = TypeVar("_P", bound=Part)


def _every_text(part: _P, text: str) -> _P:
    """``part`` with every str field at every depth set to ``text`` (no validation)."""
    update: dict[str, Any] = {}
    for name, value in part.__dict__.items():
        if isinstance(value, str):
            update[name] = text
        elif isinstance(value, Part):
            update[name] = _every_text(value, text)
        elif isinstance(value, list):
            update[name] = [
                _every_text(v, text) if isinstance(v, Part) else text if isinstance(v, str) else v
                for v in value
            ]
    return part.model_copy(update=update)


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
@pytest.mark.parametrize("text", ["a&b<c>d\"e'f\r\ng\th ]]>", "", " ", "\x01", "\ufffe"], ids=repr)
def test_composed_body_says_what_the_built_body_says(path: Path, text: str) -> None:
    """Markup characters, a CR, an empty text and characters XML cannot carry: render gives
    the bytes, or raises the error, that build gives."""
    bericht_ = MESSAGE_CODEC.read(path.read_bytes())
    assert isinstance(bericht_.inhoud, Inhoud)
    body = _every_text(bericht_.inhoud, text)
    codec = codec_for(path.parent.name, path.stem)
    built: bytes | ValueError
    try:
        built = etree.tostring(codec.build(body))
    except ValueError as exc:
        built = exc
    if isinstance(built, ValueError):
        with pytest.raises(type(built), match=f"^{re.escape(str(built))}$"):
            codec.render(body)
    else:
        assert etree.tostring(codec.render(body)) == built


# --------------------------------------------------------------------------- indented text


def _indented(element: etree._Element) -> bytes:
    """The body as the envelope writes its tree: indented at level 2, without its tail."""
    etree.indent(element, space="  ", level=2)
    return etree.tostring(element, encoding="UTF-8", with_tail=False)


@pytest.mark.parametrize(("rol", "berichttype"), COMPOSED, ids=[pair_id(p) for p in COMPOSED])
@settings(PROPERTY, max_examples=15)
@given(data=st.data())
def test_composed_indented_text_is_the_indented_tree(
    rol: Rol, berichttype: BerichtType, data: st.DataObject
) -> None:
    """compose(level=2) gives the bytes the indented tree is written as, and that text parsed;
    or None, and then render says it."""
    canonical = data.draw(inhoud(berichttype, sparse=data.draw(st.booleans())), label="inhoud")
    codec = codec_for(rol, berichttype)
    composed = codec.compose(canonical, level=2)
    if composed is not None:
        text, element = composed
        assert text.encode() == _indented(codec.build(canonical))
        assert etree.tostring(element) == etree.tostring(etree.fromstring(text.encode()))


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
def test_every_example_composes_as_indented_text(path: Path) -> None:
    """The examples, in their sender's format and every recipient's: composed, not built."""
    inhoud_ = MESSAGE_CODEC.read(path.read_bytes()).inhoud
    assert isinstance(inhoud_, Inhoud)
    for rol, berichttype in COMPOSED:
        if berichttype == path.stem:
            codec = codec_for(rol, berichttype)
            composed = codec.compose(inhoud_, level=2)
            assert composed is not None, rol
            assert composed[0].encode() == _indented(codec.build(inhoud_))


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
@pytest.mark.parametrize(
    "text", ["a&b<c>d\"e'f\r\ng\th ]]>", "", " ", "\n  ", "\u2003", "\x01", "\ufffe"], ids=repr
)
def test_written_body_says_what_the_built_envelope_says(path: Path, text: str) -> None:
    """Markup characters, a CR, an empty or blank text and characters XML cannot carry in
    every text of the body: write gives, for the sender and every recipient, checked or not,
    the bytes or the refusal build gives."""
    original = MESSAGE_CODEC.read(path.read_bytes())
    assert isinstance(original.inhoud, Inhoud)
    bericht_ = Bericht(kop=original.kop, inhoud=_every_text(original.inhoud, text))
    recipients = [r for r, t in RECEIVED if t == path.stem]
    for voor in (None, *recipients):
        for check in (True, False):
            outcomes: list[object] = []
            for write in (MESSAGE_CODEC.write, MESSAGE_CODEC.build):
                try:
                    outcomes.append(write(bericht_, voor=voor, check=check))
                except Exception as exc:  # noqa: BLE001 - the same error, whatever it is
                    outcomes.append((type(exc), str(exc), getattr(exc, "__dict__", None)))
            assert outcomes[0] == outcomes[1], (voor, check)
