"""One message through the real broker, end to end."""

from __future__ import annotations

from collections.abc import Callable

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import Ontvangstbevestiging
from tests.conftest import Running, fresh
from tests.support.broker import OINS, split


async def test_vtmelding_reaches_veilig_thuis_twente_only(
    gateway: Running, example_bytes: Callable[[str], bytes], codec: MessageCodec
) -> None:
    politie = gateway.partner("politie")
    raw = fresh(example_bytes("politie/VtMelding.xml"))
    await politie.send(raw)
    deliveries, _ = split(await gateway.partner("vt-twente").inbox(settle=1.0))
    assert len(deliveries) == 1
    assert b"<vt:melding" in deliveries[0].body
    _, politie_answers = split(await politie.inbox())
    assert len(politie_answers) == 1
    answer = codec.read(politie_answers[0].body)
    assert isinstance(answer.inhoud, Ontvangstbevestiging)
    assert [o.oin for o in answer.inhoud.ontvangers] == [OINS["vt-twente"]]
    for other in ("om", "rvdk", "reclassering", "vt-rijnmond"):
        assert await gateway.partner(other).inbox(settle=0.1) == []
