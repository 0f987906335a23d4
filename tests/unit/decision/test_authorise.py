"""One authorisation, from the policy only, on the Kop before the body is read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.codec.envelope import MessageCodec
from gateway.domain.errors import Refused
from gateway.domain.model import BerichtType, Foutcode, Rol
from gateway.policy.catalogue import FILES, PolicyError, load_policy
from tests.support.decisions import decide
from tests.support.messages import line_of
from tests.support.paths import EXAMPLES_DIR, POLICY_DIR

VT_MELDING = "politie/VtMelding.xml"


def example(rel: str) -> str:
    return (EXAMPLES_DIR / rel).read_text(encoding="utf-8")


def refused(text: str, oin: str) -> Refused:
    with pytest.raises(Refused) as caught:
        decide(text.encode(), oin)
    return caught.value


@pytest.mark.parametrize(
    ("rel", "oin", "rol"),
    [
        (VT_MELDING, "00000099000000000102", "veilig-thuis"),
        ("openbaar-ministerie/OmBeslissing.xml", "00000099000000000101", "politie"),
    ],
)
def test_afzender_niet_geautoriseerd_whatever_the_body_format(rel: str, oin: str, rol: str) -> None:
    """The Kop settles it: a rol that may not send this type (spec §6), in any format."""
    text = example(rel)
    original = re.search(r"<kp:Afzender ([^/]*)/>", text)
    assert original is not None
    text = text.replace(original.group(1), f'oin="{oin}" rol="{rol}"', 1)
    exc = refused(text, oin)
    assert exc.code is Foutcode.AFZENDER_NIET_GEAUTORISEERD
    assert exc.element == "kp:BerichtType"
    assert exc.regel == line_of(text, "<kp:BerichtType>")
    assert f"rol {rol} may not send a " in exc.reden


def test_afzender_niet_geautoriseerd_body_the_sender_only_receives() -> None:
    """politie receives a Terugkoppeling but may not send one: refused on the Kop."""
    text = example(VT_MELDING).replace("pol:VTMelding", "pol:Terugkoppeling")
    text = text.replace("<kp:BerichtType>VtMelding<", "<kp:BerichtType>Terugkoppeling<", 1)
    exc = refused(text, "00000099000000000101")
    assert exc.code is Foutcode.AFZENDER_NIET_GEAUTORISEERD
    assert exc.element == "kp:BerichtType"
    assert exc.regel == line_of(text, "<kp:BerichtType>")


def test_the_codec_alone_reads_the_format_and_does_not_authorise() -> None:
    """Reading checks the format only; the same message is readable, not sendable."""
    text = example(VT_MELDING).replace("pol:VTMelding", "pol:Terugkoppeling")
    text = text.replace("<kp:BerichtType>VtMelding<", "<kp:BerichtType>Terugkoppeling<", 1)
    with pytest.raises(Refused) as caught:
        MessageCodec().read(text.encode())
    assert caught.value.code is Foutcode.SCHEMA_ONGELDIG
    assert "receives" in caught.value.reden


@pytest.mark.parametrize("berichttype", ["Ontvangstbevestiging", "Foutbericht"])
def test_only_the_gateway_sends_its_answers(berichttype: str) -> None:
    text = example(VT_MELDING).replace(
        "<kp:BerichtType>VtMelding<", f"<kp:BerichtType>{berichttype}<", 1
    )
    exc = refused(text, "00000099000000000101")
    assert exc.code is Foutcode.AFZENDER_NIET_GEAUTORISEERD
    assert exc.reden == f"only the gateway sends a {berichttype}"


def test_afzender_onjuist_when_the_kop_names_another_partner() -> None:
    exc = refused(example(VT_MELDING), "00000099000000000103")
    assert exc.code is Foutcode.AFZENDER_ONJUIST
    assert exc.element == "kp:Afzender"


def test_policy_check_refuses_a_sender_its_adapter_cannot_read(tmp_path: Path) -> None:
    """A rol allowed to send a type its format cannot express: refused at start, with line."""
    for name in FILES:
        (tmp_path / name).write_text((POLICY_DIR / name).read_text())
    berichten = tmp_path / "berichten.yaml"
    text = berichten.read_text()
    text = text.replace(
        "  VtMelding:\n    afzenders: [politie]",
        "  VtMelding:\n    afzenders: [politie, reclassering]",
        1,
    )
    berichten.write_text(text)
    doelen = tmp_path / "doelen.yaml"  # a grondslag for it, so only the adapter is missing
    doelen.write_text(
        doelen.read_text().replace(
            "      - {afzender: veilig-thuis, codes: [WMO2015-ART-4.1.1]}\n",
            "      - {afzender: veilig-thuis, codes: [WMO2015-ART-4.1.1]}\n"
            "      - {afzender: reclassering, codes: [BR-ART-14]}\n",
            1,
        )
    )
    readable = MessageCodec().readable()
    assert BerichtType.VT_MELDING not in readable[Rol.RECLASSERING]
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path, leesbaar=readable)
    assert caught.value.file == "berichten.yaml"
    assert caught.value.line == line_of(text, "    afzenders: [politie, reclassering]")
    assert "reclassering may send VtMelding but its adapter cannot read" in caught.value.problem
    load_policy(tmp_path)  # without the adapters' view, the policy alone is consistent


def test_the_shipped_policy_and_adapters_agree() -> None:
    load_policy(POLICY_DIR, leesbaar=MessageCodec().readable())
