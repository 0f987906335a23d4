"""Privacy officers and chain coordinators: who may open the audit and chain pages, and their
sessions.

Both log in with a name and password, each under their own login role (a partner
certificate never opens these pages): a privacy officer (:data:`PRIVACY`) opens ``/audit``, a
chain coordinator (:data:`COORDINATOR`) ``/keten``, and neither the other's pages. Passwords
are stored as scrypt hashes in ``officers_file``; a session is a cookie signed with
HMAC-SHA256 under a deployment secret shared by all replicas, carrying the name, the login
role and an expiry (idle sessions end after ``session_minutes``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from gateway.domain.errors import Misconfigured

_N, _R, _P = 2**14, 8, 1  # scrypt cost (interactive logins; ~50 ms here)
_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_@")

# The login roles (not chain rollen: people who look at the gateway, not partners in it)
PRIVACY = "privacy-officer"  # the audit pages: who received what about whom (/audit)
COORDINATOR = "ketencoordinator"  # the chain's norm times, no personal data (/keten)
LOGIN_ROLES = (PRIVACY, COORDINATOR)

__all__ = ["COORDINATOR", "LOGIN_ROLES", "PRIVACY", "Officer", "Officers", "Sessions"]


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)


@dataclass(frozen=True)
class Officer:
    naam: str
    salt: bytes
    digest: bytes
    rol: str = PRIVACY  # the login role (an entry without one: a privacy officer)


class Officers:
    """The officers file: ``{"officers": [{"naam", "salt", "scrypt", "rol"}]}`` (base64)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, Officer]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text())
            return {
                o["naam"]: Officer(
                    o["naam"],
                    base64.b64decode(o["salt"]),
                    base64.b64decode(o["scrypt"]),
                    o.get("rol", PRIVACY),
                )
                for o in data.get("officers", [])
            }
        except (ValueError, KeyError, TypeError) as exc:
            raise Misconfigured(f"officers file {self.path}: {exc}") from None

    def names(self) -> list[str]:
        return sorted(self._load())

    def roles(self) -> dict[str, str]:
        """Every name with its login role."""
        return {naam: o.rol for naam, o in sorted(self._load().items())}

    def add(self, naam: str, password: str, rol: str = PRIVACY) -> None:
        """Add an officer or coordinator, or set a new password (and role)."""
        naam = naam.strip().lower()
        if not naam or not set(naam) <= _NAME_OK or len(naam) > 64:
            raise ValueError("an officer name is 1-64 of a-z 0-9 . - _ @")
        if len(password) < 12:
            raise ValueError("a password has at least 12 characters")
        if rol not in LOGIN_ROLES:
            raise ValueError(f"a login role is one of {', '.join(LOGIN_ROLES)}")
        officers = self._load()
        salt = secrets.token_bytes(16)
        officers[naam] = Officer(naam, salt, _hash(password, salt), rol)
        self._save(officers)

    def remove(self, naam: str) -> bool:
        officers = self._load()
        gone = officers.pop(naam.strip().lower(), None) is not None
        self._save(officers)
        return gone

    def _save(self, officers: dict[str, Officer]) -> None:
        data = {
            "officers": [
                {
                    "naam": o.naam,
                    "salt": base64.b64encode(o.salt).decode(),
                    "scrypt": base64.b64encode(o.digest).decode(),
                    "rol": o.rol,
                }
                for o in sorted(officers.values(), key=lambda o: o.naam)
            ]
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)

    def check(self, naam: str, password: str, rol: str = PRIVACY) -> str | None:
        """The name if the password is right and the login role is ``rol`` (constant time
        per officer; a wrong role costs the same as a wrong password)."""
        officer = self._load().get(naam.strip().lower())
        if officer is None:
            _hash(password, b"\0" * 16)  # the same work for an unknown name
            return None
        right = hmac.compare_digest(_hash(password, officer.salt), officer.digest)
        return officer.naam if right and officer.rol == rol else None


class Sessions:
    """Signed, expiring session tokens (``<payload>.<mac>``, both base64url)."""

    def __init__(self, secret: bytes, minutes: int) -> None:
        self.secret = secret
        self.seconds = minutes * 60

    @staticmethod
    def secret_from_file(path: Path) -> bytes:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            os.chmod(path, 0o600)
        return path.read_text().strip().encode()

    def _mac(self, payload: bytes) -> str:
        digest = hmac.new(self.secret, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, naam: str, now: float | None = None, rol: str = PRIVACY) -> str:
        body = json.dumps(
            {"naam": naam, "rol": rol, "tot": int((now or time.time()) + self.seconds)}
        )
        payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return f"{payload}.{self._mac(payload.encode())}"

    def read(self, token: str | None, now: float | None = None, rol: str = PRIVACY) -> str | None:
        """The name, or None for a missing, forged or expired token or one of another login
        role (a coordinator's session never opens the privacy officer's pages)."""
        if not token or token.count(".") != 1:
            return None
        payload, mac = token.split(".")
        if not hmac.compare_digest(mac, self._mac(payload.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            naam, tot = str(data["naam"]), int(data["tot"])
            van = str(data.get("rol", PRIVACY))
        except (ValueError, KeyError, TypeError):
            return None
        return naam if tot > (now or time.time()) and van == rol else None
