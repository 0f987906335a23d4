"""The ``ketenpoort`` command line: validate, translate, types, route, policy check, schemas.

Most tests run the Typer app in-process (``typer.testing.CliRunner``); one runs the installed
``.venv/bin/ketenpoort`` script. Rich tables are printed at the width in ``COLUMNS``; tests
that read a table set it wide enough for every cell.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from lxml import etree
from typer.core import TyperGroup
from typer.testing import CliRunner, Result

from gateway.cli.main import app
from gateway.codec.envelope import KP
from gateway.decision.needtoknow import inventaris
from gateway.domain.model import BerichtType, Inhoud, Rol
from gateway.runtime.settings import Settings
from gateway.safexml import xmlsafe
from tests.support import catalogue
from tests.support.catalogue import ADAPTERS, PARTNERS
from tests.support.messages import line_of
from tests.support.paths import REPO_ROOT
from tests.support.strategies import MESSAGE_CODEC

ROOT = REPO_ROOT
EXAMPLES_DIR = ROOT / "examples"
POLICY_DIR = ROOT / "policy" / "v1"
EXAMPLES = sorted(str(p.relative_to(EXAMPLES_DIR)) for p in EXAMPLES_DIR.glob("*/*.xml"))
CATALOGUE = list(catalogue.TYPEN)
PROBLEM = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+): (?P<code>[A-Z_]+): (?P<element>\S+): (?P<reason>.+)$"
)
WIDE = 400

runner = CliRunner()


def invoke(*args: str | Path, columns: int = WIDE) -> Result:
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns)})


def example_text(rel: str) -> str:
    return (EXAMPLES_DIR / rel).read_text(encoding="utf-8")


def body_of(message: str) -> etree._Element:
    root = xmlsafe.parse(message.encode("utf-8"))
    inhoud = root.find(f"{KP}Inhoud")
    assert inhoud is not None
    (body,) = [c for c in inhoud if isinstance(c.tag, str)]
    return body


def parse_for(message: str, rol: Rol, berichttype: BerichtType) -> Inhoud:
    """A message rendered for ``rol``: valid for its receive XSD, parsed by its codec."""
    body = body_of(message)
    codec = ADAPTERS[rol].codecs[berichttype]
    assert body.tag == codec.tag
    MESSAGE_CODEC.schemas.check_body(body, sent=False)
    return codec.parse(body)


# --------------------------------------------------------------------------- validate


@pytest.mark.parametrize("rel", EXAMPLES)
def test_validate_accepts_every_example(rel: str) -> None:
    result = invoke("validate", EXAMPLES_DIR / rel)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"{EXAMPLES_DIR / rel}: valid" in result.stderr


def test_validate_accepts_all_examples_at_once() -> None:
    result = invoke("validate", *(EXAMPLES_DIR / rel for rel in EXAMPLES))
    assert result.exit_code == 0, result.output
    assert result.stderr.count(": valid") == len(EXAMPLES) == 29  # 13 of v1, 14 + 2 of v2 §6


def test_validate_reports_file_line_code_element_reason(tmp_path: Path) -> None:
    text = example_text("politie/VtMelding.xml")

    schema = tmp_path / "schema.xml"
    schema_text = text.replace(
        "<pol:Geslacht>V</pol:Geslacht>", "<pol:Geslacht>Q</pol:Geslacht>", 1
    )
    schema.write_text(schema_text, encoding="utf-8")
    bsn = tmp_path / "bsn.xml"
    bsn_text = text.replace("<pol:BSN>999990019</pol:BSN>", "<pol:BSN>999990018</pol:BSN>")
    bsn.write_text(bsn_text, encoding="utf-8")
    broken = tmp_path / "broken.xml"
    broken_text = text.replace("<pol:Eenheid>OOST-NEDERLAND", "<pol:Eenheid>OOST & NEDERLAND")
    broken.write_text(broken_text, encoding="utf-8")
    good = EXAMPLES_DIR / "politie" / "ZsmAanmelding.xml"

    result = invoke("validate", schema, good, bsn, broken)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout
    found = [PROBLEM.match(line) for line in lines]
    assert all(found), lines
    problems = [m.groupdict() for m in found if m is not None]

    assert problems[0]["file"] == str(schema)
    assert int(problems[0]["line"]) == line_of(schema_text, "<pol:Geslacht>Q")
    assert (problems[0]["code"], problems[0]["element"]) == ("SCHEMA_ONGELDIG", "pol:Geslacht")
    assert "'Q'" in problems[0]["reason"]

    assert problems[1]["file"] == str(bsn)
    assert int(problems[1]["line"]) == line_of(bsn_text, "999990018")
    assert (problems[1]["code"], problems[1]["element"]) == ("BSN_ONGELDIG", "pol:BSN")
    assert "elfproef" in problems[1]["reason"]

    assert problems[2]["file"] == str(broken)
    assert problems[2]["code"] == "XML_ONGELDIG"
    assert int(problems[2]["line"]) == line_of(broken_text, "OOST & NEDERLAND")
    assert problems[2]["element"] == "-"

    assert f"{good}: valid" in result.stderr


def test_validate_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nergens.xml"
    result = invoke("validate", missing)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{missing}:0: XML_ONGELDIG: -: cannot read")


# --------------------------------------------------------------------------- translate

TRANSLATIONS = [
    (rel, rol)
    for rel in EXAMPLES
    for rol in sorted(catalogue.TYPEN.rollen)
    if BerichtType(Path(rel).stem) in PARTNERS[rol].receives
]


@pytest.mark.parametrize(
    ("rel", "rol"), TRANSLATIONS, ids=[f"{rel}->{rol}" for rel, rol in TRANSLATIONS]
)
def test_translate_renders_a_valid_message_for_the_recipient(rel: str, rol: Rol) -> None:
    result = invoke("translate", EXAMPLES_DIR / rel, "--to", rol)
    assert result.exit_code == 0, result.output
    original = MESSAGE_CODEC.read((EXAMPLES_DIR / rel).read_bytes())
    berichttype = original.kop.berichttype
    body = body_of(result.stdout)
    assert etree.QName(body).namespace == ADAPTERS[rol].vocabulary.namespace
    # Before need-to-know: the whole message, in the recipient's words.
    assert parse_for(result.stdout, rol, berichttype) == original.inhoud
    assert "<kp:BerichtType>" + berichttype in result.stdout


def test_translate_covers_every_type_and_recipient_of_the_catalogue() -> None:
    covered = {(BerichtType(Path(rel).stem), rol) for rel, rol in TRANSLATIONS}
    assert covered == {
        (t, rol) for rol in sorted(catalogue.TYPEN.rollen) for t in PARTNERS[rol].receives
    }
    assert {t for t, _ in covered} == set(CATALOGUE)


def test_translate_to_a_rol_that_does_not_receive_the_type() -> None:
    result = invoke(
        "translate", EXAMPLES_DIR / "politie" / "VtMelding.xml", "--to", "openbaar-ministerie"
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "openbaar-ministerie receives no VtMelding" in result.stderr


def test_translate_an_invalid_message(tmp_path: Path) -> None:
    text = example_text("veilig-thuis/Terugkoppeling.xml")
    bad = text.replace("<vt:besluit>voorwaarden-en-vervolg", "<vt:besluit>ergens-anders")
    path = tmp_path / "bad.xml"
    path.write_text(bad, encoding="utf-8")
    result = invoke("translate", path, "--to", "politie")
    assert result.exit_code == 1
    problem = PROBLEM.match(result.stdout.strip())
    assert problem is not None, result.stdout
    assert problem["code"] == "SCHEMA_ONGELDIG"
    assert problem["element"] == "vt:besluit"
    assert int(problem["line"]) == line_of(bad, "ergens-anders")


def test_translate_an_unknown_rol() -> None:
    result = invoke("translate", EXAMPLES_DIR / "politie" / "VtMelding.xml", "--to", "wijkteam")
    assert result.exit_code == 2
    assert "wijkteam" in result.output


# --------------------------------------------------------------------------- types


def _table_rows(output: str, title: str) -> list[list[str]]:
    """The body rows of the rich table printed after ``title``, as stripped cells."""
    after = output[output.index(title) :]
    rows = []
    for line in after.splitlines():
        if line.startswith("└"):
            break
        if line.startswith("│"):
            rows.append([cell.strip() for cell in line.strip("│").split("│")])
    return rows


def test_types_lists_the_whole_catalogue() -> None:
    result = invoke("types")
    assert result.exit_code == 0, result.output
    versie = catalogue.POLICY.versie
    assert f"Berichttypen (policy {versie})" in result.stdout
    rows = _table_rows(result.stdout, "Berichttypen")
    named = [row[0] for row in rows if row[0]]
    assert named == list(catalogue.POLICY.berichten)
    assert sorted(named) == sorted(CATALOGUE)
    assert len(named) == 18  # v1's 11 and v2 §6's 7
    by_type = {row[0]: row for row in rows if row[0]}
    assert by_type["VtMelding"][1:] == ["politie", "VEILIGHEIDSBEOORDELING", "veilig-thuis"]
    assert by_type["ZsmAanmelding"][3] == (
        "openbaar-ministerie, veilig-thuis, reclassering, raad-kinderbescherming"
    )
    # v2 §6 (issue #14)
    assert by_type["Overdracht"][1:] == [
        "veilig-thuis",
        "MONITORING_VEILIGHEID",
        "lokaal-team, gecertificeerde-instelling",
    ]
    assert by_type["MeldingStrafbaarFeit"][1:] == ["veilig-thuis", "OPSPORING", "politie"]
    assert by_type["VerzoekTotOnderzoek"][1] == (
        "veilig-thuis, lokaal-team, gecertificeerde-instelling"
    )
    assert by_type["Onderzoeksuitkomst"][3] == (
        "veilig-thuis, lokaal-team, gecertificeerde-instelling"
    )


def test_types_prints_the_register_a_definition_and_json() -> None:
    """Issue #12 point 5: the register, a type's fields with the categories a recipient must
    be granted (its own and its groups'), free text's categories, and the same as JSON."""
    overview = invoke("types")
    register = {row[0]: row for row in _table_rows(overview.stdout, "Register") if row[0]}
    assert set(register) == set(catalogue.TYPEN.rollen)
    assert "Veilig Thuis Twente (00000099000000000102)" in register["veilig-thuis"][2]
    result = invoke("types", "VtMelding")
    assert result.exit_code == 0, result.output
    rows = {row[0]: row for row in _table_rows(result.stdout, "VtMelding") if row[0]}
    assert rows["incident.adres.postcode"][1:4] == ["Postcode", "1..1", "contact, incident"]
    assert rows["incident.letsel"][4] == "vrije tekst: gezondheid, incident"
    assert rows["personen"][4] == "+kind als rol=kind"
    # a new type: its fields, a child victim's kind, free text with everything it may hold
    result = invoke("types", "MeldingStrafbaarFeit")
    assert result.exit_code == 0, result.output
    rows = {row[0]: row for row in _table_rows(result.stdout, "MeldingStrafbaarFeit") if row[0]}
    assert rows["slachtoffer"][4] == "+kind als leeftijdsgroep=minderjarig"
    assert rows["waarneming"][4] == "vrije tekst: gezondheid, incident, kind"
    unknown = invoke("types", "Wijkmelding")
    assert unknown.exit_code == 2
    assert "no BerichtType Wijkmelding" in unknown.stderr
    data = json.loads(invoke("types", "--json").stdout)
    assert set(data["rollen"]) == set(catalogue.TYPEN.rollen)
    assert list(data["berichttypen"]) == list(catalogue.TYPEN)
    velden = {v["veld"]: v for v in data["berichttypen"]["VtMelding"]["velden"]}
    assert velden["kindcheck.kinderen_in_huishouden"]["categorieen"] == "kind"
    assert data["doelen"]["ACTIEOVERLEG"]["bewaartermijn_dagen"] > 0


def test_policy_check_prints_the_register_and_the_doelen() -> None:
    result = invoke("policy", "check")
    assert result.exit_code == 0, result.output
    assert {row[0] for row in _table_rows(result.stdout, "Register") if row[0]} == set(
        catalogue.TYPEN.rollen
    )
    doelen = [row for row in _table_rows(result.stdout, "Doelen") if row[0]]
    assert {row[0] for row in doelen} == set(catalogue.POLICY.doelen)
    # v2 §8: the grounds for breaking beroepsgeheim each doel accepts
    by_doel = {row[0]: row for row in doelen}
    assert "meldrecht" in by_doel["VEILIGHEIDSBEOORDELING"][2]
    assert "meldrecht" not in by_doel["STRAFRECHTELIJKE_BESLISSING"][2]
    assert "toestemming" in by_doel["STRAFRECHTELIJKE_BESLISSING"][2]


def test_types_lists_every_name_in_full_at_the_default_width() -> None:
    result = invoke("types", columns=80)
    assert result.exit_code == 0
    for berichttype in CATALOGUE:
        assert berichttype in result.stdout, berichttype


# --------------------------------------------------------------------------- route


def route_json(path: Path) -> tuple[int, dict[str, Any]]:
    result = invoke("route", path, "--json")
    return result.exit_code, json.loads(result.stdout)


def test_route_json_of_the_zsm_aanmelding() -> None:
    exit_code, data = route_json(EXAMPLES_DIR / "politie" / "ZsmAanmelding.xml")
    assert exit_code == 0
    assert data["refused"] is None
    assert data["doel"] == "STRAFRECHTELIJKE_BESLISSING"
    assert data["grondslagen"] == ["WPG-ART-15", "WPG-ART-20"]  # politie's own (v2 §4)
    assert data["policy"] == catalogue.POLICY.versie
    recipients = data["recipients"]
    assert isinstance(recipients, list)
    for r in recipients:
        assert {"rol", "oin", "kept", "removed", "message"} <= set(r)
        assert r["kept"] == sorted(r["kept"])
        assert r["removed"] == sorted(r["removed"])
        assert set(r["kept"]) <= set(catalogue.TYPEN.categorieen)
        assert not set(r["kept"]) & set(r["removed"])
    by_rol = {r["rol"]: r for r in recipients}
    assert len(by_rol) == len(recipients) == 3
    assert {rol: r["oin"] for rol, r in by_rol.items()} == {
        "openbaar-ministerie": "00000099000000000103",
        "veilig-thuis": "00000099000000000102",
        "reclassering": "00000099000000000105",
    }
    reclassering = by_rol["reclassering"]
    assert {"kind", "contact"} <= set(reclassering["removed"])
    assert "kind" not in reclassering["kept"]
    assert "contact" not in reclassering["kept"]
    assert by_rol["openbaar-ministerie"]["removed"] == []
    vrij = catalogue.POLICY.vrije_tekst["ZsmAanmelding"]
    for rol, r in by_rol.items():
        parsed = parse_for(r["message"], Rol(rol), "ZsmAanmelding")
        # kept counts what the delivered free text may hold (v2 §8: Letsel is gezondheid too)
        assert sorted(inventaris(parsed, vrij).present) == r["kept"], rol
    # the Letsel (incident, gezondheid) is withheld from those not granted gezondheid
    assert reclassering["withheld"] == [
        {
            "field": "incident.letsel",
            "categories": ["gezondheid", "incident"],
            "missing": ["gezondheid"],
        }
    ]
    assert by_rol["openbaar-ministerie"]["withheld"] == []
    assert "999990032" not in reclassering["message"]
    assert "Lindelaan" not in reclassering["message"]
    assert "999990032" in by_rol["openbaar-ministerie"]["message"]


def test_route_names_the_voorwaarden_and_a_late_acute_inzet() -> None:
    """v2 §10 in ``route``: a step per voorwaarde with its key and termijn; an acute inzet
    reported after the end of the next werkdag is judged late on arrival."""
    exit_code, data = route_json(EXAMPLES_DIR / "veilig-thuis" / "Overdracht.xml")
    assert exit_code == 0, data
    voorwaarden = [n for n in data["normen"] if n["naam"] == "voorwaarde"]
    assert [(n["sleutel"], n["uiterlijk"]) for n in voorwaarden] == [
        ("v1", "2027-02-24T23:59:59+01:00"),
        ("v2", "2027-01-15T23:59:59+01:00"),
    ]
    assert all("te_laat" not in n for n in voorwaarden)  # followed, not judged yet
    plain = invoke("route", EXAMPLES_DIR / "veilig-thuis" / "Overdracht.xml")
    assert "norm voorwaarde · v1 00000099000000000107: 2027-02-24T23:59:59+01:00" in plain.stdout
    inzet = EXAMPLES_DIR / "crisisdienst" / "Terugmelding.xml"  # Sunday 13 December, 02:40
    memory = ("--deelnemer", "00000099000000000102", "--overdracht", "lopend")
    for nu, te_laat in (("2026-12-14T18:00:00+01:00", False), ("2026-12-15T08:00:00+01:00", True)):
        result = invoke("route", inzet, "--json", "--nu", nu, *memory)
        assert result.exit_code == 0, result.output
        (norm,) = [n for n in json.loads(result.stdout)["normen"] if n["naam"].startswith("acute")]
        assert norm == {
            "naam": "acute-inzet-teruggemeld",
            "uiterlijk": "2026-12-14T23:59:59+01:00",
            "ontvanger": "00000099000000000111",
            "te_laat": te_laat,
        }
    plain = invoke("route", inzet, "--nu", "2026-12-15T08:00:00+01:00", *memory)
    assert (
        "norm acute-inzet-teruggemeld 00000099000000000111: 2026-12-14T23:59:59+01:00 (te laat)"
        in plain.stdout
    )


def test_route_json_of_a_refused_message(tmp_path: Path) -> None:
    text = example_text("politie/ZsmAanmelding.xml")
    bad = text.replace(
        "<kp:Doel>STRAFRECHTELIJKE_BESLISSING</kp:Doel>", "<kp:Doel>ACTIEOVERLEG</kp:Doel>"
    )
    assert bad != text
    path = tmp_path / "zsm-actieoverleg.xml"
    path.write_text(bad, encoding="utf-8")
    exit_code, data = route_json(path)
    assert exit_code == 1
    assert data["recipients"] == []
    refused = data["refused"]
    assert refused["code"] == "DOEL_NIET_TOEGESTAAN"
    assert refused["element"] == "kp:Doel"
    assert "ACTIEOVERLEG" in refused["reason"]
    assert "STRAFRECHTELIJKE_BESLISSING" in refused["reason"]
    assert set(refused) == {"code", "reason", "element", "line"}


def test_route_json_of_an_invalid_message_names_the_line(tmp_path: Path) -> None:
    text = example_text("politie/ZsmAanmelding.xml")
    bad = text.replace("<pol:HgLabel>true</pol:HgLabel>", "<pol:HgLabel>ja</pol:HgLabel>")
    path = tmp_path / "zsm-ja.xml"
    path.write_text(bad, encoding="utf-8")
    exit_code, data = route_json(path)
    assert exit_code == 1
    assert data["refused"]["code"] == "SCHEMA_ONGELDIG"
    assert data["refused"]["element"] == "pol:HgLabel"
    assert data["refused"]["line"] == line_of(bad, "<pol:HgLabel>ja")
    assert data["recipients"] == []


def test_route_names_blocks_withheld_under_beroepsgeheim_and_the_provenance(
    tmp_path: Path,
) -> None:
    """Spec v2 §8: the politie's incident on meldrecht (no ground for a strafrechtelijke
    beslissing) is withheld from every recipient; its registratie, shared on consent, names
    its bron and ground."""
    text = example_text("politie/ZsmAanmelding.xml")
    text = text.replace(
        "<pol:Incident>",
        '<pol:Incident bron="politie/forensisch-arts" beroepsgeheim="true" '
        'doorbrekingsgrond="MELDRECHT">',
    ).replace(
        "<pol:Registratie>",
        '<pol:Registratie bron="politie/verbalisant" beroepsgeheim="true" '
        'doorbrekingsgrond="TOESTEMMING">',
    )
    path = tmp_path / "zsm-beroepsgeheim.xml"
    path.write_text(text, encoding="utf-8")
    exit_code, data = route_json(path)
    assert exit_code == 0, data
    assert len(data["recipients"]) == 3
    for r in data["recipients"]:
        assert r["beroepsgeheim_withheld"] == [
            {
                "field": "incident",
                "ground": "meldrecht",
                "source": "politie/forensisch-arts",
                "reason": (
                    "beroepsgeheim: doorbrekingsgrond meldrecht niet aanvaard voor doel "
                    "STRAFRECHTELIJKE_BESLISSING (aanvaard: conflict-van-plichten, "
                    "toestemming, wettelijke-plicht)"
                ),
            }
        ]
        assert "Lindelaan" not in r["message"]
        assert "keel" not in r["message"]
        assert r["provenance"] == [
            {
                "field": "registratie",
                "source": "politie/verbalisant",
                "beroepsgeheim": True,
                "ground": "toestemming",
                "geaccordeerd": None,
            }
        ]
    plain = invoke("route", path)
    assert plain.exit_code == 0, plain.output
    assert "withheld under beroepsgeheim incident: beroepsgeheim: doorbrekingsgrond meldrecht" in (
        plain.stdout
    )
    assert "provenance registratie: politie/verbalisant, beroepsgeheim broken on toestemming" in (
        plain.stdout
    )


def test_route_plain_shows_kept_and_removed() -> None:
    result = invoke("route", EXAMPLES_DIR / "veilig-thuis" / "Terugkoppeling.xml")
    assert result.exit_code == 0, result.output
    assert "doel TERUGKOPPELING_MELDER" in result.stdout
    assert "kept:    hulpverlening, proces" in result.stdout
    assert "removed: kind, veiligheid" in result.stdout
    assert "withheld free text toelichting: lacks kind, veiligheid" in result.stdout
    assert "Vervolg is ingezet" not in result.stdout


def test_installed_script_routes(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "ketenpoort"
    if not script.exists():
        found = shutil.which("ketenpoort")
        assert found is not None, "the ketenpoort script is not installed"
        script = Path(found)
    done = subprocess.run(
        [str(script), "route", str(EXAMPLES_DIR / "veilig-thuis" / "Terugkoppeling.xml"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["refused"] is None
    assert [(r["rol"], r["removed"]) for r in data["recipients"]] == [
        ("politie", ["kind", "veiligheid"])  # the toelichting may hold kind too (v2 §8)
    ]


# --------------------------------------------------------------------------- policy check

MATRIX = "Need-to-know: categories per (BerichtType, doel, rol)"


def test_policy_check_of_the_default_policy_shows_the_matrix() -> None:
    result = invoke("policy", "check")
    assert result.exit_code == 0, result.output
    versie = catalogue.POLICY.versie
    assert f"policy {versie}: ok ({POLICY_DIR})" in result.stdout
    assert "Routing" in result.stdout
    assert MATRIX in result.stdout

    header = [c[:6] for c in catalogue.TYPEN.categorieen]
    # a wrapped cell continues on a line of its own, with the first cells empty
    rows = [r for r in _table_rows(result.stdout, MATRIX) if r[0]]
    matrix = {(r[0], r[1], r[2]): dict(zip(header, r[4:], strict=True)) for r in rows}
    terug = matrix[("Terugkoppeling", "TERUGKOPPELING_MELDER", "politie")]
    assert {c for c, v in terug.items() if v} == {"proces", "hulpve"}
    assert all(v == "x" for v in terug.values() if v)
    om = matrix[("Veiligheidsbeoordeling", "STRAFRECHTELIJKE_BESLISSING", "openbaar-ministerie")]
    assert om["gezond"] == "(x)"
    # a shielded address (v2 §8) is granted to nobody by default
    assert om["afgesc"] == ""
    assert all(v == "x" for c, v in om.items() if c not in ("gezond", "afgesc"))
    assert all(row["afgesc"] == "" for row in matrix.values())
    reclassering = matrix[("ActieoverlegAanmelding", "ACTIEOVERLEG", "reclassering")]
    assert reclassering["kind"] == ""
    assert reclassering["contac"] == ""
    assert (
        matrix[("ActieoverlegAanmelding", "ACTIEOVERLEG", "raad-kinderbescherming")]["kind"] == "x"
    )
    # every routed (type, doel, rol) that the doel admits has a row
    policy = catalogue.POLICY
    expected = {
        (t, d, r.naar)
        for t, regel in policy.berichten.items()
        for d in regel.doelen
        for r in regel.routes
        if r.naar in policy.doelen[d].ontvangers
    }
    assert set(matrix) == expected


def test_policy_check_of_a_named_folder(tmp_path: Path) -> None:
    folder = tmp_path / "v1"
    shutil.copytree(POLICY_DIR, folder)
    result = invoke("policy", "check", folder)
    assert result.exit_code == 0, result.output
    assert f"policy {catalogue.POLICY.versie}: ok ({folder})" in result.stdout


def test_policy_check_of_a_broken_policy(tmp_path: Path) -> None:
    folder = tmp_path / "v1"
    shutil.copytree(POLICY_DIR, folder)
    path = folder / "partners.yaml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace('oin: "00000099000000000105"', 'oin: "00000099000000000101"')
    path.write_text(edited, encoding="utf-8")
    line = line_of(edited, "rol: reclassering") - 1
    result = invoke("policy", "check", folder)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"policy error partners.yaml:{line}: OIN 00000099000000000101 twice" in result.stderr


def test_policy_check_of_a_missing_folder(tmp_path: Path) -> None:
    result = invoke("policy", "check", tmp_path / "nergens")
    assert result.exit_code == 2
    assert "policy folder does not exist" in result.stderr


def test_policy_check_shows_the_problem_verbatim(tmp_path: Path) -> None:
    folder = tmp_path / "v1"
    shutil.copytree(POLICY_DIR, folder)
    path = folder / "berichten.yaml"
    text = path.read_text(encoding="utf-8")
    old = '{leeftijd: "personen[rol=verdachte]", op: zaak.aanhouding, minimaal: 18}'
    new = '{leeftijd: "personen[rol=verdachte].naam", op: zaak.aanhouding, minimaal: 18}'
    assert text.count(old) == 1
    edited = text.replace(old, new)
    path.write_text(edited, encoding="utf-8")
    line = line_of(edited, "personen[rol=verdachte].naam")
    result = invoke("policy", "check", folder)
    assert result.exit_code == 2
    problem = "'personen[rol=verdachte].naam': ZsmAanmelding_Personen has no field 'naam'"
    assert f"berichten.yaml:{line}: {problem}" in result.stderr


# --------------------------------------------------------------------------- schemas check


def test_schemas_check_of_the_committed_schemas() -> None:
    result = invoke("schemas", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_schemas_check_names_a_stale_schema(tmp_path: Path) -> None:
    folder = tmp_path / "v1"
    shutil.copytree(ROOT / "schemas" / "v1", folder)
    stale = folder / "politie-ontvangst.xsd"
    stale.write_bytes(stale.read_bytes().replace(b"</xs:schema>", b"<!-- x --></xs:schema>"))
    (folder / "rvdk.xsd").unlink()
    result = invoke("schemas", "check", folder)
    assert result.exit_code == 1
    assert set(result.stdout.splitlines()) == {
        "politie-ontvangst.xsd is out of date: run `ketenpoort schemas write`",
        "rvdk.xsd is out of date: run `ketenpoort schemas write`",
    }


def test_policy_check_shows_each_rule_required_or_optional_with_its_conditions() -> None:
    """v2 §5: a privacy officer reads per rule whether it is required and when it applies."""
    result = invoke("policy", "check")
    assert result.exit_code == 0, result.output
    routing = result.stdout[: result.stdout.index(MATRIX)]
    assert "verplicht" in routing
    assert "hg=True" in routing
    assert "deelgenomen=True" in routing


def _listed(
    group: TyperGroup, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], str, str]]:
    """(group path, command name, help) of every command of ``group`` and its subgroups."""
    found: list[tuple[tuple[str, ...], str, str]] = []
    for name, command in group.commands.items():
        found.append((path, name, command.help or ""))
        if isinstance(command, TyperGroup):
            found += _listed(command, (*path, name))
    return found


def test_every_command_is_listed_with_its_whole_first_paragraph_on_one_line() -> None:
    """The command tables show each command's first help paragraph as one sentence (Typer
    keeps a docstring's line breaks there, which cut sentences in the middle of a cell)."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    commands = _listed(root)
    assert any("\n" in help_text.split("\n\n")[0] for _, _, help_text in commands), (
        "no first paragraph spans lines: the check below would prove nothing"
    )
    for path, name, help_text in commands:
        # a docstring's reST literals (double backticks) are shown raw on the terminal
        assert "``" not in help_text, f"ketenpoort {' '.join((*path, name))}: {help_text}"
        summary = " ".join(help_text.split("\n\n")[0].split())
        listing = invoke(*path, "--help", columns=4000)
        assert listing.exit_code == 0, listing.output
        row = next(line for line in listing.output.splitlines() if f"│ {name} " in line)
        assert summary in row, f"ketenpoort {' '.join(path)} --help: {name}"


SETTINGS_DOC = ROOT / "docs" / "settings.md"


def test_settings_shows_every_setting_in_effect_without_a_secret() -> None:
    env = {
        "COLUMNS": str(WIDE),
        "KETENPOORT_AMQP_URL": "amqp://partner:topsecret@rabbit:5672/",
        "KETENPOORT_STATE_DSN": "postgresql://kp:geheim@db/kp",
        "KETENPOORT_PREFETCH": "8",
    }
    result = runner.invoke(app, ["settings", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert "topsecret" not in result.output
    assert "geheim" not in result.output
    rows = {row["env"]: row for row in json.loads(result.output)}
    assert len(rows) == len(Settings.model_fields)
    assert rows["KETENPOORT_AMQP_URL"]["waarde"] == "amqp://partner:**********@rabbit:5672/"
    assert rows["KETENPOORT_PREFETCH"] == {
        **rows["KETENPOORT_PREFETCH"],
        "waarde": 8,
        "standaard": 32,
        "gezet": True,
    }
    assert not rows["KETENPOORT_MAX_BYTES"]["gezet"]
    table = runner.invoke(app, ["settings"], env=env)
    assert table.exit_code == 0, table.output
    assert "topsecret" not in table.output
    line = next(x for x in table.output.splitlines() if "KETENPOORT_STATE_DSN" in x)
    assert "postgresql://kp:**********@db/kp" in line
    assert "gezet" in line


def test_the_settings_reference_in_docs_is_the_one_the_code_gives() -> None:
    """docs/settings.md is `ketenpoort settings --reference`: regenerate it after changing a
    setting (the default values of the machine do not enter it)."""
    result = runner.invoke(
        app, ["settings", "--reference"], env={"KETENPOORT_PREFETCH": "8", "COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    assert result.output == SETTINGS_DOC.read_text(encoding="utf-8"), (
        "docs/settings.md is stale: ketenpoort settings --reference > docs/settings.md"
    )
    for name in Settings.model_fields:
        assert f"`KETENPOORT_{name.upper()}`" in result.output


@pytest.mark.parametrize("command", [["types"], ["settings"], ["officer", "list"]])
def test_a_wrong_setting_stops_a_command_with_its_variable_and_exit_2(command: list[str]) -> None:
    result = runner.invoke(
        app,
        command,
        env={"KETENPOORT_PREFETCH": "0", "KETENPOORT_AMQP_URL": "amqp://u:topsecret@h/"},
    )
    assert result.exit_code == 2, result.output
    assert "configuration error" in result.output
    assert "KETENPOORT_PREFETCH: Input should be greater than or equal to 1 (got '0')" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert "topsecret" not in result.output


def test_a_wrong_setting_stops_the_gateway_before_it_starts(tmp_path: Path) -> None:
    """``ketenpoort serve`` as installed (it may run itself again under its OpenSSL
    configuration, so not in-process): exit 2 naming the variable, nothing started."""
    script = Path(sys.executable).parent / "ketenpoort"
    done = subprocess.run(
        [str(script), "serve"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "KETENPOORT_LOG_LEVEL": "verbose", "COLUMNS": str(WIDE)},
    )
    assert done.returncode == 2, done.stderr
    assert "KETENPOORT_LOG_LEVEL: Input should be 'debug'" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # no store, no keys: nothing was started
