"""The catalogue is data (issue #12, spec v2 §1): a new rol with its native vocabulary, a
partner of it, a doel with its grondslagen and a BerichtType are added in a copy of the policy
and vocabulary folders (the rol is not one of the spec's: v2 §2's lokaal-team is in the default
policy since issue #14, so the test adds the jeugdgezondheidszorg) — no Python file changes —
and a message of that type is validated, routed and delivered through the real RabbitMQ; a
third Veilig Thuis regio is a register entry and a postcode range that routing then finds.

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

JGZ = "00000099000000000115"  # a JGZ team: not in v2, a register entry here
VT_IJSSELLAND = "00000099000000000114"  # a third VT regio: not in v2, a register entry here
VOCABULARIES = REPO_ROOT / "adapters" / "vocabularies"


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (path.name, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def extended_catalogue(work: Path) -> tuple[Path, Path]:
    """Copies of policy/v1 and the vocabularies with: rol jeugdgezondheidszorg, its partner and
    vocabulary, doel JGZ_SIGNALERING with grondslagen, BerichtType Jgzsignaal (VT receives it),
    and a third VT regio for postcodes 8000-8099. Data only."""
    policy, vocab = work / "policy", work / "vocabularies"
    shutil.copytree(POLICY_DIR, policy)
    shutil.copytree(VOCABULARIES, vocab)
    _replace(
        policy / "catalogus.yaml",
        "rollen:\n",
        "rollen:\n  jeugdgezondheidszorg:\n    naam: Jeugdgezondheidszorg\n",
    )
    _replace(
        policy / "partners.yaml",
        "partners:\n",
        f'partners:\n  - oin: "{JGZ}"\n    rol: jeugdgezondheidszorg\n    naam: JGZ Twente\n'
        f'  - oin: "{VT_IJSSELLAND}"\n    rol: veilig-thuis\n    naam: Veilig Thuis IJsselland\n',
    )
    _append(policy / "partners.yaml", f'  - van: 8000\n    tot: 8099\n    oin: "{VT_IJSSELLAND}"\n')
    _append(
        policy / "doelen.yaml",
        """
  JGZ_SIGNALERING:
    omschrijving: De jeugdgezondheidszorg meldt Veilig Thuis wat zij ziet
    grondslagen:
      - {afzender: jeugdgezondheidszorg, codes: [WPG-ART-5.6]}
    bewaartermijn_dagen: 1825
    ontvangers:
      veilig-thuis:
        categorieen: [identificatie, contact, veiligheid, proces]
""",
    )
    _append(
        policy / "typen.yaml",
        """
  Jgzsignaal:
    omschrijving: De JGZ meldt Veilig Thuis wat zij ziet.
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
  Jgzsignaal:
    afzenders: [jeugdgezondheidszorg]
    doelen: [JGZ_SIGNALERING]
    routes:
      - naar: veilig-thuis
        regio: adres.postcode
    vrije_tekst:
      toelichting: [veiligheid]
""",
    )
    (vocab / "jeugdgezondheidszorg.yaml").write_text(
        """rol: jeugdgezondheidszorg
namespace: urn:ketenpoort:jgz:1
prefix: jgz
stijl: kebab
sends:
  - Jgzsignaal
receives: []
""",
        encoding="utf-8",
    )
    _replace(vocab / "veilig_thuis.yaml", "receives:\n", "receives:\n  - Jgzsignaal\n")
    return policy, vocab


JGZSIGNAAL = """<?xml version="1.0" encoding="UTF-8"?>
<kp:Bericht xmlns:kp="urn:ketenpoort:envelop:1">
  <kp:Kop>
    <kp:BerichtId>{id}</kp:BerichtId>
    <kp:ConversatieId>{id}</kp:ConversatieId>
    <kp:BerichtType>Jgzsignaal</kp:BerichtType>
    <kp:Versie>1</kp:Versie>
    <kp:Afzender oin="{oin}" rol="jeugdgezondheidszorg"/>
    <kp:Doelbinding>
      <kp:Doel>JGZ_SIGNALERING</kp:Doel>
      <kp:Grondslag>WPG-ART-5.6</kp:Grondslag>
    </kp:Doelbinding>
    <kp:Tijdstip>2026-11-30T10:00:00+01:00</kp:Tijdstip>
  </kp:Kop>
  <kp:Inhoud>
    <jgz:jgzsignaal xmlns:jgz="urn:ketenpoort:jgz:1">
      <jgz:dossier>JGZ-2026-0042</jgz:dossier>
      <jgz:adres><jgz:straat>Lindelaan</jgz:straat><jgz:huisnummer>12</jgz:huisnummer><jgz:postcode>{postcode}</jgz:postcode><jgz:plaats>Enschede</jgz:plaats></jgz:adres>
      <jgz:veiligheidsschaal>6</jgz:veiligheidsschaal>
      <jgz:toelichting>Jan komt niet meer op het consultatiebureau.</jgz:toelichting>
    </jgz:jgzsignaal>
  </kp:Inhoud>
</kp:Bericht>
"""


def test_the_extended_catalogue_loads_and_changes_no_other_partners_schema(tmp_path: Path) -> None:
    policy_dir, vocab = extended_catalogue(tmp_path)
    settings = local_settings(
        tmp_path, "amqp://unused", policy_dir=policy_dir, vocabulary_dir=vocab
    )
    codec, policy = catalogue(settings)
    assert "jeugdgezondheidszorg" in policy.typen.rollen
    assert policy.partners[JGZ].rol == "jeugdgezondheidszorg"
    assert policy.doelen["JGZ_SIGNALERING"].acceptabel("jeugdgezondheidszorg", "veilig-thuis")
    assert "Jgzsignaal" in policy.typen
    # the new type changes the schemas of its sender and recipient only
    before = load_typen(POLICY_DIR)
    for rol, adapter in codec.by_rol.items():
        if rol in ("jeugdgezondheidszorg", "veilig-thuis"):
            continue
        for richting in Richting:
            assert generate(adapter.partner, richting, policy.typen) == generate(
                adapter.partner, richting, before
            ), (rol, richting)
    vt = codec.by_rol["veilig-thuis"].partner
    assert b"jgzsignaal" in generate(vt, Richting.ONTVANGEN, policy.typen)
    assert b"jgzsignaal" not in generate(vt, Richting.VERZENDEN, policy.typen)


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
    add_partners(vhost, [JGZ, VT_IJSSELLAND])
    topology = Topology(
        settings.amqp_prefix, (*OINS.values(), JGZ, VT_IJSSELLAND), settings.retry_delays_ms
    )
    jgz = RabbitPartner(JGZ, vhost, topology)
    ijsselland = RabbitPartner(VT_IJSSELLAND, vhost, topology)
    try:
        async with run_gateway(settings, vhost) as running:
            await jgz.connect()
            await ijsselland.connect()
            # 1. the new type from the new rol: validated, routed by postcode to VT Twente
            raw = JGZSIGNAAL.format(id=uuid.uuid4(), oin=JGZ, postcode="7511AB")
            await jgz.send(raw.encode())
            (answer,) = await take(jgz, 1)
            bericht = codec.read(answer.body)
            assert isinstance(bericht.inhoud, Ontvangstbevestiging), answer.body.decode()
            assert [o.oin for o in bericht.inhoud.ontvangers] == [OINS["vt-twente"]]
            vt = running.partner("vt-twente")
            (delivered,) = await drain(vt)  # published before the answer: there now
            text = delivered.body.decode()
            assert "<vt:jgzsignaal" in text
            assert "niet meer op het consultatiebureau" in text  # veiligheid: VT is granted it
            assert "<kp:Grondslag>WPG-ART-5.6</kp:Grondslag>" in text

            # 2. an unmapped postcode of the new type: GEEN_ONTVANGER, nothing delivered
            raw = JGZSIGNAAL.format(id=uuid.uuid4(), oin=JGZ, postcode="9999ZZ")
            await jgz.send(raw.encode())
            (refused,) = await take(jgz, 1)
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
        await jgz.close()
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
