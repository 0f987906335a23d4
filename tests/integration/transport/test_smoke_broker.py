"""One message through the real broker, end to end."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import Ontvangstbevestiging
from tests.support.broker import OINS
from tests.support.gateways import Running
from tests.support.messages import fresh
from tests.support.partners import drain, inbox_until_answered, split

pytestmark = pytest.mark.broker


async def test_vtmelding_reaches_veilig_thuis_twente_only(
    gateway: Running, example_bytes: Callable[[str], bytes], codec: MessageCodec
) -> None:
    politie = gateway.partner("politie")
    raw = fresh(example_bytes("politie/VtMelding.xml"))
    await politie.send(raw)
    own, politie_answers = await inbox_until_answered(politie)
    assert own == []
    assert len(politie_answers) == 1
    answer = codec.read(politie_answers[0].body)
    assert isinstance(answer.inhoud, Ontvangstbevestiging)
    assert [o.oin for o in answer.inhoud.ontvangers] == [OINS["vt-twente"]]
    # the delivery is confirmed before the answer is published: the inbox is final now
    deliveries, answers = split(await drain(gateway.partner("vt-twente")))
    assert answers == []
    assert len(deliveries) == 1
    assert b"<vt:melding" in deliveries[0].body
    for other in ("om", "rvdk", "reclassering", "vt-rijnmond"):
        assert await drain(gateway.partner(other)) == [], other
