"""TLS of the partner port, per the NCSC ICT-beveiligingsrichtlijnen voor TLS ("good").

- TLS 1.3 and TLS 1.2 only; on TLS 1.2 ECDHE with AEAD ciphers only (AES-GCM, ChaCha20-
  Poly1305: no CBC, no RSA key exchange, no finite-field DHE). TLS 1.3's suites are all AEAD.
- Key exchange groups X25519, P-256 and P-384 only (no ffdhe*, which NCSC lists as "phase
  out"). Python's ``ssl`` sets a groups list only from 3.15 (``SSLContext.set_groups``); before
  that the list comes from the OpenSSL configuration ``OPENSSL_CONF`` names — ``openssl.cnf``
  beside this module, which ``ketenpoort serve`` loads by itself (``openssl_conf_to_load``).
- Client certificates are optional at the handshake (a request without one gets a 401
  Foutbericht and an audit record), but one that is presented must chain to ``tls_ca_file``
  and, with ``tls_crl_file``, must not be revoked: a revoked or foreign certificate gets no
  connection at all. The CRL file is read again when it changes (checked at most once a
  second, at a handshake); each new handshake then uses a context with the new CRL.
- Every handshake the server refuses (it sends a fatal alert) is logged
  (``tls_handshake_geweigerd``) and counted (``ketenpoort_tls_handshakes_geweigerd``) by the
  alert it sent: unknown_ca, certificate_revoked, handshake_failure, protocol_version, ...
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.domain.errors import Misconfigured
from gateway.observe.logs import get_logger

__all__ = [
    "ALERTS",
    "GROUPS",
    "OPENSSL_CONF",
    "TLS12_CIPHERS",
    "ServerTls",
    "groups_settable",
    "openssl_conf_to_load",
]

log = get_logger("ketenpoort.tls")

# NCSC "good" for TLS 1.2: ECDHE, AES-GCM or ChaCha20-Poly1305 (ECDSA certificates first)
TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-RSA-AES128-GCM-SHA256",
    )
)
GROUPS = "X25519:P-256:P-384"
OPENSSL_CONF = Path(__file__).with_name("openssl.cnf")
CRL_CHECK_INTERVAL_S = 1.0

_ALERT_RECORD = 21  # TLS record content type
_FATAL = 2  # TLS alert level
# RFC 8446 §6 / RFC 5246 §7.2: the alerts a refusing server sends
ALERTS = {
    10: "unexpected_message",
    20: "bad_record_mac",
    22: "record_overflow",
    40: "handshake_failure",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    116: "certificate_required",
    120: "no_application_protocol",
}
_QUIET = {0, 90}  # close_notify, user_canceled: not a refusal

Refused = Callable[[str], None]


def groups_settable() -> bool:
    """Whether this Python's ``ssl`` can set a list of groups (3.15+)."""
    return hasattr(ssl.SSLContext, "set_groups")


def openssl_conf_to_load() -> Path | None:
    """The OpenSSL configuration ``ketenpoort serve`` must run under to limit the groups:
    None when Python can set them itself or when the operator set ``OPENSSL_CONF`` (theirs
    is used: it must then limit the groups, see ``openssl.cnf``)."""
    if groups_settable() or os.environ.get("OPENSSL_CONF"):
        return None
    return OPENSSL_CONF


def _stamp(path: Path | None) -> tuple[int, int, int] | None:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class ServerTls:
    """The SSL contexts of the partner port: the one uvicorn listens with, and the current
    one (with the newest CRL) that every handshake switches to."""

    def __init__(
        self,
        cert: Path,
        key: Path,
        ca: Path,
        crl: Path | None,
        on_refused: Refused,
    ) -> None:
        self.cert, self.key, self.ca, self.crl = cert, key, ca, crl
        self.on_refused = on_refused
        if crl is not None and not crl.is_file():
            raise Misconfigured(f"TLS CRL file {crl} does not exist")
        self._stamp = _stamp(crl)
        self._checked = time.monotonic()
        try:
            self._current = self.build()
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise Misconfigured(f"the TLS files cannot be loaded: {exc}") from exc
        self.context = self.build()
        self.context.sni_callback = self._switch
        if not groups_settable() and not os.environ.get("OPENSSL_CONF"):
            log.warning(
                "tls_groepen_niet_beperkt",
                reden="Python cannot set the groups and OPENSSL_CONF is not set: run "
                "`ketenpoort serve`, or set OPENSSL_CONF to gateway/web/openssl.cnf",
            )

    def build(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.set_ciphers(TLS12_CIPHERS)
        ctx.options |= (
            ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
        )
        if groups_settable():
            ctx.set_groups(GROUPS)  # type: ignore[attr-defined] # Python 3.15+
        ctx.load_cert_chain(str(self.cert), str(self.key))
        ctx.load_verify_locations(cafile=str(self.ca))
        # optional, so that a request without a certificate gets a 401 and an audit record
        # (not a bare handshake failure); the audit pages need none
        ctx.verify_mode = ssl.CERT_OPTIONAL
        if self.crl is not None:
            ctx.load_verify_locations(cafile=str(self.crl))
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        # CPython's hook on every TLS record (used by its own tests; 3.8+): the only place the
        # alerts of a refused handshake can be seen, as asyncio drops the failure silently
        setattr(ctx, "_msg_callback", self._on_record)  # noqa: B010 - private, no stub
        return ctx

    def current(self) -> ssl.SSLContext:
        """The context with the newest CRL (re-read when the file changed)."""
        now = time.monotonic()
        if self.crl is None or now - self._checked < CRL_CHECK_INTERVAL_S:
            return self._current
        self._checked = now
        stamp = _stamp(self.crl)
        if stamp is None or stamp == self._stamp:
            if stamp is None:
                log.error("tls_crl_onleesbaar", bestand=str(self.crl), reden="missing")
            return self._current
        try:
            fresh = self.build()
        except (ssl.SSLError, OSError, ValueError) as exc:
            log.error("tls_crl_onleesbaar", bestand=str(self.crl), reden=str(exc))
            return self._current  # keep the last good CRL (nothing revoked is let in again)
        self._current, self._stamp = fresh, stamp
        log.info("tls_crl_herladen", bestand=str(self.crl))
        return fresh

    def _switch(self, conn: Any, server_name: str | None, ctx: ssl.SSLContext) -> None:
        current = self.current()
        if current is not ctx:
            conn.context = current

    def _on_record(
        self, conn: Any, direction: str, version: Any, content_type: Any, msg_type: Any, data: Any
    ) -> None:
        if direction != "write" or int(content_type) != _ALERT_RECORD:
            return
        raw = bytes(data)
        if len(raw) < 2 or raw[0] != _FATAL or raw[1] in _QUIET:
            return
        self.on_refused(ALERTS.get(raw[1], f"alert_{raw[1]}"))
