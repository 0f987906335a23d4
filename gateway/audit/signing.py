"""Signed checkpoints: Ed25519 keys with a key id, rotation that keeps old checkpoints valid.

A key folder holds ``<key id>.key`` (private, PEM, mode 0600), ``<key id>.pub`` (the raw
public key, base64) and ``actief`` (the key id that signs now). Rotating adds a key and makes
it active; the old public keys stay, so every old checkpoint keeps verifying. An auditor
needs only the ``.pub`` files.

A checkpoint commits to (log, tree size, root hash, time) in this exact text::

    ketenpoort-audit-checkpoint/v1
    <log id>
    <tree size>
    <root hash, base64>
    <time, ISO 8601 UTC>
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.domain.errors import Misconfigured

ACTIEF = "actief"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode() + "\n"


def load_public(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip()))


@dataclass(frozen=True)
class Checkpoint:
    log: str
    size: int
    root: bytes
    tijd: dt.datetime
    key_id: str
    signature: bytes

    def statement(self) -> bytes:
        return statement(self.log, self.size, self.root, self.tijd)

    def to_json(self) -> dict[str, object]:
        return {
            "log": self.log,
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "tijd": self.tijd.isoformat(),
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
        }

    @staticmethod
    def from_json(data: dict[str, object]) -> Checkpoint:
        return Checkpoint(
            log=str(data["log"]),
            size=int(str(data["size"])),
            root=base64.b64decode(str(data["root"])),
            tijd=dt.datetime.fromisoformat(str(data["tijd"])),
            key_id=str(data["key_id"]),
            signature=base64.b64decode(str(data["signature"])),
        )


def statement(log: str, size: int, root: bytes, tijd: dt.datetime) -> bytes:
    return (
        f"ketenpoort-audit-checkpoint/v1\n{log}\n{size}\n"
        f"{base64.b64encode(root).decode()}\n{tijd.isoformat()}\n"
    ).encode()


def verify_checkpoint(checkpoint: Checkpoint, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """None when the signature is sound; otherwise why not."""
    public = keys.get(checkpoint.key_id)
    if public is None:
        return f"signed by unknown key {checkpoint.key_id}"
    try:
        public.verify(checkpoint.signature, checkpoint.statement())
    except InvalidSignature:
        return "the signature does not match"
    return None


class Keyring:
    """The signing keys in one folder; the active one signs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def ensure(self) -> None:
        """Create a first key when the folder has none (development and first start)."""
        if not (self.directory / ACTIEF).exists():
            self.rotate()

    def rotate(self) -> str:
        """A new key becomes active; returns its id."""
        self.directory.mkdir(parents=True, exist_ok=True)
        private = Ed25519PrivateKey.generate()
        kid = key_id(private.public_key())
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = self.directory / f"{kid}.key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        (self.directory / f"{kid}.pub").write_text(public_text(private.public_key()))
        tmp = self.directory / f".{ACTIEF}.{kid}"
        tmp.write_text(kid + "\n")
        tmp.replace(self.directory / ACTIEF)  # atomic: a reader sees the old or the new id
        return kid

    def active(self) -> tuple[str, Ed25519PrivateKey]:
        try:
            kid = (self.directory / ACTIEF).read_text().strip()
            private = serialization.load_pem_private_key(
                (self.directory / f"{kid}.key").read_bytes(), password=None
            )
        except (OSError, ValueError) as exc:
            raise Misconfigured(f"audit signing key in {self.directory}: {exc}") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise Misconfigured(f"audit signing key {kid} is not an Ed25519 key")
        return kid, private

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        return read_public_keys(self.directory)

    def sign(self, log: str, size: int, root: bytes, tijd: dt.datetime) -> Checkpoint:
        kid, private = self.active()
        return Checkpoint(
            log, size, root, tijd, kid, private.sign(statement(log, size, root, tijd))
        )


def read_public_keys(directory: Path) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for path in sorted(directory.glob("*.pub")):
        public = load_public(path.read_text())
        keys[key_id(public)] = public
    return keys
