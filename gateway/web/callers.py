"""Who is calling the HTTPS door, and recording a refused call: shared by the partner API
and the audit pages."""

from __future__ import annotations

import uuid

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import HTTPException, Request

from gateway.domain.errors import Transient
from gateway.observe.logs import get_logger
from gateway.runtime import app as core
from gateway.runtime.certs import Identity, identity

__all__ = ["client_identity", "deny", "parts_of"]

log = get_logger("ketenpoort.http")


def client_identity(request: Request) -> Identity | None:
    """The verified client certificate of this connection (ASGI TLS extension)."""
    tls = request.scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if not chain:
        return None
    cert = x509.load_pem_x509_certificate(chain[0].encode())
    return identity(cert.public_bytes(serialization.Encoding.DER))


def parts_of(request: Request) -> core.Parts:
    parts: core.Parts = request.app.state.parts
    return parts


async def deny(parts: core.Parts, reden: str, route: str, oin: str | None) -> None:
    """Record a refused request in the audit trail (fail closed: no record, no answer)."""
    parts.metrics.access_denied.labels(reden).inc()
    log.warning("toegang_geweigerd", reden=reden, route=route, oin=oin)
    try:
        await parts.audit.append(
            [
                parts.trail.toegang_geweigerd(
                    reden,
                    route=route,
                    oin=oin,
                    vraag_id=str(uuid.uuid4()),
                    bewaartermijn_dagen=parts.policy.bewaartermijn_dagen(),
                )
            ]
        )
    except Transient as exc:
        raise HTTPException(503, "audit store unavailable", {"Retry-After": "5"}) from exc
