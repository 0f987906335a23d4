"""One error format on the HTTPS door: every refusal is a Foutbericht (XML, envelop.xsd).

A refused *message* gets its Foutbericht from the pipeline (audited there). Everything else the
door refuses — no client certificate (401), not a registered partner (403), no such message or
path (404), a method the path does not take (405), a malformed path or query parameter (400),
the rate limit (429), broker or audit store away (503) — is answered here, in the same
envelope with one of the door's own codes (``gateway.domain.model.DOOR_CODES``), the reason in
``Reden`` and no ``InAntwoordOp`` (there is no message to answer).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.codec.envelope import MessageCodec
from gateway.domain.model import (
    KETENPOORT,
    Bericht,
    Foutbericht,
    Foutcode,
    Kop,
    Partij,
    TechnischType,
)
from gateway.observe.logs import get_logger

__all__ = [
    "CODE_OF_STATUS",
    "FOUTBERICHT",
    "REDEN_MAX",
    "XML",
    "Refusals",
    "foutbericht_response",
    "install",
]

log = get_logger("ketenpoort.http")

XML = "application/xml"
REDEN_MAX = 2000  # envelop.xsd: kp:Reden

CODE_OF_STATUS: Mapping[int, Foutcode] = {
    400: Foutcode.VERZOEK_ONGELDIG,
    401: Foutcode.CERTIFICAAT_ONTBREEKT,
    403: Foutcode.TOEGANG_GEWEIGERD,
    404: Foutcode.NIET_GEVONDEN,
    405: Foutcode.METHODE_NIET_TOEGESTAAN,
    422: Foutcode.VERZOEK_ONGELDIG,
    429: Foutcode.TE_VEEL_VERZOEKEN,
    503: Foutcode.TIJDELIJK_NIET_BESCHIKBAAR,
}

FOUTBERICHT: dict[str, Any] = {
    "type": "string",
    "description": "A kp:Bericht (envelop.xsd) of BerichtType Foutbericht: Code, Reden and, "
    "for a refused message, Element and Regel.",
}


class Refusals:
    """Writes the door's Foutberichten (the gateway is the Afzender)."""

    def __init__(self, codec: MessageCodec, gateway_oin: str) -> None:
        self.codec = codec
        self.gateway_oin = gateway_oin

    def body(self, code: Foutcode, reden: str) -> bytes:
        now = dt.datetime.now(dt.UTC)
        kop = Kop(
            bericht_id=str(uuid.uuid4()),
            conversatie_id=str(uuid.uuid4()),
            berichttype=TechnischType.FOUTBERICHT,
            afzender=Partij(oin=self.gateway_oin, rol=KETENPOORT),
            tijdstip=now,
        )
        reden = reden.strip() or code.value
        inhoud = Foutbericht(code=code, reden=reden[:REDEN_MAX])
        return self.codec.write(Bericht(kop=kop, inhoud=inhoud))

    def response(
        self,
        status: int,
        reden: str,
        *,
        code: Foutcode | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        found = code or CODE_OF_STATUS.get(status, Foutcode.VERZOEK_ONGELDIG)
        return Response(
            self.body(found, reden), status_code=status, media_type=XML, headers=headers
        )


def foutbericht_response(request: Request, status: int, reden: str, **kw: Any) -> Response:
    """A Foutbericht answer from the app's ``Refusals`` (see ``install``)."""
    refusals: Refusals = request.app.state.refusals
    return refusals.response(status, reden, **kw)


def _validation_reden(exc: RequestValidationError) -> str:
    """Where and what, never the value sent (it could be anything, a BSN included)."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is malformed"


def install(api: FastAPI, codec: MessageCodec, gateway_oin: str) -> None:
    """Answer every HTTPException and request-validation error with a Foutbericht."""
    api.state.refusals = Refusals(codec, gateway_oin)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        reden = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code in (404, 405):
            log.info("http_geweigerd", status=exc.status_code, route=request.url.path)
        return foutbericht_response(request, exc.status_code, reden, headers=exc.headers)

    async def on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        log.info("verzoek_ongeldig", route=request.url.path)
        return foutbericht_response(request, 400, _validation_reden(exc))

    api.add_exception_handler(StarletteHTTPException, on_http)
    api.add_exception_handler(RequestValidationError, on_invalid)
