"""Read a message (bytes → canonical :class:`Bericht`) and write one (canonical → bytes).

Reading: safe parse → envelope XSD → kop → body namespace and type → the sender's XSD →
adapter parse (elfproef, rules XSD cannot say). Any failure is a :class:`Refused` carrying
the foutbericht code, the element and the line. Writing renders the body in the recipient's
format and, by default, checks it against the recipient's own XSD before it leaves.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from adapters import VOCABULARIES, Adapter, load_adapters
from adapters.xsd import Richting, generate
from gateway.domain.errors import Refused
from gateway.domain.model import (
    Afleverbevestiging,
    AfsprakenSignaal,
    Bericht,
    BerichtType,
    Berichttypen,
    Foutbericht,
    Foutcode,
    Inhoud,
    Kop,
    Ontvangstbevestiging,
    Partij,
    Prioriteit,
    Rol,
    Routeringsregel,
    Statusantwoord,
    Statusregel,
    Statusvraag,
    TechnischeInhoud,
    TechnischType,
    bouw_doelbinding,
    bouw_partij,
    is_technisch,
)
from gateway.domain.model.part import bouwer
from gateway.safexml import xmlsafe
from gateway.safexml.markup import escape_attribute, escape_text
from gateway.safexml.validation import DEFAULT_SCHEMA_DIR, ENVELOP_NS, SchemaSet
from gateway.safexml.xmlsafe import line

KP = f"{{{ENVELOP_NS}}}"


def _kp(name: str) -> str:
    return KP + name


@dataclass(frozen=True)
class Envelop:
    """A message read up to its Kop: the Kop, and the elements the body is read from."""

    kop: Kop
    kop_el: etree._Element
    body: etree._Element
    # the Kop's elements by qualified name, the first of each (read with it: :func:`_fields`)
    velden: Mapping[str, etree._Element] = field(default_factory=dict)

    def regel(self, name: str) -> int | None:
        """The line of an element of the Kop (``BerichtType``, ``Afzender``, …)."""
        tag = _kp(name)
        found = self.velden.get(tag)
        return line(found if found is not None else self.kop_el.find(tag))


class MessageCodec:
    """Reads and writes enveloped messages for every registered partner.

    Reading only checks the format; who may send what is the policy's (authorised by the
    decision path between :meth:`read_envelope` and :meth:`read_inhoud`).
    """

    def __init__(
        self,
        typen: Berichttypen,
        *,
        vocabularies: Path = VOCABULARIES,
        schema_dir: Path = DEFAULT_SCHEMA_DIR,
        max_bytes: int = xmlsafe.DEFAULT_MAX_BYTES,
        max_depth: int = xmlsafe.DEFAULT_MAX_DEPTH,
    ) -> None:
        """``typen``: the catalogue's BerichtTypes; ``vocabularies``: the folder of partner
        vocabularies; ``schema_dir``: where ``envelop.xsd`` is (the partner XSDs are built
        from the catalogue and the vocabularies, here, once)."""
        self.typen = typen
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.by_rol: Mapping[Rol, Adapter] = load_adapters(typen, vocabularies)
        self.adapters: Mapping[str, Adapter] = {
            a.vocabulary.namespace: a for a in self.by_rol.values()
        }
        self.schemas = SchemaSet(
            schema_dir / "envelop.xsd",
            {
                ns: (
                    generate(a.partner, Richting.VERZENDEN, typen),
                    generate(a.partner, Richting.ONTVANGEN, typen),
                )
                for ns, a in self.adapters.items()
            },
            {ns: a.vocabulary.prefix for ns, a in self.adapters.items()},
        )
        # the rols whose bodies write as text after the envelope's (see :meth:`write`)
        self._composable = frozenset(
            rol
            for rol, a in self.by_rol.items()
            if a.vocabulary.prefix != "kp" and a.vocabulary.namespace != ENVELOP_NS
        )

    def prepare(self) -> None:
        """Compile every partner's generated parsers and composers now, not on first use."""
        for adapter in self.by_rol.values():
            adapter.prepare()

    # ----------------------------------------------------------------- read

    def read(self, data: bytes, *, afzender_oin: str | None = None) -> Bericht:
        """Parse and validate one inbound message completely (envelope, then body)."""
        return self.read_inhoud(self.read_envelope(data, afzender_oin=afzender_oin))

    def read_envelope(self, data: bytes, *, afzender_oin: str | None = None) -> Envelop:
        """Parse safely, validate the envelope and read the Kop; the body is not read yet.

        ``afzender_oin``: the authenticated sender; a Kop whose Afzender names another OIN is
        refused (AFZENDER_ONJUIST) before anything else about the message is checked.
        """
        root = xmlsafe.parse(data, max_bytes=self.max_bytes, max_depth=self.max_depth)
        if root.tag != _BERICHT:
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                "the root element must be kp:Bericht in namespace urn:ketenpoort:envelop:1",
                element=etree.QName(root).localname,
                regel=line(root),
            )
        self.schemas.check_envelope(root)
        kop_el = inhoud_el = None
        for child in root:  # the envelope XSD demands one Kop, then one Inhoud
            if child.tag == _KOP and kop_el is None:
                kop_el = child
            elif child.tag == _INHOUD_TAG and inhoud_el is None:
                inhoud_el = child
        assert kop_el is not None  # the envelope XSD requires it
        assert inhoud_el is not None  # likewise
        fields, ontvangers = _fields(kop_el)
        berichttype = _text_of(fields.get(_BERICHTTYPE))
        if berichttype not in self.typen and not is_technisch(berichttype):
            raise Refused(
                Foutcode.ONBEKEND_BERICHTTYPE,
                f"BerichtType {berichttype[:64]!r} is not in the catalogue",
                element="kp:BerichtType",
                regel=line(fields.get(_BERICHTTYPE)),
            )
        kop = self._kop(kop_el, berichttype, fields, ontvangers)
        if afzender_oin is not None and kop.afzender.oin != afzender_oin:
            raise Refused(
                Foutcode.AFZENDER_ONJUIST,
                f"Afzender says {kop.afzender.oin} but the message comes from {afzender_oin}",
                element="kp:Afzender",
                regel=line(fields.get(_AFZENDER)),
            )
        body = next(c for c in inhoud_el if isinstance(c.tag, str))  # the XSD demands one
        return Envelop(kop=kop, kop_el=kop_el, body=body, velden=fields)

    def read_inhoud(self, envelop: Envelop) -> Bericht:
        """The body of an envelope read by :meth:`read_envelope`, in the canonical model."""
        kop = envelop.kop
        if is_technisch(kop.berichttype):
            return Bericht(kop=kop, inhoud=self._technical(envelop.body, kop.berichttype))
        return Bericht(kop=kop, inhoud=self._body(kop, envelop.kop_el, envelop.body))

    def vereist(self, envelop: Envelop, velden: frozenset[str]) -> None:
        """Refuse (SCHEMA_ONGELDIG, naming the element and its line) a body read by
        :meth:`read_inhoud` that leaves out a field the policy requires of its type on top of
        the sender's XSD (berichten.yaml ``verplicht``: spec v2 §8, geinformeerd)."""
        adapter = self.adapters.get(etree.QName(envelop.body).namespace or "")
        if adapter is not None and velden:
            adapter.vereist(envelop.body, velden)

    def readable(self) -> dict[Rol, frozenset[BerichtType]]:
        """Per rol, the BerichtTypes its format can express as a sender (for the policy check
        at start: a rol may be allowed to send only what its adapter can read)."""
        return {rol: frozenset(a.partner.sends) for rol, a in self.by_rol.items()}

    def _kop(
        self,
        kop: etree._Element,
        berichttype: BerichtType,
        fields: dict[str, etree._Element],
        ontvangers: list[etree._Element],
    ) -> Kop:
        """The Kop from its elements (:func:`_fields`: the first of each name, every
        Ontvanger), read in one pass instead of a search per name."""
        doelbinding_el = fields.get(_DOELBINDING)
        if doelbinding_el is None and not is_technisch(berichttype):
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"kp:Doelbinding (doel and grondslag) is required for a {berichttype}",
                element="kp:Kop",
                regel=line(kop),
            )
        doelbinding = None
        if doelbinding_el is not None:
            doel = None
            grondslagen = []
            for child in doelbinding_el:
                if child.tag == _GRONDSLAG:
                    grondslagen.append((child.text or "").strip())
                elif child.tag == _DOEL and doel is None:
                    doel = child
            doelbinding = bouw_doelbinding(
                {"doel": _text_of(doel), "grondslagen": tuple(grondslagen)}
            )
        prioriteit = _found_text(fields.get(_PRIORITEIT))
        # every value has its field's type already (the envelope XSD checked the text):
        # built as Kop(...) would, without pydantic's validation (a test compares the two)
        return _bouw_kop(
            {
                "bericht_id": _text_of(fields.get(_BERICHTID)).lower(),
                "conversatie_id": _text_of(fields.get(_CONVERSATIEID)).lower(),
                "in_antwoord_op": _text_of(fields.get(_INANTWOORDOP)).lower() or None,
                "berichttype": berichttype,
                "versie": "1",
                "afzender": _partij(fields.get(_AFZENDER)),
                "ontvangers": tuple(_partij(o) for o in ontvangers),
                "doelbinding": doelbinding,
                "tijdstip": dt.datetime.fromisoformat(_text_of(fields.get(_TIJDSTIP))),
                "prioriteit": Prioriteit(prioriteit.strip()) if prioriteit else None,
                "traceparent": _text_of(fields.get(_TRACEPARENT)) or None,
            }
        )

    def _body(self, kop: Kop, kop_el: etree._Element, body: etree._Element) -> Inhoud:
        namespace = etree.QName(body).namespace or ""
        adapter = self.adapters.get(namespace)
        where = f"{etree.QName(body).localname}"

        def refused(code: Foutcode, reden: str, *, in_kop: bool = False) -> Refused:
            """Refused at the body (as named in ``where`` now), or at the Kop's BerichtType."""
            if in_kop:
                return Refused(
                    code,
                    reden,
                    element="kp:BerichtType",
                    regel=line(kop_el.find(_kp("BerichtType"))),
                )
            return Refused(code, reden, element=where, regel=line(body))

        if adapter is None:
            raise refused(
                Foutcode.ONBEKEND_BERICHTTYPE,
                f"no partner format has namespace {namespace or '(none)'!r}",
            )
        where = f"{adapter.vocabulary.prefix}:{where}"
        if adapter.vocabulary.rol != kop.afzender.rol:
            raise refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"the body is in the {adapter.vocabulary.rol} format but the afzender rol is "
                f"{kop.afzender.rol}; a sender writes in its own namespace",
            )
        found = adapter.sent_type(body)
        receives = adapter.codecs.get(kop.berichttype)
        if found is None and receives is not None and receives.tag == body.tag:
            raise refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"the body is the format in which {adapter.vocabulary.rol} receives a "
                f"{kop.berichttype}, not one it sends",
            )
        if found is None:
            raise refused(
                Foutcode.ONBEKEND_BERICHTTYPE,
                f"{adapter.vocabulary.rol} sends no message {etree.QName(body).localname}",
            )
        if found != kop.berichttype:
            raise refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"BerichtType is {kop.berichttype} but the body is a {found}",
                in_kop=True,
            )
        self.schemas.check_body(body, sent=True)
        return adapter.parse(body)

    def _technical(self, body: etree._Element, berichttype: BerichtType) -> TechnischeInhoud:
        if body.tag != _kp(berichttype):
            raise Refused(
                Foutcode.SCHEMA_ONGELDIG,
                f"a {berichttype} carries a kp:{berichttype} body",
                element=etree.QName(body).localname,
                regel=line(body),
            )
        if berichttype == TechnischType.ONTVANGSTBEVESTIGING:
            moment = body.findtext(_kp("UitersteBeslismoment"))
            return Ontvangstbevestiging(
                ontvangers=[_partij(o) for o in body.findall(_kp("Ontvanger"))],
                uiterste_beslismoment=dt.datetime.fromisoformat(moment) if moment else None,
                regels=[_routeringsregel(r) for r in body.findall(_kp("Regel"))],
            )
        if berichttype == TechnischType.FOUTBERICHT:
            regel = body.findtext(_kp("Regel"))
            return Foutbericht(
                code=Foutcode(_text(body, "Code")),
                reden=_text(body, "Reden"),
                element=body.findtext(_kp("Element")),
                regel=int(regel) if regel else None,
            )
        if berichttype == TechnischType.STATUSVRAAG:
            return Statusvraag()
        if berichttype == TechnischType.STATUSANTWOORD:
            return _statusantwoord(body)
        if berichttype == TechnischType.AFSPRAKENSIGNAAL:
            return AfsprakenSignaal(
                reeks_id=_text(body, "ReeksId"),
                versie=int(_text(body, "Versie")),
                datum=dt.date.fromisoformat(_text(body, "Datum")),
                houder=_partij(body.find(_kp("Houder"))),
            )
        ontvangen = body.findtext(_kp("Ontvangen"))
        return Afleverbevestiging(
            ontvangen=dt.datetime.fromisoformat(ontvangen) if ontvangen else None
        )

    # ----------------------------------------------------------------- write

    def write(self, bericht: Bericht, *, voor: Rol | None = None, check: bool = True) -> bytes:
        """The message as bytes; a body rendered in the format of rol ``voor``.

        ``voor`` defaults to the afzender's rol (the sender's own format). With ``check`` the
        body is validated against that partner's schema: the receive schema for a recipient,
        the send schema for the sender's own format.

        The envelope is written as text (:func:`_compose_kop`, :func:`_compose_technical`),
        the bytes :meth:`build` gives; what the text cannot say as the built tree would (an
        attribute with a character XML cannot carry: the built tree refuses it) and a
        partner format whose prefix or namespace is the envelope's go through :meth:`build`.
        """
        out = [_HEAD]
        try:
            _compose_kop(out, bericht.kop)
        except _EnvelopeTextError:
            return self.build(bericht, voor=voor, check=check)
        inhoud = bericht.inhoud
        if not isinstance(inhoud, Inhoud):
            out.append(_INHOUD)
            try:
                _compose_technical(out, bericht.kop.berichttype, inhoud)
            except _EnvelopeTextError:
                return self.build(bericht, voor=voor, check=check)
            out.append(_TAIL)
            return "".join(out).encode()
        rol = voor or bericht.kop.afzender.rol
        if rol not in self._composable:
            return self.build(bericht, voor=voor, check=check)
        adapter = self.by_rol[rol]
        composed = adapter.compose(inhoud, level=2)
        if composed is not None:
            # the body's text as the indented tree is written, sent as it was parsed and checked
            text, body = composed
            if check:
                self._check_body(adapter, inhoud, body, sent=voor is None)
            out += (_INHOUD_BODY, text, _TAIL_TEXT)
            return "".join(out).encode()
        body = self._body_for(bericht, voor=voor, check=check)
        out.append(_INHOUD_BODY)
        etree.indent(body, space="  ", level=2)
        return (
            "".join(out).encode()
            + etree.tostring(body, encoding="UTF-8", xml_declaration=False, with_tail=False)
            + _TAIL_BODY
        )

    def build(self, bericht: Bericht, *, voor: Rol | None = None, check: bool = True) -> bytes:
        """What :meth:`write` gives, the envelope built element by element."""
        root = etree.Element(_kp("Bericht"), nsmap={"kp": ENVELOP_NS})
        self._write_kop(etree.SubElement(root, _kp("Kop")), bericht.kop)
        inhoud = etree.SubElement(root, _kp("Inhoud"))
        if isinstance(bericht.inhoud, Inhoud):
            inhoud.append(self._body_for(bericht, voor=voor, check=check))
        else:
            _write_technical(inhoud, bericht.kop.berichttype, bericht.inhoud)
        etree.indent(root, space="  ")
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"

    def _body_for(self, bericht: Bericht, *, voor: Rol | None, check: bool) -> etree._Element:
        """The body rendered for rol ``voor`` (the afzender's by default), checked against
        that partner's schema when ``check``."""
        assert isinstance(bericht.inhoud, Inhoud)
        rol = voor or bericht.kop.afzender.rol
        adapter = self.by_rol[rol]
        body = adapter.render(bericht.inhoud)
        if check:
            self._check_body(adapter, bericht.inhoud, body, sent=voor is None)
        return body

    def _check_body(
        self, adapter: Adapter, inhoud: Inhoud, body: etree._Element, *, sent: bool
    ) -> None:
        """``body``, rendered from ``inhoud``, against the partner's send or receive schema;
        refused as the built tree is, which has no source lines to name."""
        try:
            self.schemas.check_body(body, sent=sent)
        except Refused:
            self.schemas.check_body(adapter.build(inhoud), sent=sent)
            raise

    def _write_kop(self, kop: etree._Element, k: Kop) -> None:
        _sub(kop, "BerichtId", k.bericht_id)
        _sub(kop, "ConversatieId", k.conversatie_id)
        if k.in_antwoord_op:
            _sub(kop, "InAntwoordOp", k.in_antwoord_op)
        _sub(kop, "BerichtType", k.berichttype)
        _sub(kop, "Versie", k.versie)
        _partij_el(kop, "Afzender", k.afzender)
        for ontvanger in k.ontvangers:
            _partij_el(kop, "Ontvanger", ontvanger)
        if k.doelbinding is not None:
            db = etree.SubElement(kop, _kp("Doelbinding"))
            _sub(db, "Doel", k.doelbinding.doel)
            for grondslag in k.doelbinding.grondslagen:
                _sub(db, "Grondslag", grondslag)
        _sub(kop, "Tijdstip", k.tijdstip.isoformat())
        if k.prioriteit is not None:
            _sub(kop, "Prioriteit", k.prioriteit.value)
        if k.traceparent:
            _sub(kop, "Traceparent", k.traceparent)


def _write_technical(
    inhoud: etree._Element, berichttype: BerichtType, body: TechnischeInhoud
) -> None:
    element = etree.SubElement(inhoud, _kp(berichttype))
    if isinstance(body, Ontvangstbevestiging):
        for ontvanger in body.ontvangers:
            _partij_el(element, "Ontvanger", ontvanger)
        if body.uiterste_beslismoment is not None:
            _sub(element, "UitersteBeslismoment", body.uiterste_beslismoment.isoformat())
        for regel in body.regels:
            _routeringsregel_el(element, regel)
    elif isinstance(body, Foutbericht):
        _sub(element, "Code", body.code.value)
        _sub(element, "Reden", body.reden[:2000])
        if body.element:
            _sub(element, "Element", body.element[:2000])
        if body.regel:
            _sub(element, "Regel", str(body.regel))
    elif isinstance(body, Statusantwoord):
        _sub(element, "BerichtId", body.bericht_id)
        _sub(element, "Bekend", "true" if body.bekend else "false")
        if body.berichttype:
            _sub(element, "BerichtType", body.berichttype)
        for lev in body.leveringen:
            etree.SubElement(
                element,
                _kp("Levering"),
                oin=lev.ontvanger.oin,
                rol=str(lev.ontvanger.rol),
                status=lev.status,
                pogingen=str(lev.pogingen),
                bijgewerkt=lev.bijgewerkt.isoformat(),
            )
    elif isinstance(body, AfsprakenSignaal):
        _sub(element, "ReeksId", body.reeks_id)
        _sub(element, "Versie", str(body.versie))
        _sub(element, "Datum", body.datum.isoformat())
        _partij_el(element, "Houder", body.houder)
    elif isinstance(body, Afleverbevestiging) and body.ontvangen is not None:
        _sub(element, "Ontvangen", body.ontvangen.isoformat())


def _statusantwoord(body: etree._Element) -> Statusantwoord:
    return Statusantwoord(
        bericht_id=_text(body, "BerichtId").lower(),
        bekend=_text(body, "Bekend") in ("true", "1"),
        berichttype=_text(body, "BerichtType") or None,
        leveringen=[
            Statusregel(
                ontvanger=_partij(lev),
                status=lev.get("status", "").strip(),  # one of the XSD enumeration
                pogingen=int(lev.get("pogingen", "0")),
                bijgewerkt=dt.datetime.fromisoformat(lev.get("bijgewerkt", "").strip()),
            )
            for lev in body.findall(_kp("Levering"))
        ],
    )


def _text(parent: etree._Element, name: str) -> str:
    return (parent.findtext(_kp(name)) or "").strip()


_BERICHT = _kp("Bericht")
_KOP = _kp("Kop")
_INHOUD_TAG = _kp("Inhoud")
_ONTVANGER = _kp("Ontvanger")
_BERICHTID = _kp("BerichtId")
_CONVERSATIEID = _kp("ConversatieId")
_INANTWOORDOP = _kp("InAntwoordOp")
_BERICHTTYPE = _kp("BerichtType")
_AFZENDER = _kp("Afzender")
_DOELBINDING = _kp("Doelbinding")
_DOEL = _kp("Doel")
_GRONDSLAG = _kp("Grondslag")
_TIJDSTIP = _kp("Tijdstip")
_PRIORITEIT = _kp("Prioriteit")
_TRACEPARENT = _kp("Traceparent")


def _fields(kop: etree._Element) -> tuple[dict[str, etree._Element], list[etree._Element]]:
    """The Kop's elements by name (the first of each, as ``find`` gives) and its Ontvangers."""
    fields: dict[str, etree._Element] = {}
    ontvangers: list[etree._Element] = []
    for child in kop:
        tag = child.tag
        if tag == _ONTVANGER:
            ontvangers.append(child)
        elif tag not in fields:
            fields[tag] = child
    return fields, ontvangers


def _found_text(element: etree._Element | None) -> str | None:
    """What ``findtext`` gives for the element it found (``None``: not there)."""
    if element is None:
        return None
    return element.text or ""


def _text_of(element: etree._Element | None) -> str:
    """:func:`_text` of an element found already."""
    return "" if element is None else (element.text or "").strip()


# characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF)
_NIET_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_tekst(text: str) -> str:
    """``text`` as an XML text node can hold it: each character XML 1.0 cannot carry is
    written as its escape (``\\x14``), so a reason quoting a sender's bad byte still says
    which one instead of failing the Foutbericht."""
    if _NIET_XML.search(text) is None:  # the common case: nothing to escape, no replacement
        return text
    return _NIET_XML.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    return match.group(0).encode("unicode_escape").decode("ascii")


def _sub(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, _kp(name)).text = xml_tekst(text)


# The Kop's parts built from values of their fields' types (see :meth:`MessageCodec._kop`);
# a Kop read sets every field but the fixed ``versie``, as ``Kop(...)`` with them would.
_bouw_kop = bouwer(Kop, frozenset(Kop.model_fields) - {"versie"})


def _partij(element: etree._Element | None) -> Partij:
    assert element is not None  # required by the envelope XSD
    return bouw_partij({"oin": element.get("oin", ""), "rol": element.get("rol", "").strip()})


def _routeringsregel(element: etree._Element) -> Routeringsregel:
    return Routeringsregel(
        nummer=int(element.get("nummer", "0")),
        naar=element.get("naar", "").strip(),
        verplicht=element.get("verplicht", "").strip() in ("true", "1"),
        ontvangers=[_partij(o) for o in element.findall(_kp("Ontvanger"))],
        ontbreekt=element.findtext(_kp("Ontbreekt")),
    )


def _routeringsregel_el(parent: etree._Element, regel: Routeringsregel) -> None:
    element = etree.SubElement(
        parent,
        _kp("Regel"),
        nummer=str(regel.nummer),
        naar=regel.naar,
        verplicht="true" if regel.verplicht else "false",
    )
    for ontvanger in regel.ontvangers:
        _partij_el(element, "Ontvanger", ontvanger)
    if regel.ontbreekt:
        _sub(element, "Ontbreekt", regel.ontbreekt[:2000])


# ------------------------------------------------------------- write as text


class _EnvelopeTextError(Exception):
    """What the envelope's text cannot say as the built tree would (see :meth:`write`)."""


_HEAD = f"<?xml version='1.0' encoding='UTF-8'?>\n<kp:Bericht xmlns:kp=\"{ENVELOP_NS}\">\n"
_INHOUD = "  <kp:Inhoud>\n"
_INHOUD_BODY = "  <kp:Inhoud>\n    "
_TAIL = "  </kp:Inhoud>\n</kp:Bericht>\n"
_TAIL_BODY = b"\n  </kp:Inhoud>\n</kp:Bericht>\n"
_TAIL_TEXT = _TAIL_BODY.decode()
_NAME = re.compile("[A-Za-z_][A-Za-z0-9_.-]*")


def _text_markup(text: str) -> str:
    """``text`` as lxml writes an element's text once :func:`xml_tekst` made it XML."""
    return escape_text(xml_tekst(text))


def _attribute_markup(text: str) -> str:
    """``text`` as lxml writes an attribute value; one XML cannot carry is the built tree's
    to refuse."""
    if _NIET_XML.search(text) is not None:
        raise _EnvelopeTextError
    return escape_attribute(text)


def _leaf(out: list[str], indent: str, name: str, text: str) -> None:
    out.append(f"{indent}<kp:{name}>{_text_markup(text)}</kp:{name}>\n")


def _partij_markup(out: list[str], indent: str, name: str, partij: Partij) -> None:
    out.append(
        f'{indent}<kp:{name} oin="{_attribute_markup(partij.oin)}"'
        f' rol="{_attribute_markup(str(partij.rol))}"/>\n'
    )


def _compose_kop(out: list[str], k: Kop) -> None:
    """The Kop as text, indented as :meth:`MessageCodec._write_kop`'s tree is written."""
    t = _text_markup
    out.append(
        f"  <kp:Kop>\n    <kp:BerichtId>{t(k.bericht_id)}</kp:BerichtId>\n"
        f"    <kp:ConversatieId>{t(k.conversatie_id)}</kp:ConversatieId>\n"
    )
    if k.in_antwoord_op:
        out.append(f"    <kp:InAntwoordOp>{t(k.in_antwoord_op)}</kp:InAntwoordOp>\n")
    out.append(
        f"    <kp:BerichtType>{t(k.berichttype)}</kp:BerichtType>\n"
        f"    <kp:Versie>{t(k.versie)}</kp:Versie>\n"
    )
    _partij_markup(out, "    ", "Afzender", k.afzender)
    for ontvanger in k.ontvangers:
        _partij_markup(out, "    ", "Ontvanger", ontvanger)
    if k.doelbinding is not None:
        out.append(f"    <kp:Doelbinding>\n      <kp:Doel>{t(k.doelbinding.doel)}</kp:Doel>\n")
        for grondslag in k.doelbinding.grondslagen:
            out.append(f"      <kp:Grondslag>{t(grondslag)}</kp:Grondslag>\n")
        out.append("    </kp:Doelbinding>\n")
    out.append(f"    <kp:Tijdstip>{t(k.tijdstip.isoformat())}</kp:Tijdstip>\n")
    if k.prioriteit is not None:
        out.append(f"    <kp:Prioriteit>{t(k.prioriteit.value)}</kp:Prioriteit>\n")
    if k.traceparent:
        out.append(f"    <kp:Traceparent>{t(k.traceparent)}</kp:Traceparent>\n")
    out.append("  </kp:Kop>\n")


def _compose_ontvangstbevestiging(out: list[str], body: Ontvangstbevestiging) -> None:
    """The recipients, the deadline and the routing rules that applied, as text."""
    for ontvanger in body.ontvangers:
        _partij_markup(out, "      ", "Ontvanger", ontvanger)
    if body.uiterste_beslismoment is not None:
        _leaf(out, "      ", "UitersteBeslismoment", body.uiterste_beslismoment.isoformat())
    for regel in body.regels:
        start = (
            f'      <kp:Regel nummer="{_attribute_markup(str(regel.nummer))}"'
            f' naar="{_attribute_markup(regel.naar)}"'
            f' verplicht="{"true" if regel.verplicht else "false"}"'
        )
        if not regel.ontvangers and not regel.ontbreekt:
            out.append(start + "/>\n")
            continue
        out.append(start + ">\n")
        for ontvanger in regel.ontvangers:
            _partij_markup(out, "        ", "Ontvanger", ontvanger)
        if regel.ontbreekt:
            _leaf(out, "        ", "Ontbreekt", regel.ontbreekt[:2000])
        out.append("      </kp:Regel>\n")


def _compose_statusantwoord(out: list[str], body: Statusantwoord) -> None:
    """The asked message and its deliveries, as text."""
    _leaf(out, "      ", "BerichtId", body.bericht_id)
    _leaf(out, "      ", "Bekend", "true" if body.bekend else "false")
    if body.berichttype:
        _leaf(out, "      ", "BerichtType", body.berichttype)
    for lev in body.leveringen:
        out.append(
            f'      <kp:Levering oin="{_attribute_markup(lev.ontvanger.oin)}"'
            f' rol="{_attribute_markup(str(lev.ontvanger.rol))}"'
            f' status="{_attribute_markup(lev.status)}"'
            f' pogingen="{_attribute_markup(str(lev.pogingen))}"'
            f' bijgewerkt="{_attribute_markup(lev.bijgewerkt.isoformat())}"/>\n'
        )


def _compose_technical(out: list[str], berichttype: BerichtType, body: TechnischeInhoud) -> None:
    """A technical body as text, indented as :func:`_write_technical`'s tree is written."""
    inner: list[str] = []
    if isinstance(body, Ontvangstbevestiging):
        _compose_ontvangstbevestiging(inner, body)
    elif isinstance(body, Foutbericht):
        _leaf(inner, "      ", "Code", body.code.value)
        _leaf(inner, "      ", "Reden", body.reden[:2000])
        if body.element:
            _leaf(inner, "      ", "Element", body.element[:2000])
        if body.regel:
            _leaf(inner, "      ", "Regel", str(body.regel))
    elif isinstance(body, Statusantwoord):
        _compose_statusantwoord(inner, body)
    elif isinstance(body, AfsprakenSignaal):
        _leaf(inner, "      ", "ReeksId", body.reeks_id)
        _leaf(inner, "      ", "Versie", str(body.versie))
        _leaf(inner, "      ", "Datum", body.datum.isoformat())
        _partij_markup(inner, "      ", "Houder", body.houder)
    elif isinstance(body, Afleverbevestiging) and body.ontvangen is not None:
        _leaf(inner, "      ", "Ontvangen", body.ontvangen.isoformat())
    name = berichttype
    if _NAME.fullmatch(name) is None:
        raise _EnvelopeTextError  # a name XML cannot carry is the built tree's to refuse
    if not inner:
        out.append(f"    <kp:{name}/>\n")
        return
    out.append(f"    <kp:{name}>\n")
    out += inner
    out.append(f"    </kp:{name}>\n")


def _partij_el(parent: etree._Element, name: str, partij: Partij) -> None:
    etree.SubElement(parent, _kp(name), oin=partij.oin, rol=str(partij.rol))


__all__ = ["MessageCodec", "xml_tekst"]
