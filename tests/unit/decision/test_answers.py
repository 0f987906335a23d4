"""The gateway's answers build their header and body without pydantic's validation, from
values of their fields' types: each is exactly the part ``Model(...)`` builds from them."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.decision import answers
from gateway.decision.besluit import Aanvaarding, Feiten, ingress
from gateway.domain.model import (
    KETENPOORT,
    Bericht,
    Doelbinding,
    Kop,
    Ontvangstbevestiging,
    Partij,
    Routeringsregel,
    TechnischType,
)
from tests.support.catalogue import POLICY
from tests.support.decisions import offline_pipeline
from tests.support.models import assert_same_build
from tests.support.paths import EXAMPLES_DIR
from tests.support.strategies import MESSAGE_CODEC

NU = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
GATEWAY = "00000009999999999999"


@pytest.mark.parametrize("conversatie_id", [None, "0b7e1c7a-4f7e-4d38-9a5e-3f1d2c9b8a70"])
@pytest.mark.parametrize("doelbinding", [None, Doelbinding(doel="d", grondslagen=("g1", "g2"))])
def test_answer_kop_is_the_validated_kop(
    conversatie_id: str | None, doelbinding: Doelbinding | None
) -> None:
    ontvanger = Partij(oin="00000001234567890000", rol="politie")
    built = answers.answer_kop(
        TechnischType.ONTVANGSTBEVESTIGING,
        GATEWAY,
        ontvanger=ontvanger,
        in_antwoord_op="5d0c8a1e-2b7f-4c1a-9e3d-7f6b5a4c3d2e",
        conversatie_id=conversatie_id,
        doelbinding=doelbinding,
        now=NU,
    )
    straight = Kop(
        bericht_id=built.bericht_id,
        conversatie_id=built.conversatie_id,
        in_antwoord_op="5d0c8a1e-2b7f-4c1a-9e3d-7f6b5a4c3d2e",
        berichttype=TechnischType.ONTVANGSTBEVESTIGING,
        afzender=Partij(oin=GATEWAY, rol=KETENPOORT),
        ontvangers=(ontvanger,),
        doelbinding=doelbinding,
        tijdstip=NU,
    )
    assert_same_build(built, straight)
    if conversatie_id is not None:
        assert built.conversatie_id == conversatie_id
    assert built.bericht_id != built.conversatie_id


def test_an_answer_without_recipient_names_none() -> None:
    built = answers.answer_kop(
        TechnischType.FOUTBERICHT,
        GATEWAY,
        ontvanger=None,
        in_antwoord_op=None,
        conversatie_id=None,
        doelbinding=None,
        now=NU,
    )
    assert built.ontvangers == ()
    assert_same_build(
        built,
        Kop(
            bericht_id=built.bericht_id,
            conversatie_id=built.conversatie_id,
            in_antwoord_op=None,
            berichttype=TechnischType.FOUTBERICHT,
            afzender=Partij(oin=GATEWAY, rol=KETENPOORT),
            ontvangers=(),
            doelbinding=None,
            tijdstip=NU,
        ),
    )


def _accepted() -> list[tuple[str, Aanvaarding]]:
    """Every example the pipeline accepts in a conversation all partners took part in."""
    pipeline = offline_pipeline()
    feiten = Feiten(nu=NU, deelnemers=frozenset(POLICY.partners), overdracht="lopend")
    found = []
    for path in sorted(EXAMPLES_DIR.glob("*/*.xml")):
        raw = path.read_bytes()
        oin = MESSAGE_CODEC.read_envelope(raw).kop.afzender.oin
        besluit = pipeline.route(ingress(raw, oin), feiten)
        if isinstance(besluit, Aanvaarding):
            found.append((f"{path.parent.name}/{path.stem}", besluit))
    return found


ACCEPTED = _accepted()


def test_all_but_the_answers_are_accepted_here() -> None:
    """An answer (v2 §6: OverdrachtReactie, Informatieantwoord, …) needs its question asked
    in the conversation; every other example is accepted with these facts."""
    examples = list(EXAMPLES_DIR.glob("*/*.xml"))
    answers_to_questions = [p for p in examples if POLICY.berichten[p.stem].antwoord_op]
    assert len(ACCEPTED) == len(examples) - len(answers_to_questions) > 20


@pytest.mark.parametrize(("naam", "besluit"), ACCEPTED, ids=[n for n, _ in ACCEPTED])
def test_the_ontvangstbevestiging_body_is_the_validated_one(
    naam: str, besluit: Aanvaarding
) -> None:
    """Built from the routing, and what the sender reads back from the answer's bytes."""
    routering = besluit.gerouteerd.routering
    uiterste = NU + dt.timedelta(hours=4)
    built = answers.ontvangen_door(routering, uiterste)
    partij = {
        o.partner.oin: Partij(oin=o.partner.oin, rol=o.partner.rol) for o in routering.ontvangers
    }
    straight = Ontvangstbevestiging(
        ontvangers=list(partij.values()),
        uiterste_beslismoment=uiterste,
        regels=[
            Routeringsregel(
                nummer=r.nummer,
                naar=r.naar,
                verplicht=r.verplicht,
                ontvangers=[partij[oin] for oin in r.ontvangers],
                ontbreekt=r.ontbreekt,
            )
            for r in routering.regels
        ],
    )
    assert_same_build(built, straight)
    assert built.regels, naam  # every accepted message applied a rule
    teruggelezen = MESSAGE_CODEC.read(besluit.antwoord)
    assert isinstance(teruggelezen.inhoud, Ontvangstbevestiging)
    assert teruggelezen.inhoud.ontvangers == straight.ontvangers
    assert teruggelezen.inhoud.regels == straight.regels
    assert teruggelezen.kop.in_antwoord_op == besluit.gerouteerd.gelezen.bericht.kop.bericht_id
    assert isinstance(teruggelezen, Bericht)
