"""An audit record and its parts, and the one byte form that is hashed.

A record has two parts:

- ``public``: what happened (event, time, trace/span, doel, grondslag, policy version,
  retention, sender and recipient, BerichtType, BerichtId, categories, SHA-256 of the exact
  bytes, status) and the SHA-256 of the personal part. The leaf is the hash of this part, so
  it binds the personal part without containing it.
- ``personal``: the data subject as a keyed pseudonym (HMAC of the BSN with a deployment
  secret; never the BSN, a name or free text) and a random salt. Retention (``purge``) deletes
  this part; every leaf, checkpoint and proof still verifies, and the record can no longer be
  linked to the person.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Required, TypedDict, Unpack

from gateway.audit.merkle import leaf_hash
from gateway.domain.errors import Misconfigured

__all__ = [
    "FORMAT",
    "Entry",
    "EntryFields",
    "Pseudonymiser",
    "Record",
    "b64",
    "build_record",
    "canonical",
    "index_mismatch",
    "row_record",
]

FORMAT = "ketenpoort-audit/v1"


def canonical(data: Any) -> bytes:
    """The one byte form that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Pseudonymiser:
    """BSN → keyed pseudonym (HMAC-SHA256 with the deployment secret)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise Misconfigured("the audit pseudonym secret must be at least 16 bytes")
        # keyed once; each pseudonym continues a copy (the key's pads are not hashed again)
        self._keyed = hmac.new(secret, digestmod=hashlib.sha256)

    def __call__(self, bsn: str) -> str:
        mac = self._keyed.copy()
        mac.update(bsn.strip().encode())
        return mac.hexdigest()[:32]

    @staticmethod
    def from_file(path: Path) -> Pseudonymiser:
        """Read the secret, creating one (mode 0600) on first start."""
        if not path.exists():
            # written whole, then linked into place: a replica starting at the same moment
            # either creates it or reads the complete file of the other
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
            tmp.unlink()
        return Pseudonymiser(path.read_text().strip().encode())


@dataclass(frozen=True)
class Entry:
    """One audit record as the gateway hands it in (before it has a place in the log)."""

    gebeurtenis: str
    dedup: str  # the same step of the same message is recorded once
    trace_id: str
    span_id: str
    berichttype: str | None = None
    bericht_id: str | None = None
    afzender: tuple[str, str] | None = None  # (OIN, rol)
    ontvanger: tuple[str, str] | None = None
    doel: str | None = None
    grondslag: str | None = None
    policy: str | None = None
    bewaartermijn_dagen: int | None = None
    categorieen: tuple[str, ...] = ()
    verwijderd: tuple[str, ...] = ()
    sha256: str | None = None
    status: str | None = None
    betrokkene: str | None = None  # the pseudonym (personal part)
    # the keyed search key of a person without a BSN (name and birth date, spec v2 §8): an
    # index of the store beside the record, removed with the person's last personal part
    zoeksleutel: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def sharing(cls, shared: Entry, /, **own: Unpack[EntryFields]) -> Entry:
        """``dataclasses.replace(shared, **own)``: the fields the entries of one message have
        in common, and this entry's own (at least its step, dedup and span id). The same
        entry, values shared as ``replace`` shares them, made in one step rather than by the
        frozen ``__init__`` setting field after field (about a fifth of its cost)."""
        entry = object.__new__(cls)
        fields = shared.__dict__.copy()  # every field, in field order
        fields.update(own)
        object.__setattr__(entry, "__dict__", fields)
        return entry


class EntryFields(TypedDict, total=False):
    """The fields of an :class:`Entry` by name, as :meth:`Entry.sharing` takes them: each
    entry's own step, dedup key and (random) span id are never shared."""

    gebeurtenis: Required[str]
    dedup: Required[str]
    trace_id: str
    span_id: Required[str]
    berichttype: str | None
    bericht_id: str | None
    afzender: tuple[str, str] | None
    ontvanger: tuple[str, str] | None
    doel: str | None
    grondslag: str | None
    policy: str | None
    bewaartermijn_dagen: int | None
    categorieen: tuple[str, ...]
    verwijderd: tuple[str, ...]
    sha256: str | None
    status: str | None
    betrokkene: str | None
    zoeksleutel: str | None
    extra: dict[str, Any]


@dataclass(frozen=True)
class Record:
    log: str
    seq: int
    public: dict[str, Any]
    personal: dict[str, Any] | None
    # read from a live store: why its lookup columns disagree with it (None: they agree)
    index_problem: str | None = None

    def leaf(self) -> bytes:
        return leaf_hash(canonical(self.public))


def build_record(log_id: str, entry: Entry, seq: int, now: dt.datetime) -> Record:
    """The record ``entry`` becomes at place ``seq`` of log ``log_id`` (a fresh salt)."""
    personal = None
    if entry.betrokkene is not None:
        personal = {"betrokkene": entry.betrokkene, "zout": secrets.token_hex(16)}
    public: dict[str, Any] = {
        "formaat": FORMAT,
        "log": log_id,
        "seq": seq,
        "tijd": now.isoformat(),
        "gebeurtenis": entry.gebeurtenis,
        "trace_id": entry.trace_id,
        "span_id": entry.span_id,
        "verwerking": {
            "doel": entry.doel,
            "grondslag": entry.grondslag,
            "policy": entry.policy,
            "bewaartermijn_dagen": entry.bewaartermijn_dagen,
        },
        "afzender": _partij(entry.afzender),
        "ontvanger": _partij(entry.ontvanger),
        "berichttype": entry.berichttype,
        "bericht_id": entry.bericht_id,
        "categorieen": sorted(entry.categorieen),
        "verwijderd": sorted(entry.verwijderd),
        "sha256": entry.sha256,
        "status": entry.status,
        "persoonlijk_sha256": (
            hashlib.sha256(canonical(personal)).hexdigest() if personal else None
        ),
        **({"extra": entry.extra} if entry.extra else {}),
    }
    return Record(log_id, seq, public, personal)


def index_mismatch(
    row: Sequence[Any], public: dict[str, Any], personal: dict[str, Any] | None
) -> str | None:
    _seq, leaf, _public, _personal, betrokkene, bericht_id, tijd, verloopt = row
    if bytes(leaf) != leaf_hash(canonical(public)):
        return "the stored leaf hash is not the record's"
    if betrokkene != (personal or {}).get("betrokkene"):
        return "the betrokkene column is not the record's data subject"
    if bericht_id != public.get("bericht_id"):
        return "the bericht_id column is not the record's"
    if tijd != public.get("tijd"):
        return "the tijd column is not the record's"
    days = (public.get("verwerking") or {}).get("bewaartermijn_dagen")
    expected = (
        (dt.datetime.fromisoformat(public["tijd"]) + dt.timedelta(days=days)).isoformat()
        if days
        else None
    )
    if verloopt != expected:
        return "the verloopt column is not the record's retention"
    return None


def _partij(party: tuple[str, str] | None) -> dict[str, str] | None:
    return None if party is None else {"oin": party[0], "rol": party[1]}


def row_record(r: Sequence[Any]) -> Record:
    return Record(
        log=str(r[0]),
        seq=int(r[1]),
        public=json.loads(r[2]),
        personal=json.loads(r[3]) if r[3] else None,
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
