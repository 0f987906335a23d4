"""Inclusion and consistency proofs against signed checkpoints, as an auditor checks them.

Neither proof trusts the store: the checkpoint's signature is checked first (against the keys
the caller passes: pinned ones, or the store's own), the leaf is recomputed from the record as
it is now, and the proof is run to the signed root (RFC 9162 §2.1.3.2 and §2.1.4.2). The
result carries everything needed to check it again elsewhere, with Go's
``golang.org/x/mod/sumdb/note`` and ``sumdb/tlog`` for instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.merkle import verify_consistency, verify_inclusion
from gateway.audit.reading import AuditReader
from gateway.audit.signing import Checkpoint, verify_checkpoint
from gateway.audit.strict import b64_encode

__all__ = ["ConsistencyProof", "InclusionProof", "prove_consistency", "prove_inclusion"]


def _checkpoint_json(cp: Checkpoint) -> Any:
    return cp.note() if cp.is_note else cp.to_json()


@dataclass(frozen=True)
class InclusionProof:
    checkpoint: Checkpoint
    seq: int
    leaf: bytes
    path: list[bytes]
    problem: str | None  # None: the signature is sound and the proof leads to its root

    def to_json(self) -> dict[str, Any]:
        return {
            "log": self.checkpoint.log,
            "seq": self.seq,
            "size": self.checkpoint.size,
            "leaf": b64_encode(self.leaf),
            "root": b64_encode(self.checkpoint.root),
            "checkpoint": _checkpoint_json(self.checkpoint),
            "inclusion": [b64_encode(h) for h in self.path],
            "sound": self.problem is None,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class ConsistencyProof:
    old: Checkpoint
    new: Checkpoint
    path: list[bytes]
    problem: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "log": self.new.log,
            "from": self.old.size,
            "to": self.new.size,
            "old_root": b64_encode(self.old.root),
            "new_root": b64_encode(self.new.root),
            "old_checkpoint": _checkpoint_json(self.old),
            "new_checkpoint": _checkpoint_json(self.new),
            "consistency": [b64_encode(h) for h in self.path],
            "sound": self.problem is None,
            "problem": self.problem,
        }


async def prove_inclusion(
    reader: AuditReader,
    log_id: str,
    seq: int,
    keys: Mapping[str, Ed25519PublicKey],
) -> InclusionProof | None:
    """Record ``seq`` against the newest checkpoint of its log (None: no checkpoint covers it
    or there is no such record)."""
    covering = [cp for cp in await reader.checkpoints(log_id) if cp.size > seq]
    if not covering or seq < 0:
        return None
    checkpoint = covering[-1]
    try:
        leaf, path = await reader.inclusion(log_id, seq, checkpoint.size)
    except KeyError:
        return None
    problem = verify_checkpoint(checkpoint, keys)
    if problem is not None:
        problem = f"checkpoint {log_id}@{checkpoint.size}: {problem}"
    elif not verify_inclusion(leaf, seq, checkpoint.size, path, checkpoint.root):
        problem = (
            f"record {log_id}/{seq} is not in the signed tree of {checkpoint.size} "
            "(the record or the tree was changed)"
        )
    return InclusionProof(checkpoint, seq, leaf, path, problem)


async def prove_consistency(
    reader: AuditReader,
    log_id: str,
    old: int,
    new: int,
    keys: Mapping[str, Ed25519PublicKey],
) -> ConsistencyProof | str:
    """The tree of checkpoint ``old`` is a prefix of the one of checkpoint ``new`` (both
    signed sizes of ``log_id``); a string says why no proof can be given."""
    by_size = {cp.size: cp for cp in await reader.checkpoints(log_id)}
    for size in (old, new):
        if size not in by_size:
            return f"log {log_id} has no checkpoint of size {size}"
    if old > new:
        return f"--from {old} is after --to {new}"
    first, second = by_size[old], by_size[new]
    path = await reader.consistency(log_id, old, new) if old < new else []
    problem = None
    for cp in (first, second):
        if (why := verify_checkpoint(cp, keys)) is not None:
            problem = f"checkpoint {log_id}@{cp.size}: {why}"
            break
    if problem is None and not verify_consistency(old, new, path, first.root, second.root):
        problem = f"checkpoint {log_id}@{old} is not a prefix of {log_id}@{new}"
    return ConsistencyProof(first, second, path, problem)
