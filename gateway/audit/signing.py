"""Signed checkpoints: Ed25519 keys with a key id, rotation that keeps old checkpoints valid.

A key folder holds ``<key id>.key`` (private, PEM, mode 0600), ``<key id>.pub`` (the raw
public key, base64) and ``actief`` (the key id that signs now). Rotating adds a key and makes
it active; the old public keys stay, so every old checkpoint keeps verifying. An auditor
needs only the ``.pub`` files.

Checkpoints (:mod:`gateway.audit.checkpoint`) are C2SP signed notes; a key is named there by
its note key id ``ketenpoort-audit+<8 hex>`` and published as a verifier key
``ketenpoort-audit+<8 hex>+<base64>`` (``ketenpoort audit keys``). An auditor pins those
verifier keys (``audit verify --trusted-keys FILE``) rather than trusting an export's
``keys/`` folder.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit.checkpoint import Checkpoint, statement
from gateway.audit.note import (
    NOTE_KEY_NAME,
    SignedNote,
    note_key_id,
    parse_verifier_key,
    sign_note,
    verifier_key,
)
from gateway.audit.strict import Malformed
from gateway.domain.errors import Misconfigured

__all__ = [
    "ACTIEF",
    "Checkpoint",
    "Keyring",
    "index_keys",
    "key_id",
    "load_public",
    "public_text",
    "read_public_keys",
    "read_trusted_keys",
    "statement",
    "verify_checkpoint",
]

ACTIEF = "actief"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode() + "\n"


def load_public(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip()))


def index_keys(keys: Mapping[str, Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """Every id a checkpoint may name each key by: its legacy id and its note key id."""
    index = dict(keys)
    for public in keys.values():
        index[key_id(public)] = public
        index[note_key_id(NOTE_KEY_NAME, public)] = public
    return index


def verify_checkpoint(checkpoint: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """None when the signature is sound; otherwise why not."""
    public = index_keys(keys).get(checkpoint.key_id)
    if public is None:
        return f"signed by unknown key {checkpoint.key_id}"
    try:
        public.verify(checkpoint.signature, checkpoint.statement())
    except InvalidSignature:
        return "the signature does not match"
    return None


def read_trusted_keys(path: Path) -> dict[str, Ed25519PublicKey]:
    """The keys an auditor pinned: one verifier key a line (``#`` comments, blank lines)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            name, public = parse_verifier_key(text)
        except Malformed as exc:
            raise Malformed(f"{path.name} line {number}: {exc}") from None
        keys[note_key_id(name, public)] = public
        keys[key_id(public)] = public
    if not keys:
        raise Malformed(f"{path.name}: no verifier key")
    return keys


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
        """A checkpoint note over (log, size, root, tijd) with the active key."""
        _kid, private = self.active()
        unsigned = Checkpoint(
            log, size, root, tijd, note_key_id(NOTE_KEY_NAME, private.public_key()), b""
        )
        signature = sign_note(unsigned.body().text(), NOTE_KEY_NAME, private)
        return dataclasses.replace(unsigned, signature=signature.signature)

    def sign_text(self, text: str) -> SignedNote:
        """Any note (the export's list of logs) signed with the active key."""
        _kid, private = self.active()
        return SignedNote(text, (sign_note(text, NOTE_KEY_NAME, private),))

    def verifier_keys(self) -> dict[str, str]:
        """Legacy key id -> verifier key of every key in the folder (to publish)."""
        return {
            kid: verifier_key(NOTE_KEY_NAME, public) for kid, public in self.public_keys().items()
        }


def read_public_keys(directory: Path) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for path in sorted(directory.glob("*.pub")):
        public = load_public(path.read_text())
        keys[key_id(public)] = public
    return keys
