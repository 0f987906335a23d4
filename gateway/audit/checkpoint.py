"""A signed tree head of one audit log, in either of its two forms.

Since issue 17 every checkpoint is a C2SP tlog-checkpoint in a C2SP signed note
(:mod:`gateway.audit.note`): origin = the log id, the size, the root hash, one extension line
``tijd <time>``, and an Ed25519 note signature by ``ketenpoort-audit``. Its ``key_id`` is the
note key id, ``ketenpoort-audit+<8 hex>``.

Stores written before issue 17 hold checkpoints signed over the legacy statement (kept
readable, never written again; their ``key_id`` is 16 hex digits)::

    ketenpoort-audit-checkpoint/v1
    <log id>
    <tree size>
    <root hash, base64>
    <time, ISO 8601 UTC>
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from gateway.audit.note import CheckpointBody, NoteSignature, SignedNote
from gateway.audit.strict import (
    Malformed,
    b64_decode,
    b64_encode,
    strict_int,
    timestamp,
    timestamp_text,
)

__all__ = ["TIJD_EXTENSION", "Checkpoint", "statement"]

TIJD_EXTENSION = "tijd "
_LEGACY_KEYS = {"log", "size", "root", "tijd", "key_id", "signature"}
_LEGACY_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head; ``key_id`` tells the form (``name+hash``: a note; else legacy)."""

    log: str
    size: int
    root: bytes
    tijd: dt.datetime
    key_id: str
    signature: bytes

    @property
    def is_note(self) -> bool:
        return "+" in self.key_id

    def body(self) -> CheckpointBody:
        return CheckpointBody(
            self.log, self.size, self.root, (f"{TIJD_EXTENSION}{timestamp_text(self.tijd)}",)
        )

    def statement(self) -> bytes:
        """The bytes the signature is over."""
        if self.is_note:
            return self.body().text().encode("utf-8")
        return statement(self.log, self.size, self.root, self.tijd)

    def note(self) -> str:
        """The checkpoint as a C2SP signed note (the note form only)."""
        name, _, hex_hash = self.key_id.partition("+")
        signature = NoteSignature(name, bytes.fromhex(hex_hash), self.signature)
        return SignedNote(self.body().text(), (signature,)).encode()

    def to_json(self) -> dict[str, object]:
        if self.is_note:
            return {"log": self.log, "size": self.size, "note": self.note()}
        return {
            "log": self.log,
            "size": self.size,
            "root": b64_encode(self.root),
            "tijd": timestamp_text(self.tijd),
            "key_id": self.key_id,
            "signature": b64_encode(self.signature),
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Checkpoint:
        """Strict: exactly the keys and forms :meth:`to_json` writes (Malformed otherwise)."""
        if "note" in data:
            if set(data) != {"log", "size", "note"} or not isinstance(data["note"], str):
                raise Malformed(f"checkpoint: keys {sorted(data)}, expected log, note, size")
            checkpoint = Checkpoint.from_note(data["note"])
            if data["log"] != checkpoint.log or strict_int(data["size"], "size") != checkpoint.size:
                raise Malformed("checkpoint: log and size are not the note's")
            return checkpoint
        if set(data) != _LEGACY_KEYS:
            raise Malformed(f"checkpoint: keys {sorted(data)}, expected {sorted(_LEGACY_KEYS)}")
        if not isinstance(data["log"], str) or not _LEGACY_ID.fullmatch(str(data["key_id"])):
            raise Malformed("checkpoint: log or key_id is not in its form")
        return Checkpoint(
            log=data["log"],
            size=strict_int(data["size"], "size"),
            root=b64_decode(str(data["root"]), length=32, what="root"),
            tijd=timestamp(data["tijd"]),
            key_id=str(data["key_id"]),
            signature=b64_decode(str(data["signature"]), length=64, what="signature"),
        )

    @staticmethod
    def from_note(message: str) -> Checkpoint:
        """A checkpoint from its signed note (exactly one signature: the gateway's)."""
        note = SignedNote.parse(message)
        body = CheckpointBody.parse(note.text)
        if len(body.extensions) != 1 or not body.extensions[0].startswith(TIJD_EXTENSION):
            raise Malformed("checkpoint: expected one extension line, 'tijd <time>'")
        if len(note.signatures) != 1:
            raise Malformed("checkpoint: expected one signature")
        (signature,) = note.signatures
        return Checkpoint(
            log=body.origin,
            size=body.size,
            root=body.root,
            tijd=timestamp(body.extensions[0].removeprefix(TIJD_EXTENSION)),
            key_id=signature.key_id,
            signature=signature.signature,
        )


def statement(log: str, size: int, root: bytes, tijd: dt.datetime) -> bytes:
    """The legacy checkpoint statement (signed before issue 17)."""
    return (
        f"ketenpoort-audit-checkpoint/v1\n{log}\n{size}\n"
        f"{base64.b64encode(root).decode()}\n{tijd.isoformat()}\n"
    ).encode()
