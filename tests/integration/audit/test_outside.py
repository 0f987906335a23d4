"""The audit as an outsider checks it (issue 17): keys pinned from outside the export, a
signed list of logs, retention-honest purge, proofs on the command line, and Go's
``golang.org/x/mod/sumdb/note`` and ``sumdb/tlog`` checking checkpoints and proofs.

Each forgery is done the way a careful attacker would: consistent inside the export (every
tree root recomputed, every checkpoint re-signed), so only what comes from outside the export
(pinned verifier keys) or what the gateway signed (the list of logs, erasure records) can
tell.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.audit import merkle
from gateway.audit.checkpoint import Checkpoint
from gateway.audit.export import logs_text
from gateway.audit.log import canonical
from gateway.audit.signing import Keyring, public_text
from gateway.runtime import audit_access
from gateway.runtime.settings import Settings
from gateway.store.database import Exec
from tests.support.audit_store import (
    SHORT,
    Store,
    build,
    export,
    flip,
    live_outcome,
    read_lines,
    store_on,
    write_lines,
)

GO_ROOT = Path("/usr/share/gocode")
GO_MOD = GO_ROOT / "src" / "golang.org" / "x" / "mod" / "sumdb"
TLOGCHECK = Path(__file__).resolve().parents[2] / "support" / "go" / "tlogcheck.go"
PERSON = "999990019"  # in many of the example messages


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from store_on(request.param, tmp_path)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    return Store("sqlite", f"sqlite:///{tmp_path / 'audit.db'}", tmp_path)


def settings_of(store: Store) -> Settings:
    return Settings(audit_dsn=store.dsn, audit_key_dir=store.key_dir, audit_log_id=store.log_id)


# =========================================================================== forged exports


def forge_without_record(directory: Path, seq: int, attacker: Keyring) -> None:
    """Erase record ``seq`` of the export's log, renumber the rest, recompute every
    checkpoint's root, re-sign every checkpoint and the list of logs with ``attacker`` and
    fix the manifest's counts."""
    rows = read_lines(directory / "records.jsonl")
    log_id = rows[0]["log"]
    del rows[seq]
    for row in rows[seq:]:
        row["seq"] -= 1
        row["public"]["seq"] -= 1
    write_lines(directory / "records.jsonl", rows)
    leaves = [merkle.leaf_hash(canonical(r["public"])) for r in rows if r["log"] == log_id]
    forged = []
    for row in read_lines(directory / "checkpoints.jsonl"):
        cp = Checkpoint.from_json(row)
        size = cp.size - 1 if cp.size > seq else cp.size
        root = merkle.root_of(leaves[:size])
        forged.append(attacker.sign(cp.log, size, root, cp.tijd).to_json())
    write_lines(directory / "checkpoints.jsonl", forged)
    checkpoints = [Checkpoint.from_json(r) for r in forged]
    moment = dt.datetime.now(dt.UTC)
    (directory / "logs.note").write_text(
        attacker.sign_text(logs_text(checkpoints, moment)).encode()
    )
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["logs"][log_id]["records"] -= 1
    (directory / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("keys", ["replaced", "added"])
def test_a_forged_export_passes_only_without_pinned_keys(sqlite_store: Store, keys: str) -> None:
    store = sqlite_store
    built = build(store)
    directory = export(store)
    honest = store.verify(directory)
    assert honest.exit_code == 0, honest.output
    assert "keys: pinned from" in honest.output
    assert "audit verify: sound" in honest.output

    attacker = Keyring(store.tmp / "aanvaller")
    kid = attacker.rotate()
    forge_without_record(directory, built.size // 2, attacker)
    if keys == "replaced":
        shutil.rmtree(directory / "keys")
        (directory / "keys").mkdir()
    (directory / "keys" / f"{kid}.pub").write_text(public_text(attacker.public_keys()[kid]))

    # the forgery is consistent: against the export's own keys it is "sound", but verify
    # says it checked only that, and exits 3
    unpinned = store.cli("audit", "verify", directory)
    assert unpinned.exit_code == 3, unpinned.output
    assert "only internally consistent" in unpinned.output
    assert "none pinned" in unpinned.output
    # with the keys the auditor obtained from the operator it fails
    pinned = store.verify(directory)
    assert pinned.exit_code == 1, pinned.output
    (attacker_id,) = attacker.verifier_keys().values()
    attacker_key_id = "+".join(attacker_id.split("+", 2)[:2])
    assert f"FAILED: logs.note: signed by unknown key {attacker_key_id}" in pinned.output


def test_the_keys_command_prints_the_verifier_keys_to_publish(sqlite_store: Store) -> None:
    store = sqlite_store
    build(store)
    result = store.cli("audit", "keys")
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    assert line == next(iter(Keyring(store.key_dir).verifier_keys().values()))
    assert line.startswith("ketenpoort-audit+")


def test_a_dropped_log_is_missing_from_the_signed_list(sqlite_store: Store) -> None:
    store = sqlite_store
    build(store)
    export(store, "eerste")  # recorded in <log>-inzage: the next export has two logs
    directory = export(store)
    dropped = f"{store.log_id}-inzage"
    rows = read_lines(directory / "records.jsonl")
    assert any(r["log"] == dropped for r in rows)
    assert store.verify(directory).exit_code == 0

    write_lines(directory / "records.jsonl", [r for r in rows if r["log"] != dropped])
    checkpoints = read_lines(directory / "checkpoints.jsonl")
    write_lines(directory / "checkpoints.jsonl", [c for c in checkpoints if c["log"] != dropped])
    manifest = json.loads((directory / "manifest.json").read_text())
    del manifest["logs"][dropped]
    (directory / "manifest.json").write_text(json.dumps(manifest))
    result = store.verify(directory)
    assert result.exit_code == 1, result.output
    assert f"FAILED: logs.note: log {dropped} (size " in result.output
    assert "is listed but missing from the export" in result.output


def test_a_rolled_back_log_disagrees_with_the_signed_list(sqlite_store: Store) -> None:
    """The newest checkpoint and the records after the one before it removed."""
    store = sqlite_store
    built = build(store)
    directory = export(store)
    previous = built.checkpoints[-2].size
    rows = read_lines(directory / "records.jsonl")
    write_lines(directory / "records.jsonl", rows[:previous])
    checkpoints = read_lines(directory / "checkpoints.jsonl")
    write_lines(directory / "checkpoints.jsonl", checkpoints[:-1])
    result = store.verify(directory)
    assert result.exit_code == 1, result.output
    assert (
        f"FAILED: logs.note: log {store.log_id}: the newest checkpoint is {previous}, "
        f"the signed list says {built.size}" in result.output
    )


# =========================================================================== strict reading


def lax_checkpoint_rows(row: dict[str, Any]) -> dict[str, str]:
    note = str(row["note"])
    origin, size, root, tijd = note.split("\n\n", maxsplit=1)[0].split("\n")
    signatures = note.split("\n\n")[1]

    def body(*lines: str) -> str:
        return "".join(line + "\n" for line in lines) + "\n" + signatures

    return {
        "size as padded text": json.dumps({**row, "size": f" {row['size']} "}),
        "size line padded": json.dumps({**row, "note": body(origin, f" {size} ", root, tijd)}),
        "duplicate key": json.dumps(row)[:-1] + ', "log": ' + json.dumps(row["log"]) + "}",
        "Z instead of +00:00": json.dumps(
            {**row, "note": body(origin, size, root, tijd.replace("+00:00", "Z"))}
        ),
        "root without padding": json.dumps(
            {**row, "note": body(origin, size, root.rstrip("="), tijd)}
        ),
    }


def test_every_lax_form_in_an_export_is_refused(sqlite_store: Store) -> None:
    store = sqlite_store
    build(store)
    directory = export(store)
    original = (directory / "checkpoints.jsonl").read_text()
    first = read_lines(directory / "checkpoints.jsonl")[0]
    for name, line in lax_checkpoint_rows(first).items():
        (directory / "checkpoints.jsonl").write_text(line + "\n" + original.split("\n", 1)[1])
        result = store.verify(directory)
        assert result.exit_code == 1, (name, result.output)
        assert "FAILED: checkpoints.jsonl line 1: " in result.output, (name, result.output)
    (directory / "checkpoints.jsonl").write_text(original)
    assert store.verify(directory).exit_code == 0

    records = (directory / "records.jsonl").read_text()
    head, rest = records.split("\n", 1)
    lax_records = {
        "seq as text": head.replace('"seq": 0', '"seq": "0"'),
        "duplicate key": head[:-1] + ', "seq": 0}',
        "blank line": "",
    }
    for name, line in lax_records.items():
        (directory / "records.jsonl").write_text(line + "\n" + rest)
        result = store.verify(directory)
        assert result.exit_code == 1, (name, result.output)
        assert "FAILED: records.jsonl line 1: " in result.output, (name, result.output)
    (directory / "records.jsonl").write_text(records)
    assert store.verify(directory).exit_code == 0

    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["logs"][store.log_id]["records"] += 1
    (directory / "manifest.json").write_text(json.dumps(manifest))
    result = store.verify(directory)
    assert result.exit_code == 1, result.output
    assert "FAILED: manifest.json: its counts per log are not the export's" in result.output
    manifest["geexporteerd"] = manifest["geexporteerd"].replace("+00:00", "Z")
    (directory / "manifest.json").write_text(json.dumps(manifest))
    assert "FAILED: manifest.json geexporteerd: " in store.verify(directory).output


# =========================================================================== retention


def person_places(store: Store, bsn: str) -> list[tuple[str, int]]:
    pseudonym = store.pseudonymiser()(bsn)
    rows = store.sql(
        lambda ex: ex(
            "SELECT log, seq FROM audit_record WHERE betrokkene = ? ORDER BY log, seq",
            (pseudonym,),
        ).fetchall()
    )
    return [(str(r[0]), int(r[1])) for r in rows]


def test_an_early_purge_is_detected(any_store: Store) -> None:
    store = any_store
    build(store)
    places = person_places(store, PERSON)
    assert places
    log_id, seq = places[0]

    def purge_early(ex: Exec) -> None:
        ex(
            "UPDATE audit_record SET personal = NULL, betrokkene = NULL WHERE log = ? AND seq = ?",
            (log_id, seq),
        )

    directory = export(store)
    rows = read_lines(directory / "records.jsonl")
    rows[seq]["personal"] = None
    write_lines(directory / "records.jsonl", rows)
    want = f"record {log_id}/{seq}: the personal part was removed before its retention ended"
    offline = store.verify(directory)
    assert offline.exit_code == 1, offline.output
    assert f"FAILED: {want}" in offline.output
    assert "no erasure record (AVG art. 17) covers it" in offline.output

    store.sql(purge_early)
    live = store.verify()
    assert live.exit_code == 1, live.output
    assert f"FAILED: {want}" in live.output


def test_a_lawful_erasure_is_recorded_and_verifies(any_store: Store) -> None:
    store = any_store
    build(store)
    places = person_places(store, PERSON)
    result = store.cli(
        "audit", "wis", "--bsn", PERSON, "--besluit-door", "FG J. Jansen", "--reden", "AVG-2026-7"
    )
    assert result.exit_code == 0, result.output
    assert f"{len(places)} record(s) lost their personal part" in result.output
    assert person_places(store, PERSON) == []
    live = store.verify()
    assert live.exit_code == 0, live.output
    assert f"{len(places)} personal part(s) erased early" in live.output
    directory = export(store)
    offline = store.verify(directory)
    assert offline.exit_code == 0, offline.output
    erasures = [
        r["public"]
        for r in read_lines(directory / "records.jsonl")
        if r["public"]["gebeurtenis"] == "gewist"
    ]
    (erasure,) = erasures
    assert erasure["verwerking"]["grondslag"] == "AVG art. 17"
    assert erasure["extra"]["besluit_door"] == "FG J. Jansen"
    assert erasure["extra"]["records"] == [f"{log}/{seq}" for log, seq in places]
    assert erasure["persoonlijk_sha256"] is None  # the erasure names no one

    # an erasure record that does not name a record does not cover it
    other = person_places(store, "999990020")
    log_id, seq = other[0]
    store.sql(
        lambda ex: ex(
            "UPDATE audit_record SET personal = NULL, betrokkene = NULL WHERE log = ? AND seq = ?",
            (log_id, seq),
        )
    )
    assert store.verify().exit_code == 1


def test_a_purge_records_what_it_removed(sqlite_store: Store) -> None:
    store = sqlite_store
    build(store, dagen=lambda rel: 1 if rel in SHORT else 1825)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    counts = asyncio.run(audit_access.audit_purge(settings_of(store), later))
    assert counts[store.log_id] > 0
    records = store.sql(
        lambda ex: ex(
            "SELECT public FROM audit_record WHERE log = ?", (f"{store.log_id}-inzage",)
        ).fetchall()
    )
    (purge,) = [json.loads(r[0]) for r in records]
    assert purge["gebeurtenis"] == "opgeschoond"
    assert purge["extra"] == {"peilmoment": later.isoformat(), "verwijderd_per_log": counts}
    assert live_outcome(store, later).sound  # as of the purge's clock
    assert not live_outcome(store).sound  # by today's clock these parts went early


# =========================================================================== proofs


def rebuild_tree_after_editing(store: Store, seq: int) -> None:
    """Edit a record, then make the store consistent again: leaf, every tree node and every
    checkpoint root recomputed (the signatures cannot be)."""

    def work(ex: Exec) -> None:
        (public,) = ex(
            "SELECT public FROM audit_record WHERE log = ? AND seq = ?", (store.log_id, seq)
        ).fetchone()
        data = json.loads(public)
        data["sha256"] = "ab" * 32
        ex(
            "UPDATE audit_record SET public = ?, leaf = ? WHERE log = ? AND seq = ?",
            (
                canonical(data).decode(),
                merkle.leaf_hash(canonical(data)),
                store.log_id,
                seq,
            ),
        )
        leaves = [
            bytes(r[0])
            for r in ex(
                "SELECT leaf FROM audit_record WHERE log = ? ORDER BY seq", (store.log_id,)
            ).fetchall()
        ]
        ex("DELETE FROM audit_node WHERE log = ?", (store.log_id,))
        frontier = merkle.Frontier()
        nodes = []
        for leaf in leaves:
            nodes.extend(frontier.append(leaf))
        ex.many(
            "INSERT INTO audit_node (log, level, idx, hash) VALUES (?, ?, ?, ?)",
            [(store.log_id, level, index, digest) for level, index, digest in nodes],
        )
        for (size,) in ex(
            "SELECT size FROM audit_checkpoint WHERE log = ? AND size > 0", (store.log_id,)
        ).fetchall():
            ex(
                "UPDATE audit_checkpoint SET root = ? WHERE log = ? AND size = ?",
                (merkle.root_of(leaves[: int(size)]), store.log_id, int(size)),
            )

    store.sql(work)


def test_prove_checks_the_signature_of_an_edited_and_rebuilt_store(any_store: Store) -> None:
    store = any_store
    built = build(store)
    seq = built.size // 2
    pinned = ("--trusted-keys", store.trusted())
    result = store.cli("audit", "prove", "--log", store.log_id, "--seq", str(seq), *pinned)
    assert result.exit_code == 0, result.output
    assert "proof[0]: " in result.output
    assert f"{store.log_id}\n{built.size}\n" in result.output  # the checkpoint note

    rebuild_tree_after_editing(store, seq)
    result = store.cli("audit", "prove", "--log", store.log_id, "--seq", str(seq), *pinned)
    assert result.exit_code == 1, result.output
    assert (
        f"audit prove: FAILED: checkpoint {store.log_id}@{built.size}: the signature does not "
        "match" in result.output
    )
    # the store's own keys say the same: the signature is checked either way
    unpinned = store.cli("audit", "prove", "--log", store.log_id, "--seq", str(seq))
    assert unpinned.exit_code == 1, unpinned.output
    assert "the signature does not match" in unpinned.output


def test_consistency_on_the_command_line(sqlite_store: Store) -> None:
    store = sqlite_store
    built = build(store)
    old, new = built.checkpoints[1].size, built.checkpoints[-1].size
    pinned = ("--trusted-keys", store.trusted())
    args = ("audit", "consistency", "--log", store.log_id, "--from", str(old), "--to", str(new))
    result = store.cli(*args, *pinned)
    assert result.exit_code == 0, result.output
    assert "proof[0]: " in result.output
    assert f"{store.log_id}@{old} is a prefix of {store.log_id}@{new}" in result.output
    unpinned = store.cli(*args)
    assert unpinned.exit_code == 3, unpinned.output
    not_signed = store.cli(
        "audit",
        "consistency",
        "--log",
        store.log_id,
        "--from",
        str(old + 1),
        "--to",
        str(new),
        *pinned,
    )
    assert not_signed.exit_code == 1
    assert f"has no checkpoint of size {old + 1}" in not_signed.output
    # a forged root fails the signature before any proof is run
    store.sql(
        lambda ex: ex(
            "UPDATE audit_checkpoint SET root = ? WHERE log = ? AND size = ?",
            (flip(built.checkpoints[1].root), store.log_id, old),
        )
    )
    forged = store.cli(*args, *pinned)
    assert forged.exit_code == 1, forged.output
    assert f"FAILED: checkpoint {store.log_id}@{old}: the signature does not match" in (
        forged.output
    )


# =========================================================================== Go


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def tlogcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tlogcheck built with Debian's Go and golang.org/x/mod (GOPATH mode, no network)."""
    go = shutil.which("go")
    if go is None or not (GO_MOD / "note").is_dir() or not (GO_MOD / "tlog").is_dir():
        reason = (
            "Go or golang.org/x/mod is not installed: `./run test` installs Debian's golang-go "
            "and golang-golang-x-mod-dev (scripts/ensure-services.sh go)"
        )
        if on_ci():
            pytest.fail(f"CI is set, so the Go check must run: {reason}")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("go")
    binary = folder / "tlogcheck"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GO_ROOT),
        "GOCACHE": str(folder / "cache"),
        "GOFLAGS": "",
        "GOPROXY": "off",
    }
    built = subprocess.run(
        [go, "build", "-o", str(binary), str(TLOGCHECK)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return binary


def go_check(binary: Path, data: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary)],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_go_checks_the_checkpoints_and_proofs(sqlite_store: Store, tlogcheck: Path) -> None:
    store = sqlite_store
    built = build(store)
    (vkey,) = store.cli("audit", "keys").output.splitlines()
    directory = export(store)
    notes = {r["size"]: r["note"] for r in read_lines(directory / "checkpoints.jsonl")}
    records = [
        base64.b64encode(canonical(r["public"])).decode()
        for r in read_lines(directory / "records.jsonl")
        if r["log"] == store.log_id
    ]
    pinned = ("--trusted-keys", str(store.trusted()))

    def proof(*args: str) -> dict[str, Any]:
        result = store.cli("audit", *args, "--json", *pinned)
        assert result.exit_code == 0, result.output
        data: dict[str, Any] = json.loads(result.output)
        return data

    # every checkpoint's signature, and the tree of the records against the newest one
    for size, note in notes.items():
        checked = go_check(tlogcheck, {"vkey": vkey, "checkpoint": note})
        assert checked.returncode == 0, checked.stderr
        assert f"note signature ok: {store.log_id} size {size}" in checked.stdout
    whole = go_check(tlogcheck, {"vkey": vkey, "checkpoint": notes[built.size], "records": records})
    assert whole.returncode == 0, whole.stderr
    assert f"tree hash ok: {built.size} records" in whole.stdout

    for seq in (0, 1, built.size // 2, built.size - 1):
        data = proof("prove", "--log", store.log_id, "--seq", str(seq))
        inclusion = {"index": seq, "record": records[seq], "proof": data["inclusion"]}
        checked = go_check(
            tlogcheck, {"vkey": vkey, "checkpoint": data["checkpoint"], "inclusion": inclusion}
        )
        assert checked.returncode == 0, checked.stderr
        assert f"inclusion ok: record {seq} in {built.size}" in checked.stdout
        wrong = go_check(
            tlogcheck,
            {
                "vkey": vkey,
                "checkpoint": data["checkpoint"],
                "inclusion": {**inclusion, "index": (seq + 1) % built.size},
            },
        )
        assert wrong.returncode == 1

    sizes = sorted(notes)
    for old, new in ((sizes[0], sizes[-1]), (sizes[1], sizes[2]), (sizes[2], sizes[-1])):
        data = proof("consistency", "--log", store.log_id, "--from", str(old), "--to", str(new))
        consistency = {"old_checkpoint": data["old_checkpoint"], "proof": data["consistency"]}
        checked = go_check(
            tlogcheck,
            {"vkey": vkey, "checkpoint": data["new_checkpoint"], "consistency": consistency},
        )
        assert checked.returncode == 0, checked.stderr
        assert f"consistency ok: {old} to {new}" in checked.stdout

    # Go refuses what our verifier refuses: an edited checkpoint, another key
    newest = Checkpoint.from_note(notes[built.size])
    edited = dataclasses.replace(newest, size=newest.size - 1).note()
    refused = go_check(tlogcheck, {"vkey": vkey, "checkpoint": edited})
    assert refused.returncode == 1
    assert "note.Open" in refused.stderr
    other = Keyring(store.tmp / "elders")
    other.rotate()
    (other_vkey,) = other.verifier_keys().values()
    unknown = go_check(tlogcheck, {"vkey": other_vkey, "checkpoint": notes[built.size]})
    assert unknown.returncode == 1


# =========================================================================== older stores


def test_a_store_signed_before_issue_17_still_verifies(any_store: Store) -> None:
    """Checkpoints of the legacy form (a statement of our own, 16-hex key id) are read and
    verified as they are: nothing is migrated or re-signed."""
    store = any_store
    built = build(store)
    keyring = Keyring(store.key_dir)
    kid, private = keyring.active()

    def to_legacy(ex: Exec) -> None:
        for cp in built.checkpoints[: len(built.checkpoints) // 2]:
            old = dataclasses.replace(cp, key_id=kid, signature=b"")
            ex(
                "UPDATE audit_checkpoint SET key_id = ?, signature = ? WHERE log = ? AND size = ?",
                (kid, private.sign(old.statement()), cp.log, cp.size),
            )

    store.sql(to_legacy)
    live = store.verify()
    assert live.exit_code == 0, live.output
    directory = export(store)
    rows = read_lines(directory / "checkpoints.jsonl")
    assert {"root", "tijd", "key_id", "signature"} <= set(rows[0])  # the legacy form
    assert "note" in rows[-1]
    offline = store.verify(directory)
    assert offline.exit_code == 0, offline.output
    # and a legacy signature is still checked
    rows[0]["root"] = base64.b64encode(flip(base64.b64decode(rows[0]["root"]))).decode()
    write_lines(directory / "checkpoints.jsonl", rows)
    forged = store.verify(directory)
    assert forged.exit_code == 1, forged.output
    assert f"checkpoint {store.log_id}@{rows[0]['size']}: the signature does not match" in (
        forged.output
    )
