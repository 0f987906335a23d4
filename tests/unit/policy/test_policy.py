"""The policy loader: the default policy, its version, and one test per kind of broken policy.

Every broken-policy test copies ``policy/v1`` to a temporary folder, makes one edit and
asserts that :func:`load_policy` raises :class:`PolicyError` naming the file, the exact line
(computed from the edited text, so a reformatted policy moves the expectation with it) and
the problem.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.errors import Misconfigured
from gateway.policy.catalogue import FILES, Bereiken, PolicyError, load_policy
from gateway.policy.files import LEVERING
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
POLICY_DIR = ROOT / "policy" / "v1"
VERSIE = re.compile(r"^(\d+\.\d+\.\d+)\+sha256:([0-9a-f]{12})$")


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    target = tmp_path / "v1"
    shutil.copytree(POLICY_DIR, target)
    return target


def line_at(text: str, index: int) -> int:
    return text[:index].count("\n") + 1


def edit(folder: Path, file: str, old: str, new: str, *, after: str = "") -> int:
    """Replace the first ``old`` after the (unique) ``after`` in one policy file.

    Returns the 1-based line of the replacement in the edited text."""
    path = folder / file
    text = path.read_text(encoding="utf-8")
    start = 0
    if after:
        assert text.count(after) == 1, f"{after!r} occurs {text.count(after)} times in {file}"
        start = text.index(after)
    index = text.find(old, start)
    assert index >= 0, f"{old!r} not found after {after!r} in {file}"
    edited = text[:index] + new + text[index + len(old) :]
    path.write_text(edited, encoding="utf-8")
    return line_at(edited, index)


def line_in_file(folder: Path, file: str, needle: str, *, after: str = "") -> int:
    """The line of the first ``needle`` after ``after`` in the (edited) file."""
    text = (folder / file).read_text(encoding="utf-8")
    start = text.index(after) if after else 0
    index = text.find(needle, start)
    assert index >= 0, f"{needle!r} not found in {file}"
    return line_at(text, index)


def broken(folder: Path) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_policy(folder)
    return caught.value


def assert_error(error: PolicyError, file: str, line: int, problem: str) -> None:
    assert (error.file, error.line) == (file, line), str(error)
    assert problem in error.problem, str(error)
    assert str(error) == f"{file}:{line}: {error.problem}"


# --------------------------------------------------------------------------- the default policy


def test_default_policy_loads_with_everything_of_the_spec() -> None:
    policy = load_policy(POLICY_DIR)
    assert policy.directory == POLICY_DIR
    assert {(p.oin, p.rol) for p in policy.partners.values()} == {
        ("00000099000000000101", "politie"),
        ("00000099000000000102", "veilig-thuis"),
        ("00000099000000000106", "veilig-thuis"),
        ("00000099000000000103", "openbaar-ministerie"),
        ("00000099000000000104", "raad-kinderbescherming"),
        ("00000099000000000105", "reclassering"),
        # v2 §2
        ("00000099000000000107", "lokaal-team"),
        ("00000099000000000108", "lokaal-team"),
        ("00000099000000000109", "lokaal-team"),
        ("00000099000000000110", "gecertificeerde-instelling"),
        ("00000099000000000113", "gecertificeerde-instelling"),
        ("00000099000000000111", "crisisdienst"),
        ("00000099000000000112", "crisisdienst"),
    }
    # v2 §2: the crisisdienst is there day and night
    assert policy.diensturen["00000099000000000111"].dagen == "alle"
    assert policy.diensturen["00000099000000000112"].van_minuut == 0
    assert policy.diensturen["00000099000000000112"].tot_minuut == 24 * 60
    assert set(policy.doelen) == {
        "VEILIGHEIDSBEOORDELING",
        "ACUTE_VEILIGHEID",
        "TERUGKOPPELING_MELDER",
        "STRAFRECHTELIJKE_BESLISSING",
        "RECLASSERINGSADVIES",
        "ONDERZOEK_KINDERBESCHERMING",
        "ACTIEOVERLEG",
        # v2 §3
        "MONITORING_VEILIGHEID",
        "OPSPORING",
    }
    assert policy.doelen["MONITORING_VEILIGHEID"].bewaartermijn_dagen == 5 * 365
    assert policy.doelen["OPSPORING"].bewaartermijn_dagen == 5 * 365
    assert set(policy.berichten) == set(policy.typen)
    assert len(policy.berichten) == 18  # v1's 11 and v2 §6's 7
    # spec §5: the two default regions
    assert policy.regio_van_postcode("7400AA") == "00000099000000000102"
    assert policy.regio_van_postcode("7699 ZZ") == "00000099000000000102"
    assert policy.regio_van_postcode("3000AB") == "00000099000000000106"
    assert policy.regio_van_postcode("3299AB") == "00000099000000000106"
    assert policy.regio_van_postcode("7399AA") is None
    assert policy.regio_van_postcode("3300AA") is None
    # spec v2 §4: the grondslagen per doel, sending rol and recipient rol
    zsm = policy.doelen["STRAFRECHTELIJKE_BESLISSING"]
    assert zsm.acceptabel("politie", "openbaar-ministerie") == ("WPG-ART-15",)
    assert zsm.acceptabel("politie", "veilig-thuis") == ("WPG-ART-20",)
    assert zsm.acceptabel("openbaar-ministerie", "politie") == ("WJSG-ART-39F",)
    melding = policy.doelen["VEILIGHEIDSBEOORDELING"]
    assert melding.acceptabel("politie", "veilig-thuis") == (
        "WPG-ART-18-BPG-4.3",
        "WPG-ART-19",
    )
    # the case: VT's meldrecht is no grondslag of the politie, nor WPG one of VT's
    assert "WMO2015-ART-5.2.6" not in melding.acceptabel("politie", "veilig-thuis")
    terugkoppeling = policy.doelen["TERUGKOPPELING_MELDER"]
    assert terugkoppeling.acceptabel("veilig-thuis", "politie") == ("WMO2015-ART-4.1.1",)
    assert terugkoppeling.acceptabel("politie", "veilig-thuis") == ()
    # v2 §4's rows of the new rollen
    monitoring = policy.doelen["MONITORING_VEILIGHEID"]
    assert monitoring.acceptabel("veilig-thuis", "lokaal-team") == ("WMO2015-ART-4.1.1",)
    assert monitoring.acceptabel("lokaal-team", "veilig-thuis") == ("WMO2015-ART-5.2.6",)
    assert monitoring.acceptabel("gecertificeerde-instelling", "veilig-thuis") == ("JW-ART-7.3.8",)
    assert monitoring.acceptabel("crisisdienst", "veilig-thuis") == ()
    acuut = policy.doelen["ACUTE_VEILIGHEID"]
    assert acuut.acceptabel("crisisdienst", "veilig-thuis") == ("WMO2015-ART-4.1.1",)
    assert acuut.acceptabel("gecertificeerde-instelling", "veilig-thuis") == ("JW-ART-7.3.8",)
    assert acuut.acceptabel("lokaal-team", "veilig-thuis") == ("AVG-ART-6.1.D",)
    for rol in ("lokaal-team", "gecertificeerde-instelling", "crisisdienst"):
        assert melding.acceptabel(rol, "veilig-thuis") == ("WMO2015-ART-5.2.6",)
    onderzoek = policy.doelen["ONDERZOEK_KINDERBESCHERMING"]
    for rol in ("veilig-thuis", "lokaal-team", "gecertificeerde-instelling"):
        assert onderzoek.acceptabel(rol, "raad-kinderbescherming") == ("JW-ART-7.3.11",)
    assert onderzoek.acceptabel("politie", "raad-kinderbescherming") == ("WPG-ART-19",)
    assert policy.doelen["OPSPORING"].acceptabel("veilig-thuis", "politie") == (
        "WMO2015-ART-4.1.1",
    )


def test_default_policy_grants_rvdk_but_not_reclassering_kind_under_actieoverleg() -> None:
    ontvangers = load_policy(POLICY_DIR).doelen["ACTIEOVERLEG"].ontvangers
    assert "kind" in ontvangers["raad-kinderbescherming"].categorieen
    assert "kind" not in ontvangers["reclassering"].categorieen


def test_the_askers_of_an_answer_are_the_partners_of_its_vraag_routes_but_the_sender() -> None:
    """v2 §6: an Informatieantwoord answers a question the Raad or a VT regio asked; the
    routing memory names which (``vraag``)."""
    policy = load_policy(POLICY_DIR)
    politie = "00000099000000000101"
    vt_twente = "00000099000000000102"
    assert {(p.rol, p.oin) for p in policy.vragers("Informatieantwoord", politie)} == {
        (p.rol, p.oin)
        for rol in ("raad-kinderbescherming", "veilig-thuis")
        for p in policy.partners_met_rol(rol)
    }
    assert vt_twente not in {p.oin for p in policy.vragers("Informatieantwoord", vt_twente)}
    assert policy.vragers("VtMelding", politie) == []  # answers nothing
    assert policy.vragers("GeenType", politie) == []


def test_version_has_the_form_semver_plus_digest() -> None:
    versie = load_policy(POLICY_DIR).versie
    found = VERSIE.match(versie)
    assert found is not None, versie
    assert found.group(1) == "1.0.0"


def test_version_depends_on_content_not_on_the_folder(policy_copy: Path) -> None:
    assert load_policy(policy_copy).versie == load_policy(POLICY_DIR).versie


@pytest.mark.parametrize("file", FILES)
def test_version_changes_when_any_policy_file_changes(policy_copy: Path, file: str) -> None:
    before = load_policy(policy_copy).versie
    path = policy_copy / file
    path.write_text(path.read_text(encoding="utf-8") + "# reviewed again\n", encoding="utf-8")
    after = load_policy(policy_copy).versie
    assert VERSIE.match(after) is not None
    assert after != before
    assert after.split("+")[0] == before.split("+")[0]  # only the digest moved


def test_version_names_the_versie_of_policy_yaml(policy_copy: Path) -> None:
    edit(policy_copy, "policy.yaml", 'versie: "1.0.0"', 'versie: "1.4.2"')
    versie = load_policy(policy_copy).versie
    assert versie.startswith("1.4.2+sha256:")
    assert versie != load_policy(POLICY_DIR).versie


def test_policy_error_is_a_misconfiguration() -> None:
    assert issubclass(PolicyError, Misconfigured)


# --------------------------------------------------------------------------- broken policies


def test_invalid_yaml(policy_copy: Path) -> None:
    line = edit(policy_copy, "partners.yaml", "naam: Nationale Politie", "naam: Nationale: Politie")
    error = broken(policy_copy)
    assert_error(error, "partners.yaml", line, "not valid YAML")
    # libyaml's words ("… in this context"; the pure-Python loader's: "… here"), its column
    assert "mapping values are not allowed" in error.problem
    assert error.problem.endswith("(column 20)")
    assert "unicode string" not in error.problem


def test_duplicate_key(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "doelen.yaml",
        "    bewaartermijn_dagen: 365\n",
        "    bewaartermijn_dagen: 365\n    bewaartermijn_dagen: 730\n",
        after="  TERUGKOPPELING_MELDER:",
    )
    assert_error(broken(policy_copy), "doelen.yaml", line + 1, "'bewaartermijn_dagen' twice")


def test_unknown_category(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "doelen.yaml",
        "categorieen: [proces, hulpverlening]",
        "categorieen: [proces, hulpverlening, geheim]",
        after="  TERUGKOPPELING_MELDER:",
    )
    error = broken(policy_copy)
    assert_error(
        error, "doelen.yaml", line, "doelen.TERUGKOPPELING_MELDER.ontvangers.politie.categorieen.2"
    )
    assert "'identificatie'" in error.problem  # the allowed values are named


def test_unknown_category_on_a_continuation_line(policy_copy: Path) -> None:
    """A flow list over two lines: the line of the bad item, not of the key."""
    line = edit(
        policy_copy,
        "berichten.yaml",
        "gezinsprofiel, hulpverlening, kind, proces]",
        "gezinsprofiel, hulpverlening, kinderen, proces]",
        after="  Veiligheidsbeoordeling:",
    )
    assert line == line_in_file(policy_copy, "berichten.yaml", "categorieen: [identificatie") + 1
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "toegang.STRAFRECHTELIJKE_BESLISSING.openbaar-ministerie.categorieen.7: 'kinderen' is no",
    )


def test_unknown_rol_of_a_partner(policy_copy: Path) -> None:
    line = edit(policy_copy, "partners.yaml", "rol: reclassering", "rol: wijkteam")
    error = broken(policy_copy)
    assert_error(error, "partners.yaml", line, "partners.5.rol: 'wijkteam' is no rol")
    assert "'reclassering'" in error.problem  # the known rollen are named


def test_unknown_rol_in_a_route(policy_copy: Path) -> None:
    line = edit(
        policy_copy, "berichten.yaml", "naar: politie", "naar: wijkteam", after="  Terugkoppeling:"
    )
    error = broken(policy_copy)
    assert_error(error, "berichten.yaml", line, "routes.0.naar: 'wijkteam' is no rol")
    assert "'politie'" in error.problem


def test_unknown_rol_problem_names_the_berichttype(policy_copy: Path) -> None:
    edit(
        policy_copy, "berichten.yaml", "naar: politie", "naar: wijkteam", after="  Terugkoppeling:"
    )
    assert broken(policy_copy).problem.startswith("berichten.Terugkoppeling.routes.0.naar:")


def test_unknown_category_problem_names_the_doel(policy_copy: Path) -> None:
    edit(
        policy_copy,
        "doelen.yaml",
        "categorieen: [identificatie, incident, strafrechtelijk, veiligheid, proces]",
        "categorieen: [identificatie, incident, strafrechtelijk, veiligheid, geheim]",
        after="  ACTIEOVERLEG:",
    )
    assert broken(policy_copy).problem.startswith(
        "doelen.ACTIEOVERLEG.ontvangers.reclassering.categorieen.4:"
    )


def test_route_to_a_rol_the_doel_does_not_admit(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "naar: politie",
        "naar: reclassering",
        after="  Terugkoppeling:",
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "doel TERUGKOPPELING_MELDER admits no recipient reclassering",
    )


def test_route_doel_condition_checked_per_doel(policy_copy: Path) -> None:
    """A route limited to one doel is checked against that doel only."""
    line = edit(
        policy_copy,
        "berichten.yaml",
        "- naar: reclassering",
        "- naar: politie",
        after="  Veiligheidsbeoordeling:",
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "doel RECLASSERINGSADVIES admits no recipient politie",
    )


def test_toegang_wider_than_the_doel_allows(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "reclassering: {categorieen: [identificatie, strafrechtelijk, proces]}",
        "reclassering: {categorieen: [identificatie, strafrechtelijk, proces, gezondheid]}",
        after="  Adviesaanvraag:",
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "grants gezondheid to reclassering, more than doel RECLASSERINGSADVIES allows",
    )


def test_toegang_extra_wider_than_the_doel_allows(policy_copy: Path) -> None:
    """The conditional extra grants count too: OM may get gezondheid, politie may not."""
    edit(
        policy_copy,
        "berichten.yaml",
        "        veilig-thuis: {categorieen: [identificatie, strafrechtelijk, proces]}",
        "        politie:\n"
        "          categorieen: [identificatie]\n"
        "          extra:\n"
        "            - als: [{veld: uitkomst, is: sepot}]\n"
        "              categorieen: [gezondheid]",
        after="  OmBeslissing:",
    )
    line = line_in_file(
        policy_copy, "berichten.yaml", "categorieen: [identificatie]", after="politie:\n"
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "grants gezondheid to politie, more than doel STRAFRECHTELIJKE_BESLISSING allows",
    )


def test_duplicate_oin(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "partners.yaml",
        'oin: "00000099000000000105"',
        'oin: "00000099000000000101"',
    )
    assert_error(broken(policy_copy), "partners.yaml", line, "OIN 00000099000000000101 twice")


def test_overlapping_regio_ranges(policy_copy: Path) -> None:
    line = edit(policy_copy, "partners.yaml", "van: 3000", "van: 7600", after="regios:")
    edit(policy_copy, "partners.yaml", "tot: 3299", "tot: 7800", after="regios:")
    assert_error(broken(policy_copy), "partners.yaml", line, "regio 7600-7800 overlaps 7400-7699")


def test_regio_pointing_at_a_partner_that_is_no_veilig_thuis(policy_copy: Path) -> None:
    edit(
        policy_copy,
        "partners.yaml",
        'oin: "00000099000000000106"',
        'oin: "00000099000000000103"',
        after="- van: 3000",
    )
    line = line_in_file(policy_copy, "partners.yaml", "- van: 3000")
    assert_error(
        broken(policy_copy),
        "partners.yaml",
        line,
        "regio OIN 00000099000000000103 is no registered veilig-thuis",
    )


def test_regio_pointing_at_an_unregistered_oin(policy_copy: Path) -> None:
    edit(
        policy_copy,
        "partners.yaml",
        'oin: "00000099000000000102"',
        'oin: "00000099000000000199"',
        after="regios:",
    )
    line = line_in_file(policy_copy, "partners.yaml", "- van: 7400")
    assert_error(
        broken(policy_copy),
        "partners.yaml",
        line,
        "regio OIN 00000099000000000199 is no registered veilig-thuis",
    )


def test_route_to_veilig_thuis_without_regio(policy_copy: Path) -> None:
    edit(
        policy_copy,
        "berichten.yaml",
        "\n        regio: incident.adres.postcode",
        "",
        after="  VtMelding:",
    )
    line = line_in_file(policy_copy, "berichten.yaml", "- naar: veilig-thuis", after="  VtMelding:")
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "veilig-thuis has several partners: say how the regio is found",
    )


def test_field_path_that_does_not_exist(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "regio: incident.adres.postcode",
        "regio: incident.adres.huisnr",
        after="  VtMelding:",
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "'incident.adres.huisnr': VtMelding_Incident_Adres has no field 'huisnr'",
    )


def test_field_path_in_a_condition_that_does_not_exist(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "{veld: zaak.hg_label, is: true}",
        "{veld: zaak.hg, is: true}",
        after="  ZsmAanmelding:",
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "'zaak.hg': ZsmAanmelding_Zaak has no field 'hg'",
    )


def test_missing_berichttype(policy_copy: Path) -> None:
    text = (policy_copy / "berichten.yaml").read_text(encoding="utf-8")
    start = text.index("  Terugkoppeling:")
    end = text.index("  Veiligheidsafspraken:")
    (policy_copy / "berichten.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    # The line of the `berichten` mapping (its first entry), where the type is missing.
    line = line_in_file(policy_copy, "berichten.yaml", "  VtMelding:")
    assert_error(
        broken(policy_copy), "berichten.yaml", line, "no rules for BerichtType Terugkoppeling"
    )


def test_leeftijd_condition_on_a_path_that_is_no_person(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        '{leeftijd: "personen[rol=verdachte]", op: zaak.aanhouding, minimaal: 18}',
        "{leeftijd: incident.adres, op: zaak.aanhouding, minimaal: 18}",
        after="  ZsmAanmelding:",
    )
    assert_error(broken(policy_copy), "berichten.yaml", line, "'incident.adres' is not a person")


def test_leeftijd_condition_on_a_date_that_is_no_date(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "{leeftijd: verdachte, op: kop.tijdstip, onder: 18}",
        "{leeftijd: verdachte, op: parketnummer, onder: 18}",
        after="  Adviesaanvraag:",
    )
    assert_error(broken(policy_copy), "berichten.yaml", line, "'parketnummer' is not a date")


def test_a_route_without_a_grondslag_row_is_a_gap(policy_copy: Path) -> None:
    """v2 §4: every (doel, sending rol, recipient rol) the catalogue routes has a grondslag."""
    edit(
        policy_copy,
        "doelen.yaml",
        "{afzender: veilig-thuis, codes: [WMO2015-ART-4.1.1]}",
        "{afzender: politie, codes: [WMO2015-ART-4.1.1]}",
        after="  TERUGKOPPELING_MELDER:",
    )
    line = line_in_file(policy_copy, "berichten.yaml", "- naar: politie", after="  Terugkoppeling:")
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "Terugkoppeling from veilig-thuis to politie for doel TERUGKOPPELING_MELDER has no "
        "grondslag",
    )


def test_a_grondslag_row_for_one_recipient_leaves_the_others_uncovered(policy_copy: Path) -> None:
    edit(
        policy_copy,
        "doelen.yaml",
        "naar: [veilig-thuis, reclassering, raad-kinderbescherming]",
        "naar: [veilig-thuis, raad-kinderbescherming]",
    )
    line = line_in_file(
        policy_copy, "berichten.yaml", "- naar: reclassering", after="  ZsmAanmelding:"
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "ZsmAanmelding from politie to reclassering for doel STRAFRECHTELIJKE_BESLISSING has "
        "no grondslag",
    )


def test_a_grondslag_towards_a_rol_the_doel_does_not_admit(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "doelen.yaml",
        "{afzender: veilig-thuis, codes: [WMO2015-ART-4.1.1]}",
        "{afzender: veilig-thuis, naar: [reclassering], codes: [WMO2015-ART-4.1.1]}",
        after="  TERUGKOPPELING_MELDER:",
    )
    assert_error(
        broken(policy_copy),
        "doelen.yaml",
        line,
        "TERUGKOPPELING_MELDER: a grondslag towards reclassering, which the doel admits as no "
        "recipient",
    )


# --------------------------------------------------------------------------- service hours, norms


def test_default_service_hours_and_norms() -> None:
    """v2 §2: politie 24/7, the OM (ZSM) every day 07:00-24:00, everyone else werkdagen
    08:30-17:00; v2 §10: the norms whose types exist are followed, the others are not."""
    policy = load_policy(POLICY_DIR)
    uren = {oin: (d.dagen, d.van_minuut, d.tot_minuut) for oin, d in policy.diensturen.items()}
    assert uren == {
        "00000099000000000101": ("alle", 0, 1440),
        "00000099000000000103": ("alle", 420, 1440),
        "00000099000000000102": ("werkdagen", 510, 1020),
        "00000099000000000106": ("werkdagen", 510, 1020),
        "00000099000000000104": ("werkdagen", 510, 1020),
        "00000099000000000105": ("werkdagen", 510, 1020),
        # v2 §2: the lokaal veld and jeugdbescherming on werkdagen, the crisisdienst 24/7
        "00000099000000000107": ("werkdagen", 510, 1020),
        "00000099000000000108": ("werkdagen", 510, 1020),
        "00000099000000000109": ("werkdagen", 510, 1020),
        "00000099000000000110": ("werkdagen", 510, 1020),
        "00000099000000000113": ("werkdagen", 510, 1020),
        "00000099000000000111": ("alle", 0, 1440),
        "00000099000000000112": ("alle", 0, 1440),
    }
    assert [n.naam for n in policy.normen] == [
        "zsm-beslissing",
        "veiligheidsbeoordeling",
        "afleverbevestiging",
        "overdracht-geaccepteerd",  # v2 §10: its types exist since issue #14
        "acute-inzet-teruggemeld",  # checked on arrival (issue #15)
        "voorwaarde",  # per voorwaarde of an Overdracht (issue #15)
    ]


def test_a_partner_naming_unknown_service_hours(policy_copy: Path) -> None:
    line = edit(policy_copy, "partners.yaml", "diensturen: zsm", "diensturen: nacht")
    assert_error(
        broken(policy_copy),
        "partners.yaml",
        line,
        "partner 00000099000000000103: diensturen 'nacht' is not in diensturen",
    )


def test_default_service_hours_that_do_not_exist(policy_copy: Path) -> None:
    line = edit(
        policy_copy, "partners.yaml", "standaard_diensturen: kantoor", "standaard_diensturen: x"
    )
    assert_error(broken(policy_copy), "partners.yaml", line, "standaard_diensturen 'x' is not")


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('van: "08:30", tot: "17:00"', 'van: "17:00", tot: "08:30"', "17:00-08:30 are empty"),
        ('van: "08:30"', 'van: "8:30"', "should match pattern"),
        ('tot: "17:00"', 'tot: "24:30"', "should match pattern"),
        ("dagen: werkdagen", "dagen: weekend", "Input should be 'alle' or 'werkdagen'"),
    ],
)
def test_broken_service_hours(policy_copy: Path, old: str, new: str, problem: str) -> None:
    line = edit(policy_copy, "partners.yaml", old, new, after="  kantoor:")
    assert_error(broken(policy_copy), "partners.yaml", line, problem)


def test_no_normen_file(policy_copy: Path) -> None:
    (policy_copy / "normen.yaml").unlink()
    error = broken(policy_copy)
    assert (error.file, error.line) == ("normen.yaml", None)
    assert "cannot read" in error.problem


NORM_EDITS = [
    pytest.param(
        "naam: afleverbevestiging",
        "naam: veiligheidsbeoordeling",
        "",
        "norm veiligheidsbeoordeling twice",
        id="twice",
    ),
    pytest.param(
        "geopend_door: VtMelding",
        "geopend_door: AfsprakenSignaal",  # v2 §7's, not in the catalogue yet
        "",
        "opens on 'AfsprakenSignaal': no BerichtType with rules",
        id="future-type-active",
    ),
    pytest.param(
        "{type: OmBeslissing}",
        "{type: OmBesluit}",
        "",
        "closes on unknown BerichtType 'OmBesluit'",
        id="unknown-closing-type",
    ),
    pytest.param(
        "{type: Terugkoppeling, van: veilig-thuis}",
        "{type: Terugkoppeling, van: gemeente}",
        "",
        "closes on a message from unknown rol 'gemeente'",
        id="unknown-rol",
    ),
    pytest.param(
        "{type: Terugkoppeling, van: veilig-thuis}",
        "{type: Terugkoppeling, van: politie}",
        "",
        "rol politie may not send Terugkoppeling",
        id="rol-that-cannot-send-it",
    ),
    pytest.param(
        "start: [zaak.voorgeleiding, zaak.aanhouding]",
        "start: [zaak.voorgeleiding, zaak.hg_label]",
        "",
        "'zaak.hg_label' of ZsmAanmelding is no date and time",
        id="start-no-time",
    ),
    pytest.param(
        "start: [zaak.voorgeleiding, zaak.aanhouding]",
        "start: [zaak.voorleiding, zaak.aanhouding]",
        "",
        "'zaak.voorleiding': ZsmAanmelding_Zaak has no field 'voorleiding'",
        id="start-no-field",
    ),
    pytest.param(
        "uren_veld: zaak.ophoudtermijn}",
        "uren_veld: zaak.ophouden}",
        "",
        "'zaak.ophouden': ZsmAanmelding_Zaak has no field 'ophouden'",
        id="uren-veld-no-field",
    ),
    pytest.param(
        "termijn: {werkdagen: 5}",
        "termijn: {werkdagen: 5, uren_veld: zaak.ophoudtermijn}",
        "  - naam: veiligheidsbeoordeling",
        "uren_veld only with wettelijke_klok",
        id="uren-veld-without-wettelijke-klok",
    ),
    pytest.param(
        "termijn: {werkdagen: 5}",
        "termijn: {diensturen: 5}",
        "  - naam: veiligheidsbeoordeling",
        "counts service hours but has no one recipient",
        id="service-hours-without-recipient",
    ),
    pytest.param(
        "termijn: {werkdagen: 1}",
        "termijn: {werkdagen: 1, diensturen: 2}",
        "  - naam: afleverbevestiging",
        "exactly one of werkdagen, diensturen, wettelijke_klok",
        id="two-kinds",
    ),
    pytest.param(
        "termijn: {werkdagen: 1}",
        "termijn: {werkdagen: 0}",
        "  - naam: afleverbevestiging",
        "greater than 0",
        id="zero",
    ),
    pytest.param(
        "    geopend_door: levering\n",
        "    geopend_door: levering\n    start: [kop.tijdstip]\n",
        "",
        "opens on a delivery: it has no start field",
        id="start-on-a-delivery",
    ),
    pytest.param(
        "    spoed: {diensturen: 1}\n",
        "    spoed: {diensturen: 1}\n    ontvangstbevestiging: true\n",
        "",
        "a delivery's norm is not the sender's to know",
        id="delivery-in-ontvangstbevestiging",
    ),
    # norms per item (v2 §10: a voorwaarde's termijn) and their conditions
    pytest.param(
        "    per: voorwaarde\n",
        "    per: voorwaarden\n",
        "",
        "has no field 'voorwaarden'",
        id="per-item-no-part",
    ),
    pytest.param(
        "    sleutel: voorwaarde_id\n",
        "    sleutel: nummer\n",
        "",
        "has no field 'nummer' (sleutel)",
        id="per-item-key-no-field",
    ),
    pytest.param(
        "{datum: termijn}",
        "{datum: omschrijving}",
        "",
        "'omschrijving' of Overdracht's voorwaarde is no date",
        id="termijn-datum-no-date",
    ),
    pytest.param(
        "        als: [{veld: status, in: [nagekomen, niet-nagekomen]}]\n",
        "        als: [{veld: stand, in: [nagekomen, niet-nagekomen]}]\n",
        "",
        "Terugmelding's voorwaarde",
        id="closer-per-item-no-field",
    ),
    pytest.param(
        "    als: [{veld: soort, is: acuut-ingezet}]\n",
        "    als: [{veld: aard, is: acuut-ingezet}]\n",
        "",
        "has no field 'aard'",
        id="condition-no-field",
    ),
]


@pytest.mark.parametrize(("old", "new", "after", "problem"), NORM_EDITS)
def test_broken_norm(policy_copy: Path, old: str, new: str, after: str, problem: str) -> None:
    line = edit(policy_copy, "normen.yaml", old, new, after=after)
    if "\n" in new:  # an added line: the error names the added key
        line += new.count("\n") - 1
    assert_error(broken(policy_copy), "normen.yaml", line, problem)


def test_two_norms_in_one_ontvangstbevestiging(policy_copy: Path) -> None:
    text = (policy_copy / "normen.yaml").read_text(encoding="utf-8")
    text += (
        "  - naam: nog-een\n"
        "    geopend_door: ZsmAanmelding\n"
        "    gesloten_door: [{type: OmBeslissing}]\n"
        "    termijn: {werkdagen: 1}\n"
        "    ontvangstbevestiging: true\n"
    )
    (policy_copy / "normen.yaml").write_text(text, encoding="utf-8")
    line = text.count("\n")
    assert_error(
        broken(policy_copy),
        "normen.yaml",
        line,
        "a second norm reported in the Ontvangstbevestiging of ZsmAanmelding",
    )


def test_an_inactive_norm_may_name_types_that_do_not_exist_yet(policy_copy: Path) -> None:
    path = policy_copy / "normen.yaml"
    actief = [n.naam for n in load_policy(policy_copy).normen]
    path.write_text(
        path.read_text(encoding="utf-8")
        + "  - naam: afspraken-signaal\n"
        + "    geopend_door: AfsprakenSignaal\n"  # v2 §7's, not in the catalogue yet
        + "    gesloten_door:\n"
        + "      - {type: Onbekend, van: x}\n"
        + "    termijn: {werkdagen: 1}\n"
        + "    actief: false\n",
        encoding="utf-8",
    )
    assert [n.naam for n in load_policy(policy_copy).normen] == actief  # the new one is not
    assert "afspraken-signaal" not in actief
    edit(policy_copy, "normen.yaml", "    actief: false\n", "    actief: nee\n")
    assert "actief" in broken(policy_copy).problem


# --------------------------------------------------------------------------- v2 §5 rules


def test_every_default_rule_is_required_as_v2_lists_them() -> None:
    policy = load_policy(POLICY_DIR)
    assert all(route.verplicht for regel in policy.berichten.values() for route in regel.routes)


def test_hg_condition_on_a_type_without_hg_label(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "      - naar: politie\n",
        "      - naar: politie\n        als: [{hg: true}]\n",
        after="  Terugkoppeling:",
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line + 1,
        "Terugkoppeling has no hg_label to say it is HG",
    )


def test_hg_label_that_is_no_boolean(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "hg_label: hg_label",
        "hg_label: termijn",
        after="  OmBeslissing:",
    )
    assert_error(
        broken(policy_copy), "berichten.yaml", line, "'termijn' of OmBeslissing is no boolean"
    )


def test_a_condition_on_the_conversation_only_as_true(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "{hg: true}",
        "{hg: false}",
        after="  OmBeslissing:",
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "only `true` is a condition on the conversation",
    )


def test_a_condition_on_the_conversation_is_for_routes_only(policy_copy: Path) -> None:
    edit(
        policy_copy,
        "berichten.yaml",
        "        veilig-thuis: {categorieen: [identificatie, strafrechtelijk, proces]}",
        "        veilig-thuis:\n"
        "          categorieen: [identificatie]\n"
        "          extra:\n"
        "            - als: [{deelgenomen: true}]\n"
        "              categorieen: [proces]",
        after="  OmBeslissing:",
    )
    line = line_in_file(
        policy_copy, "berichten.yaml", "als: [{deelgenomen: true}]\n              categorieen"
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "a condition on the conversation is for routes only",
    )


# --------------------------------------------------------------------------- v2 §6 (issue #14)


def test_a_rule_that_never_applies_to_a_sender_needs_no_grondslag_for_it(
    policy_copy: Path,
) -> None:
    """The crisisdienst sends only acuut-ingezet and zorgsignaal (afzender_als) and has no
    grondslag for MONITORING_VEILIGHEID: the voortgang rules need none for it. Without its
    afzender_als they would, and the check names the first such rule."""
    assert load_policy(policy_copy).berichten["Terugmelding"].afzender_als
    edit(
        policy_copy,
        "berichten.yaml",
        "    afzender_als:\n"
        "      crisisdienst: [{veld: soort, in: [acuut-ingezet, zorgsignaal]}]\n",
        "",
        after="  Terugmelding:",
    )
    line = line_in_file(
        policy_copy, "berichten.yaml", "- naar: veilig-thuis", after="  Terugmelding:"
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "Terugmelding from crisisdienst to veilig-thuis for doel MONITORING_VEILIGHEID has no "
        "grondslag",
    )


def test_a_sender_restricted_to_another_doel_needs_no_grondslag_for_this_one(
    policy_copy: Path,
) -> None:
    """VT asks under VEILIGHEIDSBEOORDELING only: no ONDERZOEK_KINDERBESCHERMING row is needed
    for VT's Informatieverzoek to the politie; without the restriction it is checked."""
    edit(
        policy_copy,
        "doelen.yaml",
        "{afzender: veilig-thuis, codes: [JW-ART-7.3.11]}",
        "{afzender: veilig-thuis, naar: [raad-kinderbescherming], codes: [JW-ART-7.3.11]}",
        after="  ONDERZOEK_KINDERBESCHERMING:",
    )
    assert load_policy(policy_copy).doelen["ONDERZOEK_KINDERBESCHERMING"]
    edit(
        policy_copy,
        "berichten.yaml",
        "      veilig-thuis: [{doel: VEILIGHEIDSBEOORDELING}]\n",
        "",
        after="  Informatieverzoek:",
    )
    line = line_in_file(
        policy_copy, "berichten.yaml", "- naar: politie", after="  Informatieverzoek:"
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "Informatieverzoek from veilig-thuis to politie for doel ONDERZOEK_KINDERBESCHERMING "
        "has no grondslag",
    )


def test_the_overdracht_status_is_a_code_holding_lopend_and_afgesloten(policy_copy: Path) -> None:
    edit(
        policy_copy,
        "berichten.yaml",
        "geheugen: {overdracht: status}",
        "geheugen: {overdracht: gezinsprofiel}",
        after="  Overdracht:",
    )
    line = line_in_file(policy_copy, "berichten.yaml", "geheugen:", after="  Overdracht:")
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "'gezinsprofiel' of Overdracht is no status code: a text, or codes holding afgesloten "
        "and lopend",
    )


# --------------------------------------------------------------------------- v2 §8


def test_default_policy_lists_doorbrekingsgronden_per_doel_and_geinformeerd() -> None:
    policy = load_policy(POLICY_DIR)
    assert policy.typen.doorbrekingsgronden == (
        "meldrecht",
        "conflict-van-plichten",
        "toestemming",
        "wettelijke-plicht",
    )
    assert policy.doorbrekingsgronden("VEILIGHEIDSBEOORDELING") == frozenset(
        policy.typen.doorbrekingsgronden
    )
    assert "meldrecht" not in policy.doorbrekingsgronden("ONDERZOEK_KINDERBESCHERMING")
    assert policy.doorbrekingsgronden("GEEN_DOEL") == frozenset()
    # v2 §8: "default: Overdracht, VerzoekTotOnderzoek"
    assert policy.vereist == {
        "Overdracht": frozenset({"geinformeerd"}),
        "VerzoekTotOnderzoek": frozenset({"geinformeerd"}),
    }


def test_unknown_doorbrekingsgrond_of_a_doel(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "doelen.yaml",
        "doorbrekingsgronden: [toestemming, wettelijke-plicht]",
        "doorbrekingsgronden: [toestemming, noodtoestand]",
        after="  TERUGKOPPELING_MELDER:",
    )
    error = broken(policy_copy)
    assert_error(
        error,
        "doelen.yaml",
        line,
        "doelen.TERUGKOPPELING_MELDER.doorbrekingsgronden.1: 'noodtoestand' is no "
        "doorbrekingsgrond",
    )
    assert "'meldrecht'" in error.problem
    assert "typen.yaml" in error.problem


def test_verplicht_names_a_field_of_the_type(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "    verplicht: [geinformeerd]",
        "    verplicht: [gelezen]",
        after="  VerzoekTotOnderzoek:",
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "verplicht: VerzoekTotOnderzoek has no part with a field 'gelezen'",
    )


def test_the_doorbrekingsgrond_code_list_is_required(policy_copy: Path) -> None:
    edit(policy_copy, "typen.yaml", "  Doorbrekingsgrond: [", "  Ander: [")
    error = broken(policy_copy)
    assert (error.file, error.line) == (
        "typen.yaml",
        line_in_file(policy_copy, "typen.yaml", "codelijsten:") + 1,  # its first entry
    )
    assert "codelijst Doorbrekingsgrond is missing" in error.problem


def test_a_block_attribute_is_declared_only_as_such(policy_copy: Path) -> None:
    # as an element instead of an attribute
    line = edit(
        policy_copy,
        "typen.yaml",
        "{veld: bron, soort: Bron, attr: true}",
        "{veld: bron, soort: Bron}",
    )
    error = broken(policy_copy)
    assert_error(error, "typen.yaml", line, "'bron' is a block attribute (spec v2 §8)")


def test_a_block_attribute_name_is_no_field_of_a_type(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "typen.yaml",
        "    - {veld: monitoring, soort: Tekst, categorieen: [proces]}",
        "    - {veld: monitoring, soort: Tekst, categorieen: [proces]}\n"
        "    - {veld: geaccordeerd, soort: JaNee, attr: true, categorieen: [proces]}",
    )
    error = broken(policy_copy)
    assert_error(error, "typen.yaml", line + 1, "'geaccordeerd' is a block attribute")


# --------------------------------------------------------------------------- gemeenten (v2 §2)


def test_gemeenten_of_the_default_policy() -> None:
    policy = load_policy(POLICY_DIR)
    enschede = policy.gemeente_van_postcode("7511 AB")
    assert enschede is not None
    assert (enschede.code, enschede.naam) == ("0153", "Enschede")
    vt = policy.partner_in_gemeente(enschede, "veilig-thuis")
    assert vt is not None
    assert vt.naam == "Veilig Thuis Twente"
    # v2 §2: each gemeente has its own wijkteam and shares the crisisdienst and the GI
    hengelo = policy.gemeente_van_postcode("7551AB")
    assert hengelo is not None
    for gemeente, rol, naam in [
        (enschede, "lokaal-team", "Wijkteam Enschede"),
        (hengelo, "lokaal-team", "Wijkteam Hengelo"),
        (enschede, "crisisdienst", "Crisisdienst Twente"),
        (hengelo, "gecertificeerde-instelling", "Jeugdbescherming Overijssel"),
    ]:
        partner = policy.partner_in_gemeente(gemeente, rol)
        assert partner is not None
        assert partner.naam == naam
    rotterdam = policy.gemeente_van_postcode("3011AA")
    assert rotterdam is not None
    assert {p.naam for p in policy.partners.values() if p.oin in rotterdam.partners} == {
        "Veilig Thuis Rotterdam-Rijnmond",
        "Wijkteam Rotterdam-Noord",
        "Crisisinterventieteam Rijnmond",
        "Jeugdbescherming Rotterdam Rijnmond",
    }
    assert policy.gemeente_van_postcode("7400") is None  # a VT range, no gemeente
    assert policy.gemeente_van_postcode("75") is None  # too short: no postcode


def test_gemeente_with_an_unregistered_partner(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "partners.yaml",
        '"00000099000000000102"',
        '"00000099000000000199"',
        after="naam: Hengelo",
    )
    assert_error(
        broken(policy_copy), "partners.yaml", line, "OIN 00000099000000000199 is no registered"
    )


def test_gemeente_with_two_partners_of_one_rol(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "partners.yaml",
        'partners: ["00000099000000000102", ',
        'partners: ["00000099000000000102", "00000099000000000106", ',
        after="naam: Hengelo",
    )
    assert_error(
        broken(policy_copy),
        "partners.yaml",
        line,
        "gemeente 0164 has two veilig-thuis partners: 00000099000000000102 and "
        "00000099000000000106",
    )


def test_gemeenten_with_overlapping_postcodes(policy_copy: Path) -> None:
    line = edit(policy_copy, "partners.yaml", "{van: 7550, tot: 7559}", "{van: 7540, tot: 7559}")
    assert_error(
        broken(policy_copy),
        "partners.yaml",
        line,
        "postcodes 7540-7559 overlap 7500-7547 of gemeente 0153",
    )


def test_gemeente_twice(policy_copy: Path) -> None:
    line = edit(policy_copy, "partners.yaml", 'code: "0164"', 'code: "0153"')
    assert_error(broken(policy_copy), "partners.yaml", line, "gemeente 0153 twice")


def test_gemeente_with_empty_postcodes(policy_copy: Path) -> None:
    line = edit(policy_copy, "partners.yaml", "{van: 7550, tot: 7559}", "{van: 7559, tot: 7550}")
    assert_error(broken(policy_copy), "partners.yaml", line, "postcodes 7559-7550 are empty")


# --------------------------------------------------------------------------- routing memory rules


def _add_to_type(folder: Path, berichttype: str, text: str) -> int:
    """Insert ``text`` (YAML lines at the type's key level) right under ``berichttype:``."""
    return edit(folder, "berichten.yaml", f"  {berichttype}:\n", f"  {berichttype}:\n{text}") + 1


def test_regio_vraag_needs_antwoord_op(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "        regio: incident.adres.postcode",
        "        regio: vraag",
        after="  VtMelding:",
    )
    assert_error(
        broken(policy_copy), "berichten.yaml", line, "regio vraag: VtMelding has no antwoord_op"
    )


def test_antwoord_op_an_unknown_type(policy_copy: Path) -> None:
    line = _add_to_type(policy_copy, "Terugkoppeling", "    antwoord_op: [Vraagbericht]\n")
    assert_error(broken(policy_copy), "berichten.yaml", line, "Vraagbericht is no BerichtType")


def test_afzender_als_for_a_rol_that_does_not_send_the_type(policy_copy: Path) -> None:
    line = _add_to_type(
        policy_copy,
        "Terugkoppeling",
        "    afzender_als:\n      politie: [{veld: toelichting, is: x}]\n",
    )
    assert_error(
        broken(policy_copy), "berichten.yaml", line + 1, "politie is no sender of Terugkoppeling"
    )


def test_geheugen_overdracht_must_be_a_code_field(policy_copy: Path) -> None:
    line = _add_to_type(policy_copy, "VtMelding", "    geheugen:\n      overdracht: incident\n")
    assert_error(broken(policy_copy), "berichten.yaml", line + 1, "'incident' of VtMelding")


def test_overdracht_condition_with_an_unknown_status(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "        verplicht: true",
        "        als: [{overdracht: half}]\n        verplicht: true",
        after="  Terugkoppeling:",
    )
    assert_error(
        broken(policy_copy), "berichten.yaml", line, "overdracht 'half': one of afgesloten, lopend"
    )


def test_veld_condition_with_both_is_and_in(policy_copy: Path) -> None:
    edit(
        policy_copy,
        "berichten.yaml",
        "        verplicht: true",
        "        als: [{veld: toelichting, is: a, in: [b]}]\n        verplicht: true",
        after="  Terugkoppeling:",
    )
    error = broken(policy_copy)
    assert error.file == "berichten.yaml"
    assert "exactly one of is or in" in error.problem


# ------------------------------------------------------------------------ afspraken reeks (v2 §6)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "      versie: versie\n",
            "      versie: dossier\n",
            "'dossier' of Veiligheidsafspraken is no int",
        ),
        (
            "      id: reeks_id\n",
            "      id: versie\n",
            "'versie' of Veiligheidsafspraken is no str",
        ),
        (
            "      geldig_tot: geldig_tot\n",
            "      geldig_tot: dossier\n",
            "'dossier' of Veiligheidsafspraken is no date",
        ),
        (
            "      status: status\n",
            "      status: reden\n",
            "'reden' of Veiligheidsafspraken is no status code holding geldig and ingetrokken",
        ),
        ("      reden: reden\n", "      reden: redenen\n", "has no field 'redenen'"),
        (
            "      inhoud: [geldig_tot, dossier,",
            "      inhoud: [geldig_tot, dosier,",
            "has no field 'dosier'",
        ),
    ],
)
def test_a_reeks_names_real_fields_of_the_right_kind(
    policy_copy: Path, old: str, new: str, problem: str
) -> None:
    line = edit(policy_copy, "berichten.yaml", old, new, after="  Veiligheidsafspraken:")
    assert_error(broken(policy_copy), "berichten.yaml", line, problem)


def test_vereist_names_an_unknown_field(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "        velden: [reden_afsluiting]",
        "        velden: [reden_van_afsluiting]",
    )
    assert_error(broken(policy_copy), "berichten.yaml", line, "no field 'reden_van_afsluiting'")


def test_tijdgrens_on_a_field_that_is_no_date(policy_copy: Path) -> None:
    line = edit(
        policy_copy,
        "berichten.yaml",
        "      - {veld: voorwaarde.termijn, maanden: 3}",
        "      - {veld: voorwaarde.omschrijving, maanden: 3}",
    )
    assert_error(
        broken(policy_copy),
        "berichten.yaml",
        line,
        "'voorwaarde.omschrijving' of Overdracht is no date",
    )


# ---------------------------------------------------------------- norms on arrival, per item


def test_a_norm_on_arrival_has_no_closer_and_a_start(policy_copy: Path) -> None:
    path = policy_copy / "normen.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    start: [interventie]\n", ""), encoding="utf-8")
    line = text[: text.index("  - naam: acute-inzet-teruggemeld")].count("\n") + 1
    assert_error(broken(policy_copy), "normen.yaml", line, "checked on arrival: it needs a start")
    path.write_text(
        text.replace(
            "    bij_aankomst: true\n",
            "    bij_aankomst: true\n    gesloten_door: [{type: Terugmelding}]\n",
        ),
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match="gesloten_door, or on arrival"):
        load_policy(policy_copy)


def test_a_norm_per_item_is_closed_per_item(policy_copy: Path) -> None:
    edit(
        policy_copy,
        "normen.yaml",
        "        per: voorwaarde\n        sleutel: voorwaarde_id\n"
        "        als: [{veld: status, in: [nagekomen, niet-nagekomen]}]\n",
        "",
    )
    with pytest.raises(PolicyError, match="closed per item"):
        load_policy(policy_copy)


def test_the_norm_tables_are_the_plain_reading_of_normen_yaml() -> None:
    """``sluiters`` and ``geopend_bij``, made once, give per type what a walk over every norm
    of normen.yaml gives, in its order (for every type that sends, opens or closes, and one
    the policy does not know)."""
    policy = load_policy(POLICY_DIR)
    typen = {str(t) for t in policy.berichten} | {"Onbekend"}
    typen |= {n.geopend_door for n in policy.normen}
    typen |= {s.type for n in policy.normen for s in n.gesloten_door}
    for berichttype in sorted(typen):
        assert policy.geopend_bij(berichttype) == tuple(
            n for n in policy.normen if n.geopend_door in (LEVERING, berichttype)
        ), berichttype
        assert policy.sluiters.get(berichttype, ()) == tuple(
            (n, s) for n in policy.normen for s in n.gesloten_door if s.type == berichttype
        ), berichttype
    # not vacuous: norms of a type, of every delivery, closed whole and per item
    assert any(n.geopend_door == LEVERING for n in policy.normen)
    assert any(n.geopend_door != LEVERING for n in policy.normen)
    assert any(s.per is not None for paren in policy.sluiters.values() for _, s in paren)
    assert any(s.per is None for paren in policy.sluiters.values() for _, s in paren)


@st.composite
def _bereiken(draw: st.DrawFn) -> list[tuple[int, int, int]]:
    """Ranges that do not overlap (as the policy check leaves them), in any order, each with
    its own value."""
    grenzen = sorted(draw(st.sets(st.integers(0, 9999), max_size=40)))
    paren = [(grenzen[i], grenzen[i + 1]) for i in range(0, len(grenzen) - 1, 2)]
    paren += [(g, g) for g in draw(st.sets(st.integers(0, 9999), max_size=5)) if g not in grenzen]
    paren = [p for p in paren if not any(p != q and p[0] <= q[1] and q[0] <= p[1] for q in paren)]
    return draw(st.permutations([(van, tot, n) for n, (van, tot) in enumerate(paren)]))


@given(bereiken=_bereiken(), number=st.integers(-1, 10_000))
def test_a_range_is_found_by_bisection_as_by_a_walk_over_every_range(
    bereiken: list[tuple[int, int, int]], number: int
) -> None:
    walk = next((waarde for van, tot, waarde in bereiken if van <= number <= tot), None)
    assert Bereiken(bereiken).vind(number) == walk


def test_every_postcode_finds_its_gemeente_and_regio_as_a_walk_does() -> None:
    """The repository's policy, every four digits: the tables answer as the plain walk over
    the gemeenten's and the regios' ranges."""
    policy = load_policy(POLICY_DIR)
    gevonden = 0
    for number in range(10_000):
        postcode = f"{number:04d}AB"
        gemeente = next(
            (g for g in policy.gemeenten if any(b.van <= number <= b.tot for b in g.postcodes)),
            None,
        )
        regio = next((r.oin for r in policy.regios if r.van <= number <= r.tot), None)
        assert policy.gemeente_van_postcode(postcode) == gemeente, postcode
        assert policy.regio_van_postcode(postcode) == regio, postcode
        gevonden += gemeente is not None
    assert gevonden > 0  # not vacuous
