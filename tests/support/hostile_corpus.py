"""The hostile corpus: what a partner (or whoever holds a partner's credentials) can send, each
message with exactly one defect, and the answer the gateway must give.

Every case is a mutation of a valid example (``examples/<rol>/<Type>.xml``) with a new
BerichtId and ConversatieId, so the one defect is the only reason to refuse it. The corpus is
transport-neutral: a :class:`Case` is bytes (made on demand: the 50 MB case exists only while
it is sent), the partner that sends them and the expected outcome.
``tests/system/hostile/test_hostile_amqp.py`` publishes each case to the ingress queue as the
partner's RabbitMQ user; an HTTPS test posts the same bytes to ``POST /v1/berichten`` with
the partner's client certificate::

    from tests.support.hostile_corpus import KNOWN_BUGS, Canaries, corpus

    for case in corpus(Canaries(url=..., path=...)):
        raw = case.data()  # bytes
        # send raw, authenticated as case.sender_oin
        #   (partner case.sender in tests.support.broker.OINS)
        # refused (case.code is not None): one Foutbericht with that code; its kp:Element is
        #   case.element when that is not None; its kp:InAntwoordOp is case.in_antwoord_op
        #   (None: the gateway cannot find a BerichtId in these bytes); nothing is delivered
        # accepted (case.code is None): one Ontvangstbevestiging, one delivery to each of
        #   case.recipients and to nobody else
        # always: none of case.forbidden occurs in the answer or in any delivery
    # KNOWN_BUGS[case.name], where present: why the gateway does not do so yet (xfail reason)

Canaries: cases that make a parser fetch something point at ``Canaries.url`` (http) or
``Canaries.path`` (a file). A test can listen on the URL and make the path a FIFO to prove the
gateway never touches either; the defaults point at nothing.

Decisions where the spec is silent (each documented in its case's ``why``):

- ``xsi:schemaLocation`` / ``xsi:noNamespaceSchemaLocation`` pointing elsewhere: XSD allows
  ``xsi:*`` attributes on every element, so an otherwise valid message is **accepted**; the
  hint is ignored (the gateway validates against its own ``schemas/v1`` only and never fetches
  it) and is not forwarded (every delivery is rendered anew from the canonical model).
- Processing instructions, comments and CDATA are legal XML: a message that is otherwise
  valid is **accepted**; PIs and comments are dropped by the parser, CDATA is text (delivered
  escaped), none of it reaches a recipient as markup. A comment bomb above the size limit is
  ``TE_GROOT`` like any other oversized message.
- Everything that needs a document type declaration (entities of any kind, DTDs, default
  attributes) is ``XML_ONGELDIG``, refused before parsing; so is XInclude, every encoding but
  UTF-8, and nesting deeper than 32.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import Foutcode, Partij, Rol
from gateway.runtime.settings import Settings
from gateway.safexml.xmlsafe import DEFAULT_MAX_BYTES
from tests.support import catalogue
from tests.support.broker import OINS
from tests.support.broker import ROL as ROL_OF
from tests.support.messages import replace_once
from tests.support.paths import REPO_ROOT

EXAMPLES_DIR = REPO_ROOT / "examples"
GATEWAY_OIN: str = Settings.model_fields["gateway_oin"].default  # the answers' Afzender

# Who sends an example by default: the partner (tests.support.broker.OINS) of its examples/<rol>/.
DEFAULT_SENDER = {
    "politie": "politie",
    "veilig-thuis": "vt-twente",
    "openbaar-ministerie": "om",
    "raad-kinderbescherming": "rvdk",
    "reclassering": "reclassering",
}

VT_MELDING = "politie/VtMelding.xml"
AO_POLITIE = "politie/ActieoverlegAanmelding.xml"
TERUGKOPPELING = "veilig-thuis/Terugkoppeling.xml"
VEILIGHEIDSBEOORDELING = "veilig-thuis/Veiligheidsbeoordeling.xml"
VEILIGHEIDSAFSPRAKEN = "veilig-thuis/Veiligheidsafspraken.xml"
VERZOEK = "veilig-thuis/VerzoekTotOnderzoek.xml"
AO_VT = "veilig-thuis/ActieoverlegAanmelding.xml"
ADVIESAANVRAAG = "openbaar-ministerie/Adviesaanvraag.xml"
OM_BESLISSING = "openbaar-ministerie/OmBeslissing.xml"
AO_BESLUIT = "openbaar-ministerie/ActieoverlegBesluit.xml"
RC_ADVIES = "reclassering/Reclasseringsadvies.xml"
RVDK_ADVIES = "raad-kinderbescherming/Reclasseringsadvies.xml"

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
ENVELOPE_ROOT = '<kp:Bericht xmlns:kp="urn:ketenpoort:envelop:1">'
VT_MELDING_ROOT = '<pol:VTMelding xmlns:pol="urn:ketenpoort:politie:1">'
OMSCHRIJVING = (
    "Melding van buren: geschreeuw en gehuil. Mevrouw verklaart dat zij door haar man bij de "
    "keel is gegrepen."
)
XI = 'xmlns:xi="http://www.w3.org/2001/XInclude"'
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
LARGE = 50 * 1024 * 1024  # the 50 MB body: below RabbitMQ's max_message_size (128 MiB)


# Cases the gateway does not answer as it must yet, by name: the reason, for an
# xfail(strict=True) marker in every transport's test. Remove an entry when it is fixed (the
# strict marker fails the test as soon as the case passes).
KNOWN_BUGS: dict[str, str] = {}  # case name -> why the gateway does not answer right yet


@dataclass(frozen=True)
class Canaries:
    """Where a case that tries to make the gateway fetch something points."""

    url: str = "http://127.0.0.1:9/ketenpoort-canary"  # the discard port: nothing listens
    path: str = "/nonexistent/ketenpoort-canary"


@dataclass(frozen=True)
class Case:
    """One hostile message and the answer it must get."""

    name: str  # stable, usable as a test id
    sender: str  # the authenticated partner: a key of tests.support.broker.OINS
    code: Foutcode | None  # the Foutbericht code; None: accepted (Ontvangstbevestiging)
    make: Callable[[], bytes] = field(repr=False)
    element: str | None = None  # the kp:Element the Foutbericht must name (None: unchecked)
    in_antwoord_op: str | None = None  # the BerichtId answered; None: none can be found
    recipients: frozenset[str] = frozenset()  # accepted: who gets it (keys of OINS)
    forbidden: tuple[bytes, ...] = ()  # never in the answer nor in any delivery
    large: bool = False  # tens of megabytes: allow more time for the transport
    why: str = ""  # the defect, and why this is the right answer

    @property
    def sender_oin(self) -> str:
        return OINS[self.sender]

    @property
    def accepted(self) -> bool:
        return self.code is None

    def data(self) -> bytes:
        """The bytes to send (made now; large cases are not kept)."""
        return self.make()


# --------------------------------------------------------------------------- building blocks

Edit = tuple[str, str] | Callable[[str], str]
Finish = Callable[[str], bytes]


@functools.cache
def _example(rel: str) -> str:
    return (EXAMPLES_DIR / rel).read_text("utf-8")


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


def _raw(**markers: bytes) -> Finish:
    """UTF-8, then each ``{{NAME}}`` marker replaced by raw bytes (invalid UTF-8 and such)."""

    def finish(text: str) -> bytes:
        data = text.encode("utf-8")
        for name, value in markers.items():
            marker = b"{{" + name.encode() + b"}}"
            if data.count(marker) != 1:
                raise AssertionError(f"marker {name} occurs {data.count(marker)} times")
            data = data.replace(marker, value)
        return data

    return finish


def _fresh(text: str) -> tuple[str, str]:
    """The text with a new BerichtId and ConversatieId; returns (text, BerichtId)."""
    bericht_id = str(uuid.uuid4())
    text, n = re.subn(r"(<kp:BerichtId>)[^<]*(</kp:BerichtId>)", rf"\g<1>{bericht_id}\g<2>", text)
    if n != 1:
        raise AssertionError(f"{n} BerichtIds")
    text = re.sub(
        r"(<kp:ConversatieId>)[^<]*(</kp:ConversatieId>)", rf"\g<1>{uuid.uuid4()}\g<2>", text
    )
    return text, bericht_id


def _from_text(
    name: str,
    text: str,
    *edits: Edit,
    sender: str,
    code: Foutcode | None,
    element: str | None = None,
    correlatable: bool = True,
    finish: Finish = _utf8,
    recipients: tuple[str, ...] = (),
    forbidden: tuple[bytes, ...] = (),
    large: bool = False,
    why: str,
) -> Case:
    text, bericht_id = _fresh(text)
    for edit in edits:
        text = edit(text) if callable(edit) else replace_once(text, *edit)
    return Case(
        name=name,
        sender=sender,
        code=code,
        make=functools.partial(finish, text),
        element=element,
        in_antwoord_op=bericht_id if correlatable else None,
        recipients=frozenset(recipients),
        forbidden=forbidden,
        large=large,
        why=why,
    )


def mutate(
    name: str,
    rel: str,
    *edits: Edit,
    code: Foutcode | None,
    sender: str | None = None,
    element: str | None = None,
    correlatable: bool = True,
    finish: Finish = _utf8,
    recipients: tuple[str, ...] = (),
    forbidden: tuple[bytes, ...] = (),
    large: bool = False,
    why: str,
) -> Case:
    """A case: example ``rel`` with new ids and ``edits`` applied (text), then ``finish``."""
    return _from_text(
        name,
        _example(rel),
        *edits,
        sender=sender or DEFAULT_SENDER[Path(rel).parent.name],
        code=code,
        element=element,
        correlatable=correlatable,
        finish=finish,
        recipients=recipients,
        forbidden=forbidden,
        large=large,
        why=why,
    )


def _doctype(subset: str) -> Edit:
    """A document type declaration right after the XML declaration."""
    return (DECLARATION, f"{DECLARATION}{subset}\n")


def _afzender(rel: str, oin: str, rol: str) -> Edit:
    original = re.search(r'<kp:Afzender oin="\d+" rol="[a-z\-]+"/>', _example(rel))
    assert original is not None
    return (original.group(0), f'<kp:Afzender oin="{oin}" rol="{rol}"/>')


def _in_receive_format(rel: str, sender: str) -> str:
    """Example ``rel`` as partner ``sender`` would have it: rendered in its receive format,
    Afzender = that partner (so only the type is wrong: this rol receives it, never sends it)."""
    codec = _codec()
    bericht = codec.read(_example(rel).encode())
    afzender = Partij(oin=OINS[sender], rol=Rol(ROL_OF[sender]))
    bericht = bericht.model_copy(
        update={"kop": bericht.kop.model_copy(update={"afzender": afzender})}
    )
    return codec.write(bericht, voor=Rol(ROL_OF[sender])).decode("utf-8")


@functools.cache
def _codec() -> MessageCodec:
    return catalogue.CODEC


def _technical_from_partner(berichttype: str, body: str) -> Edit:
    """Replace the VtMelding's type and body by a technical message of the gateway's."""

    def edit(text: str) -> str:
        text = replace_once(text, "<kp:BerichtType>VtMelding<", f"<kp:BerichtType>{berichttype}<")
        return re.sub(
            r"<kp:Inhoud>.*</kp:Inhoud>", f"<kp:Inhoud>{body}</kp:Inhoud>", text, flags=re.S
        )

    return edit


def _pad_to(total: int) -> Finish:
    """UTF-8, then blank lines after the root element up to exactly ``total`` bytes."""

    def finish(text: str) -> bytes:
        data = text.encode("utf-8")
        return data + b"\n" * (total - len(data))

    return finish


def _large_body(text: str) -> bytes:
    """The 50 MB case: pol:Omschrijving holds 50 MiB of text (made only when sent)."""
    head, tail = text.encode("utf-8").split(b"{{LARGE}}")
    return b"".join((head, b"A" * LARGE, tail))


def _nested(depth: int) -> str:
    return "<x>" * depth + "</x>" * depth


# --------------------------------------------------------------------------- the corpus


def corpus(canaries: Canaries | None = None) -> list[Case]:
    """Every hostile case, with new BerichtIds (call once per gateway you send them to)."""
    return list(_cases(canaries or Canaries()))


def _cases(c: Canaries) -> Iterator[Case]:
    x, s = Foutcode.XML_ONGELDIG, Foutcode.SCHEMA_ONGELDIG
    url, path = c.url, c.path
    anna = ("<pol:Voornamen>Anna</pol:Voornamen>", "<pol:Voornamen>&naam;</pol:Voornamen>")
    leak = (b"root:", b"/bin/")  # /etc/passwd content: never in a Foutbericht or delivery

    # ----------------------------------------------------------------- entities and DTDs
    yield mutate(
        "xxe-external-file-entity",
        VT_MELDING,
        _doctype(f'<!DOCTYPE kp:Bericht [<!ENTITY naam SYSTEM "file://{path}">]>'),
        anna,
        code=x,
        why="an external entity naming a file: refused before parsing, the file is not opened",
    )
    yield mutate(
        "xxe-etc-passwd",
        VT_MELDING,
        _doctype('<!DOCTYPE kp:Bericht [<!ENTITY naam SYSTEM "file:///etc/passwd">]>'),
        anna,
        code=x,
        forbidden=leak,
        why="the classic XXE read of /etc/passwd: nothing of it comes back in the Foutbericht",
    )
    yield mutate(
        "xxe-external-http-entity",
        VT_MELDING,
        _doctype(f'<!DOCTYPE kp:Bericht [<!ENTITY naam SYSTEM "{url}">]>'),
        anna,
        code=x,
        why="an external entity naming a URL (SSRF): refused, nothing is fetched",
    )
    yield mutate(
        "external-parameter-entity",
        VT_MELDING,
        _doctype(f'<!DOCTYPE kp:Bericht [<!ENTITY % p SYSTEM "{url}"> %p;]>'),
        code=x,
        why="an external parameter entity (out-of-band XXE): refused, nothing is fetched",
    )
    yield mutate(
        "internal-parameter-entity",
        VEILIGHEIDSBEOORDELING,
        _doctype("<!DOCTYPE kp:Bericht [<!ENTITY % q \"<!ENTITY naam 'Anna'>\"> %q;]>"),
        ("<vt:naam>Anna Jansen</vt:naam>", "<vt:naam>&naam; Jansen</vt:naam>"),
        code=x,
        why="a parameter entity declaring an entity: no entity is ever declared",
    )
    laughs = "".join(
        ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
    )
    yield mutate(
        "billion-laughs",
        RC_ADVIES,
        _doctype(f"<!DOCTYPE kp:Bericht [{laughs}]>"),
        ("<rc:Naam>Peter Jansen</rc:Naam>", "<rc:Naam>&l9;</rc:Naam>"),
        code=x,
        why="3 * 10^9 characters if expanded: refused in microseconds, nothing expanded",
    )
    yield mutate(
        "quadratic-blowup",
        ADVIESAANVRAAG,
        _doctype(f'<!DOCTYPE kp:Bericht [<!ENTITY e "{"A" * 50_000}">]>'),
        ("Advies over schorsing onder voorwaarden en toezicht.", "&e;" * 15_000),
        code=x,
        why="one 50 kB entity referenced 15,000 times (750 MB expanded) in a 95 kB message",
    )
    yield mutate(
        "internal-dtd",
        VT_MELDING,
        _doctype("<!DOCTYPE kp:Bericht [<!ELEMENT kp:Bericht ANY>]>"),
        code=x,
        why="an internal subset without entities: still a DTD, refused",
    )
    yield mutate(
        "dtd-default-attribute",
        VT_MELDING,
        _doctype('<!DOCTYPE kp:Bericht [<!ATTLIST pol:Persoon geheim CDATA "ja">]>'),
        code=x,
        why="a DTD that would add attributes the sender did not write: refused",
    )
    yield mutate(
        "external-dtd-http",
        RVDK_ADVIES,
        _doctype(f'<!DOCTYPE kp:Bericht SYSTEM "{url}">'),
        code=x,
        why="an external DTD by URL: refused, not fetched",
    )
    yield mutate(
        "external-dtd-file-public",
        VT_MELDING,
        _doctype(f'<!DOCTYPE kp:Bericht PUBLIC "-//KP//X" "file://{path}">'),
        code=x,
        why="an external DTD by public id and file: refused, not opened",
    )
    yield mutate(
        "doctype-after-comment",
        VT_MELDING,
        _doctype(f'<!-- eerst een opmerking -->\n<!DOCTYPE kp:Bericht SYSTEM "{url}">'),
        code=x,
        why="a DTD behind a comment in the prolog: the scan skips comments, still refused",
    )
    yield mutate(
        "empty-markup-declaration",
        VT_MELDING,
        _doctype("<!" + " " * 16),
        code=x,
        why="'<!' and only blanks after it in the prolog (found by test_fuzz.py): neither a "
        "DTD nor a comment, refused",
    )
    yield mutate(
        "doctype-inside-body",
        VT_MELDING,
        ("<kp:Inhoud>", "<kp:Inhoud><!DOCTYPE kp:Bericht>"),
        code=x,
        why="a declaration where none may be: not well-formed",
    )

    # ----------------------------------------------------------------- XInclude
    yield mutate(
        "xinclude-file-in-free-text",
        TERUGKOPPELING,
        (
            "Vervolg is ingezet; gezin werkt mee.",
            f'Vervolg is ingezet; <xi:include {XI} href="file://{path}" parse="text"/>',
        ),
        code=x,
        element="xi:include",
        why="XInclude of a file into a text field: refused, never processed",
    )
    yield mutate(
        "xinclude-http-in-kop",
        VT_MELDING,
        ("<kp:Kop>", f'<kp:Kop><xi:include {XI} href="{url}"/>'),
        code=x,
        element="xi:include",
        why="XInclude of a URL into the envelope: refused, not fetched",
    )

    # ----------------------------------------------------------------- xsi hints
    yield mutate(
        "xsi-schemalocation-elsewhere",
        VT_MELDING,
        (
            ENVELOPE_ROOT,
            f'<kp:Bericht xmlns:kp="urn:ketenpoort:envelop:1" {XSI} '
            f'xsi:schemaLocation="urn:ketenpoort:envelop:1 {url}/envelop.xsd">',
        ),
        (
            VT_MELDING_ROOT,
            f'<pol:VTMelding xmlns:pol="urn:ketenpoort:politie:1" {XSI} '
            f'xsi:schemaLocation="urn:ketenpoort:politie:1 {url}/politie.xsd">',
        ),
        code=None,
        recipients=("vt-twente",),
        forbidden=(b"schemaLocation", url.encode()),
        why="XSD allows xsi:* on every element: accepted; the hint is never fetched (our own "
        "schemas/v1 apply) and not forwarded (deliveries are rendered from the model)",
    )
    yield mutate(
        "xsi-nonamespace-schemalocation-file",
        VT_MELDING,
        (
            VT_MELDING_ROOT,
            f'<pol:VTMelding xmlns:pol="urn:ketenpoort:politie:1" {XSI} '
            f'xsi:noNamespaceSchemaLocation="file://{path}">',
        ),
        code=None,
        recipients=("vt-twente",),
        forbidden=(b"SchemaLocation", path.encode()),
        why="as above, a file: accepted, the file is never opened, the hint not forwarded",
    )
    yield mutate(
        "xsi-type-bypasses-code-list",
        VT_MELDING,
        (
            "<pol:Aard>HG</pol:Aard>",
            f'<pol:Aard {XSI} xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            'xsi:type="xs:string">HUISRUZIE</pol:Aard>',
        ),
        code=s,
        element="pol:Aard/@xsi:type",
        why="xsi:type naming a base type to escape the code list: not a derived type, refused",
    )
    yield mutate(
        "xsi-nil-required-element",
        VT_MELDING,
        (
            f"<pol:Omschrijving>{OMSCHRIJVING}</pol:Omschrijving>",
            f'<pol:Omschrijving {XSI} xsi:nil="true"/>',
        ),
        code=s,
        element="pol:Omschrijving",
        why="xsi:nil on an element that is not nillable",
    )

    # ----------------------------------------------------------------- depth and size
    yield mutate(
        "nesting-10000-deep",
        VERZOEK,
        ("Jan is getuige van herhaald partnergeweld", _nested(10_000)),
        code=x,
        why="10,000 levels (libxml2 stops at 256, our limit is 32): refused, no recursion",
    )
    yield mutate(
        "nesting-33-deep",
        VT_MELDING,
        (OMSCHRIJVING, _nested(28)),  # pol:Omschrijving is at depth 5: 5 + 28 = 33
        code=x,
        why="one level deeper than the limit of 32",
    )
    yield mutate(
        "body-50-megabytes",
        VT_MELDING,
        (OMSCHRIJVING, "{{LARGE}}"),
        code=Foutcode.TE_GROOT,
        finish=_large_body,
        large=True,
        why="50 MiB (RabbitMQ takes up to 128 MiB): refused on its length before any parsing",
    )
    yield mutate(
        "one-byte-over-the-limit",
        VEILIGHEIDSBEOORDELING,
        code=Foutcode.TE_GROOT,
        finish=_pad_to(DEFAULT_MAX_BYTES + 1),
        why="1 MiB + 1 byte of an otherwise valid message",
    )
    yield mutate(
        "comment-bomb-over-the-limit",
        VT_MELDING,
        ("<kp:Inhoud>", "<kp:Inhoud>" + "<!-- lol -->" * 100_000),
        code=Foutcode.TE_GROOT,
        why="1.2 MB of comments: too big, like any message",
    )
    yield mutate(
        "comment-bomb-under-the-limit",
        AO_POLITIE,
        ("<kp:Inhoud>", "<kp:Inhoud>" + "<!---->" * 100_000),
        code=None,
        recipients=("vt-twente", "om", "rvdk", "reclassering"),
        forbidden=(b"<!--",),
        why="100,000 comments (700 kB): legal XML, parsed in linear time and dropped; accepted, "
        "no comment reaches the recipient",
    )
    yield mutate(
        "huge-text-node-under-the-limit",
        VT_MELDING,
        (OMSCHRIJVING, "A" * 1_000_000),
        code=s,
        element="pol:Omschrijving",
        why="1,000,000 characters of free text in a 1 MiB message: pol:Tekst allows 4,000",
    )
    yield mutate(
        "oversized-attribute-value",
        VT_MELDING,
        (
            '<pol:Persoon rol="SLACHTOFFER" id="p1">',
            f'<pol:Persoon rol="SLACHTOFFER" id="p{"1" * 900_000}">',
        ),
        code=s,
        element="pol:Persoon/@id",
        why="a 900 kB attribute value where a short reference belongs",
    )
    yield mutate(
        "oversized-attribute-in-kop",
        VT_MELDING,
        (
            '<kp:Afzender oin="00000099000000000101"',
            f'<kp:Afzender oin="{"0" * 900_000}101"',
        ),
        code=s,
        element="kp:Afzender/@oin",
        why="a 900 kB OIN in the envelope",
    )
    attributes = " ".join(f'a{i}="x"' for i in range(50_000))
    yield mutate(
        "fifty-thousand-attributes",
        VT_MELDING,
        (VT_MELDING_ROOT, f'<pol:VTMelding xmlns:pol="urn:ketenpoort:politie:1" {attributes}>'),
        code=s,
        element="pol:VTMelding/@a0",
        why="50,000 undeclared attributes on one element (quadratic in naive parsers)",
    )

    # ----------------------------------------------------------------- encodings
    latin1 = ("Mevrouw verklaart", "Mevrouw {{BYTE}} verklaart")
    yield mutate(
        "invalid-utf8-latin1-byte",
        RC_ADVIES,
        ("Ambulante behandeling verslaving", "Ambulante behandeling {{BYTE}}"),
        code=x,
        finish=_raw(BYTE=b"caf\xe9"),
        why="ISO-8859-1 bytes under a UTF-8 declaration",
    )
    yield mutate(
        "overlong-utf8",
        VT_MELDING,
        latin1,
        code=x,
        finish=_raw(BYTE=b"\xc0\xbcscript\xc0\xbe"),
        why="over-long UTF-8 for < and > (a filter-evasion classic): not UTF-8",
    )
    yield mutate(
        "utf8-encoded-surrogate",
        VT_MELDING,
        latin1,
        code=x,
        finish=_raw(BYTE=b"\xed\xa0\x80"),
        why="a UTF-16 surrogate encoded as UTF-8 (CESU-8): not UTF-8",
    )
    yield mutate(
        "truncated-utf8-sequence",
        VT_MELDING,
        latin1,
        code=x,
        finish=_raw(BYTE=b"\xe2\x82"),
        why="a multi-byte sequence cut short",
    )
    yield mutate(
        "declared-latin1-with-utf8-bytes",
        VT_MELDING,
        (DECLARATION, DECLARATION.replace("UTF-8", "ISO-8859-1")),
        code=x,
        element=None,
        why="declares ISO-8859-1 but the bytes are UTF-8: only UTF-8 is accepted",
    )
    yield mutate(
        "declared-utf16-with-utf8-bytes",
        VT_MELDING,
        (DECLARATION, DECLARATION.replace("UTF-8", "UTF-16")),
        code=x,
        why="declares UTF-16 but the bytes are UTF-8",
    )
    utf16 = (DECLARATION, DECLARATION.replace("UTF-8", "UTF-16"))
    for name, rel, codec in (
        ("utf16-with-bom", OM_BESLISSING, "utf-16"),
        ("utf16-le-without-bom", VEILIGHEIDSAFSPRAKEN, "utf-16-le"),
        ("utf16-be-without-bom", VT_MELDING, "utf-16-be"),
        ("utf32-with-bom", RVDK_ADVIES, "utf-32"),
    ):
        yield mutate(
            name,
            rel,
            utf16 if "16" in codec else (DECLARATION, ""),
            code=x,
            correlatable=False,  # a NUL between every character: the BerichtId is unreadable
            finish=functools.partial(str.encode, encoding=codec),
            why=f"the whole message in {codec}: refused (UTF-8 only); nothing can be read, so "
            "the Foutbericht names no BerichtId",
        )
    yield mutate(
        "nul-byte",
        ADVIESAANVRAAG,
        ("Advies over schorsing", "Advies\x00 over schorsing"),
        code=x,
        why="a NUL byte in free text (C string truncation)",
    )
    yield mutate(
        "control-character",
        AO_VT,
        ("Ex-partner staat regelmatig", "Ex-partner\x1b[31m staat regelmatig"),
        code=x,
        why="an ESC (terminal escape) in free text: not an XML character",
    )
    yield mutate(
        "control-character-reference",
        VT_MELDING,
        ("Mevrouw verklaart", "Mevrouw&#x1B; verklaart"),
        code=x,
        why="the same as a character reference",
    )
    yield mutate(
        "noncharacter-fffe",
        VT_MELDING,
        ("Mevrouw verklaart", "Mevrouw\ufffe verklaart"),
        code=x,
        why="U+FFFE: valid UTF-8, not an XML character",
    )
    yield mutate(
        "bom-and-leading-whitespace",
        VT_MELDING,
        (DECLARATION, "\ufeff \n\t" + DECLARATION),
        code=x,
        why="whitespace between the BOM and the XML declaration: the declaration must come first",
    )
    yield mutate(
        "empty-message",
        VT_MELDING,
        lambda text: "",
        code=x,
        correlatable=False,
        why="zero bytes",
    )

    # ----------------------------------------------------------------- markup tricks
    yield mutate(
        "processing-instruction-stylesheet",
        OM_BESLISSING,
        (DECLARATION, f'{DECLARATION}<?xml-stylesheet type="text/xsl" href="{url}/x.xsl"?>\n'),
        code=None,
        # v2 §5: reclassering only when it took part in the conversation (here it did not)
        recipients=("politie",),
        forbidden=(b"xml-stylesheet", url.encode()),
        why="a stylesheet PI is legal XML: accepted, dropped by the parser, never fetched, "
        "not forwarded",
    )
    yield mutate(
        "processing-instruction-in-free-text",
        VT_MELDING,
        ("Mevrouw verklaart", "Mevrouw <?php system('id'); ?>verklaart"),
        code=None,
        recipients=("vt-twente",),
        forbidden=(b"<?php", b"system("),
        why="a PI inside text is legal XML: accepted, the PI is dropped, not forwarded",
    )
    yield mutate(
        "reserved-pi-target-xml",
        VT_MELDING,
        ("<kp:Inhoud>", '<kp:Inhoud><?xml version="1.0" encoding="ISO-8859-1"?>'),
        code=x,
        why="a second XML declaration inside the document: not well-formed",
    )
    cdata = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    yield mutate(
        "cdata-hidden-markup",
        VT_MELDING,
        ("Mevrouw verklaart", f"Mevrouw <![CDATA[{cdata}]]> verklaart"),
        code=None,
        recipients=("vt-twente",),
        forbidden=(b"<!DOCTYPE", b"<!ENTITY", b"<![CDATA[", *leak),
        why="markup hidden in CDATA is text: accepted, and delivered escaped, so a recipient "
        "that parses the field naively is not handed a DTD",
    )
    yield mutate(
        "undeclared-entity-reference",
        VT_MELDING,
        anna,
        code=x,
        why="&naam; without any declaration",
    )
    yield mutate(
        "undefined-namespace-prefix",
        VT_MELDING,
        ("<pol:Aard>HG</pol:Aard>", "<evil:Aard>HG</evil:Aard>"),
        code=x,
        why="a prefix that is bound nowhere: not namespace-well-formed",
    )
    yield mutate(
        "duplicate-attribute",
        AO_BESLUIT,
        ('<om:Actie wie="politie">', '<om:Actie wie="politie" wie="reclassering">'),
        code=x,
        why="the same attribute twice (parser differentials: which one wins?)",
    )
    yield mutate(
        "truncated-message",
        VT_MELDING,
        lambda text: text[: text.index("<pol:Personen>")],
        code=x,
        why="the message cut off halfway",
    )
    yield mutate(
        "second-root-element",
        VT_MELDING,
        ("</kp:Bericht>", "</kp:Bericht>\n<kp:Bericht/>"),
        code=x,
        why="content after the root element",
    )

    # ----------------------------------------------------------------- the envelope
    yield mutate(
        "body-unknown-namespace",
        VT_MELDING,
        ("urn:ketenpoort:politie:1", "urn:example:gemeente:1"),
        code=Foutcode.ONBEKEND_BERICHTTYPE,
        element="VTMelding",
        why="the body in a namespace no partner has",
    )
    yield mutate(
        "body-without-namespace",
        VT_MELDING,
        (VT_MELDING_ROOT, '<VTMelding xmlns:pol="urn:ketenpoort:politie:1">'),
        ("</pol:VTMelding>", "</VTMelding>"),
        code=s,
        element="VTMelding",
        why="the body in no namespace (the envelope wants ##other)",
    )
    yield mutate(
        "envelope-wrong-namespace",
        VT_MELDING,
        (ENVELOPE_ROOT, '<kp:Bericht xmlns:kp="urn:ketenpoort:envelop:2">'),
        code=s,
        element="Bericht",
        why="an envelope of a version that does not exist",
    )
    yield mutate(
        "no-envelope",
        VT_MELDING,
        lambda text: DECLARATION + text[text.index(VT_MELDING_ROOT) : text.index("</kp:Inhoud>")],
        code=s,
        element="VTMelding",
        correlatable=False,
        why="a bare body without envelope: no BerichtId to answer",
    )
    yield mutate(
        "two-bodies",
        VT_MELDING,
        lambda text: text.replace(
            "</kp:Inhoud>",
            text[text.index(VT_MELDING_ROOT) : text.index("</kp:Inhoud>")] + "</kp:Inhoud>",
        ),
        code=s,
        element="pol:VTMelding",
        why="kp:Inhoud holds exactly one body: which one would be routed?",
    )
    yield mutate(
        "two-afzenders",
        VT_MELDING,
        (
            '<kp:Afzender oin="00000099000000000101" rol="politie"/>',
            '<kp:Afzender oin="00000099000000000101" rol="politie"/>'
            '<kp:Afzender oin="00000099000000000103" rol="openbaar-ministerie"/>',
        ),
        code=s,
        element="kp:Afzender",
        why="two Afzenders (parser differentials: first or last?)",
    )
    yield mutate(
        "body-in-another-partners-format",
        VEILIGHEIDSBEOORDELING,
        _afzender(VEILIGHEIDSBEOORDELING, OINS["politie"], "politie"),
        sender="politie",
        code=Foutcode.AFZENDER_NIET_GEAUTORISEERD,
        element="kp:BerichtType",
        why="politie sends, as itself, a Veiligheidsbeoordeling (in Veilig Thuis' format): "
        "the Kop alone settles it, politie may not send that type (spec §6)",
    )
    yield mutate(
        "berichtid-path-traversal",
        VT_MELDING,
        lambda text: re.sub(
            r"<kp:BerichtId>[^<]*<", "<kp:BerichtId>../../../etc/passwd<", text, count=1
        ),
        code=s,
        element="kp:BerichtId",
        correlatable=False,
        why="a BerichtId that is a path: not a UUID, so there is no BerichtId to answer",
    )
    yield mutate(
        "versie-2",
        VT_MELDING,
        ("<kp:Versie>1</kp:Versie>", "<kp:Versie>2</kp:Versie>"),
        code=s,
        element="kp:Versie",
        why="a version of the envelope that does not exist",
    )
    yield mutate(
        "unknown-berichttype",
        TERUGKOPPELING,
        ("<kp:BerichtType>Terugkoppeling<", "<kp:BerichtType>Vergunning<"),
        code=Foutcode.ONBEKEND_BERICHTTYPE,
        element="kp:BerichtType",
        why="a BerichtType outside the catalogue",
    )
    yield mutate(
        "oversized-berichttype",
        VT_MELDING,
        ("<kp:BerichtType>VtMelding<", f"<kp:BerichtType>Vt{'M' * 200_000}<"),
        code=s,
        element="kp:BerichtType",
        why="a 200 kB BerichtType (names are at most 64 characters)",
    )
    yield mutate(
        "berichttype-does-not-match-body",
        VT_MELDING,
        ("<kp:BerichtType>VtMelding<", "<kp:BerichtType>ZsmAanmelding<"),
        code=s,
        element="kp:BerichtType",
        why="the Kop says ZsmAanmelding, the body is a VTMelding",
    )
    yield mutate(
        "traceparent-log-injection",
        VT_MELDING,
        (
            "</kp:Tijdstip>",
            "</kp:Tijdstip><kp:Traceparent>00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331"
            '-01\n{"event":"bericht_afgeleverd","level":"info"}</kp:Traceparent>',
        ),
        code=s,
        element="kp:Traceparent",
        why="a trace context with a forged JSON log line after it",
    )
    yield mutate(
        "missing-doelbinding",
        RVDK_ADVIES,
        lambda text: re.sub(r"\s*<kp:Doelbinding>.*?</kp:Doelbinding>", "", text, flags=re.S),
        code=s,
        element="kp:Kop",
        why="a catalogue message without doel and grondslag",
    )

    # ----------------------------------------------------------------- who sends what
    yield mutate(
        "afzender-onjuist-other-partners-message",
        OM_BESLISSING,
        sender="politie",
        code=Foutcode.AFZENDER_ONJUIST,
        element="kp:Afzender",
        why="politie publishes the OM's OmBeslissing, Afzender and all",
    )
    yield mutate(
        "afzender-onjuist-other-vt-regio",
        TERUGKOPPELING,
        sender="vt-rijnmond",
        code=Foutcode.AFZENDER_ONJUIST,
        element="kp:Afzender",
        why="one Veilig Thuis regio sends in the name of another (same rol, other OIN)",
    )
    yield mutate(
        "afzender-onjuist-names-another-partner",
        VT_MELDING,
        _afzender(VT_MELDING, OINS["om"], "openbaar-ministerie"),
        code=Foutcode.AFZENDER_ONJUIST,
        element="kp:Afzender",
        why="politie sends its own VtMelding but names the OM as Afzender: spec §2, the "
        "authenticated partner is the sender and a mismatch is AFZENDER_ONJUIST",
    )
    yield mutate(
        "afzender-onjuist-impersonates-the-gateway",
        VT_MELDING,
        _afzender(VT_MELDING, GATEWAY_OIN, "ketenpoort"),
        code=Foutcode.AFZENDER_ONJUIST,
        element="kp:Afzender",
        why="politie names the gateway itself (rol ketenpoort) as Afzender: spec §2",
    )
    yield _from_text(
        "rol-may-not-send-terugkoppeling",
        _in_receive_format(TERUGKOPPELING, "politie"),
        sender="politie",
        code=Foutcode.AFZENDER_NIET_GEAUTORISEERD,
        element="kp:BerichtType",
        why="politie receives Terugkoppelingen (its own format) but may not send one",
    )
    yield _from_text(
        "rol-may-not-send-actieoverlegaanmelding",
        _in_receive_format(AO_VT, "om"),
        sender="om",
        code=Foutcode.AFZENDER_NIET_GEAUTORISEERD,
        element="kp:BerichtType",
        why="the OM receives an ActieoverlegAanmelding but only politie and VT send one",
    )
    yield mutate(
        "foutbericht-from-a-partner",
        VT_MELDING,
        _technical_from_partner(
            "Foutbericht",
            "<kp:Foutbericht><kp:Code>NIET_AFLEVERBAAR</kp:Code>"
            "<kp:Reden>vervalst</kp:Reden></kp:Foutbericht>",
        ),
        code=Foutcode.AFZENDER_NIET_GEAUTORISEERD,
        element="kp:BerichtType",
        why="only the gateway sends Foutberichten",
    )
    yield mutate(
        "ontvangstbevestiging-from-a-partner",
        VT_MELDING,
        _technical_from_partner(
            "Ontvangstbevestiging",
            '<kp:Ontvangstbevestiging><kp:Ontvanger oin="00000099000000000102" '
            'rol="veilig-thuis"/></kp:Ontvangstbevestiging>',
        ),
        code=Foutcode.AFZENDER_NIET_GEAUTORISEERD,
        element="kp:BerichtType",
        why="only the gateway sends Ontvangstbevestigingen",
    )

    # ----------------------------------------------------------------- content and policy
    yield mutate(
        "bsn-elfproef",
        VT_MELDING,
        ("<pol:BSN>999990020<", "<pol:BSN>999990018<"),
        code=Foutcode.BSN_ONGELDIG,
        element="pol:BSN",
        forbidden=(b"999990018",),
        why="a BSN that fails the elfproef; the Foutbericht does not repeat it",
    )
    yield mutate(
        "bsn-elfproef-reclassering",
        RC_ADVIES,
        ("<rc:Bsn>999990020<", "<rc:Bsn>999990021<"),
        code=Foutcode.BSN_ONGELDIG,
        element="rc:Bsn",
        forbidden=(b"999990021",),
        why="the same in the reclassering's format (the verdachte is its Client)",
    )
    yield mutate(
        "bsn-elfproef-in-attribute",
        OM_BESLISSING,
        ('bsn="999990020"', 'bsn="123456789"'),
        code=Foutcode.BSN_ONGELDIG,
        element="om:Verdachte/@bsn",
        forbidden=(b"123456789",),
        why="the same in the OM's attribute",
    )
    yield mutate(
        "doel-niet-toegestaan",
        VT_MELDING,
        ("<kp:Doel>VEILIGHEIDSBEOORDELING<", "<kp:Doel>ACTIEOVERLEG<"),
        code=Foutcode.DOEL_NIET_TOEGESTAAN,
        element="kp:Doel",
        why="a doel the type may not carry",
    )
    yield mutate(
        "grondslag-ontbreekt",
        VT_MELDING,
        ("<kp:Grondslag>WPG-ART-18-BPG-4.3<", "<kp:Grondslag>WMO2015-ART-5.2.6<"),
        code=Foutcode.GRONDSLAG_ONTBREEKT,
        element="kp:Grondslag",
        why="the politie citing VT's meldrecht: a grondslag of another party (v2 §4)",
    )
    yield mutate(
        "geen-ontvanger",
        VT_MELDING,
        ("<pol:Postcode>7511AB<", "<pol:Postcode>9999ZZ<"),
        code=Foutcode.GEEN_ONTVANGER,
        element="Postcode",
        forbidden=(b"9999ZZ",),
        why="an address in no Veilig Thuis regio",
    )
    yield mutate(
        "ontvanger-niet-toegestaan",
        VT_MELDING,
        (
            '<kp:Afzender oin="00000099000000000101" rol="politie"/>',
            '<kp:Afzender oin="00000099000000000101" rol="politie"/>'
            '<kp:Ontvanger oin="00000099000000000105" rol="reclassering"/>',
        ),
        code=Foutcode.ONTVANGER_NIET_TOEGESTAAN,
        element="kp:Ontvanger",
        why="the sender asks for a recipient the policy does not route a VtMelding to",
    )
    yield mutate(
        "versie-van-onbekende-reeks",
        "veilig-thuis/reeks/versie-2.xml",
        (
            'reeks-id="5f0c2d7e-3b1a-4c8e-9d2f-7a6b5c4d3e21"',
            'reeks-id="0bad0bad-0bad-4bad-8bad-0bad0bad0bad"',
        ),
        sender="vt-twente",
        code=Foutcode.VERSIE_ONGELDIG,
        why="afspraken versie 2 of a reeks the gateway never saw a versie 1 of (v2 §6)",
    )


__all__ = ["KNOWN_BUGS", "Canaries", "Case", "corpus", "replace_once"]
