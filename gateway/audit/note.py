"""C2SP signed notes with Ed25519 signatures, and C2SP tlog-checkpoint bodies.

A signed note (https://c2sp.org/signed-note) is a text, a blank line, and one line per
signature::

    <text, every line ending in a newline>

    — <key name> <base64(key hash (4 bytes) || Ed25519 signature (64 bytes))>

The key hash is the first 4 bytes of SHA-256(<key name> || 0x0A || 0x01 || <public key>);
0x01 names Ed25519. The signature is over the text (every byte before the blank line, its
last newline included). A verifier key, the string an auditor pins, is
``<key name>+<key hash, 8 hex digits>+<base64(0x01 || public key)>``: the same string Go's
``golang.org/x/mod/sumdb/note.NewVerifier`` reads.

A checkpoint (https://c2sp.org/tlog-checkpoint) is a note whose text is the origin (here the
audit log id), the tree size in decimal, the root hash in base64, then extension lines; the
gateway writes exactly one, ``tijd <time, ISO 8601 UTC>``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit.strict import Malformed, b64_decode, b64_encode, size_text

__all__ = [
    "ALG_ED25519",
    "NOTE_KEY_NAME",
    "CheckpointBody",
    "NoteSignature",
    "SignedNote",
    "key_hash",
    "note_key_id",
    "parse_verifier_key",
    "raw_public",
    "sign_note",
    "verifier_key",
]

ALG_ED25519 = 1
NOTE_KEY_NAME = "ketenpoort-audit"  # the key name in every signature line and verifier key
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_NAME = re.compile(r"[^\s+]+")
_HEX8 = re.compile(r"[0-9a-f]{8}")


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, public: Ed25519PublicKey) -> bytes:
    """The 4-byte key hash of signed-note: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(
        name.encode() + b"\n" + bytes([ALG_ED25519]) + raw_public(public)
    ).digest()[:4]


def note_key_id(name: str, public: Ed25519PublicKey) -> str:
    """``<name>+<key hash in hex>``: names the key of a signature line."""
    return f"{name}+{key_hash(name, public).hex()}"


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    """The verifier key an auditor pins (and publishes): ``name+hash+base64(0x01||key)``."""
    return f"{note_key_id(name, public)}+{b64_encode(bytes([ALG_ED25519]) + raw_public(public))}"


def parse_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    """(name, public key) of a verifier key string; Malformed unless every part is in its one
    form and the key hash is the key's."""
    parts = text.split("+", 2)
    if len(parts) != 3 or not _NAME.fullmatch(parts[0]) or not _HEX8.fullmatch(parts[1]):
        raise Malformed(f"verifier key {text!r}: expected <name>+<8 hex digits>+<base64>")
    name, hex_hash, encoded = parts
    key = b64_decode(encoded, length=33, what=f"verifier key {name}")
    if key[0] != ALG_ED25519:
        raise Malformed(f"verifier key {name}: algorithm {key[0]} is not Ed25519 (1)")
    public = Ed25519PublicKey.from_public_bytes(key[1:])
    if key_hash(name, public).hex() != hex_hash:
        raise Malformed(f"verifier key {name}: the key hash {hex_hash} is not the key's")
    return name, public


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_hash: bytes  # 4 bytes
    signature: bytes  # 64 bytes

    @property
    def key_id(self) -> str:
        return f"{self.name}+{self.key_hash.hex()}"

    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {b64_encode(self.key_hash + self.signature)}\n"


def sign_note(text: str, name: str, private: Ed25519PrivateKey) -> NoteSignature:
    if not text.endswith("\n"):
        raise ValueError("a note's text ends with a newline")
    return NoteSignature(
        name, key_hash(name, private.public_key()), private.sign(text.encode("utf-8"))
    )


@dataclass(frozen=True)
class SignedNote:
    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    @staticmethod
    def parse(message: str) -> SignedNote:
        """Read a signed note; Malformed for anything but the form above (one signature per
        key, each line ending in a newline, no control characters, Ed25519 lengths)."""
        if any(ord(c) < 0x20 and c != "\n" for c in message):
            raise Malformed("note: control characters")
        split = message.rfind("\n\n")
        if split < 0:
            raise Malformed("note: no blank line before the signatures")
        text, block = message[: split + 1], message[split + 2 :]
        if not block or not block.endswith("\n"):
            raise Malformed("note: no signature lines")
        signatures: list[NoteSignature] = []
        for line in block[:-1].split("\n"):
            if not line.startswith(SIGNATURE_PREFIX):
                raise Malformed(f"note: {line!r} is not a signature line")
            name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
            if not _NAME.fullmatch(name):
                raise Malformed(f"note: signature key name {name!r}")
            raw = b64_decode(encoded, length=68, what=f"note signature by {name}")
            signature = NoteSignature(name, raw[:4], raw[4:])
            if any(s.key_id == signature.key_id for s in signatures):
                raise Malformed(f"note: two signatures by {signature.key_id}")
            signatures.append(signature)
        return SignedNote(text, tuple(signatures))

    def verify(self, keys: Mapping[str, Ed25519PublicKey]) -> tuple[str | None, str | None]:
        """(key id of a sound signature by a known key, None) or (None, why not). A signature
        by a known key that does not match fails the note; unknown keys are passed over."""
        trusted: str | None = None
        for signature in self.signatures:
            public = keys.get(signature.key_id)
            if public is None:
                continue
            try:
                public.verify(signature.signature, self.text.encode("utf-8"))
            except InvalidSignature:
                return None, f"the signature by {signature.key_id} does not match"
            trusted = trusted or signature.key_id
        if trusted is None:
            names = ", ".join(s.key_id for s in self.signatures)
            return None, f"signed by unknown key {names}"
        return trusted, None


@dataclass(frozen=True)
class CheckpointBody:
    """The text of a C2SP tlog-checkpoint as the gateway writes it."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), b64_encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @staticmethod
    def parse(text: str) -> CheckpointBody:
        if not text.endswith("\n"):
            raise Malformed("checkpoint: the text does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise Malformed("checkpoint: fewer than three lines (origin, size, root)")
        origin, size, root, *extensions = lines
        if not origin:
            raise Malformed("checkpoint: empty origin")
        if any(not line for line in extensions):
            raise Malformed("checkpoint: an empty extension line")
        return CheckpointBody(
            origin,
            size_text(size, "checkpoint size"),
            b64_decode(root, length=32, what="checkpoint root"),
            tuple(extensions),
        )
