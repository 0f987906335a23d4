"""The written contract of the partner port: the JSON answers' schemas, the Foutbericht of
every refusal, and the ``mutualTLS`` security scheme in the OpenAPI document.

FastAPI documents a request-validation error as JSON 422 by itself; the door answers it with a
Foutbericht (400, ``gateway.web.refusals``), so ``documented`` takes those entries out again.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from gateway.store.state import Status
from gateway.web.refusals import FOUTBERICHT, XML

__all__ = [
    "BERICHTEN_TAG",
    "ERRORS",
    "HSTS",
    "MUTUAL_TLS",
    "XML_BODY",
    "InboxAntwoord",
    "InboxBericht",
    "LeveringStatus",
    "StatusAntwoord",
    "documented",
    "fout",
]

BERICHTEN_TAG = "berichten"
MUTUAL_TLS = "mutualTLS"
# two years, as the NCSC and hstspreload ask; the door is HTTPS-only, subdomains included
HSTS = "max-age=63072000; includeSubDomains"

XML_BODY: dict[str, Any] = {"content": {XML: {"schema": {"type": "string"}}}}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def fout(description: str, *, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A response documented as a Foutbericht (XML)."""
    found: dict[str, Any] = {"description": description, "content": {XML: {"schema": FOUTBERICHT}}}
    if headers:
        found["headers"] = headers
    return found


ERRORS: dict[int | str, dict[str, Any]] = {
    401: fout("No client certificate (mutual TLS required): CERTIFICAAT_ONTBREEKT."),
    403: fout("The certificate's OIN is not in the partner register: TOEGANG_GEWEIGERD."),
    429: fout(
        "Rate limit of this partner exceeded: TE_VEEL_VERZOEKEN; see Retry-After.",
        headers=_RETRY_AFTER,
    ),
    503: fout(
        "Broker or audit store unavailable; nothing was accepted: TIJDELIJK_NIET_BESCHIKBAAR. "
        "Retry after Retry-After.",
        headers=_RETRY_AFTER,
    ),
}


class InboxBericht(BaseModel):
    """One message held for the caller until it is confirmed or its lease runs out."""

    id: str = Field(description="Its BerichtId: confirm it with .../afleverbevestiging.")
    soort: str = Field(description="levering (a partner's message) or antwoord (the gateway's).")
    berichttype: str
    afzender: str = Field(description="OIN of the sender (the gateway's for an antwoord).")
    poging: int = Field(ge=0, description="Delivery attempt (ketenpoort-poging).")
    herhaald: bool = Field(description="Offered before and not confirmed in time.")
    opgehaald: str = Field(description="When it was first fetched (ISO 8601).")
    xml: str = Field(description="The message, in the caller's own format (UTF-8).")


class InboxAntwoord(BaseModel):
    """``GET /v1/berichten``."""

    berichten: list[InboxBericht]
    lease_seconden: float = Field(description="How long the messages are held for the caller.")


class LeveringStatus(BaseModel):
    """The delivery of one message to one recipient."""

    oin: str
    rol: str
    status: Status
    pogingen: int = Field(ge=0)
    bijgewerkt: str = Field(description="ISO 8601.")


class StatusAntwoord(BaseModel):
    """``GET /v1/berichten/{bericht_id}/status``."""

    bericht_id: str
    berichttype: str
    ontvangen: str = Field(description="ISO 8601.")
    beantwoord: bool = Field(description="Answered (Ontvangstbevestiging or Foutbericht).")
    ontvangers: list[LeveringStatus]


def _without_validation_errors(doc: dict[str, Any]) -> None:
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def documented(api: FastAPI) -> None:
    """Give ``api`` its OpenAPI document: as FastAPI writes it, plus the ``mutualTLS`` scheme
    on every partner operation, minus FastAPI's JSON validation errors."""

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        doc = get_openapi(
            title=api.title,
            version=api.version,
            summary=api.summary,
            description=api.description,
            routes=api.routes,
        )
        _without_validation_errors(doc)
        doc.setdefault("components", {})["securitySchemes"] = {
            MUTUAL_TLS: {
                "type": "mutualTLS",
                "description": "A client certificate chaining to the deployment's CA "
                "(PKIoverheid); the partner's OIN is the subject's serialNumber and must be "
                "in the partner register.",
            }
        }
        for item in doc["paths"].values():
            for operation in item.values():
                if BERICHTEN_TAG in operation.get("tags", ()):
                    operation["security"] = [{MUTUAL_TLS: []}]
        api.openapi_schema = doc
        return doc

    api.openapi = openapi  # type: ignore[method-assign] # FastAPI's documented way to extend it
