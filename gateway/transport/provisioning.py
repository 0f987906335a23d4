"""Partner provisioning on RabbitMQ: a user per partner (name = OIN) with a generated secret
and the partner's permissions (:func:`gateway.transport.rabbit.partner_permissions`).

How: ``rabbitmqctl import_definitions -`` with a definitions document on standard input that
holds only this user (a salted SHA-256 password hash, RabbitMQ's
``rabbit_password_hashing_sha256``) and its permissions. The secret never appears on a command
line (``ps``) or in a file, and importing again replaces the hash (rotation). The management
plugin's HTTP API takes the same user document (``PUT /api/users/<oin>`` with
``password_hash`` and ``hashing_algorithm``, then ``PUT /api/permissions/<vhost>/<oin>``);
it is not used here because this installation runs RabbitMQ without the management plugin
and ``rabbitmqctl`` works on every node.

Why not certificate login: RabbitMQ's ``rabbitmq_auth_mechanism_ssl`` takes the login name
from the certificate's common name, its whole distinguished name or a subject alternative
name, never from the subject's ``serialNumber`` where PKIoverheid puts the OIN; the broker
checks ``user_id`` against that login name, and the gateway reads the sender's OIN from
``user_id``. See deploy/README.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass
from typing import Any

from gateway.domain.errors import Misconfigured
from gateway.transport.rabbit import Topology, partner_permissions

HASHING_ALGORITHM = "rabbit_password_hashing_sha256"
SECRET_BYTES = 32  # 256 bits of randomness, URL-safe base64 (43 characters)
RABBITMQCTL_TIMEOUT_S = 120


def generate_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def password_hash(secret: str, *, salt: bytes | None = None) -> str:
    """RabbitMQ's stored form: base64(salt ‖ SHA-256(salt ‖ secret)), a 4-byte random salt."""
    salt = secrets.token_bytes(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + secret.encode()).digest()).decode()


@dataclass(frozen=True)
class PartnerUser:
    """One partner's RabbitMQ account: its user name (the OIN) and permissions in a vhost."""

    oin: str
    vhost: str
    configure: str
    write: str
    read: str

    @classmethod
    def of(cls, topology: Topology, oin: str, vhost: str) -> PartnerUser:
        configure, write, read = partner_permissions(topology, oin)
        return cls(oin, vhost, configure, write, read)

    def definitions(self, secret: str) -> dict[str, Any]:
        """A definitions document with this user (hashed secret) and its permissions only."""
        return {
            "users": [
                {
                    "name": self.oin,
                    "password_hash": password_hash(secret),
                    "hashing_algorithm": HASHING_ALGORITHM,
                    "tags": [],
                }
            ],
            "permissions": [
                {
                    "user": self.oin,
                    "vhost": self.vhost,
                    "configure": self.configure,
                    "write": self.write,
                    "read": self.read,
                }
            ],
        }


def provision(user: PartnerUser, secret: str, *, rabbitmqctl: str | None = None) -> None:
    """Create or update the partner's user with ``secret`` and set its permissions.

    Misconfigured when ``rabbitmqctl`` is missing or the broker refuses (e.g. no such vhost).
    """
    tool = rabbitmqctl or shutil.which("rabbitmqctl")
    if tool is None:
        raise Misconfigured("rabbitmqctl is not installed on this machine")
    document = json.dumps(user.definitions(secret))
    # its own process group: on a time-out the whole tree (sh, erl) is ended
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, the document on stdin
        [tool, "-q", "import_definitions", "--format", "json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(document, timeout=RABBITMQCTL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise Misconfigured(
            f"rabbitmqctl import_definitions timed out after {RABBITMQCTL_TIMEOUT_S} s"
        ) from None
    if process.returncode != 0:
        raise Misconfigured(f"rabbitmqctl import_definitions failed: {stderr.strip()[:500]}")


__all__ = [
    "HASHING_ALGORITHM",
    "PartnerUser",
    "generate_secret",
    "password_hash",
    "provision",
]
