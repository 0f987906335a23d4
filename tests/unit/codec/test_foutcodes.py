"""Every foutbericht code that can arise before routing (spec §6), from a real example.

Each test starts from a file in ``examples/``, changes it minimally and asserts the code, the
element and the line that :meth:`MessageCodec.read` reports. Expected lines are computed from
the (changed) text, so the tests follow the examples if they are reformatted, but a wrong line
in the refusal still fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.codec.envelope import MessageCodec
from gateway.domain.errors import Refused
from gateway.domain.model import BerichtType, Foutcode, Rol
from tests.support import catalogue
from tests.support.messages import line_of, replace_once
from tests.support.paths import REPO_ROOT

ExampleBytes = Callable[[str], bytes]

EXAMPLES = sorted(
    str(p.relative_to(REPO_ROOT / "examples")) for p in (REPO_ROOT / "examples").glob("*/*.xml")
)
VT_MELDING = "politie/VtMelding.xml"


# --------------------------------------------------------------------------- helpers


def refuse(codec: MessageCodec, text: str, code: Foutcode) -> Refused:
    with pytest.raises(Refused) as caught:
        codec.read(text.encode())
    assert caught.value.code is code, str(caught.value)
    return caught.value


@pytest.fixture
def example(example_bytes: ExampleBytes) -> Callable[[str], str]:
    return lambda rel: example_bytes(rel).decode("utf-8")


# --------------------------------------------------------------------------- the examples


def test_there_are_examples_for_every_catalogue_type() -> None:
    types = {Path(rel).stem for rel in EXAMPLES}
    assert types == set(catalogue.TYPEN)
    assert len(EXAMPLES) == 29  # 13 of v1, 14 of v2 §6, 2 afspraken senders of v2 §6 (#15)


@pytest.mark.parametrize("rel", EXAMPLES)
def test_every_example_reads_to_its_canonical_type(
    rel: str, codec: MessageCodec, example_bytes: ExampleBytes
) -> None:
    rol, name = Path(rel).parent.name, Path(rel).stem
    bericht = codec.read(example_bytes(rel))
    assert bericht.kop.berichttype == BerichtType(name)
    assert type(bericht.inhoud) is catalogue.model(name)
    assert bericht.inhoud.berichttype == BerichtType(name)
    assert bericht.kop.afzender.rol == Rol(rol)
    assert bericht.kop.doelbinding is not None
    assert bericht.kop.tijdstip.tzinfo is not None


# --------------------------------------------------------------------------- XML_ONGELDIG


def test_xml_ongeldig_not_well_formed(codec: MessageCodec, example: Callable[[str], str]) -> None:
    text = example("veilig-thuis/Terugkoppeling.xml")
    regel = line_of(text, "</vt:terugkoppeling>")
    broken = replace_once(text, "</vt:toelichting>", "")  # <vt:toelichting> left open
    exc = refuse(codec, broken, Foutcode.XML_ONGELDIG)
    assert exc.regel == regel  # the mismatch is found at the closing tag of the parent
    assert exc.element is None
    assert "toelichting" in exc.reden


# --------------------------------------------------------------------------- SCHEMA_ONGELDIG


def test_schema_ongeldig_wrong_enumeration_value(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = replace_once(example(VT_MELDING), "<pol:Aard>HG</pol:Aard>", "<pol:Aard>XX</pol:Aard>")
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "pol:Aard"
    assert exc.regel == line_of(text, "<pol:Aard>XX")
    assert exc.regel == 26
    assert "'XX'" in exc.reden
    assert "urn:ketenpoort" not in exc.reden  # prefixes, not {urn:...} names


@pytest.mark.parametrize(
    ("rel", "old", "new", "element"),
    [
        (
            "openbaar-ministerie/OmBeslissing.xml",
            "<om:Uitkomst>HEENZENDEN_MET_VOORWAARDEN<",
            "<om:Uitkomst>heenzenden<",
            "om:Uitkomst",
        ),
        (
            "veilig-thuis/Veiligheidsbeoordeling.xml",
            "<vt:veiligheidsschaal>2<",
            "<vt:veiligheidsschaal>8<",
            "vt:veiligheidsschaal",
        ),
        (
            "reclassering/Reclasseringsadvies.xml",
            "<rc:Risico>HOOG<",
            "<rc:Risico>EXTREEM<",
            "rc:Risico",
        ),
        ("politie/ZsmAanmelding.xml", "<pol:Feit>BEDREIGING<", "<pol:Feit>bedreiging<", "pol:Feit"),
    ],
)
def test_schema_ongeldig_code_values_in_every_partner_format(
    rel: str,
    old: str,
    new: str,
    element: str,
    codec: MessageCodec,
    example: Callable[[str], str],
) -> None:
    text = replace_once(example(rel), old, new)
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == element
    assert exc.regel == line_of(text, new)


def test_schema_ongeldig_missing_required_element(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = re.sub(r"<pol:Omschrijving>.*?</pol:Omschrijving>", "", example(VT_MELDING))
    assert "pol:Omschrijving>" not in text
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    # libxml2 names the element it found where the missing one was required, and the line
    # of that element; the missing element is in the reason.
    assert exc.element == "pol:Wapens"
    assert exc.regel == line_of(text, "<pol:Wapens>")
    assert "pol:Omschrijving" in exc.reden


def test_schema_ongeldig_berichttype_does_not_match_body(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = replace_once(
        example(VT_MELDING),
        "<kp:BerichtType>VtMelding<",
        "<kp:BerichtType>ZsmAanmelding<",
    )
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "kp:BerichtType"
    assert exc.regel == line_of(text, "<kp:BerichtType>")
    assert "ZsmAanmelding" in exc.reden
    assert "VtMelding" in exc.reden


@pytest.mark.parametrize(
    ("rel", "afzender", "body"),
    [
        (
            "raad-kinderbescherming/Reclasseringsadvies.xml",
            'oin="00000099000000000105" rol="reclassering"',
            "rvdk:Advies",
        ),
    ],
)
def test_schema_ongeldig_body_not_in_the_afzender_namespace(
    rel: str, afzender: str, body: str, codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = example(rel)
    original = re.search(r"<kp:Afzender ([^/]*)/>", text)
    assert original is not None
    text = replace_once(text, original.group(1), afzender)
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == body
    assert exc.regel == line_of(text, f"<{body} ")
    assert "afzender rol" in exc.reden


@pytest.mark.parametrize("rel", EXAMPLES)
def test_schema_ongeldig_missing_doelbinding(
    rel: str, codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text, n = re.subn(r"\n\s*<kp:Doelbinding>.*?</kp:Doelbinding>", "", example(rel), flags=re.S)
    assert n == 1
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "kp:Kop"
    assert exc.regel == line_of(text, "<kp:Kop>")
    assert "kp:Doelbinding" in exc.reden
    assert Path(rel).stem in exc.reden


@pytest.mark.parametrize(
    "tijdstip",
    ["2026-11-20T23:30:00", "2026-11-20T23:30", "2026-11-20", "2026-11-20T23:30:00 +01:00"],
)
def test_schema_ongeldig_tijdstip_without_offset(
    tijdstip: str, codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = replace_once(
        example(VT_MELDING),
        "<kp:Tijdstip>2026-11-20T23:30:00+01:00<",
        f"<kp:Tijdstip>{tijdstip}<",
    )
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "kp:Tijdstip"
    assert exc.regel == line_of(text, "<kp:Tijdstip>")


@pytest.mark.parametrize("tijdstip", ["2026-11-20T23:30:00Z", "2026-11-20T23:30:00.5-05:00"])
def test_tijdstip_with_offset_is_accepted(
    tijdstip: str, codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = replace_once(
        example(VT_MELDING),
        "<kp:Tijdstip>2026-11-20T23:30:00+01:00<",
        f"<kp:Tijdstip>{tijdstip}<",
    )
    assert codec.read(text.encode()).kop.tijdstip.utcoffset() is not None


def test_schema_ongeldig_body_tijdstip_without_offset(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = replace_once(
        example(VT_MELDING),
        "<pol:Opgemaakt>2026-11-20T23:14:00+01:00<",
        "<pol:Opgemaakt>2026-11-20T23:14:00<",
    )
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "pol:Opgemaakt"
    assert exc.regel == line_of(text, "<pol:Opgemaakt>")


def _gezagsdrager_line(text: str, naam: str) -> int:
    regel = line_of(text, f"<vt:naam>{naam}</vt:naam>") - 1
    assert text.splitlines()[regel - 1].strip() == "<vt:gezagsdrager>"
    return regel


def test_schema_ongeldig_gezagsdrager_not_informed_without_reason(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = example("veilig-thuis/VerzoekTotOnderzoek.xml")
    text, n = re.subn(r"\s*<vt:reden-niet-geinformeerd>.*?</vt:reden-niet-geinformeerd>", "", text)
    assert n == 1  # Peter Jansen: geinformeerd false, and now no reason
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "vt:gezagsdrager"
    assert exc.regel == _gezagsdrager_line(text, "Peter Jansen")
    assert "reden-niet-geinformeerd" in exc.reden


def test_schema_ongeldig_other_gezagsdrager_not_informed_without_reason(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    """Anna Jansen becomes not informed; Peter keeps his reason: Anna's element is named."""
    text = replace_once(
        example("veilig-thuis/VerzoekTotOnderzoek.xml"),
        "<vt:geinformeerd>true</vt:geinformeerd>",
        "<vt:geinformeerd>false</vt:geinformeerd>",
    )
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "vt:gezagsdrager"
    assert exc.regel == _gezagsdrager_line(text, "Anna Jansen")


def test_gezagsdrager_not_informed_with_reason_is_accepted(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    bericht = codec.read(example("veilig-thuis/VerzoekTotOnderzoek.xml").encode())
    assert bericht.kop.berichttype == "VerzoekTotOnderzoek"


def test_schema_ongeldig_root_is_not_the_envelope(codec: MessageCodec) -> None:
    exc = refuse(codec, '<?xml version="1.0"?>\n<Bericht/>', Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "Bericht"
    assert exc.regel == 2


def test_schema_ongeldig_body_without_namespace(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = example(VT_MELDING)
    text = replace_once(
        text,
        '<pol:VTMelding xmlns:pol="urn:ketenpoort:politie:1">',
        '<VTMelding xmlns:pol="urn:ketenpoort:politie:1">',
    )
    text = replace_once(text, "</pol:VTMelding>", "</VTMelding>")
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)  # the envelope wants ##other
    assert exc.element == "VTMelding"
    assert exc.regel == line_of(text, "<VTMelding ")


# --------------------------------------------------------------------------- TE_GROOT


def test_te_groot_default_limit(codec: MessageCodec, example_bytes: ExampleBytes) -> None:
    data = example_bytes(VT_MELDING)
    with pytest.raises(Refused) as caught:
        codec.read(data + b" " * (codec.max_bytes - len(data) + 1))
    assert caught.value.code is Foutcode.TE_GROOT
    assert caught.value.element is None
    assert caught.value.regel is None
    assert codec.max_bytes == 1024 * 1024


def test_te_groot_custom_limit(example_bytes: ExampleBytes) -> None:
    data = example_bytes("veilig-thuis/Veiligheidsbeoordeling.xml")
    with pytest.raises(Refused) as caught:
        catalogue.codec(max_bytes=2048).read(data)
    assert caught.value.code is Foutcode.TE_GROOT
    assert "2048" in caught.value.reden


# --------------------------------------------------------------------------- ONBEKEND_BERICHTTYPE


@pytest.mark.parametrize("naam", ["Vergunning", "vtmelding", "Ontvangstbericht"])
def test_onbekend_berichttype_in_the_kop(
    naam: str, codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = replace_once(
        example(VT_MELDING), "<kp:BerichtType>VtMelding<", f"<kp:BerichtType>{naam}<"
    )
    exc = refuse(codec, text, Foutcode.ONBEKEND_BERICHTTYPE)
    assert exc.element == "kp:BerichtType"
    assert exc.regel == line_of(text, "<kp:BerichtType>")
    assert naam in exc.reden


def test_berichttype_that_is_not_a_name_is_a_schema_error(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    """envelop.xsd restricts the token to a name; only a well-formed name is 'unknown'."""
    text = replace_once(
        example(VT_MELDING), "<kp:BerichtType>VtMelding<", "<kp:BerichtType>Vt-Melding!<"
    )
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "kp:BerichtType"


def test_onbekend_berichttype_body_the_sender_does_not_have(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = example(VT_MELDING).replace("pol:VTMelding", "pol:Onbekend")
    exc = refuse(codec, text, Foutcode.ONBEKEND_BERICHTTYPE)
    assert exc.element == "pol:Onbekend"
    assert exc.regel == line_of(text, "<pol:Onbekend ")


def test_onbekend_berichttype_body_in_an_unknown_namespace(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = replace_once(example(VT_MELDING), "urn:ketenpoort:politie:1", "urn:example:gemeente:1")
    exc = refuse(codec, text, Foutcode.ONBEKEND_BERICHTTYPE)
    assert exc.element == "VTMelding"  # no prefix: the namespace belongs to no partner
    assert exc.regel == line_of(text, "<pol:VTMelding ")
    assert "urn:example:gemeente:1" in exc.reden


# --------------------------------------------------------------------------- BSN_ONGELDIG


@pytest.mark.parametrize(
    ("rel", "old", "new", "element"),
    [
        (VT_MELDING, "<pol:BSN>999990020<", "<pol:BSN>999990018<", "pol:BSN"),
        ("politie/ZsmAanmelding.xml", "<pol:BSN>999990032<", "<pol:BSN>999990033<", "pol:BSN"),
        (
            "openbaar-ministerie/Adviesaanvraag.xml",
            'bsn="999990020"',
            'bsn="999990018"',
            "om:Verdachte/@bsn",
        ),
        (
            "openbaar-ministerie/OmBeslissing.xml",
            'bsn="999990020"',
            'bsn="000000000"',
            "om:Verdachte/@bsn",
        ),
        (
            "veilig-thuis/Veiligheidsbeoordeling.xml",
            "<vt:bsn>999990019<",
            "<vt:bsn>999990018<",
            "vt:bsn",
        ),
        (
            "veilig-thuis/VerzoekTotOnderzoek.xml",
            "<vt:bsn>999990032<",
            "<vt:bsn>123456789<",
            "vt:bsn",
        ),
        (
            "reclassering/Reclasseringsadvies.xml",
            "<rc:Bsn>999990020<",
            "<rc:Bsn>999990018<",
            "rc:Bsn",
        ),
        (
            "raad-kinderbescherming/Reclasseringsadvies.xml",
            "<rvdk:Bsn>999990044<",
            "<rvdk:Bsn>999990045<",
            "rvdk:Bsn",
        ),
    ],
)
def test_bsn_ongeldig(
    rel: str,
    old: str,
    new: str,
    element: str,
    codec: MessageCodec,
    example: Callable[[str], str],
) -> None:
    text = replace_once(example(rel), old, new)
    exc = refuse(codec, text, Foutcode.BSN_ONGELDIG)
    assert exc.element == element
    assert exc.regel == line_of(text, new)
    bsn = re.sub(r"\D", "", new)
    assert bsn not in str(exc)  # a BSN never goes into a reason (it may end up in a log)


def test_bsn_with_wrong_length_is_a_schema_error(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = replace_once(example(VT_MELDING), "<pol:BSN>999990020<", "<pol:BSN>99999002<")
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "pol:BSN"
    assert exc.regel == line_of(text, "<pol:BSN>99999002<")


def test_schema_ongeldig_names_the_missing_element(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    """Where exactly one element was expected, the foutbericht names that one."""
    text = re.sub(r"<pol:Eenheid>.*?</pol:Eenheid>", "", example(VT_MELDING))
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "pol:Eenheid"
    assert exc.reden == "pol:Eenheid is missing before pol:Opgemaakt"
    assert exc.regel == line_of(text, "<pol:Opgemaakt>")


def test_schema_ongeldig_names_the_missing_last_child(
    codec: MessageCodec, example: Callable[[str], str]
) -> None:
    text = re.sub(r"<pol:EerdereIncidenten>.*?</pol:EerdereIncidenten>", "", example(VT_MELDING))
    exc = refuse(codec, text, Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "pol:EerdereIncidenten"
    assert exc.reden == "pol:EerdereIncidenten is missing in pol:VTMelding"
