"""Turns per key: one at a time per key in arrival order, side by side otherwise (the gateway
end to end: tests/integration/runtime/test_turns.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import Collection

from gateway.decision.besluit import Feiten, Gelezen, Onbekend, Weigering, ingress
from gateway.runtime.service import AFSPRAKEN, TurnKeys, beurt
from gateway.runtime.turns import Turns
from tests.support.decisions import offline_pipeline
from tests.support.messages import fresh, reeks_id_of
from tests.support.paths import EXAMPLES_DIR

NU = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


class _Run:
    """Tasks that each take a turn, record when they start and hold it until released."""

    def __init__(self, turns: Turns) -> None:
        self.turns = turns
        self.started: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def arrive(self, name: str, keys: Collection[str], shared: Collection[str] = ()) -> None:
        self.release[name] = asyncio.Event()
        self.tasks[name] = asyncio.create_task(self._hold(name, keys, shared))

    async def _hold(self, name: str, keys: Collection[str], shared: Collection[str]) -> None:
        async with self.turns.turn(keys, shared):
            self.started.append(name)
            await self.release[name].wait()

    async def settle(self) -> None:
        """Let every task run until it waits."""
        for _ in range(5):
            await asyncio.sleep(0)

    async def finish(self, name: str) -> None:
        self.release[name].set()
        await self.tasks[name]
        await self.settle()


async def test_one_key_one_at_a_time_in_arrival_order() -> None:
    run = _Run(Turns())
    for name in ("a", "b", "c"):
        run.arrive(name, ["conversatie:1"])
    await run.settle()
    assert run.started == ["a"]
    assert run.turns.waiting == 3
    await run.finish("a")
    assert run.started == ["a", "b"]
    await run.finish("b")
    await run.finish("c")
    assert run.started == ["a", "b", "c"]
    assert run.turns.waiting == 0


async def test_other_keys_go_side_by_side() -> None:
    run = _Run(Turns())
    run.arrive("a", ["conversatie:1"])
    run.arrive("b", ["conversatie:2"])
    run.arrive("c", [])
    await run.settle()
    assert sorted(run.started) == ["a", "b", "c"]
    for name in ("a", "b", "c"):
        await run.finish(name)


async def test_a_message_of_two_keys_waits_for_both_and_keeps_its_place_in_each() -> None:
    """b shares a key with a and one with c: c, though its key is free of a, comes after b,
    which arrived before it; d, of a key of its own, goes at once."""
    run = _Run(Turns())
    run.arrive("a", ["conversatie:1"])
    run.arrive("b", ["conversatie:1", "afspraken"])
    run.arrive("c", ["afspraken"])
    run.arrive("d", ["conversatie:9"])
    await run.settle()
    assert run.started == ["a", "d"]
    await run.finish("a")
    assert run.started == ["a", "d", "b"]
    await run.finish("b")
    assert run.started == ["a", "d", "b", "c"]
    await run.finish("c")
    await run.finish("d")
    assert run.turns.waiting == 0


async def test_a_waiter_that_gives_up_leaves_its_place() -> None:
    run = _Run(Turns())
    run.arrive("a", ["k"])
    run.arrive("b", ["k", "j"])
    run.arrive("c", ["j"])
    await run.settle()
    assert run.started == ["a"]
    run.tasks["b"].cancel()
    await run.settle()
    assert run.started == ["a", "c"]  # b held no turn, c no longer queues behind it
    await run.finish("a")
    await run.finish("c")
    assert run.turns.waiting == 0


async def test_a_repeated_key_counts_once() -> None:
    run = _Run(Turns())
    run.arrive("a", ["k", "k"])
    await run.settle()
    assert run.started == ["a"]
    await run.finish("a")
    assert run.turns.waiting == 0


async def test_shared_go_side_by_side_but_not_past_an_earlier_one_alone() -> None:
    """Readers and writers in arrival order: a and b (shared) together; c (alone) after
    both; d and e (shared), though only readers hold the key when they arrive, after c,
    and then together."""
    run = _Run(Turns())
    run.arrive("a", ["conversatie:1"], shared=["afspraken"])
    run.arrive("b", ["conversatie:2"], shared=["afspraken"])
    run.arrive("c", ["conversatie:3", "afspraken"])
    run.arrive("d", ["conversatie:4"], shared=["afspraken"])
    run.arrive("e", ["conversatie:5"], shared=["afspraken"])
    await run.settle()
    assert run.started == ["a", "b"]
    await run.finish("a")
    assert run.started == ["a", "b"]  # c waits for b too
    await run.finish("b")
    assert run.started == ["a", "b", "c"]  # d and e wait for c
    await run.finish("c")
    assert sorted(run.started[3:]) == ["d", "e"]  # together again
    await run.finish("d")
    await run.finish("e")
    assert run.turns.waiting == 0


async def test_a_shared_key_still_waits_for_its_other_keys() -> None:
    """b takes the afspraken shared beside a, but its conversation is a's: it waits for a;
    c, shared too and of its own conversation, goes at once."""
    run = _Run(Turns())
    run.arrive("a", ["conversatie:1"], shared=["afspraken"])
    run.arrive("b", ["conversatie:1"], shared=["afspraken"])
    run.arrive("c", ["conversatie:2"], shared=["afspraken"])
    await run.settle()
    assert run.started == ["a", "c"]
    await run.finish("a")
    assert run.started == ["a", "c", "b"]
    await run.finish("b")
    await run.finish("c")
    assert run.turns.waiting == 0


async def test_a_key_taken_alone_and_shared_is_taken_alone() -> None:
    run = _Run(Turns())
    run.arrive("a", [], shared=["afspraken"])
    run.arrive("b", ["afspraken"], shared=["afspraken"])
    await run.settle()
    assert run.started == ["a"]
    await run.finish("a")
    assert run.started == ["a", "b"]
    await run.finish("b")
    assert run.turns.waiting == 0


async def test_a_shared_waiter_that_gives_up_lets_the_one_alone_behind_it_go() -> None:
    """b (shared) waits for a (alone) on the afspraken and for x on its conversation; c
    (alone) waits for both. b gives up: c goes when a is done, not waiting for x."""
    run = _Run(Turns())
    run.arrive("x", ["conversatie:9"])
    run.arrive("a", ["afspraken"])
    run.arrive("b", ["conversatie:9"], shared=["afspraken"])
    run.arrive("c", ["afspraken"])
    await run.settle()
    assert run.started == ["x", "a"]
    run.tasks["b"].cancel()
    await run.settle()
    await run.finish("a")
    assert run.started == ["x", "a", "c"]
    await run.finish("c")
    await run.finish("x")
    assert run.turns.waiting == 0


async def test_closed_no_turn_starts_and_those_in_theirs_finish() -> None:
    turns = Turns()
    run = _Run(turns)
    run.arrive("a", ["k"])
    await run.settle()
    closing = asyncio.Event()
    reopen = asyncio.Event()

    async def close() -> None:
        async with turns.closed():
            async with turns.closed():  # nested: open only when the last one leaves
                closing.set()
            await reopen.wait()

    closer = asyncio.create_task(close())
    await closing.wait()
    run.arrive("b", ["j"])
    await run.settle()
    assert run.started == ["a"]  # a keeps its turn, b does not start
    await run.finish("a")
    assert run.started == ["a"]
    reopen.set()
    await closer
    await run.settle()
    assert run.started == ["a", "b"]
    await run.finish("b")


CONVERSATIE = str(uuid.uuid4())


def _example(path: str, bericht_id: str) -> tuple[bytes, str]:
    """The example with this BerichtId in conversation CONVERSATIE, and its sender's OIN."""
    raw = (EXAMPLES_DIR / path).read_bytes()
    afzender = re.search(rb'<kp:Afzender oin="(\d+)"', raw)
    assert afzender is not None
    return fresh(raw, bericht_id=bericht_id, conversatie_id=CONVERSATIE), afzender[1].decode()


def _read(path: str, bericht_id: str) -> tuple[Gelezen, str]:
    raw, oin = _example(path, bericht_id)
    gelezen = offline_pipeline().read(ingress(raw, oin), Feiten(nu=NU))
    assert isinstance(gelezen, Gelezen)
    return gelezen, oin


def test_a_message_takes_turns_by_its_conversation_and_its_berichtid() -> None:
    """A VtMelding is matched against the afspraken (v2 §7): it takes them shared."""
    bericht_id = str(uuid.uuid4())
    gelezen, oin = _read("politie/VtMelding.xml", bericht_id)
    vraag = offline_pipeline().vraag(gelezen)
    assert vraag.sleutels  # its people have a BSN
    assert beurt(vraag) == TurnKeys(
        (f"conversatie:{CONVERSATIE}", f"bericht:{oin}|{bericht_id}"), (AFSPRAKEN,)
    )


def test_a_message_with_nothing_to_match_leaves_the_afspraken_alone() -> None:
    bericht_id = str(uuid.uuid4())
    gelezen, oin = _read("openbaar-ministerie/Adviesaanvraag.xml", bericht_id)
    vraag = offline_pipeline().vraag(gelezen)
    assert not vraag.sleutels
    assert beurt(vraag) == TurnKeys((f"conversatie:{CONVERSATIE}", f"bericht:{oin}|{bericht_id}"))


def test_an_afspraken_versie_takes_the_afspraken_alone() -> None:
    bericht_id = str(uuid.uuid4())
    raw, oin = _example("lokaal-team/Veiligheidsafspraken.xml", bericht_id)
    gelezen = offline_pipeline().read(ingress(raw, oin), Feiten(nu=NU))
    assert isinstance(gelezen, Gelezen)
    vraag = offline_pipeline().vraag(gelezen)
    assert vraag.reeks_id == reeks_id_of(raw)  # fresh() gave it a reeks of its own
    assert beurt(vraag) == TurnKeys(
        (f"conversatie:{CONVERSATIE}", f"bericht:{oin}|{bericht_id}", AFSPRAKEN)
    )


def test_a_refusal_by_what_it_names_and_an_unknown_sender_by_nothing() -> None:
    bericht_id = str(uuid.uuid4())
    raw, oin = _example("politie/VtMelding.xml", bericht_id)
    kapot = raw.replace(b"</kp:Kop>", b"<kp:Onbekend/></kp:Kop>")
    weigering = offline_pipeline().read(ingress(kapot, oin), Feiten(nu=NU))
    assert isinstance(weigering, Weigering)
    assert weigering.bericht is None  # refused before it was read
    assert beurt(weigering) == TurnKeys((f"bericht:{oin}|{bericht_id}",))
    assert beurt(Onbekend(ingress(raw, "00000099000000009999"))) == TurnKeys(())
