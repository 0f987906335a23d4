"""The export folder an auditor is handed, written and verified offline.

Format ``ketenpoort-audit-export/v2`` (``ketenpoort audit export DIR``), documented in the
README and written into ``DIR/LEESMIJ.md``:

- ``manifest.json``: ``{"formaat": "ketenpoort-audit-export/v2", "geexporteerd": time,
  "logs": {log id: {"records": n, "checkpoints": m}}}``
- ``records.jsonl``: one record a line, by log then seq:
  ``{"log", "seq", "public": {...}, "personal": {...} | null}``; the leaf is
  SHA-256(0x00 || canonical JSON of ``public``) (sorted keys, no spaces, UTF-8).
- ``checkpoints.jsonl``: ``{"log", "size", "note"}``, the note a C2SP tlog-checkpoint in C2SP
  signed-note form (:mod:`gateway.audit.checkpoint`); checkpoints signed before issue 17
  keep their legacy form ``{"log", "size", "root", "tijd", "key_id", "signature"}``.
- ``logs.note``: a signed note listing every log in the export with its newest checkpoint
  (``<log> <size> <root, base64>`` a line, after ``ketenpoort-audit-logs`` and
  ``tijd <time>``): a log dropped from the export is missing from a list it cannot re-sign.
- ``keys/<key id>.pub``: the raw Ed25519 public keys, base64 (for internal consistency only:
  an auditor pins keys obtained elsewhere with ``--trusted-keys``).

Every file is read strictly (:mod:`gateway.audit.strict`): one form for each value, no key
twice, no blank lines, exactly the keys above.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.note import SignedNote
from gateway.audit.record import Record
from gateway.audit.signing import (
    Checkpoint,
    Keyring,
    index_keys,
    public_text,
    read_public_keys,
)
from gateway.audit.strict import (
    Malformed,
    b64_decode,
    b64_encode,
    json_object,
    size_text,
    strict_int,
    timestamp,
    timestamp_text,
)
from gateway.audit.verify import Outcome, verify, verify_signed_to_the_end

__all__ = [
    "EXPORT_FILES",
    "EXPORT_FORMAT",
    "LOGS_ORIGIN",
    "logs_text",
    "read_checkpoints",
    "read_records",
    "verify_export",
    "write_export",
]

EXPORT_FORMAT = "ketenpoort-audit-export/v2"
EXPORT_FILES = ("manifest.json", "records.jsonl", "checkpoints.jsonl", "logs.note", "LEESMIJ.md")
LOGS_ORIGIN = "ketenpoort-audit-logs"


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith("\n") or not line.strip():
                raise Malformed(f"{path.name} line {number}: empty or not ended by a newline")
            yield number, line


def read_records(directory: Path) -> Iterator[Record]:
    path = directory / "records.jsonl"
    for number, line in _lines(path):
        where = f"records.jsonl line {number}"
        data = json_object(line, {"log", "seq", "public", "personal"}, where)
        if not isinstance(data["log"], str) or not isinstance(data["public"], dict):
            raise Malformed(f"{where}: log or public is not in its form")
        if data["personal"] is not None and not isinstance(data["personal"], dict):
            raise Malformed(f"{where}: personal is neither an object nor null")
        yield Record(
            log=data["log"],
            seq=strict_int(data["seq"], f"{where}: seq"),
            public=data["public"],
            personal=data["personal"],
        )


def read_checkpoints(directory: Path) -> list[Checkpoint]:
    checkpoints = []
    for number, line in _lines(directory / "checkpoints.jsonl"):
        where = f"checkpoints.jsonl line {number}"
        try:
            checkpoints.append(Checkpoint.from_json(json_object(line, None, where)))
        except Malformed as exc:
            raise Malformed(f"{where}: {exc}") from None
    return checkpoints


def newest(checkpoints: Iterable[Checkpoint]) -> dict[str, Checkpoint]:
    found: dict[str, Checkpoint] = {}
    for cp in checkpoints:
        if cp.log not in found or cp.size > found[cp.log].size:
            found[cp.log] = cp
    return found


def logs_text(checkpoints: Iterable[Checkpoint], moment: dt.datetime) -> str:
    """The text of ``logs.note``: every log with its newest checkpoint (size, root)."""
    lines = [LOGS_ORIGIN, f"tijd {timestamp_text(moment)}"]
    for log_id, cp in sorted(newest(checkpoints).items()):
        lines.append(f"{log_id} {cp.size} {b64_encode(cp.root)}")
    return "".join(line + "\n" for line in lines)


def _check_logs(
    message: str, checkpoints: list[Checkpoint], keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    """Why ``logs.note`` does not vouch for exactly these logs, or None."""
    note = SignedNote.parse(message)
    _key, why = note.verify(index_keys(keys))
    if why is not None:
        return f"logs.note: {why}"
    lines = note.text[:-1].split("\n")
    if len(lines) < 2 or lines[0] != LOGS_ORIGIN or not lines[1].startswith("tijd "):
        raise Malformed(f"logs.note: expected '{LOGS_ORIGIN}' and 'tijd <time>' first")
    timestamp(lines[1].removeprefix("tijd "), "logs.note tijd")
    listed: dict[str, tuple[int, bytes]] = {}
    for line in lines[2:]:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] in listed:
            raise Malformed(f"logs.note: {line!r} is not '<log> <size> <root>' (once a log)")
        listed[parts[0]] = (size_text(parts[1]), b64_decode(parts[2], length=32, what="root"))
    present = newest(checkpoints)
    for log_id, (size, root) in sorted(listed.items()):
        cp = present.get(log_id)
        if cp is None:
            return f"logs.note: log {log_id} (size {size}) is listed but missing from the export"
        if (cp.size, cp.root) != (size, root):
            return (
                f"logs.note: log {log_id}: the newest checkpoint is {cp.size}, the signed "
                f"list says {size}"
            )
    for log_id in sorted(set(present) - set(listed)):
        return f"logs.note: log {log_id} is in the export but not in the signed list"
    return None


def verify_export(
    directory: Path,
    trusted: Mapping[str, Ed25519PublicKey] | None = None,
    *,
    now: dt.datetime | None = None,
) -> Outcome:
    """Verify an export folder offline. With ``trusted`` (keys the auditor pinned) every
    signature must be by one of them; without, the folder's own ``keys/`` are used and the
    outcome says it only shows internal consistency (``Outcome.trusted`` is False)."""
    try:
        manifest = json_object(
            (directory / "manifest.json").read_text(encoding="utf-8"),
            {"formaat", "geexporteerd", "logs"},
            "manifest.json",
        )
        if manifest["formaat"] != EXPORT_FORMAT:
            return Outcome(problem=f"manifest.json: not a {EXPORT_FORMAT} export")
        timestamp(manifest["geexporteerd"], "manifest.json geexporteerd")
        keys = dict(trusted) if trusted is not None else read_public_keys(directory / "keys")
        checkpoints = read_checkpoints(directory)
        problem = _check_logs(
            (directory / "logs.note").read_text(encoding="utf-8"), checkpoints, keys
        )
        if problem is not None:
            return Outcome(problem=problem)
        outcome = verify(read_records(directory), checkpoints, keys, now=now)
    except (OSError, ValueError) as exc:
        return Outcome(problem=str(exc))
    outcome.trusted = trusted is not None
    outcome = verify_signed_to_the_end(outcome, checkpoints)
    if outcome.sound and manifest["logs"] != _counts(outcome, checkpoints):
        outcome.problem = "manifest.json: its counts per log are not the export's"
    return outcome


def _counts(outcome: Outcome, checkpoints: list[Checkpoint]) -> dict[str, dict[str, int]]:
    counts = {log_id: {"records": n, "checkpoints": 0} for log_id, n in outcome.logs.items()}
    for cp in checkpoints:
        counts.setdefault(cp.log, {"records": 0, "checkpoints": 0})["checkpoints"] += 1
    return counts


def write_export(
    directory: Path,
    records: Iterable[Record],
    checkpoints: list[Checkpoint],
    keyring: Keyring,
    exported: dt.datetime,
) -> dict[str, dict[str, int]]:
    """Write the export files (the list of logs signed with the active key); returns the
    per-log counts."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "keys").mkdir(exist_ok=True)
    counts: dict[str, dict[str, int]] = {}
    with (directory / "records.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(_line(record))
            counts.setdefault(record.log, {"records": 0, "checkpoints": 0})["records"] += 1
    with (directory / "checkpoints.jsonl").open("w", encoding="utf-8") as handle:
        for cp in checkpoints:
            handle.write(json.dumps(cp.to_json(), sort_keys=True, ensure_ascii=False) + "\n")
            counts.setdefault(cp.log, {"records": 0, "checkpoints": 0})["checkpoints"] += 1
    (directory / "logs.note").write_text(
        keyring.sign_text(logs_text(checkpoints, exported)).encode(), encoding="utf-8"
    )
    for kid, public in keyring.public_keys().items():
        (directory / "keys" / f"{kid}.pub").write_text(public_text(public))
    manifest = {
        "formaat": EXPORT_FORMAT,
        "geexporteerd": timestamp_text(exported),
        "logs": counts,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (directory / "LEESMIJ.md").write_text(_LEESMIJ)
    return counts


def _line(record: Record) -> str:
    row: dict[str, Any] = {
        "log": record.log,
        "seq": record.seq,
        "public": record.public,
        "personal": record.personal,
    }
    return json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n"


_LEESMIJ = """# Ketenpoort audit export (ketenpoort-audit-export/v2)

Verify with `ketenpoort audit verify <this folder> --trusted-keys <file>`, where the file
holds the verifier keys (`ketenpoort-audit+<8 hex>+<base64>`, one a line) you obtained from
the gateway's operator through a channel other than this folder. Without it, verify only
shows that the folder is consistent with the keys in `keys/`, which whoever wrote the folder
chose (exit code 3).

By hand: for each log, records are numbered from 0 without gaps; the leaf of a record is
SHA-256(0x00 || canonical JSON of its "public" part) (sorted keys, no spaces, UTF-8); nodes
are SHA-256(0x01 || left || right) as RFC 6962 defines the Merkle tree. Each line of
checkpoints.jsonl holds a C2SP tlog-checkpoint (origin = log id, size, base64 root,
`tijd <time>`) as a C2SP signed note with an Ed25519 signature; Go's
golang.org/x/mod/sumdb/note opens it with the verifier key. logs.note, signed the same way,
lists every log in this folder with its newest checkpoint.

The "personal" part holds only a keyed pseudonym of the data subject and a salt; its SHA-256
is in the public part ("persoonlijk_sha256"). After the retention period it is removed; the
leaf, and so every checkpoint, stays valid. Removed earlier only with an erasure record
(gebeurtenis "gewist", grondslag "AVG art. 17", who decided, and the records it covers).
"""
