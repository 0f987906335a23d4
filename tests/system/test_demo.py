"""``ketenpoort demo --json``: every seed scenario through the real gateway (HTTPS with mutual
TLS, RabbitMQ, audit trail); each scenario's recipients and removed categories are checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.broker

EXE = Path(sys.executable).parent / "ketenpoort"

# scenario -> per step: (sender, BerichtType, {recipient: removed categories}) or a refusal
EXPECTED: dict[str, list[tuple[str, str, dict[str, set[str]] | str]]] = {
    "hg-melding": [
        ("politie", "VtMelding", {"vt-twente": set()}),
        ("vt-twente", "Veiligheidsbeoordeling", {"om": {"gezondheid"}}),
        # the toelichting may hold kind too (v2 §8)
        ("vt-twente", "Terugkoppeling", {"politie": {"kind", "veiligheid"}}),
    ],
    # v2 §6 (issue 14): the cycle after VT, one family, one conversation
    "lokaal-veld": [
        ("politie", "VtMelding", {"vt-twente": set()}),
        ("vt-twente", "Veiligheidsbeoordeling", {"om": {"gezondheid"}}),
        # to the wijkteam of the gemeente of the address; gezondheid only to a GI (v2 §8)
        ("vt-twente", "Overdracht", {"wijkteam-enschede": {"gezondheid"}}),
        ("wijkteam-enschede", "OverdrachtReactie", {"vt-twente": set()}),
        # the wijkteam holds casusregie now: its own zorgsignaal goes to VT only
        ("wijkteam-enschede", "Terugmelding", {"vt-twente": set()}),
        ("vt-twente", "Informatieverzoek", {"politie": set()}),
        # only the asker
        ("politie", "Informatieantwoord", {"vt-twente": set()}),
        ("wijkteam-enschede", "VerzoekTotOnderzoek", {"rvdk": set()}),
        # to whoever asked: the wijkteam
        ("rvdk", "Onderzoeksuitkomst", {"wijkteam-enschede": set()}),
        ("vt-twente", "Overdracht", {"wijkteam-enschede": {"gezondheid"}}),
    ],
    "zsm": [
        (
            "politie",
            "ZsmAanmelding",
            # the Letsel (incident, gezondheid: v2 §8) only to the OM
            {
                "om": set(),
                "vt-twente": {"gezondheid"},
                "reclassering": {"contact", "gezondheid", "kind"},
            },
        ),
        ("reclassering", "Reclasseringsadvies", {"om": set()}),
        ("om", "OmBeslissing", {"politie": set(), "vt-twente": set(), "reclassering": set()}),
    ],
    "actieoverleg": [
        (
            "politie",
            "ActieoverlegAanmelding",
            {
                "vt-twente": set(),
                "om": {"kind"},
                "rvdk": set(),
                "reclassering": {"contact", "kind"},
            },
        ),
        (
            "om",
            "ActieoverlegBesluit",
            {
                "politie": {"hulpverlening"},
                "vt-twente": set(),
                "rvdk": set(),
                "reclassering": {"hulpverlening"},
            },
        ),
    ],
    # v2 §6: the strafbare-KM case is a MeldingStrafbaarFeit, whose police copy keeps the
    # child victim (kind and gezondheid granted: nothing removed)
    "kindermishandeling": [("vt-twente", "MeldingStrafbaarFeit", {"politie": set()})],
    "acuut": [
        # v2 §6: politie and the crisisdienst of the gemeente
        ("vt-twente", "Veiligheidsafspraken", {"politie": set(), "crisisdienst-twente": set()}),
        ("vt-twente", "Overdracht", {"wijkteam-enschede": {"gezondheid"}}),
        ("wijkteam-enschede", "OverdrachtReactie", {"vt-twente": set()}),
        # the night-time inzet: to VT and to the casusregisseur (the accepting wijkteam)
        ("crisisdienst-twente", "Terugmelding", {"vt-twente": set(), "wijkteam-enschede": set()}),
        ("politie", "VtMelding", {"vt-twente": set()}),
        # versie 2 replaces versie 1 at every earlier recipient, and reaches the wijkteam
        # that now takes part (v2 §6)
        (
            "vt-twente",
            "Veiligheidsafspraken",
            {"politie": set(), "crisisdienst-twente": set(), "wijkteam-enschede": set()},
        ),
        # the withdrawal reaches all who had it
        (
            "vt-twente",
            "Veiligheidsafspraken",
            {"politie": set(), "crisisdienst-twente": set(), "wijkteam-enschede": set()},
        ),
    ],
    "verzoek-rvdk": [("vt-twente", "VerzoekTotOnderzoek", {"rvdk": set()})],
    "geweigerd-en-dubbel": [
        ("politie", "VtMelding", "DOEL_NIET_TOEGESTAAN"),
        ("politie", "VtMelding", "GRONDSLAG_ONTBREEKT"),
        ("politie", "VtMelding", {"vt-twente": set()}),
    ],
}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    workdir = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "KETENPOORT_AUDIT_KEY_DIR": str(workdir / "unused")}
    run = subprocess.run(
        [str(EXE), "demo", "--json", "--keep", str(workdir)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def demo(demo_run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(demo_run.stdout)
    return result


def test_the_demo_serves_https_as_serve_does(demo_run: subprocess.CompletedProcess[str]) -> None:
    """Its HTTPS door runs under the TLS configuration `serve` runs under (the groups limited,
    where Python cannot do so itself), so the demo does not warn that they are not."""
    events = [json.loads(line) for line in demo_run.stderr.splitlines() if line.startswith("{")]
    assert events, "the demo logged nothing: the check below would prove nothing"
    assert "tls_groepen_niet_beperkt" not in {e.get("event") for e in events}


def test_every_scenario_reaches_its_recipients_with_its_subset(demo: dict[str, Any]) -> None:
    scenarios = {s["key"]: s for s in demo["scenarios"]}
    assert set(scenarios) == set(EXPECTED)
    for key, steps in EXPECTED.items():
        played = scenarios[key]["stappen"]
        assert len(played) == len(steps), key
        for step, (sender, berichttype, expected) in zip(played, steps, strict=True):
            where = f"{key}: {berichttype}"
            assert step["afzender"] == sender, where
            assert step["berichttype"] == berichttype, where
            if isinstance(expected, str):
                assert step["antwoord"] == "Foutbericht", where
                assert step["foutcode"] == expected, where
                assert step["ontvangers"] == [], where
                continue
            assert step["antwoord"] == "Ontvangstbevestiging", where
            got = {o["ontvanger"]: set(o["verwijderd"]) for o in step["ontvangers"]}
            assert got == expected, where
            if not step["dubbel"]:
                for o in step["ontvangers"]:
                    assert o["bevestigd"], f"{where} → {o['ontvanger']}: {o['bevestiging']}"
                for o in step["ontvangers"]:
                    assert o["categorieen"], f"{where} → {o}"


def test_need_to_know_rules_of_the_spec_hold_in_the_demo(demo: dict[str, Any]) -> None:
    steps = {(s["key"], st["berichttype"]): st for s in demo["scenarios"] for st in s["stappen"]}
    terug = steps[("hg-melding", "Terugkoppeling")]["ontvangers"][0]
    assert not {"gezondheid", "gezinsprofiel", "veiligheid", "kind"} & set(terug["categorieen"])
    # v2 §8: the timeline names each free-text field withheld and why
    assert terug["vrije_tekst_achtergehouden"] == ["toelichting (ontbreekt: kind, veiligheid)"]
    om = steps[("hg-melding", "Veiligheidsbeoordeling")]["ontvangers"][0]
    assert "kernvragen.wat_is_er_bekend (ontbreekt: gezondheid)" in om["vrije_tekst_achtergehouden"]
    afspraken = next(
        st
        for sc in demo["scenarios"]
        if sc["key"] == "acuut"
        for st in sc["stappen"]
        if st["berichttype"] == "Veiligheidsafspraken"
    )  # versie 1
    politie = next(o for o in afspraken["ontvangers"] if o["ontvanger"] == "politie")
    assert not {"gezondheid", "gezinsprofiel"} & set(politie["categorieen"])
    # what the responding officer sees: the afspraken and whom to call, nothing more
    shown = afspraken["toont"]
    assert len(shown["afspraken"]) == 2
    assert any("Dennenweg 3" in " ".join(a.values()) for a in shown["afspraken"])
    assert shown["bellen"]
    assert "053-4811111" in " ".join(shown["bellen"][0].values())
    assert not {"gezondheid", "gezinsprofiel", "risicofactor", "kernvragen"} & set(shown["velden"])
    zsm = {o["ontvanger"]: o for o in steps[("zsm", "ZsmAanmelding")]["ontvangers"]}
    assert "kind" not in zsm["reclassering"]["categorieen"]
    assert steps[("zsm", "ZsmAanmelding")]["uiterste_beslismoment"]
    beoordeling = steps[("hg-melding", "Veiligheidsbeoordeling")]["ontvangers"][0]
    assert "gezondheid" not in beoordeling["categorieen"]
    # v2 §6: the police copy of a MeldingStrafbaarFeit keeps the child victim
    strafbaar = steps[("kindermishandeling", "MeldingStrafbaarFeit")]["ontvangers"][0]
    assert {"kind", "gezondheid"} <= set(strafbaar["categorieen"])


def test_the_demo_ends_with_a_sound_audit_and_an_inzage(demo: dict[str, Any]) -> None:
    assert demo["ok"] is True
    assert demo["verificatie"]["in_orde"] is True
    assert demo["verificatie"]["checkpoints"] >= 1
    inzage = demo["inzage"]
    delivered = {(v["ontvanger"]["rol"], v["berichttype"]) for v in inzage["verstrekkingen"]}
    assert ("veilig-thuis", "VtMelding") in delivered
    assert ("openbaar-ministerie", "ZsmAanmelding") in delivered
    # every partner confirms what it received; the gateway's AfsprakenSignaal (v2 §7: the
    # night-time melding at the address of valid afspraken) is a disclosure nobody confirms
    signalen = [v for v in inzage["verstrekkingen"] if v["berichttype"] == "AfsprakenSignaal"]
    assert {v["ontvanger"]["rol"] for v in signalen} == {"politie", "veilig-thuis"}
    assert all(v["bevestigd"] for v in inzage["verstrekkingen"] if v not in signalen)
    assert [n["reden"] for n in inzage["niet_verstrekt"] if n["ontvanger"] is None]  # refusals
    assert inzage["raadplegingen"][-1]["lezer"] == "demo-privacy-officer"


def test_the_structureel_acuut_cycle(demo: dict[str, Any]) -> None:
    """Issue 15's demo: the politie's night-time melding gives the VT regio and the politie an
    AfsprakenSignaal (the reeks, its versie, the holder; no content); versie 2 and the
    withdrawal go to everyone who held the afspraken; the withdrawal carries no content."""
    (acuut,) = [s["stappen"] for s in demo["scenarios"] if s["key"] == "acuut"]
    melding = acuut[4]
    assert melding["berichttype"] == "VtMelding"
    assert len(melding["signalen"]) == 2
    assert {s.split(":")[0] for s in melding["signalen"]} == {"politie", "vt-twente"}
    assert all("versie 1" in s and "houder vt-twente" in s for s in melding["signalen"])
    assert all(not st["signalen"] for i, st in enumerate(acuut) if i != 4)
    intrekking = acuut[6]
    assert {tuple(o["categorieen"]) for o in intrekking["ontvangers"]} == {("proces",)}


def test_the_norm_timeline_shows_the_missed_deadlines(demo: dict[str, Any]) -> None:
    """v2 §10 in the demo's timeline (what /keten shows): the crisisdienst's report of Friday
    night's inzet came after the end of the next werkdag, the OM decided after the ZSM
    deadline of the example's Aanhouding; the voorwaarden of the open Overdracht are followed
    per voorwaarde-id, the one the wijkteam reported niet-nagekomen closed."""
    normen = demo["normen"]
    by = {(n["norm"], n["berichttype"], n["aan_zet"], n["sleutel"]): n for n in normen}
    inzet = by[("acute-inzet-teruggemeld", "Terugmelding", "crisisdienst-twente", "")]
    assert (inzet["status"], inzet["uiterlijk"]) == ("te laat", "2026-11-23T23:59+01:00")
    assert by[("zsm-beslissing", "ZsmAanmelding", "om", "")]["status"] == "te laat"
    voorwaarden = sorted((n["sleutel"], n["status"]) for n in normen if n["norm"] == "voorwaarde")
    # the lokaal-veld Overdracht: v1 closed by the zorgsignaal, v2 open; the acuut one: open
    assert voorwaarden == [("v1", "op tijd"), ("v1", "open"), ("v2", "open"), ("v2", "open")]
    # no personal data in the timeline: identifiers, names of partners, times
    assert "999990019" not in json.dumps(normen)
    assert "Jansen" not in json.dumps(normen)
