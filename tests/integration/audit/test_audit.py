"""The audit trail without the broker: tamper evidence, key rotation, retention, proofs
against the signed checkpoints and several logs in one store (the Merkle tree itself:
tests/unit/audit/test_merkle.py; what an outside auditor checks: test_outside.py).

Store tests run on both engines: SQLite (a file in ``tmp_path``) and PostgreSQL (a fresh
schema per test on 127.0.0.1:5432, dropped afterwards). Audit data is built the way the
gateway builds it: the example messages go through the real pipeline (validate, route,
filter, render) and ``Trail`` turns each decision into entries, appended message by message
with a small ``checkpoint_every`` so there are many signed checkpoints.

Tampering is done twice for every kind: in an export folder (then ``ketenpoort audit verify
DIR`` must exit 1 and name the first failing record or checkpoint) and directly in the rows
of the live store (then ``verify()`` and ``ketenpoort audit verify`` must name it).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.audit import merkle
from gateway.audit.export import verify_export
from gateway.audit.log import AuditLog, Entry, canonical
from gateway.audit.signing import Keyring, read_public_keys, verify_checkpoint
from gateway.decision.trail import Trail
from gateway.domain.errors import Misconfigured, Transient
from gateway.runtime import audit_access
from gateway.runtime.settings import Settings
from gateway.store.database import Database, Exec
from tests.support.audit_store import (
    LONG,
    OM,
    PG,
    SHORT,
    Built,
    Store,
    append_all,
    build,
    checkpoints_of,
    edit_checkpoint,
    edit_note,
    edit_records,
    export,
    flip,
    live_outcome,
    message_entries,
    read_lines,
    store_on,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from store_on(request.param, tmp_path)


# --------------------------------------------------------------------------- store rows

RECORD_COLUMNS = "seq, leaf, public, personal, betrokkene, bericht_id, tijd, verloopt, dedup"


def record_row(ex: Exec, log_id: str, seq: int) -> list[Any]:
    row = ex(
        f"SELECT {RECORD_COLUMNS} FROM audit_record WHERE log = ? AND seq = ?",
        (log_id, seq),
    ).fetchone()
    assert row is not None, seq
    return list(row)


def insert_row(ex: Exec, log_id: str, row: list[Any]) -> None:
    ex(
        f"INSERT INTO audit_record (log, {RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (log_id, *row),
    )


def set_public(store: Store, seq: int, change: Callable[[dict[str, Any]], None]) -> None:
    def work(ex: Exec) -> None:
        (public,) = ex(
            "SELECT public FROM audit_record WHERE log = ? AND seq = ?", (store.log_id, seq)
        ).fetchone()
        data = json.loads(public)
        change(data)
        ex(
            "UPDATE audit_record SET public = ? WHERE log = ? AND seq = ?",
            (canonical(data).decode(), store.log_id, seq),
        )

    store.sql(work)


def set_checkpoint(store: Store, size: int, column: str, value: Any) -> None:
    store.sql(
        lambda ex: ex(
            f"UPDATE audit_checkpoint SET {column} = ? WHERE log = ? AND size = ?",
            (value, store.log_id, size),
        )
    )


def public_of(store: Store, seq: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(store.sql(lambda ex: record_row(ex, store.log_id, seq))[2])
    return data


# --------------------------------------------------------------------------- the check


def assert_detected(
    built: Built,
    *,
    tamper_export: Callable[[Path], None],
    tamper_store: Callable[[], None],
    expected: str,
    expected_store: str | None = None,
) -> None:
    """Tamper an export and the live store; both verifications name ``expected`` first."""
    store = built.store
    directory = export(store)
    sound = store.verify(directory)
    assert sound.exit_code == 0, sound.output
    assert live_outcome(store).sound

    tamper_export(directory)
    result = store.verify(directory)
    assert result.exit_code == 1, result.output
    assert f"audit verify: FAILED: {expected}" in result.output, result.output
    problem = verify_export(directory).problem
    assert problem is not None
    assert problem.startswith(expected)

    tamper_store()
    want = expected_store or expected
    outcome = live_outcome(store)
    assert not outcome.sound
    assert outcome.problem is not None
    assert outcome.problem.startswith(want), outcome.problem
    live = store.verify()
    assert live.exit_code == 1, live.output
    assert f"audit verify: FAILED: {want}" in live.output, live.output


# =========================================================================== 2. tampering


def _edit_gebeurtenis(p: dict[str, Any]) -> None:
    p["gebeurtenis"] = p["gebeurtenis"][:-1] + "D"


def _edit_categorieen(p: dict[str, Any]) -> None:
    assert p["categorieen"]
    p["categorieen"] = p["categorieen"][1:]


def _edit_ontvanger(p: dict[str, Any]) -> None:
    oin = p["ontvanger"]["oin"]
    p["ontvanger"]["oin"] = oin[:-1] + ("7" if oin[-1] != "7" else "8")


def _edit_sha256(p: dict[str, Any]) -> None:
    digest = p["sha256"]
    p["sha256"] = ("0" if digest[0] != "0" else "1") + digest[1:]


def _edit_tijd(p: dict[str, Any]) -> None:
    p["tijd"] = (dt.datetime.fromisoformat(p["tijd"]) - dt.timedelta(seconds=1)).isoformat()


PUBLIC_EDITS: dict[
    str, tuple[Callable[[dict[str, Any]], bool], Callable[[dict[str, Any]], None]]
] = {
    "gebeurtenis": (lambda p: True, _edit_gebeurtenis),
    "categorieen": (lambda p: bool(p["categorieen"]), _edit_categorieen),
    "ontvanger-oin": (lambda p: p["ontvanger"] is not None, _edit_ontvanger),
    "sha256": (lambda p: p["sha256"] is not None, _edit_sha256),
    "tijd": (lambda p: True, _edit_tijd),
}


def target(built: Built, where: Callable[[dict[str, Any]], bool]) -> int:
    """The first record from the middle of the log on for which ``where`` holds."""
    for seq in range(built.size // 2, built.size):
        if where(public_of(built.store, seq)):
            return seq
    raise AssertionError("no record to tamper with")


@pytest.mark.parametrize("field_name", sorted(PUBLIC_EDITS))
def test_tamper_public_part(store: Store, field_name: str) -> None:
    built = build(store)
    where, change = PUBLIC_EDITS[field_name]
    seq = target(built, where)
    size = built.first_checkpoint_above(seq)

    def in_export(directory: Path) -> None:
        def change_row(rows: list[dict[str, Any]]) -> None:
            change(rows[seq]["public"])

        edit_records(directory, change_row)

    assert_detected(
        built,
        tamper_export=in_export,
        tamper_store=lambda: set_public(store, seq, change),
        expected=f"checkpoint {built.log_id}@{size}: root does not match the records",
        # the live store also keeps each record's leaf: the edited record itself is named
        expected_store=f"record {built.log_id}/{seq}: the stored leaf hash is not the record's",
    )


def test_tamper_personal_part(store: Store) -> None:
    built = build(store)
    seq = target(built, lambda p: p["persoonlijk_sha256"] is not None)
    pseudonym = store.pseudonymiser()

    def change(personal: dict[str, Any]) -> None:
        # the record now tells another person's history
        other = pseudonym("999990044")
        personal["betrokkene"] = (
            other if personal["betrokkene"] != other else pseudonym("999990019")
        )

    def in_export(directory: Path) -> None:
        edit_records(directory, lambda rows: change(rows[seq]["personal"]))

    def in_store() -> None:
        def work(ex: Exec) -> None:
            row = record_row(ex, store.log_id, seq)
            personal = json.loads(row[3])
            change(personal)
            ex(
                "UPDATE audit_record SET personal = ? WHERE log = ? AND seq = ?",
                (canonical(personal).decode(), store.log_id, seq),
            )

        store.sql(work)

    assert_detected(
        built,
        tamper_export=in_export,
        tamper_store=in_store,
        expected=f"record {built.log_id}/{seq}: the personal part does not match its digest",
        expected_store=(
            f"record {built.log_id}/{seq}: the betrokkene column is not the record's data subject"
        ),
    )


@pytest.mark.parametrize("column", ["root", "size", "signature", "tijd"])
def test_tamper_checkpoint(store: Store, column: str) -> None:
    built = build(store)
    cp = built.middle_checkpoint()
    size = cp.size
    named = size
    if column == "root":
        new_note: Any = flip(cp.root, 7)
        new_row: Any = new_note
    elif column == "signature":
        new_row = new_note = flip(cp.signature, 11)
    elif column == "tijd":
        new_note = cp.tijd + dt.timedelta(minutes=5)
        new_row = new_note.isoformat()
    else:
        assert size + 1 not in {c.size for c in built.checkpoints}
        new_row = new_note = named = size + 1

    def in_export(directory: Path) -> None:
        edit_note(directory, size, **{column: new_note})

    assert_detected(
        built,
        tamper_export=in_export,
        tamper_store=lambda: set_checkpoint(store, size, column, new_row),
        expected=f"checkpoint {built.log_id}@{named}: the signature does not match",
    )


def test_tamper_delete_a_record_in_the_middle(store: Store) -> None:
    built = build(store)
    seq = built.size // 2

    def in_export(directory: Path) -> None:
        edit_records(directory, lambda rows: rows.pop(seq))

    assert_detected(
        built,
        tamper_export=in_export,
        tamper_store=lambda: store.sql(
            lambda ex: ex("DELETE FROM audit_record WHERE log = ? AND seq = ?", (store.log_id, seq))
        ),
        expected=f"record {built.log_id}/{seq + 1}: expected seq {seq}",
    )


def test_tamper_truncate_the_last_record(store: Store) -> None:
    built = build(store)
    last = built.size - 1

    def in_export(directory: Path) -> None:
        edit_records(directory, lambda rows: rows.pop())

    assert_detected(
        built,
        tamper_export=in_export,
        tamper_store=lambda: store.sql(
            lambda ex: ex(
                "DELETE FROM audit_record WHERE log = ? AND seq = ?", (store.log_id, last)
            )
        ),
        expected=f"checkpoint {built.log_id}@{built.size}: only {last} records",
    )


def _forged(public: dict[str, Any], seq: int) -> dict[str, Any]:
    """A made-up record: a delivery to the OM that never happened."""
    forged: dict[str, Any] = json.loads(json.dumps(public))
    forged.update(
        seq=seq,
        gebeurtenis="afgeleverd",
        status="afgeleverd",
        ontvanger={"oin": OM, "rol": "openbaar-ministerie"},
        sha256="ab" * 32,
    )
    return forged


def test_tamper_insert_a_record(store: Store) -> None:
    """A record inserted in the middle, the following ones renumbered (a careful forger)."""
    built = build(store)
    seq = built.size // 2
    size = built.first_checkpoint_above(seq)

    def in_export(directory: Path) -> None:
        def change(rows: list[dict[str, Any]]) -> None:
            for row in rows[seq:]:
                row["seq"] += 1
                row["public"]["seq"] += 1
            forged = _forged(rows[seq]["public"], seq)
            rows.insert(seq, {"log": built.log_id, "seq": seq, "public": forged, "personal": None})

        edit_records(directory, change)

    def in_store() -> None:
        def work(ex: Exec) -> None:
            original = record_row(ex, store.log_id, seq)
            for s in range(built.size - 1, seq - 1, -1):
                row = record_row(ex, store.log_id, s)
                public = json.loads(row[2])
                public["seq"] = s + 1
                ex(
                    "UPDATE audit_record SET seq = ?, public = ?, leaf = ? "
                    "WHERE log = ? AND seq = ?",
                    (
                        s + 1,
                        canonical(public).decode(),
                        merkle.leaf_hash(canonical(public)),
                        store.log_id,
                        s,
                    ),
                )
            forged = _forged(json.loads(original[2]), seq)
            forged["persoonlijk_sha256"] = None
            insert_row(
                ex,
                store.log_id,
                [
                    seq,
                    merkle.leaf_hash(canonical(forged)),
                    canonical(forged).decode(),
                    None,
                    None,
                    forged["bericht_id"],
                    forged["tijd"],
                    None,
                    "vervalst",
                ],
            )

        store.sql(work)

    assert_detected(
        built,
        tamper_export=in_export,
        tamper_store=in_store,
        expected=f"checkpoint {built.log_id}@{size}: root does not match the records",
        # in the live store the forged record's lookup columns give it away first
        expected_store=f"record {built.log_id}/{seq}: the verloopt column",
    )


def test_tamper_insert_a_duplicate_line_in_an_export(store: Store) -> None:
    built = build(store)
    seq = built.size // 2
    directory = export(store)
    edit_records(directory, lambda rows: rows.insert(seq + 1, json.loads(json.dumps(rows[seq]))))
    result = store.verify(directory)
    assert result.exit_code == 1
    assert f"FAILED: record {built.log_id}/{seq}: expected seq {seq + 1}" in result.output


@pytest.mark.parametrize("renumbered", [False, True], ids=["moved", "moved-and-renumbered"])
def test_tamper_swap_two_records(store: Store, renumbered: bool) -> None:
    built = build(store)
    seq = target(built, lambda p: True)
    while public_of(store, seq)["gebeurtenis"] == public_of(store, seq + 1)["gebeurtenis"]:
        seq += 1  # two records that differ in what they say
    if renumbered:
        expected = f"checkpoint {built.log_id}@{built.first_checkpoint_above(seq)}: root does not"
        # the live store keeps each record's leaf: the moved record itself is named
        expected_store = f"record {built.log_id}/{seq}: the stored leaf hash is not the record's"
    else:
        expected = f"record {built.log_id}/{seq + 1}: expected seq {seq}"
        expected_store = (
            f"record {built.log_id}/{seq}: the record names another place "
            f"({built.log_id}/{seq + 1})"
        )

    def in_export(directory: Path) -> None:
        def change(rows: list[dict[str, Any]]) -> None:
            rows[seq], rows[seq + 1] = rows[seq + 1], rows[seq]
            if renumbered:
                for s in (seq, seq + 1):
                    rows[s]["seq"] = rows[s]["public"]["seq"] = s

        edit_records(directory, change)

    def in_store() -> None:
        def work(ex: Exec) -> None:
            a = record_row(ex, store.log_id, seq)
            b = record_row(ex, store.log_id, seq + 1)
            ex(
                "DELETE FROM audit_record WHERE log = ? AND seq IN (?, ?)",
                (store.log_id, seq, seq + 1),
            )
            for s, row in ((seq, b), (seq + 1, a)):
                row[0] = s
                if renumbered:
                    public = json.loads(row[2])
                    public["seq"] = s
                    row[2] = canonical(public).decode()
                insert_row(ex, store.log_id, row)

        store.sql(work)

    assert_detected(
        built,
        tamper_export=in_export,
        tamper_store=in_store,
        expected=expected,
        expected_store=expected_store,
    )


def test_tamper_checkpoint_signed_by_an_unknown_key(store: Store) -> None:
    built = build(store)
    cp = built.middle_checkpoint()
    other = Keyring(store.tmp / "elders")
    other.rotate()
    forged = other.sign(cp.log, cp.size, cp.root, cp.tijd)
    assert forged.statement() == cp.statement()
    assert forged.key_id != cp.key_id

    def in_export(directory: Path) -> None:
        edit_checkpoint(directory, cp.size, lambda row: row.update(note=forged.note()))

    def in_store() -> None:
        store.sql(
            lambda ex: ex(
                "UPDATE audit_checkpoint SET key_id = ?, signature = ? WHERE log = ? AND size = ?",
                (forged.key_id, forged.signature, store.log_id, cp.size),
            )
        )

    assert_detected(
        built,
        tamper_export=in_export,
        tamper_store=in_store,
        expected=f"checkpoint {built.log_id}@{cp.size}: signed by unknown key {forged.key_id}",
    )


def test_tamper_key_file_missing(store: Store) -> None:
    """Without pinned keys a missing key file fails the check against the folder's keys; with
    pinned keys the folder's keys are not used at all."""
    built = build(store)
    first = built.checkpoints[0].size
    note_id = store.note_id(built.kid)
    directory = export(store)
    store.trusted()
    (directory / "keys" / f"{built.kid}.pub").unlink()
    internal = store.cli("audit", "verify", directory)
    assert internal.exit_code == 1, internal.output
    assert f"FAILED: logs.note: signed by unknown key {note_id}" in internal.output
    assert store.verify(directory).exit_code == 0

    (store.key_dir / f"{built.kid}.pub").unlink()
    outcome = live_outcome(store)
    assert outcome.problem == f"checkpoint {built.log_id}@{first}: signed by unknown key {note_id}"
    live = store.cli("audit", "verify")
    assert live.exit_code == 1, live.output
    assert store.verify().exit_code == 0


def test_verify_and_proofs_of_a_store_without_a_trail_fail_and_make_none(store: Store) -> None:
    """A wrong DSN or folder is no sound trail: verify fails naming where it looked, the
    proofs find nothing, and none of them creates a store there."""
    result = store.cli("audit", "verify")
    assert result.exit_code == 1, result.output
    assert f"FAILED: no audit trail at {store.dsn} (KETENPOORT_AUDIT_DSN)" in result.output
    proof = store.cli("audit", "prove", "--log", store.log_id, "--seq", "1")
    assert proof.exit_code == 1, proof.output
    assert "no such record under a signed checkpoint" in proof.output
    consistency = store.cli(
        "audit", "consistency", "--log", store.log_id, "--from", "1", "--to", "2"
    )
    assert consistency.exit_code == 1, consistency.output
    assert f"no audit trail at {store.dsn}" in consistency.output
    if store.engine == "sqlite":
        assert not Path(store.dsn.removeprefix("sqlite:///")).exists()
    else:
        probe = Database(store.dsn)
        try:
            assert not probe.holds("audit_record")
        finally:
            probe.close()


# --------------------------------------------------------------------------- outside the leaf


@pytest.mark.parametrize("column", ["betrokkene", "bericht_id", "verloopt"])
def test_tamper_index_columns_is_detected(store: Store, column: str) -> None:
    built = build(store)
    seq = target(built, lambda p: p["persoonlijk_sha256"] is not None)
    value = {
        "betrokkene": store.pseudonymiser()("999990044"),  # someone else's history
        "bericht_id": str(uuid.uuid4()),
        "verloopt": "1970-01-01T00:00:00+00:00",  # purge would remove it at once
    }[column]
    store.sql(
        lambda ex: ex(
            f"UPDATE audit_record SET {column} = ? WHERE log = ? AND seq = ?",
            (value, store.log_id, seq),
        )
    )
    outcome = live_outcome(store)
    assert outcome.problem is not None
    assert outcome.problem.startswith(f"record {built.log_id}/{seq}")


def test_prove_fails_for_an_edited_record(store: Store) -> None:
    built = build(store)
    seq = target(built, lambda p: p["sha256"] is not None)
    pinned = ("--trusted-keys", store.trusted())
    result = store.cli("audit", "prove", "--log", built.log_id, "--seq", str(seq), *pinned)
    assert result.exit_code == 0, result.output
    set_public(store, seq, _edit_sha256)
    assert not live_outcome(store).sound
    result = store.cli("audit", "prove", "--log", built.log_id, "--seq", str(seq), *pinned)
    assert result.exit_code == 1, result.output
    assert "is not in the signed tree" in result.output


# =========================================================================== 3. key rotation


def test_key_rotation_keeps_old_checkpoints_verifying(store: Store) -> None:
    trail = Trail(store.pseudonymiser())
    groups = message_entries(trail)
    half = len(groups) // 2
    asyncio.run(append_all(store, groups[:half]))
    (old,) = read_public_keys(store.key_dir)
    before = checkpoints_of(store)
    assert before
    assert {cp.key_id for cp in before} == {store.note_id(old)}
    pinned_old = store.trusted().read_text()

    result = store.cli("audit", "rotate-key")
    assert result.exit_code == 0, result.output
    new = (store.key_dir / "actief").read_text().strip()
    assert new != old
    assert f"new signing key {new} is active" in result.output
    assert set(read_public_keys(store.key_dir)) == {old, new}
    assert store.note_id(new) in result.output  # the verifier key to publish

    asyncio.run(append_all(store, groups[half:]))
    after = checkpoints_of(store)
    assert after[: len(before)] == before
    assert {cp.key_id for cp in after[len(before) :]} == {store.note_id(new)}

    # pinned only the old key: the new checkpoints are by an unknown key
    stale = store.verify()
    assert stale.exit_code == 1, stale.output
    assert f"signed by unknown key {store.note_id(new)}" in stale.output
    pinned_both = store.trusted(refresh=True).read_text()  # the auditor fetches the new key
    assert pinned_old in pinned_both
    assert len(pinned_both.splitlines()) == 2
    live = store.verify()
    assert live.exit_code == 0, live.output
    assert f"audit verify: sound ({len(after)} signed checkpoints)" in live.output
    directory = export(store)
    assert sorted(p.name for p in (directory / "keys").iterdir()) == sorted(
        [f"{old}.pub", f"{new}.pub"]
    )
    offline = store.verify(directory)
    assert offline.exit_code == 0, offline.output
    assert f"log {store.log_id}: {after[-1].size} records verified" in offline.output

    # without the old public key the old checkpoints no longer verify
    (directory / "keys" / f"{old}.pub").unlink()
    offline = store.cli("audit", "verify", directory)
    assert offline.exit_code == 1
    assert (
        f"FAILED: checkpoint {store.log_id}@{before[0].size}: signed by unknown key "
        f"{store.note_id(old)}" in offline.output
    )
    # the new checkpoints alone still verify with the new key
    newer = [cp for cp in after if cp.key_id == new]
    keys = read_public_keys(directory / "keys")
    assert set(keys) == {new}
    assert all(verify_checkpoint(cp, keys) is None for cp in newer)
    assert all(verify_checkpoint(cp, keys) is not None for cp in before)


# =========================================================================== 4. retention


def test_purge_removes_personal_part_and_keeps_every_proof(store: Store) -> None:
    pseudonym = store.pseudonymiser()
    built = build(store, dagen=lambda rel: 1 if rel in SHORT else LONG)
    only_short = pseudonym("999990044")  # only in the RvdK Reclasseringsadvies
    mixed = pseudonym("999990020")  # in Adviesaanvraag (short) and many others (long)
    untouched = pseudonym("999990019")

    def counts() -> dict[str, int]:
        return store.sql(
            lambda ex: {
                "personal": ex(
                    "SELECT COUNT(*) FROM audit_record WHERE personal IS NOT NULL"
                ).fetchone()[0],
                "expiring": ex(
                    "SELECT COUNT(*) FROM audit_record WHERE verloopt < ? AND personal IS NOT NULL",
                    ((dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat(),),
                ).fetchone()[0],
            }
        )

    async def histories() -> dict[str, int]:
        db, reader = store.log("lezer")
        try:
            return {p: len(await reader.history(p)) for p in (only_short, mixed, untouched)}
        finally:
            db.close()

    before = counts()
    expiring = before["expiring"]
    assert expiring > 0
    seen = asyncio.run(histories())
    assert all(seen.values()), seen

    async def purge(days: float) -> int:
        db, reader = store.log("lezer")
        try:
            return await reader.purge(dt.datetime.now(dt.UTC) + dt.timedelta(days=days))
        finally:
            db.close()

    assert asyncio.run(purge(0.5)) == 0  # not yet past the retention
    # the command line purges with the real clock: nothing is due
    result = store.cli("audit", "purge")
    assert result.exit_code == 0, result.output
    assert "0 record(s)" in result.output
    assert asyncio.run(purge(2)) == expiring
    after = counts()
    assert after["personal"] == before["personal"] - expiring
    assert after["expiring"] == 0

    now = asyncio.run(histories())
    assert now[only_short] == 0  # history by pseudonym finds nothing any more
    assert 0 < now[mixed] < seen[mixed]
    assert now[untouched] == seen[untouched]
    purged = store.sql(
        lambda ex: ex(
            "SELECT COUNT(*) FROM audit_record WHERE personal IS NULL AND betrokkene IS NULL "
            "AND verloopt < ?",
            ((dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat(),),
        ).fetchone()[0]
    )
    assert purged >= expiring

    # everything still verifies, offline and live, as of the purge's clock, and every record
    # is still proven
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert live_outcome(store, later).sound
    directory = export(store)
    assert verify_export(directory, now=later).sound
    # by today's clock those parts went before their retention ended (no erasure record)
    early = live_outcome(store).problem
    assert early is not None
    assert "the personal part was removed before its retention ended" in early
    offline = [
        r for r in read_lines(directory / "records.jsonl") if r["public"]["persoonlijk_sha256"]
    ]
    assert sum(r["personal"] is None for r in offline) == expiring
    assert all(asyncio.run(prove_all(store, built.size)))

    # idempotent
    assert asyncio.run(purge(2)) == 0
    assert asyncio.run(purge(400)) == 0
    assert counts() == after
    assert live_outcome(store, later).sound


async def prove_all(store: Store, size: int) -> list[bool]:
    db, reader = store.log("lezer")
    try:
        return [await reader.prove(store.log_id, seq) for seq in range(size)]
    finally:
        db.close()


def store_text(store: Store) -> list[str]:
    """Every value of every column of every audit table, as text."""
    tables = ("audit_record", "audit_node", "audit_checkpoint")

    def work(ex: Exec) -> list[str]:
        values: list[str] = []
        for table in tables:
            for row in ex(f"SELECT * FROM {table}").fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        values.append(bytes(value).hex())
                        values.append(bytes(value).decode("latin-1"))
                    else:
                        values.append(str(value))
        return values

    values: list[str] = store.sql(work)
    return values


def test_purged_records_no_longer_name_the_pseudonym(store: Store) -> None:
    build(store, dagen=lambda rel: 1 if rel in SHORT else LONG)
    only_short = store.pseudonymiser()("999990044")
    assert any(only_short in v for v in store_text(store))

    async def purge() -> int:
        db, reader = store.log("lezer")
        try:
            return await reader.purge(dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
        finally:
            db.close()

    assert asyncio.run(purge()) > 0
    # the span_id of a purged record can be recomputed from its public part and the pseudonym
    rows = store.sql(
        lambda ex: ex(
            "SELECT public FROM audit_record WHERE personal IS NULL AND betrokkene IS NULL"
        ).fetchall()
    )
    linked = []
    for (text,) in rows:
        p = json.loads(text)
        ontvanger = (p["ontvanger"] or {}).get("oin", "")
        key = (
            f"{p['afzender']['oin']}|{p['bericht_id']}|{p['gebeurtenis']}|{ontvanger}|{only_short}"
        )
        if hashlib.sha256(key.encode()).hexdigest()[:16] == p["span_id"]:
            linked.append(p["seq"])
    assert linked == []
    assert not any(only_short in v for v in store_text(store))


# =========================================================================== 5. proofs


def test_every_record_is_proven_and_checkpoints_are_consistent(store: Store) -> None:
    built = build(store)
    assert all(asyncio.run(prove_all(store, built.size)))

    async def consistency() -> None:
        db, reader = store.log("lezer")
        try:
            cps = built.checkpoints
            for i, old in enumerate(cps):
                for new in cps[i:]:
                    proof = await reader.consistency(store.log_id, old.size, new.size)
                    assert merkle.verify_consistency(old.size, new.size, proof, old.root, new.root)
                    if new.size > old.size:
                        assert not merkle.verify_consistency(
                            old.size, new.size, proof, flip(old.root), new.root
                        )
            # inclusion against every checkpoint, not only the latest, for a few records
            for seq in (0, built.size // 3, built.size - 1):
                for cp in cps:
                    if cp.size > seq:
                        leaf, path = await reader.inclusion(store.log_id, seq, cp.size)
                        assert merkle.verify_inclusion(leaf, seq, cp.size, path, cp.root)
            assert not await reader.prove(store.log_id, built.size)  # no such record
        finally:
            db.close()

    asyncio.run(consistency())
    # the leaf the proofs use is the leaf of the record's public part
    rows = store.sql(
        lambda ex: ex(
            "SELECT leaf, public FROM audit_record WHERE log = ? ORDER BY seq", (store.log_id,)
        ).fetchall()
    )
    assert [bytes(r[0]) for r in rows] == [
        merkle.leaf_hash(canonical(json.loads(r[1]))) for r in rows
    ]
    result = store.cli(
        "audit", "prove", "--log", store.log_id, "--seq", "0", "--trusted-keys", store.trusted()
    )
    assert result.exit_code == 0, result.output
    assert f"record {store.log_id}/0 is included" in result.output
    result = store.cli("audit", "prove", "--log", store.log_id, "--seq", str(built.size))
    assert result.exit_code == 1


def test_records_after_the_last_checkpoint_are_not_exported(store: Store) -> None:
    built = build(store)
    trail = Trail(store.pseudonymiser())

    async def more() -> None:
        db, audit = store.log(every=10_000)
        try:
            audit.open()
            await audit.append([trail.inzage("auditor", "999990019", str(uuid.uuid4()), LONG)])
            audit.last_checkpoint = audit.frontier.size  # close() would sign it
            await audit.close()
        finally:
            db.close()

    asyncio.run(more())
    live = store.verify()
    assert live.exit_code == 0, live.output
    assert f"log {store.log_id}: 1 newer record(s) await their checkpoint" in live.output
    result = store.cli("audit", "export", store.tmp / "e")
    assert result.exit_code == 0, result.output
    assert "1 newer record(s) not yet in a checkpoint" in result.output
    assert len(read_lines(store.tmp / "e" / "records.jsonl")) == built.size
    assert verify_export(store.tmp / "e").sound


# =========================================================================== 9. several logs


def test_two_logs_append_concurrently_and_both_verify(store: Store) -> None:
    trail = Trail(store.pseudonymiser())
    ids = [f"{store.log_id}-a", f"{store.log_id}-b"]

    async def writer(log_id: str, db: Database, audit: AuditLog) -> int:
        audit.open()
        await audit.start()

        def entries(i: int) -> list[Entry]:
            return Trail.follow_up(
                "bevestigd",
                afzender="00000099000000000101",
                bericht_id=str(uuid.uuid4()),
                ontvanger=(OM, "openbaar-ministerie"),
                subjects=[trail.pseudonymise("999990019"), None][: 1 + i % 2],
                status="afgeleverd",
                bewaartermijn_dagen=LONG,
                unique=f"{log_id}-{i}",
            )

        # six waves of five concurrent appends (each wave one group commit)
        for wave in range(6):
            await asyncio.gather(*(audit.append(entries(wave * 5 + i)) for i in range(5)))
        size = audit.frontier.size
        await audit.close()
        return size

    async def both() -> list[int]:
        opened = [store.log(i, every=7) for i in ids]
        try:
            return list(
                await asyncio.gather(*(writer(i, *o) for i, o in zip(ids, opened, strict=True)))
            )
        finally:
            for db, _ in opened:
                db.close()

    sizes = asyncio.run(both())
    assert sizes == [45, 45]
    outcome = live_outcome(store)
    assert outcome.sound, outcome.problem
    assert outcome.logs == dict(zip(ids, sizes, strict=True))
    for log_id, size in zip(ids, sizes, strict=True):
        cps = checkpoints_of(store, log_id)
        assert len(cps) >= 2
        assert cps[-1].size == size
    directory = export(store)
    offline = store.verify(directory)
    assert offline.exit_code == 0, offline.output
    for log_id, size in zip(ids, sizes, strict=True):
        assert f"log {log_id}: {size} records verified" in offline.output


def test_the_same_log_id_cannot_be_opened_twice(store: Store) -> None:
    first_db, first = store.log()
    first.open()
    second_db, second = store.log()
    try:
        with pytest.raises(Misconfigured, match=f"audit log {store.log_id} is written by another"):
            second.open()
        # another log id in the same store is fine
        third_db, third = store.log(f"{store.log_id}-x")
        third.open()
        asyncio.run(third.close())
        third_db.close()
    finally:
        asyncio.run(first.close())
        first_db.close()
    # released when the first process is gone
    second.open()
    asyncio.run(second.close())
    second_db.close()


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[Store]:
    yield from store_on("postgresql", tmp_path)


def _terminate(db: Database) -> None:
    """End the server session of ``db`` (as a PostgreSQL restart or a network cut would)."""
    (pid,) = db.run_sync(lambda ex: ex("SELECT pg_backend_pid()").fetchone())
    with psycopg.connect(PG, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


LOST = (
    "gateway.store.database.Database.run_sync calls conn.rollback() on a lost PostgreSQL "
    "connection; "
    "that raises psycopg.OperationalError('the connection is lost') inside the except block, "
    "so the error escapes untranslated and _conn is never reset: the Database never "
    "reconnects, probe() stays False and the gateway never becomes ready again"
)


def test_postgres_audit_resumes_after_a_lost_connection(pg_store: Store) -> None:
    store = pg_store
    trail = Trail(store.pseudonymiser())
    db, audit = store.log()
    audit.open()

    def entry() -> list[Entry]:
        return [trail.inzage("auditor", "999990019", str(uuid.uuid4()), LONG)]

    async def scenario() -> None:
        await audit.start()
        try:
            await audit.append(entry())
            _terminate(db)
            with pytest.raises(Transient):
                await audit.append(entry())
            assert not audit.writable
            assert await audit.probe(), "the server is up: the store is writable again"
            await audit.append(entry())
            await audit.checkpoint()
        finally:
            with contextlib.suppress(Exception):
                await audit.close()

    try:
        asyncio.run(scenario())
    finally:
        db.close()
    outcome = live_outcome(store)
    assert outcome.sound
    assert outcome.logs == {store.log_id: 2}


def test_postgres_log_lock_survives_a_lost_connection(pg_store: Store) -> None:
    store = pg_store
    trail = Trail(store.pseudonymiser())
    db, audit = store.log()
    audit.open()

    async def scenario() -> None:
        await audit.start()
        try:
            _terminate(db)
            with contextlib.suppress(Transient):
                await audit.append([trail.inzage("a", "999990019", str(uuid.uuid4()), LONG)])
            assert await audit.probe()
            await audit.append([trail.inzage("a", "999990019", str(uuid.uuid4()), LONG)])
            other_db, other = store.log()
            try:
                with pytest.raises(Misconfigured, match="written by another process"):
                    other.open()
            finally:
                other_db.close()
        finally:
            with contextlib.suppress(Exception):
                await audit.close()

    try:
        asyncio.run(scenario())
    finally:
        db.close()


# =========================================================================== 8. fail closed (unit)


@pytest.mark.parametrize(
    "started",
    [
        pytest.param(True, id="group-commit"),
        pytest.param(
            False,
            id="direct",
        ),
    ],
)
def test_append_raises_while_the_store_cannot_be_written(store: Store, started: bool) -> None:
    trail = Trail(store.pseudonymiser())
    db, audit = store.log()
    audit.open()

    def entry() -> list[Entry]:
        return [trail.inzage("auditor", "999990019", str(uuid.uuid4()), LONG)]

    def rename(old: str, new: str) -> None:
        def work(ex: Exec) -> None:
            for table in ("audit_record", "audit_checkpoint"):
                ex(f"ALTER TABLE {table}{old} RENAME TO {table}{new}")

        store.sql(work)

    async def scenario() -> None:
        if started:
            await audit.start()
        try:
            await audit.append(entry())
            assert audit.writable
            rename("", "_weg")  # the store cannot be written
            with pytest.raises(Transient):
                await audit.append(entry())
            assert not audit.writable
            assert not await audit.probe()
            rename("_weg", "")
            assert await audit.probe()
            assert audit.writable
            await audit.append(entry())
            await audit.checkpoint()
        finally:
            with contextlib.suppress(Exception):
                await audit.close()

    try:
        asyncio.run(scenario())
    finally:
        db.close()
        # a swallowed failure leaves a future in a reference cycle; collect it now, not while
        # pytest renders the report (CPython 3.11.7 then fails with an AST SystemError)
        gc.collect()
    outcome = live_outcome(store)
    assert outcome.sound, outcome.problem
    assert outcome.logs == {store.log_id: 2}  # the failed write left no trace


def test_an_export_is_recorded_as_a_read(tmp_path: Path) -> None:
    """An export reads every record (pseudonyms included): it is recorded, with who did it."""
    settings = Settings(
        audit_dsn=f"sqlite:///{tmp_path / 'audit.db'}",
        audit_key_dir=tmp_path / "keys",
        audit_log_id="export-test",
    )

    asyncio.run(audit_access.audit_export(settings, tmp_path / "eerste", "auditor-a"))
    db = Database(settings.audit_dsn)
    try:
        rows = db.run_sync(
            lambda ex: ex("SELECT log, public FROM audit_record ORDER BY log, seq").fetchall()
        )
    finally:
        db.close()
    reads = [json.loads(r[1]) for r in rows if r[0] == "export-test-inzage"]
    assert [(r["gebeurtenis"], r["status"], r["extra"]["lezer"]) for r in reads] == [
        ("inzage", "geexporteerd", "auditor-a")
    ]
    # the next export contains the first one's read, and verifies
    asyncio.run(audit_access.audit_export(settings, tmp_path / "tweede", "auditor-b"))
    assert verify_export(tmp_path / "tweede").sound
    exported = (tmp_path / "tweede" / "records.jsonl").read_text()
    assert "auditor-a" in exported
