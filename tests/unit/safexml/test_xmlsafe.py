"""Hostile XML: every construct that could read a file, reach the network or exhaust memory.

Each case must be refused with XML_ONGELDIG (or TE_GROOT), quickly, and without touching any
file or URL. "Without touching a file" is proven with a trap: a named pipe (FIFO) that the
document references. Opening a FIFO for reading blocks until a writer appears, so a parser
that so much as opens it hangs; the test notices, releases it and fails.

Most cases call :func:`gateway.safexml.xmlsafe.parse` directly; a few go through
:meth:`gateway.codec.envelope.MessageCodec.read` to show the code a partner gets back.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

import pytest
from lxml import etree

from gateway.codec.envelope import MessageCodec
from gateway.domain.errors import Refused
from gateway.domain.model import Foutcode
from gateway.safexml import xmlsafe
from tests.support import catalogue
from tests.support.messages import line_of, replace_once
from tests.support.waiting import CEILING_S

# CPU seconds of the parsing thread (not wall-clock: a busy machine is slow, not wrong); every
# refusal here is microseconds of work, an expansion attack that got through takes far more.
FAST = 0.5
XI = 'xmlns:xi="http://www.w3.org/2001/XInclude"'
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
VT_MELDING = "politie/VtMelding.xml"


# --------------------------------------------------------------------------- helpers


@dataclass
class Outcome:
    result: Any
    refused: Refused | None
    seconds: float


@pytest.fixture
def trap(tmp_path: Path) -> Path:
    """A FIFO: a parser that opens it for reading blocks (no writer)."""
    fifo = tmp_path / "trap.dtd"
    os.mkfifo(fifo)
    return fifo


def opened(trap: Path) -> bool:
    """Someone has the FIFO open for reading (a non-blocking open for writing succeeds only
    then); opening it as the writer also releases that reader."""
    try:
        os.close(os.open(trap, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as exc:
        if exc.errno != errno.ENXIO:
            raise
        return False
    return True


def run_guarded(call: Callable[[], Any], trap: Path | None = None) -> Outcome:
    """Run ``call`` in a thread; fail if it opened ``trap`` (it then blocks) or hangs.

    Waits on what happens, not on a time budget: the call ends, or the trap is opened.
    ``seconds`` is the thread's CPU time.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        start = time.thread_time()
        try:
            box["result"] = call()
        except Refused as exc:
            box["refused"] = exc
        except Exception as exc:  # noqa: BLE001 - re-raised in the test thread below
            box["error"] = exc
        box["seconds"] = time.thread_time() - start

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    deadline = time.monotonic() + CEILING_S  # a hang, not slowness
    caught = False
    while thread.is_alive() and time.monotonic() < deadline:
        if trap is not None and opened(trap):
            caught = True
            break
        thread.join(0.005)
    thread.join(CEILING_S if caught else 0)
    assert not caught, f"the parser opened {trap}"
    assert not thread.is_alive(), f"the parser hung for {CEILING_S} s"
    if "error" in box:
        raise box["error"]
    return Outcome(box.get("result"), box.get("refused"), box["seconds"])


class Limits(TypedDict, total=False):
    """The limits :func:`xmlsafe.parse` takes besides its data."""

    max_bytes: int
    max_depth: int


def refused(
    data: bytes,
    code: Foutcode = Foutcode.XML_ONGELDIG,
    *,
    trap: Path | None = None,
    **limits: Unpack[Limits],
) -> Refused:
    """``xmlsafe.parse(data)`` must be refused with ``code``, in little CPU time, without
    opening ``trap``."""
    outcome = run_guarded(lambda: xmlsafe.parse(data, **limits), trap)
    assert outcome.refused is not None, f"accepted: {data[:120]!r}"
    assert outcome.refused.code is code, str(outcome.refused)
    assert outcome.seconds < FAST, f"took {outcome.seconds:.3f}s"
    return outcome.refused


def codec_refused(
    codec: MessageCodec, data: bytes, code: Foutcode, *, trap: Path | None = None
) -> Refused:
    outcome = run_guarded(lambda: codec.read(data), trap)
    assert outcome.refused is not None, "accepted"
    assert outcome.refused.code is code, str(outcome.refused)
    assert outcome.seconds < FAST, f"took {outcome.seconds:.3f}s"
    return outcome.refused


def everything_said(exc: Refused) -> str:
    """All text a Foutbericht built from ``exc`` could carry."""
    return " ".join(str(part) for part in (exc, exc.reden, exc.element, exc.regel, exc.args))


# --------------------------------------------------------------------------- entities and DTDs


def test_the_trap_catches_a_parser_that_opens_it(trap: Path) -> None:
    """Control: a parser allowed to load DTDs opens the trap, and run_guarded notices."""
    loading = etree.XMLParser(load_dtd=True, no_network=True)
    data = f'<!DOCTYPE r SYSTEM "file://{trap}">\n<r/>'.encode()
    with pytest.raises(AssertionError, match="opened"):
        run_guarded(lambda: etree.fromstring(data, loading), trap)


@pytest.mark.parametrize("target", ["/etc/passwd", "secret"])
def test_external_file_entity_is_refused_and_leaks_nothing(target: str, tmp_path: Path) -> None:
    if target == "secret":
        path = tmp_path / "secret.txt"
        path.write_text("KP-SECRET-7f3a9c\n")
    else:
        path = Path(target)
        if not path.is_file():
            pytest.skip("no /etc/passwd here")
    content = [ln for ln in path.read_text().splitlines() if ln.strip()]
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{path}">]>\n'
        '<r a="&x;">&x;</r>'
    ).encode()
    exc = refused(data)
    assert exc.regel == 2
    assert "DOCTYPE" in exc.reden
    said = everything_said(exc)
    for text_line in content:
        assert text_line not in said
    assert "root:" not in said
    assert "KP-SECRET" not in said


def test_the_parser_of_the_gateways_own_text_expands_and_opens_nothing(trap: Path) -> None:
    """``parse_own`` is for text the gateway composed (every value escaped), yet it is as
    hardened as the sender's parser: an internal entity stays unexpanded, an external one
    (the trap) is never opened."""
    internal = xmlsafe.parse_own('<!DOCTYPE a [<!ENTITY e "expanded">]><a>&e;</a>')
    assert internal.text is None  # the reference stays a reference, its text not read in
    assert [type(child) for child in internal] == [etree._Entity]
    external = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{trap}">]>\n<r>&x;</r>'
    outcome = run_guarded(lambda: xmlsafe.parse_own(external), trap)
    assert outcome.refused is None
    assert isinstance(outcome.result, etree._Element)
    assert outcome.result.text is None


def test_external_file_entity_is_never_opened(trap: Path) -> None:
    data = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{trap}">]>\n<r>&x;</r>'.encode()
    refused(data, trap=trap)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",  # nothing listens: a connect would be refused at once
        "http://10.255.255.1/x",  # black hole: a connect would hang for seconds
    ],
)
def test_external_http_entity_is_refused_without_network(url: str) -> None:
    data = f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "{url}">]>\n<r>&x;</r>'
    exc = refused(data.encode())  # refused() also asserts: under FAST seconds
    assert exc.regel == 2
    assert "DOCTYPE" in exc.reden


def test_external_parameter_entity_is_refused_and_not_opened(trap: Path) -> None:
    data = f'<!DOCTYPE r [\n<!ENTITY % p SYSTEM "file://{trap}">\n%p;\n]>\n<r/>'.encode()
    exc = refused(data, trap=trap)
    assert exc.regel == 1


def test_internal_parameter_entity_is_refused() -> None:
    data = b"<!DOCTYPE r [<!ENTITY % q \"<!ENTITY x 'boo'>\"> %q;]>\n<r>&x;</r>"
    refused(data)


def test_billion_laughs_is_refused_fast() -> None:
    decls = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    ]  # l9 would expand to 3 * 10**9 characters
    data = f"<!DOCTYPE r [{''.join(decls)}]>\n<r>&l9;</r>".encode()
    exc = refused(data)
    assert "not allowed" in exc.reden


def test_quadratic_blowup_is_refused_fast() -> None:
    big = "A" * 100_000
    body = "&e;" * 8_000  # 800 MB if expanded; the document itself is ~125 KB
    data = f'<!DOCTYPE r [<!ENTITY e "{big}">]>\n<r a="{body}">{body}</r>'.encode()
    assert len(data) < xmlsafe.DEFAULT_MAX_BYTES  # so it is not refused for its size
    exc = refused(data)
    assert "not allowed" in exc.reden


@pytest.mark.parametrize(
    ("doc", "regel"),
    [
        ("<!DOCTYPE r [<!ELEMENT r (#PCDATA)>]>\n<r>x</r>", 1),  # internal subset, no entity
        ("<!DOCTYPE r>\n<r>x</r>", 1),  # no subset at all
        (
            '<?xml version="1.0"?>\n<!DOCTYPE r PUBLIC "-//X//Y" "http://127.0.0.1:9/x.dtd">\n<r/>',
            2,
        ),
        ("<!-- a comment first -->\n\n<!DOCTYPE r>\n<r/>", 3),
        ('<!DOCTYPE   r\n[ <!ATTLIST r a CDATA "default"> ]>\n<r/>', 1),  # default attribute
    ],
    ids=["internal-subset", "no-subset", "public-http", "after-comment", "attlist"],
)
def test_any_doctype_is_refused_with_its_line(doc: str, regel: int) -> None:
    exc = refused(doc.encode())
    assert exc.regel == regel
    assert "DOCTYPE" in exc.reden


def test_external_dtd_is_never_opened(trap: Path) -> None:
    refused(f'<!DOCTYPE r SYSTEM "file://{trap}">\n<r/>'.encode(), trap=trap)


def test_doctype_is_refused_end_to_end(codec: MessageCodec, example_bytes: Any) -> None:
    text = example_bytes(VT_MELDING).decode()
    text = replace_once(
        text,
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE kp:Bericht [<!ENTITY naam SYSTEM "file:///etc/passwd">]>\n',
    )
    text = replace_once(text, "<pol:Voornamen>Anna<", "<pol:Voornamen>&naam;<")
    exc = codec_refused(codec, text.encode(), Foutcode.XML_ONGELDIG)
    assert exc.regel == 2
    assert "root:" not in everything_said(exc)


# --------------------------------------------------------------------------- XInclude


def test_xinclude_is_refused_and_not_followed(trap: Path) -> None:
    data = f'<r {XI}>\n  <x>\n    <xi:include href="file://{trap}" parse="text"/>\n  </x>\n</r>'
    exc = refused(data.encode(), trap=trap)
    assert exc.element == "xi:include"
    assert exc.regel == 3
    assert "XInclude" in exc.reden


def test_any_xinclude_element_is_refused() -> None:
    exc = refused(f"<r {XI}>\n<xi:fallback/></r>".encode())
    assert exc.element == "xi:fallback"
    assert exc.regel == 2


@pytest.mark.parametrize(
    "anchor",
    [
        "<kp:Inhoud>",  # next to the body
        "<kp:Kop>",  # in the envelope header
        "Mevrouw verklaart",  # inside free text of the body (pol:Omschrijving)
    ],
)
def test_xinclude_is_refused_end_to_end(
    anchor: str, codec: MessageCodec, example_bytes: Any, trap: Path
) -> None:
    text = example_bytes(VT_MELDING).decode()
    include = f'<xi:include href="file://{trap}" parse="text" {XI}/>'
    regel = line_of(text, anchor)
    placed = f"{anchor}{include}" if anchor.startswith("<") else f"{include}{anchor}"
    exc = codec_refused(
        codec, replace_once(text, anchor, placed).encode(), Foutcode.XML_ONGELDIG, trap=trap
    )
    assert exc.element == "xi:include"
    assert exc.regel == regel


def test_xinclude_to_etc_passwd_leaks_nothing(codec: MessageCodec, example_bytes: Any) -> None:
    text = example_bytes(VT_MELDING).decode()
    include = f'<xi:include href="/etc/passwd" parse="text" {XI}/>'
    text = replace_once(text, "<kp:Inhoud>", f"<kp:Inhoud>{include}")
    exc = codec_refused(codec, text.encode(), Foutcode.XML_ONGELDIG)
    assert "root:" not in everything_said(exc)


# --------------------------------------------------------------------------- depth


def nested(depth: int, sep: str = "") -> bytes:
    return (f"<a>{sep}" * depth + "</a>" * depth).encode()


def test_very_deep_nesting_is_refused() -> None:
    exc = refused(nested(10_000))
    assert "deeper" in exc.reden


@pytest.mark.parametrize("limit", [1, 4, 10, xmlsafe.DEFAULT_MAX_DEPTH])
def test_depth_limit_is_exact(limit: int) -> None:
    kwargs: Limits = {} if limit == xmlsafe.DEFAULT_MAX_DEPTH else {"max_depth": limit}
    root = xmlsafe.parse(nested(limit), **kwargs)
    assert len(list(root.iter())) == limit
    exc = refused(nested(limit + 1), **kwargs)
    assert f"deeper than {limit} elements" in exc.reden


def test_depth_refusal_names_the_line_of_the_first_element_too_deep() -> None:
    exc = refused(nested(5, sep="\n"), max_depth=3)
    assert exc.regel == 4  # <a> number 4 is on line 4


def test_codec_honours_its_depth_limit(example_bytes: Any) -> None:
    data = example_bytes(VT_MELDING)  # kp:Bericht/kp:Inhoud/pol:VTMelding/... is 6 deep
    assert catalogue.codec(max_depth=6).read(data).kop.berichttype == "VtMelding"
    exc = codec_refused(catalogue.codec(max_depth=5), data, Foutcode.XML_ONGELDIG)
    assert "deeper than 5" in exc.reden


@pytest.mark.parametrize("max_depth", [0, 256, 500])
def test_depth_limit_libxml2_cannot_honour_is_refused(max_depth: int) -> None:
    """libxml2 stops at 256 levels by itself; a limit it cannot honour is a configuration error."""
    with pytest.raises(ValueError, match="max_depth"):
        xmlsafe.parse(nested(3), max_depth=max_depth)


# --------------------------------------------------------------------------- size


def test_just_over_the_default_limit_is_too_big() -> None:
    exc = refused(b" " * (xmlsafe.DEFAULT_MAX_BYTES + 1), Foutcode.TE_GROOT)
    assert str(xmlsafe.DEFAULT_MAX_BYTES) in exc.reden
    assert xmlsafe.DEFAULT_MAX_BYTES == 1024 * 1024


def test_size_is_checked_before_anything_else() -> None:
    hostile = b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    exc = refused(hostile + b" " * xmlsafe.DEFAULT_MAX_BYTES, Foutcode.TE_GROOT)
    assert exc.regel is None


def test_exactly_the_default_limit_is_accepted(codec: MessageCodec, example_bytes: Any) -> None:
    data = example_bytes(VT_MELDING)
    padded = data + b"\n" * (xmlsafe.DEFAULT_MAX_BYTES - len(data))
    assert len(padded) == xmlsafe.DEFAULT_MAX_BYTES
    assert codec.read(padded).kop.berichttype == "VtMelding"
    codec_refused(codec, padded + b"\n", Foutcode.TE_GROOT)


def test_codec_honours_a_custom_max_bytes(example_bytes: Any) -> None:
    data = example_bytes(VT_MELDING)
    assert catalogue.codec(max_bytes=len(data)).read(data).kop.berichttype == "VtMelding"
    exc = codec_refused(catalogue.codec(max_bytes=len(data) - 1), data, Foutcode.TE_GROOT)
    assert f"the limit is {len(data) - 1} bytes" in exc.reden


def test_fifty_megabytes_is_refused_quickly(codec: MessageCodec) -> None:
    body = b" " * (50 * 1024 * 1024)
    start = time.perf_counter()
    with pytest.raises(Refused) as caught:
        codec.read(body)
    assert time.perf_counter() - start < 1.0
    assert caught.value.code is Foutcode.TE_GROOT
    assert str(len(body)) in caught.value.reden


# --------------------------------------------------------------------------- well-formedness


def test_unclosed_tag_names_the_line() -> None:
    exc = refused(b"<r>\n  <a>\n    <b>x</b>\n</r>\n")
    assert exc.regel == 4  # where the mismatch is found: </r>
    assert "line 2" in exc.reden  # and where <a> was opened


def test_truncated_document_names_the_line() -> None:
    exc = refused(b"<r>\n  <a>x</a>\n")
    assert exc.regel == 3


def test_two_roots_are_refused() -> None:
    refused(b"<r/>\n<r/>")


def test_unclosed_tag_end_to_end(codec: MessageCodec, example_bytes: Any) -> None:
    text = example_bytes(VT_MELDING).decode()
    regel = line_of(text, "</pol:Incident>")
    broken = replace_once(text, "</pol:Letsel>", "")
    exc = codec_refused(codec, broken.encode(), Foutcode.XML_ONGELDIG)
    assert exc.regel == regel
    assert exc.element is None
    assert "Letsel" in exc.reden


# --------------------------------------------------------------------------- encoding


def test_invalid_utf8_names_the_line() -> None:
    exc = refused(b"<r>\n<a>ok</a>\n<b>caf\xe9</b>\n</r>")
    assert exc.regel == 3
    assert "UTF-8" in exc.reden


def test_invalid_utf8_end_to_end(codec: MessageCodec, example_bytes: Any) -> None:
    data = example_bytes(VT_MELDING)
    anchor = b"Mevrouw verklaart"
    regel = data[: data.index(anchor)].count(b"\n") + 1
    broken = data.replace(anchor, b"Mevrouw \xc3\x28 verklaart")
    exc = codec_refused(codec, broken, Foutcode.XML_ONGELDIG)
    assert exc.regel == regel


@pytest.mark.parametrize(
    "declaration",
    [
        b'<?xml version="1.0" encoding="ISO-8859-1"?>',
        b"<?xml version='1.0' encoding = 'latin1' ?>",
        b'<?xml version="1.0" encoding="US-ASCII"?>',
        b'  <?xml version="1.0" encoding="windows-1252"?>',
    ],
)
def test_a_declared_encoding_other_than_utf8_is_refused(declaration: bytes) -> None:
    exc = refused(declaration + b"\n<r>plain ascii</r>")
    assert exc.regel == 1
    assert "UTF-8" in exc.reden


@pytest.mark.parametrize("declaration", [b"utf-8", b"UTF-8", b"utf8"])
def test_utf8_declarations_are_accepted(declaration: bytes) -> None:
    data = b'<?xml version="1.0" encoding="' + declaration + b'"?>\n<r>caf\xc3\xa9</r>'
    assert xmlsafe.parse(data).text == "café"


def test_latin1_bytes_under_a_latin1_declaration_are_refused() -> None:
    refused(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<r>caf\xe9</r>')


def test_utf16_with_bom_is_refused() -> None:
    exc = refused('<?xml version="1.0" encoding="UTF-16"?>\n<r>x</r>'.encode("utf-16"))
    assert "UTF-8" in exc.reden


def test_utf16_with_bom_is_refused_end_to_end(codec: MessageCodec, example_bytes: Any) -> None:
    text = example_bytes(VT_MELDING).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    codec_refused(codec, text.encode("utf-16"), Foutcode.XML_ONGELDIG)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_refused(
    encoding: str, codec: MessageCodec, example_bytes: Any
) -> None:
    text = example_bytes(VT_MELDING).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    codec_refused(codec, text.encode(encoding), Foutcode.XML_ONGELDIG)


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be"])
def test_utf32_is_refused(encoding: str, codec: MessageCodec, example_bytes: Any) -> None:
    text = example_bytes(VT_MELDING).decode().split("\n", 1)[1]  # without the declaration
    codec_refused(codec, text.encode(encoding), Foutcode.XML_ONGELDIG)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-32-le"])
@pytest.mark.parametrize("kind", ["external-dtd", "parameter-entity"])
def test_non_utf8_doctype_never_opens_a_file(encoding: str, kind: str, trap: Path) -> None:
    subset = (
        f'SYSTEM "file://{trap}"'
        if kind == "external-dtd"
        else f'[<!ENTITY % p SYSTEM "file://{trap}"> %p;]'
    )
    declaration = '<?xml version="1.0" encoding="UTF-16"?>' if "16" in encoding else ""
    data = f"{declaration}<!DOCTYPE r {subset}><r/>".encode(encoding)
    refused(data, trap=trap)


# --------------------------------------------------------------------------- characters


@pytest.mark.parametrize(
    ("data", "regel"),
    [
        (b"<r>\n<a>x\x01y</a></r>", 2),  # C0 control in text
        (b"<r>\n\n<a b='x\x1by'/></r>", 3),  # ESC in an attribute value
        (b"<r>\n<a>\x0c</a></r>", 2),  # form feed
        (b"<r>a\x00b</r>", 1),  # NUL
        (b"<r>\n<a>&#x1;</a></r>", 2),  # as a character reference
        (b"<r>&#0;</r>", 1),
    ],
    ids=["soh-text", "esc-attribute", "form-feed", "nul", "charref-1", "charref-0"],
)
def test_control_characters_are_refused(data: bytes, regel: int) -> None:
    exc = refused(data)
    assert exc.regel == regel


def test_control_character_end_to_end(codec: MessageCodec, example_bytes: Any) -> None:
    text = example_bytes(VT_MELDING).decode()
    regel = line_of(text, "Mevrouw verklaart")
    broken = replace_once(text, "Mevrouw verklaart", "Mevrouw \x01 verklaart")
    exc = codec_refused(codec, broken.encode(), Foutcode.XML_ONGELDIG)
    assert exc.regel == regel


@pytest.mark.parametrize("data", [b"", b" ", b"\n\t \r\n"])
def test_empty_input_is_refused(data: bytes) -> None:
    exc = refused(data)
    assert "empty" in exc.reden


def test_empty_input_end_to_end(codec: MessageCodec) -> None:
    codec_refused(codec, b"", Foutcode.XML_ONGELDIG)


@pytest.mark.parametrize(
    ("anchor", "insert"),
    [
        ("Mevrouw verklaart", "<![CDATA[plakte <!DOCTYPE html> uit een mail]]> "),
        ("<kp:Inhoud>", "<!-- hier geen <!ENTITY ... --> "),
    ],
    ids=["cdata", "comment"],
)
def test_declaration_text_in_cdata_or_comment_is_not_a_declaration(
    anchor: str, insert: str, codec: MessageCodec, example_bytes: Any
) -> None:
    text = example_bytes(VT_MELDING).decode()
    placed = f"{insert}{anchor}" if not anchor.startswith("<") else f"{anchor}{insert}"
    bericht = codec.read(replace_once(text, anchor, placed).encode())
    assert bericht.kop.berichttype == "VtMelding"


# --------------------------------------------------------------------------- schemaLocation


def with_schema_location(text: str, element: str, attribute: str) -> str:
    return replace_once(text, f"<{element} ", f"<{element} {XSI} {attribute} ")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/evil.xsd", "http://10.255.255.1/evil.xsd"],
)
@pytest.mark.parametrize(
    ("element", "namespace"),
    [("kp:Bericht", "urn:ketenpoort:envelop:1"), ("pol:VTMelding", "urn:ketenpoort:politie:1")],
)
def test_schema_location_is_not_fetched(
    url: str, element: str, namespace: str, codec: MessageCodec, example_bytes: Any
) -> None:
    """xsi:* attributes are allowed anywhere by XSD; the hint is ignored, our schemas apply."""
    text = example_bytes(VT_MELDING).decode()
    hinted = with_schema_location(text, element, f'xsi:schemaLocation="{namespace} {url}"')
    outcome = run_guarded(lambda: codec.read(hinted.encode()))
    assert outcome.refused is None, str(outcome.refused)
    assert outcome.seconds < FAST
    assert outcome.result.kop.berichttype == "VtMelding"


def test_schema_location_file_is_never_opened(
    codec: MessageCodec, example_bytes: Any, trap: Path
) -> None:
    text = example_bytes(VT_MELDING).decode()
    hinted = with_schema_location(
        text,
        "pol:VTMelding",
        f'xsi:schemaLocation="urn:ketenpoort:politie:1 file://{trap}" '
        f'xsi:noNamespaceSchemaLocation="file://{trap}"',
    )
    outcome = run_guarded(lambda: codec.read(hinted.encode()), trap)
    assert outcome.refused is None, str(outcome.refused)
    assert outcome.result.kop.berichttype == "VtMelding"


def test_schema_location_does_not_replace_our_schema(
    codec: MessageCodec, example_bytes: Any
) -> None:
    """An invalid body stays invalid whatever schema the message points to."""
    text = example_bytes(VT_MELDING).decode()
    regel = line_of(text, "<pol:Aard>HG</pol:Aard>")
    text = replace_once(text, "<pol:Aard>HG</pol:Aard>", "<pol:Aard>XX</pol:Aard>")
    hinted = with_schema_location(
        text,
        "pol:VTMelding",
        'xsi:schemaLocation="urn:ketenpoort:politie:1 http://127.0.0.1:9/e.xsd"',
    )
    exc = codec_refused(codec, hinted.encode(), Foutcode.SCHEMA_ONGELDIG)
    assert exc.element == "pol:Aard"
    assert exc.regel == regel
