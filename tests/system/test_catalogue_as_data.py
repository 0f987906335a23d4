"""The catalogue is data (issue #12, spec v2 §1): a new rol with its native vocabulary, a
partner of it, a doel with its grondslagen and a BerichtType are added in a copy of the policy
and vocabulary folders — no Python file changes — and a message of that type is validated,
routed and delivered through the real RabbitMQ; a third Veilig Thuis regio is a register entry
and a postcode range that routing then finds.

Also: no rol, doel or grondslag of the catalogue is named in the product code."""

from __future__ import annotations

import ast
import re
import shutil
import uuid
from pathlib import Path

import pytest

from adapters.xsd import Richting, generate
from gateway.domain.model import Ontvangstbevestiging
from gateway.policy.catalogue import load_policy
from gateway.policy.typen import load_typen
from gateway.runtime.app import catalogue
from gateway.transport.rabbit import Topology
from tests.support.broker import OINS, add_partners, delete_topology
from tests.support.catalogue import POLICY
from tests.support.gateways import run_gateway
from tests.support.messages import fresh
from tests.support.partners import RabbitPartner, drain, take
from tests.support.paths import EXAMPLES_DIR, POLICY_DIR, REPO_ROOT
from tests.support.settings import local_settings

pytestmark = pytest.mark.broker

WIJKTEAM = "00000099000000000107"  # v2 §2's Wijkteam Enschede
VT_IJSSELLAND = "00000099000000000114"  # a third VT regio: not in v2, a register entry here
VOCABULARIES = REPO_ROOT / "adapters" / "vocabularies"


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (path.name, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def extended_catalogue(work: Path) -> tuple[Path, Path]:
    """Copies of policy/v1 and the vocabularies with: rol lokaal-team, its partner and
    vocabulary, doel MONITORING_VEILIGHEID with grondslagen, BerichtType Wijkterugmelding (VT
    receives it), and a third VT regio for postcodes 8000-8099. Data only."""
    policy, vocab = work / "policy", work / "vocabularies"
    shutil.copytree(POLICY_DIR, policy)
    shutil.copytree(VOCABULARIES, vocab)
    _replace(
        policy / "catalogus.yaml",
        "rollen:\n",
        "rollen:\n  lokaal-team:\n    naam: Lokaal (wijk)team\n",
    )
    _replace(
        policy / "partners.yaml",
        "partners:\n",
        f'partners:\n  - oin: "{WIJKTEAM}"\n    rol: lokaal-team\n    naam: Wijkteam Enschede\n'
        f'  - oin: "{VT_IJSSELLAND}"\n    rol: veilig-thuis\n    naam: Veilig Thuis IJsselland\n',
    )
    _append(policy / "partners.yaml", f'  - van: 8000\n    tot: 8099\n    oin: "{VT_IJSSELLAND}"\n')
    _append(
        policy / "doelen.yaml",
        """
  MONITORING_VEILIGHEID:
    omschrijving: Het lokale veld volgt de veiligheid na Veilig Thuis
    grondslagen:
      - {afzender: lokaal-team, codes: [WMO2015-ART-2.3.5]}
    bewaartermijn_dagen: 1825
    ontvangers:
      veilig-thuis:
        categorieen: [identificatie, contact, veiligheid, proces]
""",
    )
    _append(
        policy / "typen.yaml",
        """
  Wijkterugmelding:
    omschrijving: Het wijkteam meldt Veilig Thuis hoe het gaat.
    velden:
    - {veld: dossier, soort: KorteTekst, categorieen: [proces]}
    - {veld: adres, categorieen: [contact], blok: adres}
    - veld: veiligheidsschaal
      codes: Veiligheidsschaal
      gestileerd: false
      categorieen: [veiligheid]
    - {veld: toelichting, soort: Tekst, min: 0, categorieen: [veiligheid]}
""",
    )
    _append(
        policy / "berichten.yaml",
        """
  Wijkterugmelding:
    afzenders: [lokaal-team]
    doelen: [MONITORING_VEILIGHEID]
    routes:
      - naar: veilig-thuis
        regio: adres.postcode
    vrije_tekst:
      toelichting: [veiligheid]
""",
    )
    (vocab / "lokaal_team.yaml").write_text(
        """rol: lokaal-team
namespace: urn:ketenpoort:wijkteam:1
prefix: wt
stijl: kebab
sends:
  - Wijkterugmelding
receives: []
""",
        encoding="utf-8",
    )
    _replace(vocab / "veilig_thuis.yaml", "receives:\n", "receives:\n  - Wijkterugmelding\n")
    return policy, vocab


WIJKTERUGMELDING = """<?xml version="1.0" encoding="UTF-8"?>
<kp:Bericht xmlns:kp="urn:ketenpoort:envelop:1">
  <kp:Kop>
    <kp:BerichtId>{id}</kp:BerichtId>
    <kp:ConversatieId>{id}</kp:ConversatieId>
    <kp:BerichtType>Wijkterugmelding</kp:BerichtType>
    <kp:Versie>1</kp:Versie>
    <kp:Afzender oin="{oin}" rol="lokaal-team"/>
    <kp:Doelbinding>
      <kp:Doel>MONITORING_VEILIGHEID</kp:Doel>
      <kp:Grondslag>WMO2015-ART-2.3.5</kp:Grondslag>
    </kp:Doelbinding>
    <kp:Tijdstip>2026-11-30T10:00:00+01:00</kp:Tijdstip>
  </kp:Kop>
  <kp:Inhoud>
    <wt:wijkterugmelding xmlns:wt="urn:ketenpoort:wijkteam:1">
      <wt:dossier>WT-2026-0042</wt:dossier>
      <wt:adres><wt:straat>Lindelaan</wt:straat><wt:huisnummer>12</wt:huisnummer><wt:postcode>{postcode}</wt:postcode><wt:plaats>Enschede</wt:plaats></wt:adres>
      <wt:veiligheidsschaal>6</wt:veiligheidsschaal>
      <wt:toelichting>Afspraken worden nagekomen; moeder voelt zich veiliger.</wt:toelichting>
    </wt:wijkterugmelding>
  </kp:Inhoud>
</kp:Bericht>
"""


def test_the_extended_catalogue_loads_and_changes_no_other_partners_schema(tmp_path: Path) -> None:
    policy_dir, vocab = extended_catalogue(tmp_path)
    settings = local_settings(
        tmp_path, "amqp://unused", policy_dir=policy_dir, vocabulary_dir=vocab
    )
    codec, policy = catalogue(settings)
    assert "lokaal-team" in policy.typen.rollen
    assert policy.partners[WIJKTEAM].rol == "lokaal-team"
    assert policy.doelen["MONITORING_VEILIGHEID"].acceptabel("lokaal-team", "veilig-thuis")
    assert "Wijkterugmelding" in policy.typen
    # the new type changes the schemas of its sender and recipient only
    before = load_typen(POLICY_DIR)
    for rol, adapter in codec.by_rol.items():
        if rol in ("lokaal-team", "veilig-thuis"):
            continue
        for richting in Richting:
            assert generate(adapter.partner, richting, policy.typen) == generate(
                adapter.partner, richting, before
            ), (rol, richting)
    vt = codec.by_rol["veilig-thuis"].partner
    assert b"wijkterugmelding" in generate(vt, Richting.ONTVANGEN, policy.typen)
    assert b"wijkterugmelding" not in generate(vt, Richting.VERZENDEN, policy.typen)


async def test_a_new_rol_and_type_added_as_data_are_delivered_through_rabbitmq(
    tmp_path: Path, vhost: str
) -> None:
    policy_dir, vocab = extended_catalogue(tmp_path)
    settings = local_settings(
        tmp_path,
        f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        ops_port=0,
        policy_dir=policy_dir,
        vocabulary_dir=vocab,
    )
    codec, _ = catalogue(settings)
    add_partners(vhost, [WIJKTEAM, VT_IJSSELLAND])
    topology = Topology(
        settings.amqp_prefix, (*OINS.values(), WIJKTEAM, VT_IJSSELLAND), settings.retry_delays_ms
    )
    wijkteam = RabbitPartner(WIJKTEAM, vhost, topology)
    ijsselland = RabbitPartner(VT_IJSSELLAND, vhost, topology)
    try:
        async with run_gateway(settings, vhost) as running:
            await wijkteam.connect()
            await ijsselland.connect()
            # 1. the new type from the new rol: validated, routed by postcode to VT Twente
            raw = WIJKTERUGMELDING.format(id=uuid.uuid4(), oin=WIJKTEAM, postcode="7511AB")
            await wijkteam.send(raw.encode())
            (answer,) = await take(wijkteam, 1)
            bericht = codec.read(answer.body)
            assert isinstance(bericht.inhoud, Ontvangstbevestiging), answer.body.decode()
            assert [o.oin for o in bericht.inhoud.ontvangers] == [OINS["vt-twente"]]
            vt = running.partner("vt-twente")
            (delivered,) = await drain(vt)  # published before the answer: there now
            text = delivered.body.decode()
            assert "<vt:wijkterugmelding" in text
            assert "moeder voelt zich veiliger" in text  # veiligheid: VT is granted it
            assert "<kp:Grondslag>WMO2015-ART-2.3.5</kp:Grondslag>" in text

            # 2. an unmapped postcode of the new type: GEEN_ONTVANGER, nothing delivered
            raw = WIJKTERUGMELDING.format(id=uuid.uuid4(), oin=WIJKTEAM, postcode="9999ZZ")
            await wijkteam.send(raw.encode())
            (refused,) = await take(wijkteam, 1)
            assert b"GEEN_ONTVANGER" in refused.body, refused.body.decode()
            assert await drain(vt) == []

            # 3. a third VT regio, a register entry: a VtMelding at 8011 reaches it
            melding = (EXAMPLES_DIR / "politie/VtMelding.xml").read_text(encoding="utf-8")
            melding = melding.replace("<pol:Postcode>7511AB", "<pol:Postcode>8011AB")
            politie = running.partner("politie")
            await politie.send(fresh(melding.encode()))
            (bevestiging,) = await take(politie, 1)
            assert b"Ontvangstbevestiging" in bevestiging.body, bevestiging.body.decode()
            (ontvangen,) = await drain(ijsselland)
            assert b"<vt:melding" in ontvangen.body
            assert await drain(vt) == []  # VT Twente did not get it
    finally:
        await wijkteam.close()
        await ijsselland.close()
        await delete_topology(vhost, topology)


# --------------------------------------------------------------------------- no literals

PRODUCT = ("gateway", "adapters")


def test_no_product_module_names_a_rol_doel_or_grondslag() -> None:
    """Spec v2 §1: the gateway's code names no rol, no doel and no grondslag of the catalogue
    (docstrings and comments may mention them; string constants in code may not)."""
    names = set(POLICY.typen.rollen) | set(POLICY.doelen)
    names |= {code for d in POLICY.doelen.values() for r in d.grondslagen for code in r.codes}
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(names))) + r")(?![\w-])")
    offenders = []
    for package in PRODUCT:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {
                id(n.body[0].value)
                for n in ast.walk(tree)
                if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and n.body
                and isinstance(n.body[0], ast.Expr)
                and isinstance(n.body[0].value, ast.Constant)
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and pattern.search(node.value)
                ):
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {node.value!r}")
    assert offenders == [], "\n".join(offenders)
    assert load_policy(POLICY_DIR).versie  # the names came from the real policy
