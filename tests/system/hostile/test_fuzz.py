"""Bounded fuzzing of everything the gateway does with a message's bytes before any I/O.

Inputs are random mutations of the example messages (byte flips, truncation, insertion of
hostile snippets, duplicated / removed / moved lines, which in the examples are elements,
and replaced text and attribute values), plus plain random bytes. The targets:

- :func:`gateway.safexml.xmlsafe.parse`, the one XML parser;
- :meth:`gateway.codec.envelope.MessageCodec.read` (envelope and partner XSDs, the adapters'
  parsing) and, for what it accepts, rendering back in the sender's format and in the format
  of every partner that receives the type (the adapters' rendering and receive XSDs), which
  must not fail at all: what the sender's schema accepts, every format carries;
- :meth:`gateway.decision.pipeline.Pipeline.route`: read, authorise, doelbinding, route,
  need-to-know filter, render, with the real policy (as the partner whose example was mutated).

The only exception allowed is :class:`gateway.domain.errors.Refused` (it becomes a Foutbericht);
anything else would escape the gateway's consumer and leave the message unanswered. Every
example must finish within the deadline (no hang, no super-linear blow-up). The run is bounded
by ``max_examples``: about 15 s in all (a longer fuzzing campaign is not this file's job).
Hypothesis statistics (``--hypothesis-show-statistics``) show how far the inputs get.

A bug the fuzzing found stays found: its inputs get a strict-xfail regression test and are
kept out of the fuzzing (:func:`known_bug`) so that it looks for new ones.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gateway.codec.envelope import MessageCodec
from gateway.decision.besluit import Aanvaarding
from gateway.decision.routing import Gevraagd
from gateway.domain.errors import Refused
from gateway.domain.model import Foutcode, Inhoud
from gateway.safexml import xmlsafe
from tests.support import catalogue
from tests.support.decisions import decide
from tests.support.hostile_corpus import EXAMPLES_DIR

FUZZ = settings(
    max_examples=4000,
    deadline=dt.timedelta(seconds=1),  # a refusal takes microseconds, a full decision ~5 ms
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

EXAMPLES = {
    str(path.relative_to(EXAMPLES_DIR)): path.read_bytes()
    for path in sorted(EXAMPLES_DIR.glob("*/*.xml"))
}

SNIPPETS = [
    b'<!DOCTYPE kp:Bericht [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE kp:Bericht SYSTEM "http://127.0.0.1:9/x.dtd">',
    b"<!DOCTYPE kp:Bericht [<!ENTITY % p \"<!ENTITY e 'x'>\"> %p;]>",
    b"&e;",
    b"&amp;",
    b"&#0;",
    b"&#x1B;",
    b"&#xFFFE;",
    b"&#1114112;",
    b"<![CDATA[<x>&e;</x>]]>",
    b"]]>",
    b"<!--",
    b"-->",
    b"<!-- x -->",
    b"<?pi x?>",
    b'<?xml version="1.0" encoding="ISO-8859-1"?>',
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>',
    b"<a>" * 40,
    b"<a>" * 300,
    b"\x00",
    b"\x01",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xc0\xbc",
    b"\xed\xa0\x80",
    b"\xe2\x80\xae",
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"',
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xsi:string"',
    b' xmlns="urn:ketenpoort:vt:1"',
    b' xmlns:pol="urn:ketenpoort:om:1"',
    b' xml:space="preserve"',
    b' id="p1"',
    b' rol="KIND"',
    b'<kp:Ontvanger oin="00000099000000000106" rol="veilig-thuis"/>',
    b"<kp:Prioriteit>spoed</kp:Prioriteit>",
    b"</kp:Inhoud><kp:Inhoud>",
    b"<kp:Afleverbevestiging/>",
]

# Values that reach the adapters' converters and the routing rules once the XSD passes.
VALUES = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "99999999999999999999",
    "000000000",
    "999990019",
    "999999999",
    "0001-01-01",
    "9999-12-31",
    "2026-02-29",
    "2028-02-29",
    "2026-11-20T24:00:00+01:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2026-11-20T23:30:00.999999+01:00",
    "2026-11-20T23:30:00Z",
    "P0D",
    "P99999999999Y",
    "PT1H",
    "-P1Y",
    "true",
    "1",
    "false",
    "7400AA",
    "3299 ZZ",
    "9999ZZ",
    "HG",
    "hg",
    "7+",
    "8",
    "ketenpoort",
    "politie",
]

XML_CHARACTERS = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"
)
TEXT = re.compile(rb">([^<>]*)<")
ATTRIBUTE = re.compile(rb'\s(?!xmlns)[\w:\-]+="([^"]*)"')  # values, not namespace names
Mutation = Callable[[st.DrawFn, bytes], bytes]

# Every value of every example, and the tricky ones: a date lands in another date field, a
# code in another code list, a BSN where a reference was; many such inputs pass the XSDs.
POOL = sorted(
    {
        *VALUES,
        *(
            m.group(1).decode("utf-8")
            for data in EXAMPLES.values()
            for pattern in (TEXT, ATTRIBUTE)
            for m in pattern.finditer(data, data.find(b"?>") + 2)
        ),
    }
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """(example, its bytes after 1-4 random mutations)."""
    rel = draw(st.sampled_from(sorted(EXAMPLES)))
    data = EXAMPLES[rel]
    # Half of the inputs change values only: they keep the structure, so many get past the
    # parser and the XSDs into the adapters' converters, the rules and routing.
    values_only = draw(st.booleans())
    kinds = VALUE_MUTATIONS if values_only else MUTATIONS
    for _ in range(draw(st.integers(1, 2 if values_only else 4))):
        data = draw(st.sampled_from(kinds))(draw, data)
    return rel, data


def _at(draw: st.DrawFn, data: bytes) -> int:
    return draw(st.integers(0, len(data)))


def _flip(draw: st.DrawFn, data: bytes) -> bytes:
    if not data:
        return data
    i = draw(st.integers(0, len(data) - 1))
    return data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]


def _truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[: _at(draw, data)]


def _insert_snippet(draw: st.DrawFn, data: bytes) -> bytes:
    i = _at(draw, data)
    return data[:i] + draw(st.sampled_from(SNIPPETS)) + data[i:]


def _insert_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    i = _at(draw, data)
    return data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]


def _lines(draw: st.DrawFn, data: bytes) -> tuple[list[bytes], int]:
    lines = data.split(b"\n")
    return lines, draw(st.integers(0, len(lines) - 1))


def _duplicate_line(draw: st.DrawFn, data: bytes) -> bytes:
    lines, i = _lines(draw, data)
    lines.insert(i, lines[i])
    return b"\n".join(lines)


def _remove_line(draw: st.DrawFn, data: bytes) -> bytes:
    lines, i = _lines(draw, data)
    del lines[i]
    return b"\n".join(lines)


def _move_line(draw: st.DrawFn, data: bytes) -> bytes:
    lines, i = _lines(draw, data)
    line = lines.pop(i)
    lines.insert(draw(st.integers(0, len(lines))), line)
    return b"\n".join(lines)


def _replace(pattern: re.Pattern[bytes]) -> Mutation:
    def replace(draw: st.DrawFn, data: bytes) -> bytes:
        prolog = data.find(b"?>") + 2  # not the XML declaration's version and encoding
        spans = [m.span(1) for m in pattern.finditer(data, prolog)]
        if not spans:
            return data
        start, end = draw(st.sampled_from(spans))
        value = draw(st.one_of(st.sampled_from(POOL), st.text(XML_CHARACTERS, max_size=12)))
        escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        return data[:start] + escaped.encode("utf-8") + data[end:]

    return replace


MUTATIONS: list[Mutation] = [
    _flip,
    _truncate,
    _insert_snippet,
    _insert_bytes,
    _duplicate_line,
    _remove_line,
    _move_line,
    _replace(TEXT),
    _replace(ATTRIBUTE),
]
VALUE_MUTATIONS: list[Mutation] = [_replace(TEXT), _replace(ATTRIBUTE)]


# --------------------------------------------------------------------------- found by fuzzing


@pytest.mark.parametrize(
    "data",
    [
        b"<!",
        b"<!" + b" " * 10 + b"<r/>",
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!\n\n\n\n\n\n\n\n\n\n<kp:Bericht/>',
        b"<!-- -->\n<!\t\t\t\t\t\t\t\t\t\t\t",
    ],
    ids=["bare", "blanks-then-root", "after-declaration", "after-comment"],
)
def test_found_by_fuzzing_empty_markup_declaration(data: bytes) -> None:
    with pytest.raises(Refused) as caught:
        xmlsafe.parse(data)
    assert caught.value.code is Foutcode.XML_ONGELDIG


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def codec() -> MessageCodec:
    return catalogue.CODEC


def _sender(rel: str) -> str:
    """The OIN that sends an example: the first partner of the rol of its folder."""
    return catalogue.POLICY.partners_met_rol(Path(rel).parent.name)[0].oin


def _vragen(data: bytes, sender: str) -> list[tuple[Gevraagd, ...]]:
    """The routing memory an example may meet: for an answer (v2 §6), the question its
    InAntwoordOp names, asked by any partner (not the sender) of a rol its routes answer;
    for anything else, no question."""
    bericht = catalogue.CODEC.read(data)
    regel = catalogue.POLICY.berichten[bericht.kop.berichttype]
    if not regel.antwoord_op or bericht.kop.doelbinding is None:
        return [()]
    doel = bericht.kop.doelbinding.doel
    return [
        (Gevraagd(p.oin, regel.antwoord_op[0], doel),)
        for p in catalogue.POLICY.vragers(bericht.kop.berichttype, sender)
    ]


def _accepted(data: bytes, sender: str) -> Aanvaarding:
    """The seed's decision in a conversation every partner took part in, with an Overdracht
    lopend and, for an answer, the first question that routes it."""
    refused: Refused | None = None
    for gevraagd in _vragen(data, sender):
        try:
            return decide(
                data,
                sender,
                deelnemers=frozenset(catalogue.POLICY.partners),
                overdracht="lopend",
                gevraagd=gevraagd,
            )
        except Refused as exc:
            refused = exc
    assert refused is not None
    raise refused


def test_every_seed_is_a_valid_message() -> None:
    """Control: every refusal in the fuzzing is caused by a mutation. Each seed is accepted in
    a conversation every partner took part in, with an Overdracht lopend and, for an answer,
    its question."""
    senders = {str(r) for regel in catalogue.POLICY.berichten.values() for r in regel.afzenders}
    assert {Path(rel).parent.name for rel in EXAMPLES} == senders  # every sending rol seeds
    for rel, data in EXAMPLES.items():
        besluit = _accepted(data, _sender(rel))
        assert besluit.bericht.kop.berichttype == Path(rel).stem
        assert besluit.leveringen, rel


# --------------------------------------------------------------------------- targets


@FUZZ
@given(st.one_of(mutated().map(lambda pair: pair[1]), st.binary(max_size=2048)))
def test_safe_parser_only_refuses(data: bytes) -> None:
    try:
        xmlsafe.parse(data)
    except Refused as refused:
        event(f"refused {refused.code.value}")
    else:
        event("parsed")


@FUZZ
@given(mutated())
def test_codec_read_and_render_only_refuse(codec: MessageCodec, case: tuple[str, bytes]) -> None:
    _, data = case
    try:
        bericht = codec.read(data)
    except Refused as refused:
        event(f"refused {refused.code.value}")
        return
    event("read")
    if not isinstance(bericht.inhoud, Inhoud):
        return  # a technical message (Afleverbevestiging …): nothing to render
    codec.write(bericht)  # back in the sender's own format, against its send schema
    for rol in sorted(catalogue.TYPEN.rollen):
        if bericht.kop.berichttype in codec.by_rol[rol].partner.receives:
            codec.write(bericht, voor=rol)  # every receiving format, its receive schema


@FUZZ
@given(mutated())
def test_the_whole_decision_only_refuses(case: tuple[str, bytes]) -> None:
    rel, data = case
    try:
        besluit = decide(data, _sender(rel))
    except Refused as refused:
        event(f"refused {refused.code.value}")
    else:
        event(f"delivered to {len(besluit.leveringen)}")
