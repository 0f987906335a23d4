"""The XSDs in schemas/v1: generated from the shapes, valid XSD 1.0, and strict.

Every example must validate; taking out any element or attribute the sender's format requires
(spec §8: everything shown is required unless marked optional) must be refused with
SCHEMA_ONGELDIG, taking out an optional one must not; a wrong code or an 8-digit BSN is
refused too. "Required" is derived from the shape (Leaf/Group ``min``) and the shape itself
is checked against a table written from the spec's ``<!-- optional -->`` marks.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

from adapters.codec import Codec
from adapters.shape import Stijl
from adapters.xsd import Richting, generate, schema_name
from gateway.codec.envelope import KP
from gateway.domain.errors import Refused
from gateway.domain.model import (
    BLOKATTRIBUTEN,
    BerichtType,
    Foutcode,
    Group,
    Kind,
    Leaf,
    Node,
    Rol,
)
from gateway.safexml.validation import ENVELOP_NS
from tests.support import catalogue
from tests.support.catalogue import ADAPTERS, PARTNERS, TYPEN
from tests.support.strategies import (
    EXAMPLES_DIR,
    MESSAGE_CODEC,
    SCHEMA_DIR,
    assert_xmlschema_valid,
    example_id,
    examples,
)

EXAMPLES = examples()

# --------------------------------------------------------------------------- generated XSDs

PARTNER_RICHTING = [(rol, richting) for rol in PARTNERS for richting in Richting]


@pytest.mark.parametrize(
    ("rol", "richting"),
    PARTNER_RICHTING,
    ids=[schema_name(PARTNERS[r], d) for r, d in PARTNER_RICHTING],
)
def test_committed_xsd_is_what_the_shapes_generate(rol: Rol, richting: Richting) -> None:
    name = schema_name(PARTNERS[rol], richting)
    path = SCHEMA_DIR / name
    assert path.exists(), f"schemas/v1/{name} is missing: run `ketenpoort schemas write`"
    assert path.read_bytes() == generate(PARTNERS[rol], richting, TYPEN), (
        f"schemas/v1/{name} is not what typen.yaml and the {rol} vocabulary "
        "generate: run `ketenpoort schemas write` and commit the result"
    )


def test_no_stray_xsd_in_schemas_v1() -> None:
    expected = {"envelop.xsd"} | {schema_name(PARTNERS[r], d) for r, d in PARTNER_RICHTING}
    assert {p.name for p in SCHEMA_DIR.glob("*.xsd")} == expected


XSD_FILES = sorted(SCHEMA_DIR.glob("*.xsd"))


@pytest.mark.parametrize("path", XSD_FILES, ids=[p.name for p in XSD_FILES])
def test_xsd_is_valid_for_lxml(path: Path) -> None:
    etree.XMLSchema(etree.parse(str(path)))


@pytest.mark.parametrize("path", XSD_FILES, ids=[p.name for p in XSD_FILES])
def test_xsd_is_valid_xsd_1_0_for_xmlschema(path: Path) -> None:
    schema = xmlschema.XMLSchema10(str(path))
    assert schema.validity == "valid"
    assert schema.target_namespace.startswith("urn:ketenpoort:")


# --------------------------------------------------------------------------- examples


def _body(root: etree._Element) -> etree._Element:
    inhoud = root.find(f"{KP}Inhoud")
    assert inhoud is not None
    return inhoud[0]


def _codec_of(path: Path) -> Codec:
    return ADAPTERS[path.parent.name].codecs[path.stem]


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
def test_example_validates(path: Path) -> None:
    bericht = MESSAGE_CODEC.read(path.read_bytes())
    assert bericht.kop.berichttype == path.stem
    root = etree.parse(str(path)).getroot()
    assert xmlschema.XMLSchema10(str(SCHEMA_DIR / "envelop.xsd")).is_valid(root)
    assert_xmlschema_valid(_body(root), sent=True)


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
def test_example_rendered_for_each_recipient_validates(path: Path) -> None:
    bericht = MESSAGE_CODEC.read(path.read_bytes())
    recipients = [r for r, p in PARTNERS.items() if bericht.kop.berichttype in p.receives]
    assert recipients
    for rol in recipients:
        written = MESSAGE_CODEC.write(bericht, voor=rol)  # checks the -ontvangst XSD
        assert_xmlschema_valid(_body(etree.fromstring(written)), sent=False)


# --------------------------------------------------------------------------- the walker


@dataclass(frozen=True)
class Spot:
    """One element or attribute of an example body, with what its shape says about it."""

    example: Path
    xpath: str  # of the element (for an attribute: its owner)
    attribute: str | None
    label: str
    node: Node
    required: bool  # removing it must be refused
    repeatable: bool  # another one may be added
    value: str | None = None  # a leaf's value in the example

    @property
    def id(self) -> str:
        return f"{example_id(self.example)}:{self.label}"


def _walk(
    codec: Codec, element: etree._Element, nodes: tuple[Node, ...], label: str, path: Path
) -> list[Spot]:
    v = codec.vocabulary
    tree = element.getroottree()
    spots: list[Spot] = []

    def name(el: etree._Element, base: str = label) -> str:
        parent = el.getparent()
        assert parent is not None
        same = [s for s in parent if s.tag == el.tag]
        index = f"[{same.index(el) + 1}]" if len(same) > 1 else ""
        return f"{base}/{v.prefix}:{etree.QName(el).localname}{index}"

    for node in nodes:
        if isinstance(node, Leaf):
            if node.text:
                continue
            if v.is_attribute(node):
                attribute = v.attribute(node.field)
                if element.get(attribute) is not None:
                    spots.append(
                        Spot(
                            path,
                            tree.getpath(element),
                            attribute,
                            f"{label}/@{attribute}",
                            node,
                            node.min >= 1,
                            False,
                            element.get(attribute),
                        )
                    )
                continue
            found = element.findall(codec.q(codec.element_name(node)))
            required = len(found) - 1 < node.min
            if node.field == "reden_niet_geinformeerd":
                # spec §8.2: required when geinformeerd is false (checked by the adapter)
                required = element.findtext(codec.q(v.name("geinformeerd"))) == "false"
            for child in found:
                spots.append(
                    Spot(
                        path,
                        tree.getpath(child),
                        None,
                        name(child),
                        node,
                        required,
                        node.max is None or len(found) < node.max,
                        child.text,
                    )
                )
            continue
        parent = element
        parent_label = label
        wrapper = codec.wrapper_name(node)
        if wrapper is not None:
            found_wrapper = element.find(codec.q(wrapper))
            if found_wrapper is None:
                continue
            parent = found_wrapper
            parent_label = name(found_wrapper)
            spots.append(
                Spot(
                    path,
                    tree.getpath(found_wrapper),
                    None,
                    parent_label,
                    node,
                    node.min >= 1,
                    False,
                )
            )
        items = parent.findall(codec.q(codec.element_name(node)))
        for item in items:
            item_label = name(item, parent_label)
            spots.append(
                Spot(
                    path,
                    tree.getpath(item),
                    None,
                    item_label,
                    node,
                    len(items) - 1 < node.min,
                    node.max is None or len(items) < node.max,
                )
            )
            spots.extend(_walk(codec, item, node.children, item_label, path))
    return spots


def _spots(path: Path) -> list[Spot]:
    root = etree.parse(str(path)).getroot()
    body = _body(root)
    codec = _codec_of(path)
    label = f"{codec.vocabulary.prefix}:{codec.root}"
    return _walk(codec, body, codec.definitie.children, label, path)


SPOTS = [spot for path in EXAMPLES for spot in _spots(path)]
ELEMENT_SPOTS = [s for s in SPOTS if s.attribute is None]
LEAF_SPOTS = [s for s in SPOTS if isinstance(s.node, Leaf)]


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
def test_walker_sees_every_element_and_attribute_of_the_example(path: Path) -> None:
    """Guards the removal tests below: each element and attribute of the body is a case."""
    root = etree.parse(str(path)).getroot()
    body = _body(root)
    tree = root.getroottree()
    spots = [s for s in SPOTS if s.example == path]
    seen = {s.xpath for s in spots if s.attribute is None}
    everything = {tree.getpath(e) for e in body.iterdescendants()}
    assert everything - seen == set()
    attributes = {(s.xpath, s.attribute) for s in spots if s.attribute is not None}
    all_attributes = {(tree.getpath(e), a) for e in body.iter() for a in e.attrib}
    assert all_attributes - attributes == set()


NAMESPACES = {
    "kp": ENVELOP_NS,
    **{p.vocabulary.prefix: p.vocabulary.namespace for p in PARTNERS.values()},
}


def _load(spot: Spot) -> tuple[etree._Element, etree._Element]:
    root = etree.fromstring(spot.example.read_bytes())
    found = root.getroottree().xpath(spot.xpath, namespaces=NAMESPACES)
    assert isinstance(found, list)
    assert len(found) == 1
    element = found[0]
    assert isinstance(element, etree._Element)
    return root, element


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _refused(data: bytes, code: Foutcode) -> Refused:
    with pytest.raises(Refused) as caught:
        MESSAGE_CODEC.read(data)
    assert caught.value.code is code, str(caught.value)
    return caught.value


@pytest.mark.parametrize("spot", SPOTS, ids=[s.id for s in SPOTS])
def test_removing_a_required_part_is_refused_an_optional_one_is_not(spot: Spot) -> None:
    root, element = _load(spot)
    original = MESSAGE_CODEC.read(_bytes(root)).inhoud
    if spot.attribute is not None:
        del element.attrib[spot.attribute]
    else:
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)
    if spot.required:
        error = _refused(_bytes(root), Foutcode.SCHEMA_ONGELDIG)
        assert error.regel is not None or error.element is not None
    else:
        changed = MESSAGE_CODEC.read(_bytes(root)).inhoud
        assert changed != original, "removing an optional part changed nothing"


REPEAT_SPOTS = [s for s in ELEMENT_SPOTS if s.node.max == 1 or s.repeatable]


@pytest.mark.parametrize("spot", REPEAT_SPOTS, ids=[s.id for s in REPEAT_SPOTS])
def test_repeating_an_element_obeys_its_max_occurs(spot: Spot) -> None:
    root, element = _load(spot)
    element.addnext(copy.deepcopy(element))
    if spot.repeatable:
        MESSAGE_CODEC.read(_bytes(root))
    else:
        _refused(_bytes(root), Foutcode.SCHEMA_ONGELDIG)


def test_at_most_five_veiligheidsvoorwaarden() -> None:
    data = (EXAMPLES_DIR / "veilig-thuis/Veiligheidsbeoordeling.xml").read_bytes()
    one = b"<vt:veiligheidsvoorwaarde>Peter slaapt bij zijn broer als hij gedronken heeft"
    end = b"</vt:veiligheidsvoorwaarde>"
    assert one in data
    five = data.replace(one + end, (one + end) * 5)
    bericht = MESSAGE_CODEC.read(five)
    assert isinstance(bericht.inhoud, catalogue.model("Veiligheidsbeoordeling"))
    assert len(bericht.inhoud.veiligheidsvoorwaarde) == 5
    _refused(data.replace(one + end, (one + end) * 6), Foutcode.SCHEMA_ONGELDIG)


def _set_value(spot: Spot, element: etree._Element, value: str) -> None:
    if spot.attribute is not None:
        element.set(spot.attribute, value)
    else:
        element.text = value


def _text_spots() -> list[Spot]:
    """Text content of elements like om:Feit (simpleContent): one spot per such element."""
    found = []
    for spot in ELEMENT_SPOTS:
        if isinstance(spot.node, Group) and any(
            isinstance(c, Leaf) and c.text for c in spot.node.children
        ):
            found.append(spot)
    return found


EMPTY_SPOTS = LEAF_SPOTS + _text_spots()


@pytest.mark.parametrize("spot", EMPTY_SPOTS, ids=[s.id for s in EMPTY_SPOTS])
def test_an_empty_value_is_refused(spot: Spot) -> None:
    """No value kind accepts the empty string (texts have minLength 1, the rest patterns)."""
    root, element = _load(spot)
    _set_value(spot, element, "")
    _refused(_bytes(root), Foutcode.SCHEMA_ONGELDIG)


CODE_SPOTS = [s for s in LEAF_SPOTS if isinstance(s.node, Leaf) and s.node.kind is Kind.CODE]


@pytest.mark.parametrize("spot", CODE_SPOTS, ids=[s.id for s in CODE_SPOTS])
def test_an_unknown_code_is_refused(spot: Spot) -> None:
    root, element = _load(spot)
    _set_value(spot, element, "ONGELDIG")
    _refused(_bytes(root), Foutcode.SCHEMA_ONGELDIG)


# codes with letters (not the veiligheidsschaal) and spelled per partner (not a rol)
STYLED_SPOTS = [s for s in CODE_SPOTS if s.value and s.value.swapcase() != s.value]


@pytest.mark.parametrize("spot", STYLED_SPOTS, ids=[s.id for s in STYLED_SPOTS])
def test_a_code_in_another_case_is_refused(spot: Spot) -> None:
    """PascalCase partners spell codes in capitals, VT in lower case; the other is wrong."""
    root, element = _load(spot)
    assert spot.value is not None
    _set_value(spot, element, spot.value.swapcase())
    _refused(_bytes(root), Foutcode.SCHEMA_ONGELDIG)


BSN_SPOTS = [s for s in LEAF_SPOTS if isinstance(s.node, Leaf) and s.node.kind is Kind.BSN]


def test_every_partner_format_with_a_bsn_is_covered() -> None:
    assert {s.example.parent.name for s in BSN_SPOTS} == set(catalogue.TYPEN.rollen)
    assert any(s.attribute == "bsn" for s in BSN_SPOTS)  # the OM's attribute


@pytest.mark.parametrize("spot", BSN_SPOTS, ids=[s.id for s in BSN_SPOTS])
def test_a_bsn_of_eight_digits_is_refused(spot: Spot) -> None:
    root, element = _load(spot)
    value = element.get(spot.attribute) if spot.attribute else element.text
    assert value is not None
    assert len(value) == 9
    _set_value(spot, element, value[:8])
    _refused(_bytes(root), Foutcode.SCHEMA_ONGELDIG)


@pytest.mark.parametrize("spot", BSN_SPOTS, ids=[s.id for s in BSN_SPOTS])
def test_a_bsn_failing_the_elfproef_is_refused(spot: Spot) -> None:
    root, element = _load(spot)
    value = element.get(spot.attribute) if spot.attribute else element.text
    assert value is not None
    wrong = value[:8] + str((int(value[8]) + 1) % 10)
    _set_value(spot, element, wrong)
    error = _refused(_bytes(root), Foutcode.BSN_ONGELDIG)
    assert error.element is not None
    assert etree.QName(element).localname in error.element
    assert wrong not in str(error)  # a BSN is never echoed


# --------------------------------------------------------------------------- the kop

KOP_REQUIRED = [
    "BerichtId",
    "ConversatieId",
    "BerichtType",
    "Versie",
    "Afzender",
    "Afzender/@oin",
    "Afzender/@rol",
    "Doelbinding",
    "Doelbinding/Doel",
    "Doelbinding/Grondslag",
    "Tijdstip",
]
KOP_CASES = [(path, part) for path in EXAMPLES for part in KOP_REQUIRED]


def _kop_find(root: etree._Element, part: str) -> etree._Element:
    steps = part.split("/@", maxsplit=1)[0].split("/")
    found = root.find(f"{KP}Kop/" + "/".join(f"{KP}{s}" for s in steps))
    assert found is not None, part
    return found


@pytest.mark.parametrize(
    ("path", "part"), KOP_CASES, ids=[f"{example_id(p)}:kp:{k}" for p, k in KOP_CASES]
)
def test_removing_a_required_kop_part_is_refused(path: Path, part: str) -> None:
    root = etree.fromstring(path.read_bytes())
    element = _kop_find(root, part)
    if "/@" in part:
        del element.attrib[part.split("/@")[1]]
    else:
        parent = element.getparent()
        assert parent is not None
        for same in parent.findall(element.tag):  # every one of a repeated part (Grondslag)
            parent.remove(same)
    _refused(_bytes(root), Foutcode.SCHEMA_ONGELDIG)


def test_optional_kop_parts_may_be_left_out() -> None:
    path = next(p for p in EXAMPLES if p.stem == "ZsmAanmelding")
    root = etree.fromstring(path.read_bytes())
    prioriteit = _kop_find(root, "Prioriteit")
    kop = prioriteit.getparent()
    assert kop is not None
    kop.remove(prioriteit)
    assert MESSAGE_CODEC.read(_bytes(root)).kop.prioriteit is None


# --------------------------------------------------------------------------- spec §8 table

# Elements and attributes the spec marks optional (or 0..n) per sender format; everything
# else shown there is required.
SPEC_OPTIONAL: dict[tuple[str, str], set[str]] = {
    ("politie", "VtMelding"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "Persoonsnummer",
        "Letsel",
        "Middelen",
        "BSN",
        "RelatieTotSlachtoffer",
        "Risicotaxatie",
        # v2 §8: whether the person was informed, or why not (every personen item)
        "Geinformeerd",
        "RedenNietGeinformeerd",
    },
    # v2 §10: pol:Voorgeleiding and pol:Ophoudtermijn, new optional children of pol:Zaak
    ("politie", "ZsmAanmelding"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "Persoonsnummer",
        "Letsel",
        "Middelen",
        "BSN",
        "RelatieTotSlachtoffer",
        "Voorgeleiding",
        "Ophoudtermijn",
        "Geinformeerd",
        "RedenNietGeinformeerd",
    },
    ("politie", "ActieoverlegAanmelding"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "Persoonsnummer",
        "BSN",
        "RelatieTotSlachtoffer",
        "Geinformeerd",
        "RedenNietGeinformeerd",
    },
    ("veilig-thuis", "ActieoverlegAanmelding"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "persoonsnummer",
        "bsn",
        "relatie-tot-slachtoffer",
        "geinformeerd",
        "reden-niet-geinformeerd",
    },
    # deel-gezondheid-met-om: the spec shows it without an optional mark; absent means
    # "not shared" (§7), the shapes make it optional. A documented choice, not a mark.
    ("veilig-thuis", "Veiligheidsbeoordeling"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "persoonsnummer",
        "@deel-gezondheid-met-om",
        "melding-referentie",
        "bsn",
        "gezinsprofiel",
        "risicofactor",
        "beschermende-factor",
        "veiligheidsvoorwaarde",
        "gezondheid",
        "casusregisseur",
        "geinformeerd",
        "reden-niet-geinformeerd",
    },
    ("veilig-thuis", "Terugkoppeling"): {"casusregisseur", "toelichting"},
    # v2 §6: a withdrawal carries reeks-id, versie, status and reden only, so the content is
    # optional in the format; the gateway requires it of a geldig versie (SCHEMA_ONGELDIG)
    ("veilig-thuis", "Veiligheidsafspraken"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "persoonsnummer",
        "geinformeerd",
        "reden-niet-geinformeerd",
        "bsn",
        "telefoon",
        "@geldig-tot",
        "dossier",
        "adres",
        "betrokkene",
        "afspraak",
        "bij-blijver",
        "reden",
    },
    ("lokaal-team", "Veiligheidsafspraken"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "persoonsnummer",
        "geinformeerd",
        "reden-niet-geinformeerd",
        "bsn",
        "telefoon",
        "@geldig-tot",
        "dossiernummer",
        "adres",
        "gezinslid",
        "afspraak",
        "bij-blijver",
        "reden",
    },
    ("gecertificeerde-instelling", "Veiligheidsafspraken"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "@persoonsnummer",
        "Geinformeerd",
        "RedenNietGeinformeerd",
        "@bsn",
        "Telefoon",
        "@geldig-tot",
        "Dossiernummer",
        "Adres",
        "Gezinslid",
        "Afspraak",
        "BijBlijver",
        "Reden",
    },
    ("veilig-thuis", "VerzoekTotOnderzoek"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "persoonsnummer",
        "bsn",
        "reden-niet-geinformeerd",
        "geaccordeerde-informatie",
    },
    ("openbaar-ministerie", "Adviesaanvraag"): set(),
    # HgLabel: spec v2 §5, a new optional last child of om:Beslissing
    ("openbaar-ministerie", "OmBeslissing"): {"Voorwaarde", "@persoon", "Termijn", "HgLabel"},
    ("openbaar-ministerie", "ActieoverlegBesluit"): {"@parketnummer"},
    ("reclassering", "Reclasseringsadvies"): {"BijzondereVoorwaarde", "LopendeHulp"},
    ("raad-kinderbescherming", "Reclasseringsadvies"): {"BijzondereVoorwaarde", "LopendeHulp"},
    # v2 §6 (issue #14): the new partners' formats are this project's design
    # (docs/partners/); optional is what v2 §6 does not require: voorwaarden 0..5, the reden
    # of an afgesloten Overdracht, a Terugmelding's adres (or InAntwoordOp), its people, what
    # happened and the intervention time (acuut-ingezet), the registrations of an answer
    ("veilig-thuis", "Overdracht"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "persoonsnummer",
        "bsn",
        "reden-afsluiting",
        "voorwaarde",
        "geinformeerd",
        "reden-niet-geinformeerd",
    },
    ("veilig-thuis", "Informatieverzoek"): {
        "bsn",
        "persoonsnummer",  # v2 §8
        "geinformeerd",
        "reden-niet-geinformeerd",
    },
    ("veilig-thuis", "Informatieantwoord"): {"registratie"},
    ("veilig-thuis", "MeldingStrafbaarFeit"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "persoonsnummer",
        "bsn",
        "geboren",
        "letsel",
        "reden-niet-geinformeerd",
        "relatie-tot-slachtoffer",
    },
    ("politie", "Informatieantwoord"): {"Registratie"},
    ("raad-kinderbescherming", "Informatieverzoek"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "Persoonsnummer",
        "Bsn",
        "Geinformeerd",
        "RedenNietGeinformeerd",
    },
    ("raad-kinderbescherming", "Onderzoeksuitkomst"): {"Bsn", "Persoonsnummer", "Toelichting"},
    ("lokaal-team", "OverdrachtReactie"): {"reden", "regievoerder"},
    ("lokaal-team", "Terugmelding"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "persoonsnummer",
        "geinformeerd",
        "reden-niet-geinformeerd",
        "adres",
        "bsn",
        "gebeurtenis",
        "gezinslid",
        "interventie",
        "voorwaarde",
    },
    ("lokaal-team", "VerzoekTotOnderzoek"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "persoonsnummer",
        "bsn",
        "geaccordeerde-informatie",
        "reden-niet-geinformeerd",
    },
    ("gecertificeerde-instelling", "OverdrachtReactie"): {"Casusregisseur", "Reden"},
    ("gecertificeerde-instelling", "Terugmelding"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "@persoonsnummer",
        "Geinformeerd",
        "RedenNietGeinformeerd",
        "@bsn",
        "Adres",
        "Gebeurtenis",
        "Gezinslid",
        "Interventie",
        "Voorwaarde",
    },
    ("gecertificeerde-instelling", "VerzoekTotOnderzoek"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@persoonsnummer",
        "@bsn",
        "GeaccordeerdeInformatie",
        "RedenNietGeinformeerd",
    },
    ("crisisdienst", "Terugmelding"): {
        # v2 §8: a person's persoonsnummer, an address marked afgeschermd
        "@afgeschermd",
        "Persoonsnummer",
        "Geinformeerd",
        "RedenNietGeinformeerd",
        "Adres",
        "BSN",
        "Inzet",
        "Persoon",
        "Situatie",
        "Voorwaarde",
    },
}


def _optional_names(codec: Codec, nodes: tuple[Node, ...]) -> set[str]:
    v = codec.vocabulary
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, Leaf) and (node.text or node.field in BLOKATTRIBUTEN):
            continue  # block attributes: test_every_block_may_carry_the_block_attributes
        if node.min == 0:
            if isinstance(node, Leaf) and v.is_attribute(node):
                names.add("@" + v.attribute(node.field))
            else:
                names.add(codec.element_name(node))
        if isinstance(node, Group):
            names |= _optional_names(codec, node.children)
    return names


SPEC_CASES = sorted(SPEC_OPTIONAL)


@pytest.mark.parametrize(
    ("rol", "berichttype"), SPEC_CASES, ids=[f"{r}-{t}" for r, t in SPEC_CASES]
)
def test_shape_optionality_matches_the_spec(rol: str, berichttype: str) -> None:
    codec = ADAPTERS[Rol(rol)].codecs[BerichtType(berichttype)]
    assert _optional_names(codec, codec.definitie.children) == SPEC_OPTIONAL[(rol, berichttype)]


def test_spec_table_covers_every_sent_format() -> None:
    sent = {(r, t) for r, p in PARTNERS.items() for t in p.sends}
    assert set(SPEC_OPTIONAL) == sent


# --------------------------------------------------------------------------- XSD ⇔ gateway


# Lexical forms of a valid value, put into one example. The contract is the XSD: whatever it
# accepts the gateway must accept (with the same value), whatever it refuses the gateway
# refuses.

VT_MELDING = "politie/VtMelding.xml"
OPGEMAAKT = b"<pol:Opgemaakt>2026-11-20T23:14:00+01:00<"
GEBOREN = b"<pol:Geboortedatum>1988-04-02<"

VARIANTS = [
    pytest.param(
        VT_MELDING,
        b"<pol:EerdereIncidenten>2<",
        b"<pol:EerdereIncidenten> 2 <",
        id="aantal-with-blanks",
    ),
    pytest.param(
        VT_MELDING,
        b"<pol:EerdereIncidenten>2<",
        b"<pol:EerdereIncidenten>+2<",
        id="aantal-with-plus",
    ),
    pytest.param(VT_MELDING, b"<pol:Aard>HG<", b"<pol:Aard>\n  HG\n<", id="code-with-blanks"),
    pytest.param(
        VT_MELDING, b"<pol:Wapens>false<", b"<pol:Wapens> false <", id="janee-with-blanks"
    ),
    pytest.param(VT_MELDING, b"<pol:Wapens>false<", b"<pol:Wapens>0<", id="janee-0"),
    pytest.param(
        VT_MELDING, OPGEMAAKT, b"<pol:Opgemaakt>2026-11-20T22:14:00Z<", id="tijdstip-in-z"
    ),
    pytest.param(
        VT_MELDING,
        OPGEMAAKT,
        b"<pol:Opgemaakt>2026-11-20T23:14:00.0+01:00<",
        id="tijdstip-with-fraction",
    ),
    pytest.param(
        VT_MELDING, OPGEMAAKT, b"<pol:Opgemaakt>2026-11-20T23:14:00<", id="tijdstip-without-offset"
    ),
    pytest.param(
        VT_MELDING,
        OPGEMAAKT,
        b"<pol:Opgemaakt>2026-11-20T23:14:00+15:00<",
        id="tijdstip-offset-beyond-14h",
    ),
    pytest.param(
        VT_MELDING, GEBOREN, b"<pol:Geboortedatum>1988-04-02+01:00<", id="datum-with-offset"
    ),
    pytest.param(VT_MELDING, GEBOREN, b"<pol:Geboortedatum>1988-02-30<", id="datum-30-feb"),
    pytest.param(
        VT_MELDING, b"<pol:BSN>999990019<", b"<pol:BSN> 999990019 <", id="bsn-with-blanks"
    ),
    pytest.param(
        VT_MELDING, b"<pol:Postcode>7511AB<", b"<pol:Postcode>7511 AB<", id="postcode-with-space"
    ),  # accepted, kept as spelled (not the same value)
    pytest.param(
        VT_MELDING, b"<pol:Postcode>7511AB<", b"<pol:Postcode>7511ab<", id="postcode-lower-case"
    ),
    pytest.param(
        "openbaar-ministerie/OmBeslissing.xml",
        b"<om:Termijn>P6M<",
        b"<om:Termijn>6 maanden<",
        id="duur-not-a-duration",
    ),
    pytest.param(
        VT_MELDING,
        GEBOREN,
        b"<pol:Geboortedatum>\n  1988-04-02\n<",
        id="datum-with-blanks",
    ),
    pytest.param(
        VT_MELDING,
        OPGEMAAKT,
        b"<pol:Opgemaakt> 2026-11-20T23:14:00+01:00 <",
        id="tijdstip-with-blanks",
    ),
    pytest.param(
        "veilig-thuis/Veiligheidsafspraken.xml",
        b'geldig-tot="2027-05-21"',
        b'geldig-tot=" 2027-05-21 "',
        id="datum-attribute-with-blanks",
    ),
    pytest.param(
        VT_MELDING,
        OPGEMAAKT,
        b"<pol:Opgemaakt>2026-11-20T24:00:00+01:00<",
        id="tijdstip-hour-24",
    ),
]


@pytest.mark.parametrize(("rel", "old", "new"), VARIANTS)
def test_xsd_and_gateway_agree(rel: str, old: bytes, new: bytes) -> None:
    data = (EXAMPLES_DIR / rel).read_bytes()
    assert old in data
    changed = data.replace(old, new)
    root = etree.fromstring(changed)
    try:
        MESSAGE_CODEC.schemas.check_body(_body(root), sent=True)
        xsd_ok = True
    except Refused:
        xsd_ok = False
    try:
        read = MESSAGE_CODEC.read(changed)
        gateway: Refused | None = None
    except Refused as exc:
        gateway = exc
    assert xsd_ok == (gateway is None), (
        f"XSD {'accepts' if xsd_ok else 'refuses'} but the gateway "
        f"{'accepts' if gateway is None else f'refuses: {gateway}'}"
    )
    if gateway is None and b"Postcode" not in new:
        assert read == MESSAGE_CODEC.read(data), "the same value, spelled differently"


# --------------------------------------------------------------------------- block attributes

XS = "{http://www.w3.org/2001/XMLSchema}"


def _groups(nodes: tuple[Node, ...]) -> list[Group]:
    found = []
    for node in nodes:
        if isinstance(node, Group):
            found += [node, *_groups(node.children)]
    return found


@pytest.mark.parametrize(
    ("rol", "richting"),
    PARTNER_RICHTING,
    ids=[schema_name(PARTNERS[r], d) for r, d in PARTNER_RICHTING],
)
def test_every_block_may_carry_the_block_attributes(rol: Rol, richting: Richting) -> None:
    """Spec v2 §8: every block of every type, in every vocabulary and both directions, has
    bron, beroepsgeheim, doorbrekingsgrond and geaccordeerd as optional attributes (required
    only where a block declares one itself: the v1 Informatiebron's bron and geaccordeerd);
    the doorbrekingsgrond codes are spelled in the vocabulary's own convention."""
    partner = PARTNERS[rol]
    v = partner.vocabulary
    schema = etree.fromstring(generate(partner, richting, TYPEN))
    types = partner.sends if richting is Richting.VERZENDEN else partner.receives
    checked = 0
    for berichttype in types:
        codec = ADAPTERS[rol].codecs[berichttype]
        for group in _groups(codec.definitie.children):
            declared = {c.field: c for c in group.children if isinstance(c, Leaf)}
            elements = [
                e
                for e in schema.iter(f"{XS}element")
                if e.get("name") == codec.element_name(group)
                and e.find(f"{XS}complexType") is not None
            ]
            assert elements, (berichttype, group.field)
            for element in elements:
                attributes = {a.get("name"): a for a in element.iter(f"{XS}attribute")}
                grond_leaf = declared["doorbrekingsgrond"]
                for naam in BLOKATTRIBUTEN:
                    leaf = declared[naam]
                    assert leaf.attr
                    attribute = attributes[v.attribute(naam)]
                    required = richting is Richting.VERZENDEN and leaf.min >= 1
                    assert attribute.get("use") == ("required" if required else "optional")
                    checked += 1
    if not types:  # a partner that receives nothing (yet) has no blocks in that direction
        return
    assert checked
    grond = schema.find(f"{XS}simpleType[@name='Doorbrekingsgrond']")
    assert grond is not None
    spelled = [e.get("value") for e in grond.iter(f"{XS}enumeration")]
    assert spelled == [v.spell(grond_leaf, g) for g in TYPEN.doorbrekingsgronden]
    if v.stijl is Stijl.KEBAB:
        assert spelled == list(TYPEN.doorbrekingsgronden)
    else:
        assert spelled == [g.upper().replace("-", "_") for g in TYPEN.doorbrekingsgronden]
