"""The pure parts of the audit's outside face: signed notes (against Go's own test vector),
checkpoint bodies, verifier keys, and the strict readers refusing every lax form."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.checkpoint import Checkpoint
from gateway.audit.note import (
    NOTE_KEY_NAME,
    CheckpointBody,
    SignedNote,
    note_key_id,
    parse_verifier_key,
    sign_note,
    verifier_key,
)
from gateway.audit.signing import Keyring, verify_checkpoint
from gateway.audit.strict import (
    Malformed,
    b64_decode,
    json_object,
    size_text,
    strict_int,
    timestamp,
)

# golang.org/x/mod/sumdb/note example_test.go (ExampleSign / ExampleOpen)
GO_SKEY_SEED = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  # 0x01 || Ed25519 seed
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNED = (
    GO_TEXT + "\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
    "otpRZb6KE6RyyBwJnAM=\n"
)


def go_private() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(GO_SKEY_SEED)[1:])


def test_signing_matches_go_note_byte_for_byte() -> None:
    private = go_private()
    assert verifier_key("PeterNeumann", private.public_key()) == GO_VKEY
    note = SignedNote(GO_TEXT, (sign_note(GO_TEXT, "PeterNeumann", private),))
    assert note.encode() == GO_SIGNED


def test_opening_gos_note() -> None:
    name, public = parse_verifier_key(GO_VKEY)
    assert name == "PeterNeumann"
    note = SignedNote.parse(GO_SIGNED)
    assert note.text == GO_TEXT
    assert note.verify({note_key_id(name, public): public}) == ("PeterNeumann+c74f20a3", None)
    other = Ed25519PrivateKey.generate().public_key()
    key, why = note.verify({note_key_id("Elders", other): other})
    assert key is None
    assert why == "signed by unknown key PeterNeumann+c74f20a3"
    # a changed text fails under the right key
    forged = SignedNote(GO_TEXT.replace("answer", "answers"), note.signatures)
    assert forged.verify({note_key_id(name, public): public})[1] == (
        "the signature by PeterNeumann+c74f20a3 does not match"
    )


@pytest.mark.parametrize(
    "bad",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong hash
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper hex
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # short
        "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWA",  # not 0x01
        "PeterNeumann+c74f20a3",
    ],
)
def test_bad_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(Malformed):
        parse_verifier_key(bad)


@pytest.mark.parametrize(
    "message",
    [
        GO_TEXT + "\u2014 PeterNeumann x08go/ZJ\n",  # no blank line
        GO_TEXT + "\n",  # no signature
        GO_SIGNED[:-1],  # last line without newline
        GO_SIGNED.replace("\u2014 ", "- "),  # not an em dash
        GO_SIGNED.replace("JnAM=", "JnAN="),  # non-canonical base64 (padding bits)
        GO_SIGNED + GO_SIGNED.split("\n\n")[1],  # the same key twice
        GO_SIGNED.replace("your problem,", "your\tproblem,"),  # control character
    ],
)
def test_lax_notes_are_refused(message: str) -> None:
    with pytest.raises(Malformed):
        SignedNote.parse(message)


ROOT = bytes(range(32))


def test_checkpoint_body_is_tlog_checkpoint() -> None:
    body = CheckpointBody("gw-1", 194, ROOT, ("tijd 2026-01-02T03:04:05.123456+00:00",))
    text = body.text()
    assert text == (
        "gw-1\n194\n"
        + base64.b64encode(ROOT).decode()
        + "\ntijd 2026-01-02T03:04:05.123456+00:00\n"
    )
    assert CheckpointBody.parse(text) == body


@pytest.mark.parametrize(
    ("line", "value"),
    [
        (1, " 194 "),
        (1, "0194"),
        (1, "+194"),
        (1, "194.0"),
        (1, "-1"),
        (2, base64.b64encode(ROOT).decode().rstrip("=")),  # padding dropped
        (2, base64.b64encode(ROOT[:31]).decode()),  # 31 bytes
        (2, base64.urlsafe_b64encode(b"\xff" * 32).decode()),  # URL alphabet
        (0, ""),  # empty origin
    ],
)
def test_lax_checkpoint_bodies_are_refused(line: int, value: str) -> None:
    lines = ["gw-1", "194", base64.b64encode(ROOT).decode(), "tijd 2026-01-02T03:04:05+00:00"]
    lines[line] = value
    with pytest.raises(Malformed):
        CheckpointBody.parse("".join(x + "\n" for x in lines))


def test_keyring_signs_checkpoint_notes_and_old_statements_still_verify(tmp_path: Any) -> None:
    keyring = Keyring(tmp_path / "keys")
    kid = keyring.rotate()
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
    cp = keyring.sign("gw-1", 194, ROOT, moment)
    keys = keyring.public_keys()
    public = keys[kid]
    assert cp.key_id == note_key_id(NOTE_KEY_NAME, public)
    assert verify_checkpoint(cp, keys) is None
    assert Checkpoint.from_note(cp.note()) == cp
    assert Checkpoint.from_json(json.loads(json.dumps(cp.to_json()))) == cp
    assert keyring.verifier_keys() == {kid: verifier_key(NOTE_KEY_NAME, public)}
    # a checkpoint signed before issue 17 (legacy statement, 16-hex key id) still verifies
    _, private = keyring.active()
    legacy = Checkpoint("gw-1", 194, ROOT, moment, kid, b"")
    legacy = Checkpoint("gw-1", 194, ROOT, moment, kid, private.sign(legacy.statement()))
    assert not legacy.is_note
    assert verify_checkpoint(legacy, keys) is None
    assert Checkpoint.from_json(json.loads(json.dumps(legacy.to_json()))) == legacy


def lax_json_checkpoints(cp: Checkpoint) -> list[str]:
    row = cp.to_json()
    note = str(row["note"])
    size = str(cp.size)
    return [
        json.dumps({**row, "size": f" {size} "}),  # size as a padded string
        json.dumps({**row, "size": float(cp.size)}),
        json.dumps({**row, "size": True}),
        '{"log": "gw-1", "size": '
        + size
        + ', "size": '
        + size
        + ', "note": '
        + json.dumps(note)
        + "}",  # duplicate key
        json.dumps({**row, "extra": 1}),
        json.dumps({**row, "note": note.replace("+00:00", "Z")}),  # the other timestamp form
        json.dumps({**row, "log": "gw-2"}),  # not the note's
    ]


def test_lax_checkpoint_lines_are_refused(tmp_path: Any) -> None:
    keyring = Keyring(tmp_path / "keys")
    keyring.rotate()
    cp = keyring.sign("gw-1", 194, ROOT, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    for line in lax_json_checkpoints(cp):
        with pytest.raises(Malformed):
            Checkpoint.from_json(json_object(line))


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05.000000+00:00",
        "2026-01-02T04:04:05+01:00",
        "2026-01-02T03:04:05",
        "2026-01-02 03:04:05+00:00",
        194,
    ],
)
def test_one_timestamp_form(text: Any) -> None:
    assert timestamp("2026-01-02T03:04:05+00:00").isoformat() == "2026-01-02T03:04:05+00:00"
    with pytest.raises(Malformed):
        timestamp(text)


def test_strict_scalars_and_json() -> None:
    assert size_text("0") == 0
    assert size_text("194") == 194
    assert strict_int(194, "size") == 194
    for value in ("194", 194.0, True, -1, None):
        with pytest.raises(Malformed):
            strict_int(value, "size")
    assert b64_decode("AA==") == b"\0"
    for text in ("AA", "AB==", "A A=", "AA==\n", "-_8="):
        with pytest.raises(Malformed):
            b64_decode(text)
    assert json_object('{"a": {"b": 1}}') == {"a": {"b": 1}}
    for text in ('{"a": 1, "a": 2}', '{"a": {"b": 1, "b": 1}}', '{"a": NaN}', "[1]", "{"):
        with pytest.raises(Malformed):
            json_object(text)
    with pytest.raises(Malformed, match="expected"):
        json_object('{"a": 1}', {"a", "b"})
