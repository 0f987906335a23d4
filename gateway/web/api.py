"""The FastAPI application of the partner port: partner API (``/v1``) and the audit pages
(``/audit``, see ``gateway.web.audit_pages``). Health and metrics are on the ops port
(``gateway.web.ops``).

Partners are identified by their client certificate only (mutual TLS; OIN = the subject's
serialNumber; the OIN must be in the partner register). A request without a certificate gets
401, one with a certificate of an unknown OIN 403; both are audited. Every refused message is
answered with a Foutbericht (XML) and audited, like over AMQP; every other refusal of the door
too is a Foutbericht (``gateway.web.refusals``).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from gateway.domain.errors import Refused, Transient
from gateway.domain.model import (
    Afleverbevestiging,
    Bericht,
    Foutcode,
    Kop,
    Partij,
    TechnischType,
)
from gateway.observe.logs import get_logger
from gateway.policy.catalogue import PartnerEntry as Partner
from gateway.runtime import app as core
from gateway.runtime.officers import Officers, Sessions
from gateway.store.state import Bekend
from gateway.web import refusals
from gateway.web.audit_pages import router as audit_router
from gateway.web.callers import client_identity, deny, parts_of
from gateway.web.contract import (
    BERICHTEN_TAG,
    ERRORS,
    HSTS,
    XML_BODY,
    InboxAntwoord,
    StatusAntwoord,
    documented,
    fout,
)
from gateway.web.keten_pages import router as keten_router

__all__ = [
    "ID_PATTERN",
    "STATUS",
    "XML",
    "XML_TYPES",
    "BerichtIdPath",
    "Caller",
    "RateLimiter",
    "create_app",
    "partner",
    "read_capped",
    "status_json",
    "unavailable",
    "xml",
]

log = get_logger("ketenpoort.http")

XML = refusals.XML
XML_TYPES = frozenset({"application/xml", "text/xml"})
ID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

# HTTP status per Foutbericht code (the body is the Foutbericht either way)
STATUS = {
    Foutcode.XML_ONGELDIG: 400,
    Foutcode.SCHEMA_ONGELDIG: 400,
    Foutcode.BSN_ONGELDIG: 400,
    Foutcode.ONBEKEND_BERICHTTYPE: 400,
    Foutcode.TE_GROOT: 413,
    Foutcode.AFZENDER_ONJUIST: 403,
    Foutcode.AFZENDER_NIET_GEAUTORISEERD: 403,
    Foutcode.DOEL_NIET_TOEGESTAAN: 422,
    Foutcode.GRONDSLAG_ONTBREEKT: 422,
    Foutcode.ONTVANGER_NIET_TOEGESTAAN: 422,
    Foutcode.GEEN_ONTVANGER: 422,
    Foutcode.DUBBEL_BERICHT: 409,
    Foutcode.NIET_AFLEVERBAAR: 422,
}


class RateLimiter:
    """A token bucket per partner (this process; each replica limits on its own)."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float | None = None) -> float:
        """0 when allowed; else the seconds until a token is free."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.per_second)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.per_second


async def partner(request: Request) -> Partner:
    """The calling partner, from its client certificate (401/403 otherwise, audited)."""
    parts = parts_of(request)
    route = request.url.path
    who = client_identity(request)
    if who is None:
        await deny(parts, "geen-certificaat", route, None)
        raise HTTPException(401, "a client certificate is required (mutual TLS)")
    if who.oin is None or who.oin not in parts.policy.partners:
        await deny(parts, "onbekend-certificaat", route, who.oin)
        raise HTTPException(403, f"certificate {who.subject!r} is not a registered partner")
    parts.client_expiry[who.oin] = who.not_after
    wait = request.app.state.limiter.take(who.oin)
    if wait:
        parts.metrics.access_denied.labels("rate-limit").inc()
        log.warning("rate_limit", oin=who.oin, route=route)
        raise HTTPException(
            429, "too many requests for this partner", {"Retry-After": str(int(wait) + 1)}
        )
    found: Partner = parts.policy.partners[who.oin]
    return found


Caller = Annotated[Partner, Depends(partner)]
BerichtIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="A BerichtId (UUID).")]


def xml(body: bytes, status: int) -> Response:
    return Response(body, status_code=status, media_type=XML)


def unavailable(request: Request, exc: Transient) -> Response:
    log.warning("http_uitgesteld", reden=str(exc))
    return refusals.foutbericht_response(
        request,
        503,
        "the gateway cannot take messages right now (broker or audit store); retry",
        headers={"Retry-After": "5"},
    )


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, but never more than ``limit + 1`` bytes (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)[: limit + 1]


@dataclass(frozen=True)
class _Media:
    ok: bool
    given: str


def _media(request: Request) -> _Media:
    given = request.headers.get("content-type", "")
    return _Media(given.split(";")[0].strip().lower() in XML_TYPES, given)


def create_app(parts: core.Parts) -> FastAPI:  # noqa: PLR0915 - every route in one place
    settings = parts.settings
    api = FastAPI(
        title="Ketenpoort",
        version="1",
        summary="Gateway of the zorg-straf chain for huiselijk geweld en kindermishandeling.",
        description=(
            "Partners authenticate with their client certificate (mutual TLS; the OIN is "
            "the subject's serialNumber). Messages are enveloped XML (spec: "
            "berichten.md): a refused message is answered with a Foutbericht in the body."
        ),
        docs_url=None,
        redoc_url=None,
    )
    refusals.install(api, parts.codec, settings.gateway_oin)
    api.state.parts = parts
    api.state.limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
    api.state.officers = Officers(settings.officers_file)
    api.state.sessions = Sessions(
        Sessions.secret_from_file(
            settings.session_secret_file or settings.audit_key_dir / "sessie.secret"
        ),
        settings.session_minutes,
    )

    @api.middleware("http")
    async def count(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "onbekend")
        parts.metrics.http_requests.labels(template, str(response.status_code)).inc()
        # browsers (the officers' audit pages) must never come back over plain HTTP
        response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    # ------------------------------------------------------------- partner API

    @api.post(
        "/v1/berichten",
        status_code=202,
        response_class=Response,  # XML, documented below (not FastAPI's JSON)
        tags=[BERICHTEN_TAG],
        summary="Send a message (enveloped XML).",
        openapi_extra={"requestBody": {"required": True, **XML_BODY}},
        responses={
            202: {"description": "Accepted: the Ontvangstbevestiging.", **XML_BODY},
            400: fout("Refused (XML/schema/BSN): the Foutbericht."),
            409: fout("DUBBEL_BERICHT: the Foutbericht."),
            413: fout("TE_GROOT: the Foutbericht."),
            415: fout("Not application/xml: the Foutbericht (XML_ONGELDIG)."),
            422: fout("Refused by the policy: the Foutbericht."),
            **ERRORS,
        },
    )
    async def send(request: Request, caller: Caller) -> Response:
        traceparent = request.headers.get("traceparent")
        declared = request.headers.get("content-length")
        try:
            if declared is not None and declared.isdigit() and int(declared) > settings.max_bytes:
                raw = await read_capped(request, 65536)
                antwoord = await parts.gateway.reject(
                    raw,
                    caller.oin,
                    Refused(
                        Foutcode.TE_GROOT,
                        f"the message is {declared} bytes; at most {settings.max_bytes} "
                        "are accepted",
                    ),
                )
                return xml(antwoord.body, 413)
            raw = await read_capped(request, settings.max_bytes)
            media = _media(request)
            if not media.ok:
                antwoord = await parts.gateway.reject(
                    raw,
                    caller.oin,
                    Refused(
                        Foutcode.XML_ONGELDIG,
                        f"Content-Type {media.given or '(none)'!r}: send application/xml",
                    ),
                )
                return xml(antwoord.body, 415)
            antwoord = await parts.gateway.submit(raw, caller.oin, traceparent=traceparent)
        except Transient as exc:
            return unavailable(request, exc)
        if antwoord.foutcode is not None:
            return xml(antwoord.body, STATUS.get(antwoord.foutcode, 400))
        return xml(antwoord.body, 202)

    @api.get(
        "/v1/berichten",
        tags=[BERICHTEN_TAG],
        summary="The caller's inbox: messages not yet confirmed, oldest first.",
        responses={
            200: {"model": InboxAntwoord, "description": "The messages held for the caller."},
            400: fout("A malformed limit: the Foutbericht (VERZOEK_ONGELDIG)."),
            **ERRORS,
        },
    )
    async def inbox(
        request: Request,
        caller: Caller,
        limit: Annotated[int, Query(ge=1, le=100, description="At most this many.")] = 20,
    ) -> Response:
        try:
            held = await parts.inbox.fetch(caller.oin, parts.topology.inbox(caller.oin), limit)
        except Transient as exc:
            return unavailable(request, exc)
        log.info("inbox_gelezen", ontvanger=caller.oin, berichten=len(held))
        return JSONResponse(
            {
                "berichten": [
                    {
                        "id": h.bericht_id,
                        "soort": h.soort,
                        "berichttype": h.berichttype,
                        "afzender": h.afzender,
                        "poging": h.poging,
                        "herhaald": h.herhaald,
                        "opgehaald": h.first_seen.isoformat(),
                        "xml": h.body.decode("utf-8"),
                    }
                    for h in held
                ],
                "lease_seconden": settings.inbox_lease_seconds,
            }
        )

    @api.post(
        "/v1/berichten/{bericht_id}/afleverbevestiging",
        response_class=Response,  # XML, documented below (not FastAPI's JSON)
        tags=[BERICHTEN_TAG],
        summary="Confirm receipt of a message from the inbox (it is then removed).",
        responses={
            200: {"description": "Recorded: the Ontvangstbevestiging of it.", **XML_BODY},
            204: {"description": "A gateway answer, removed from the inbox."},
            400: fout("A malformed BerichtId, or the confirmation was refused: the Foutbericht."),
            403: fout("Not a registered partner, or the confirmation was refused: Foutbericht."),
            404: fout("No such message in the caller's inbox: the Foutbericht (NIET_GEVONDEN)."),
            409: fout("DUBBEL_BERICHT: the Foutbericht."),
            422: fout("The confirmation was refused by the policy: the Foutbericht."),
            **{k: v for k, v in ERRORS.items() if k != 403},
        },
    )
    async def confirm(request: Request, bericht_id: BerichtIdPath, caller: Caller) -> Response:
        bericht_id = bericht_id.lower()
        held = parts.inbox.find(caller.oin, bericht_id)
        try:
            if held is not None and held.soort != "levering":
                await parts.inbox.release(caller.oin, bericht_id)
                return Response(status_code=204)
            senders = await parts.state.addressed_to(caller.oin, bericht_id)
            if not senders:
                raise HTTPException(404, f"no message {bericht_id} for {caller.oin}")
            afzender = held.afzender if held is not None else None
            raw = parts.codec.write(
                Bericht(
                    kop=Kop(
                        bericht_id=str(uuid.uuid4()),
                        conversatie_id=(held.message.correlation_id if held is not None else None)
                        or str(uuid.uuid4()),
                        in_antwoord_op=bericht_id,
                        berichttype=TechnischType.AFLEVERBEVESTIGING,
                        afzender=Partij(oin=caller.oin, rol=caller.rol),
                        ontvangers=(
                            (Partij(oin=afzender, rol=parts.policy.partners[afzender].rol),)
                            if afzender in parts.policy.partners
                            else ()
                        ),
                        tijdstip=dt.datetime.now(dt.UTC),
                    ),
                    inhoud=Afleverbevestiging(ontvangen=dt.datetime.now(dt.UTC)),
                )
            )
            antwoord = await parts.gateway.submit(raw, caller.oin)
            if antwoord.foutcode is not None:
                return xml(antwoord.body, STATUS.get(antwoord.foutcode, 400))
            await parts.inbox.release(caller.oin, bericht_id)
        except Transient as exc:
            return unavailable(request, exc)
        return xml(antwoord.body, 200)

    @api.get(
        "/v1/berichten/{bericht_id}/status",
        tags=[BERICHTEN_TAG],
        summary="Delivery status per recipient (for the message's sender only).",
        responses={
            200: {"model": StatusAntwoord, "description": "Delivery status per recipient."},
            400: fout("A malformed BerichtId: the Foutbericht (VERZOEK_ONGELDIG)."),
            404: fout("The caller sent no such message: the Foutbericht (NIET_GEVONDEN)."),
            **ERRORS,
        },
    )
    async def status(request: Request, bericht_id: BerichtIdPath, caller: Caller) -> Response:
        try:
            bekend = await parts.state.lookup(caller.oin, bericht_id.lower())
        except Transient as exc:
            return unavailable(request, exc)
        if bekend is None:  # keyed by the caller's OIN: another sender's message is not found
            raise HTTPException(404, f"{caller.oin} sent no message {bericht_id}")
        return JSONResponse(status_json(bekend))

    api.include_router(audit_router)
    api.include_router(keten_router)
    documented(api)
    return api


def status_json(bekend: Bekend) -> dict[str, Any]:
    return {
        "bericht_id": bekend.bericht_id,
        "berichttype": bekend.berichttype,
        "ontvangen": bekend.ontvangen.isoformat(),
        "beantwoord": bekend.antwoord is not None,
        "ontvangers": [
            {
                "oin": lev.ontvanger_oin,
                "rol": lev.ontvanger_rol,
                "status": lev.status.value,
                "pogingen": lev.pogingen,
                "bijgewerkt": lev.bijgewerkt.isoformat(),
            }
            for lev in bekend.leveringen
        ],
    }
