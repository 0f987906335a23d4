"""The compiled parsers of ``adapters.codec`` build the canonical body without validating it
again (``bouwer``, as ``gevalideerd``): the same body, part by part, as building it with pydantic's
validation from the values read, for every example and for generated bodies of every type a
partner sends."""

from __future__ import annotations

import linecache
import re
import traceback
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic.fields import FieldInfo

from adapters.codec import Codec, _ParserSource
from gateway.domain.errors import Refused
from gateway.domain.model import BerichtType, Foutcode, Inhoud, Kind, Leaf, Node, Rol
from gateway.safexml import xmlsafe
from tests.support.catalogue import ADAPTERS, TYPEN
from tests.support.models import assert_same_build, validated
from tests.support.strategies import (
    MESSAGE_CODEC,
    SENT,
    codec_for,
    example_id,
    examples,
    inhoud,
    pair_id,
)

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("path", examples(), ids=example_id)
def test_an_example_is_parsed_as_validation_builds_it(path: Path) -> None:
    bericht = MESSAGE_CODEC.read(path.read_bytes())
    if not isinstance(bericht.inhoud, Inhoud):
        pytest.skip("a technical body is built by the envelope codec, with validation")
    assert_same_build(bericht.inhoud, validated(bericht.inhoud))


@pytest.mark.parametrize(("rol", "berichttype"), SENT, ids=[pair_id(p) for p in SENT])
@PROPERTY
@given(data=st.data())
def test_a_generated_body_is_parsed_as_validation_builds_it(
    rol: Rol, berichttype: BerichtType, data: st.DataObject
) -> None:
    canonical = data.draw(inhoud(berichttype), label="inhoud")
    element = xmlsafe.parse(etree.tostring(ADAPTERS[rol].render(canonical), encoding="UTF-8"))
    parsed = ADAPTERS[rol].parse(element)
    assert_same_build(parsed, validated(parsed))
    assert parsed == canonical


def _leaves(nodes: tuple[Node, ...]) -> list[Leaf]:
    found: list[Leaf] = []
    for node in nodes:
        if isinstance(node, Leaf):
            found.append(node)
        else:
            found.extend(_leaves(node.children))
    return found


@pytest.mark.parametrize(("rol", "berichttype"), SENT, ids=[pair_id(p) for p in SENT])
def test_every_code_a_parser_reads_is_a_value_of_its_list(
    rol: Rol, berichttype: BerichtType
) -> None:
    """What makes building without validation safe for codes: a native spelling maps only to
    a canonical value of the leaf's list (the model's ``Literal``)."""
    vocabulary = codec_for(rol, berichttype).vocabulary
    for leaf in _leaves(TYPEN[berichttype].children):
        if leaf.kind is Kind.CODE:
            assert leaf.codes is not None
            assert set(vocabulary.codes(leaf, sendable_only=False).values()) <= set(
                leaf.codes.waarden
            )


@pytest.mark.parametrize(("rol", "berichttype"), SENT, ids=[pair_id(p) for p in SENT])
def test_generated_source_splices_in_no_vocabulary_text_and_is_kept_for_tracebacks(
    rol: Rol, berichttype: BerichtType
) -> None:
    """The generated parser and composers name tags, markup, attributes and converters as
    constants of their namespace: no element name, namespace or code of the vocabulary is
    text of the source (so nothing a vocabulary file says can change the code), and the
    source is in :mod:`linecache` under the function's file name."""
    codec = codec_for(rol, berichttype)
    codec.compose(validated_empty(codec), level=2)  # an indented composer is made when asked
    functions = {
        "parser": codec._parse,
        "composer": codec._compose,
        "indented composer": codec._indented[2],
    }
    for what, function in functions.items():
        code = function.__code__
        source = "".join(linecache.getlines(code.co_filename))
        assert code.co_filename.startswith(f"<ketenpoort {what.split()[-1]} "), what
        assert code.co_filename.count(" indented ") == what.count("indented"), what
        assert f"def {code.co_name}(" in source, what
        assert codec.vocabulary.namespace not in source, what
        assert f"<{codec.vocabulary.prefix}:" not in source, what
        assert f"</{codec.vocabulary.prefix}:" not in source, what
    parser = "".join(linecache.getlines(codec._parse.__code__.co_filename))
    assert '"' not in parser.replace('.text or ""', "")  # no string literal but the empty text


def validated_empty(codec: Codec) -> Inhoud:
    body = codec.model()
    assert isinstance(body, Inhoud)
    return body


def test_a_refusal_inside_a_parser_has_a_traceback_with_its_source_lines() -> None:
    path = next(p for p in examples() if p.name == "VtMelding.xml")
    text = path.read_text("utf-8")
    bad = re.sub(r"(<\w+:BSN>)\d{9}<", r"\g<1>123456789<", text, count=1)
    assert bad != text
    with pytest.raises(Refused) as caught:
        MESSAGE_CODEC.read(bad.encode())
    assert caught.value.code is Foutcode.BSN_ONGELDIG
    generated = [
        frame
        for frame in traceback.extract_tb(caught.value.__traceback__)
        if frame.filename.startswith("<ketenpoort parser ")
    ]
    assert generated
    assert all(frame.line for frame in generated)


def test_a_field_the_shape_leaves_out_gets_a_fresh_default_per_body_where_pydantic_makes_one() -> (
    None
):
    """An immutable default is one constant of the parser; a default factory's value (a
    list) is made per body, so two bodies never share it."""
    source = _ParserSource(codec_for(*SENT[0]))
    made = source._default(FieldInfo(annotation=list[str], default_factory=list))
    constant = source._default(FieldInfo(annotation=str | None, default=None))
    first, second = eval(made, source.namespace), eval(made, source.namespace)  # noqa: S307 - the generated code's own constant
    assert first == second == []
    assert first is not second
    assert constant in source.namespace
    assert eval(constant, source.namespace) is None  # noqa: S307 - likewise
