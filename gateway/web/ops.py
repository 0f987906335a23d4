"""The ops door: ``/health/live``, ``/health/ready`` and ``/metrics`` on a port of their own
(``ops_host``:``ops_port``, plain HTTP inside the cluster), never on the partner port.

The metrics name partners (OINs) and their traffic, and readiness names what is broken: that
is for the kubelet and Prometheus, not for whoever reaches the partner door.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from gateway.runtime import app as core

__all__ = ["Levend", "Readiness", "create_ops_app"]

READY_TIMEOUT_S = 10


class Levend(BaseModel):
    """The process runs."""

    status: str = Field(examples=["live"])


class Readiness(BaseModel):
    """Ready or not, each check, and alert-worthy states (reported, not failing)."""

    status: str = Field(description="ready or not ready")
    checks: dict[str, dict[str, Any]] = Field(
        description="rabbitmq, audit, signing_key, policy: each with ok and, if not, reden."
    )
    alerts: list[dict[str, Any]] = Field(
        description="soort: dead_letters, certificaat_verloopt or audit_niet_schrijfbaar."
    )


def create_ops_app(parts: core.Parts) -> FastAPI:
    ops = FastAPI(
        title="Ketenpoort ops",
        version="1",
        summary="Health and metrics of one gateway process (ops port, not the partner port).",
        docs_url=None,
        redoc_url=None,
    )

    @ops.get("/health/live", tags=["ops"], summary="The process runs.", response_model=Levend)
    async def live() -> Levend:
        return Levend(status="live")

    @ops.get(
        "/health/ready",
        tags=["ops"],
        summary="Ready to take messages (RabbitMQ, audit store, signing key, policy).",
        responses={
            200: {"model": Readiness},
            503: {"model": Readiness, "description": "Not ready: the checks say what is wrong."},
        },
    )
    async def ready() -> JSONResponse:
        ok, detail = await asyncio.wait_for(core.readiness(parts), timeout=READY_TIMEOUT_S)
        return JSONResponse(detail, status_code=200 if ok else 503)

    @ops.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics.",
        response_class=PlainTextResponse,
    )
    async def metrics() -> Response:
        return Response(
            parts.metrics.expose(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    return ops
