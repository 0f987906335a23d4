"""The audit trail: export, verify, inzage, purge, erasure, keys, proofs.

Exit codes of verify, prove and consistency: 0 sound, checked against keys pinned from outside
(``--trusted-keys`` or KETENPOORT_AUDIT_TRUSTED_KEYS); 1 a failure (the first is printed);
3 sound but only internally consistent (no pinned keys: the signatures were checked against
the keys that came with the trail); 2 wrong use.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gateway.audit.export import verify_export
from gateway.audit.inzage import Inzageoverzicht, lokale_tijd, write_csv
from gateway.audit.signing import Keyring, read_trusted_keys
from gateway.audit.strict import Malformed
from gateway.cli import common
from gateway.cli.common import err, out
from gateway.domain.bsn import elfproef
from gateway.runtime import audit_access

audit_app = typer.Typer(
    help="The audit trail: export, verify, inzage, retention, keys, proofs.", no_args_is_help=True
)

EXIT_FAILED = 1
EXIT_UNPINNED = 3  # sound, but only against keys that came with the trail

TrustedKeys = Annotated[
    Path | None,
    typer.Option(
        "--trusted-keys",
        help="File of verifier keys (ketenpoort-audit+<hex>+<base64>, one a line) obtained "
        "from the operator; every signature must be by one of them. Default: the "
        "audit_trusted_keys setting; without either, only internal consistency is checked "
        "(exit 3).",
    ),
]


def _pinned_file(trusted_keys: Path | None) -> Path | None:
    return trusted_keys or common.settings().audit_trusted_keys


def _say_keys(trusted_keys: Path | None, fallback: str) -> None:
    """Print which keys the signatures are checked against (before any result)."""
    if trusted_keys is None:
        out.print(
            f"keys: none pinned; checking against {fallback} (internal consistency only)",
            markup=False,
            highlight=False,
        )
        return
    try:
        ids = sorted(k for k in read_trusted_keys(trusted_keys) if "+" in k)
    except (OSError, Malformed) as exc:
        err.print(f"--trusted-keys: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    out.print(f"keys: pinned from {trusted_keys}: {', '.join(ids)}", markup=False, highlight=False)


def _end_sound(pinned: bool, what: str) -> None:
    if pinned:
        out.print(what, markup=False, highlight=False)
        return
    out.print(
        f"{what}, but only internally consistent: no trusted keys were given "
        "(--trusted-keys or KETENPOORT_AUDIT_TRUSTED_KEYS)",
        markup=False,
        highlight=False,
    )
    raise typer.Exit(EXIT_UNPINNED)


class Formaat(StrEnum):
    TEXT = "text"
    JSON = "json"
    CSV = "csv"


@audit_app.command("export")
def audit_export(
    directory: Annotated[Path, typer.Argument(help="Folder to write the export to.")],
    lezer: Annotated[
        str, typer.Option(help="Who exports (recorded in the audit trail).")
    ] = os.environ.get("USER", "onbekend"),
) -> None:
    """Export records (those covered by a signed checkpoint), checkpoints and public keys.
    The export is itself recorded as a read of the trail."""
    result = asyncio.run(audit_access.audit_export(common.settings(), directory, lezer))
    for log_id, counts in result["logs"].items():
        out.print(f"log {log_id}: {counts['records']} records, {counts['checkpoints']} checkpoints")
    for log_id, unsigned in result["nog_niet_getekend"].items():
        if unsigned:
            out.print(
                f"log {log_id}: {unsigned} newer record(s) not yet in a checkpoint (not exported)"
            )
    out.print(f"exported to {directory} (see LEESMIJ.md there)")


@audit_app.command("verify")
def audit_verify(
    directory: Annotated[
        Path | None, typer.Argument(help="An export folder (default: the live store).")
    ] = None,
    trusted_keys: TrustedKeys = None,
) -> None:
    """Verify offline: exit 0 when sound against pinned keys, 3 when sound without pinned
    keys (internal consistency only), 1 and the first failure otherwise."""
    pinned = _pinned_file(trusted_keys)
    _say_keys(pinned, f"{directory}/keys" if directory else "the gateway's own key folder")
    if directory is not None:
        outcome = verify_export(directory, read_trusted_keys(pinned) if pinned else None)
        unsigned: dict[str, int] = {}
    else:
        outcome, unsigned = asyncio.run(audit_access.audit_verify_store(common.settings(), pinned))
    if not outcome.sound:
        out.print(f"audit verify: FAILED: {outcome.problem}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED)
    for log_id, count in outcome.logs.items():
        out.print(f"log {log_id}: {count} records verified")
    for log_id, count in unsigned.items():
        if count:
            out.print(f"log {log_id}: {count} newer record(s) await their checkpoint")
    if outcome.erased:
        out.print(f"{outcome.erased} personal part(s) erased early, each by an erasure record")
    _end_sound(outcome.trusted, f"audit verify: sound ({outcome.checkpoints} signed checkpoints)")


@audit_app.command("inzage")
def audit_inzage(
    bsn: Annotated[
        str | None, typer.Option("--bsn", help="The person's BSN (pseudonymised at once).")
    ] = None,
    naam: Annotated[
        str | None,
        typer.Option(
            "--naam",
            help="A person without a BSN: their name (with --geboortedatum; a keyed lookup).",
        ),
    ] = None,
    geboortedatum: Annotated[
        str | None, typer.Option("--geboortedatum", help="Their birth date, YYYY-MM-DD.")
    ] = None,
    formaat: Annotated[Formaat, typer.Option("--format", help="text, json or csv.")] = Formaat.TEXT,
    lezer: Annotated[
        str, typer.Option(help="Who asks (recorded in the audit trail).")
    ] = os.environ.get("USER", "onbekend"),
) -> None:
    """A person's disclosures, one a line: to whom, when (Dutch local time), doel, the
    sender's grondslag, the categories given and withheld (and free text withheld, with
    why), confirmed or not; then the messages refused or left without them, and who read
    their history. The read itself is recorded. A person without a BSN (spec v2 §8) is
    found by --naam and --geboortedatum instead: the histories of everyone recorded under
    that name and birth date (one per sender that reported them), through a keyed lookup."""
    if (bsn is None) == (naam is None):
        err.print("give --bsn, or --naam with --geboortedatum (a person without a BSN)")
        raise typer.Exit(2)
    if bsn is not None:
        if not elfproef(bsn):
            err.print("not a valid BSN (elfproef)")
            raise typer.Exit(2)
        overzicht = asyncio.run(audit_access.audit_inzage(common.settings(), bsn, lezer))
    else:
        assert naam is not None
        try:
            geboren = dt.date.fromisoformat(geboortedatum or "")
        except ValueError:
            err.print("--naam needs --geboortedatum as YYYY-MM-DD")
            raise typer.Exit(2) from None
        overzicht, gevonden = asyncio.run(
            audit_access.audit_inzage_naam(common.settings(), naam, geboren, lezer)
        )
        if not gevonden:
            err.print("nobody without a BSN is recorded under that name and birth date")
    if formaat is Formaat.JSON:
        sys.stdout.write(json.dumps(overzicht.to_json(), indent=2, ensure_ascii=False) + "\n")
        return
    if formaat is Formaat.CSV:
        write_csv(overzicht, sys.stdout)
        return
    print_inzage(overzicht, "Inzage (de vraag zelf is vastgelegd)")


def print_inzage(overzicht: Inzageoverzicht, title: str) -> None:
    """The inzage as tables (this command and the demo)."""
    table = Table(title=f"{title}: {len(overzicht.verstrekkingen)} verstrekkingen")
    for column in (
        "tijd (NL)",
        "aan",
        "van",
        "bericht",
        "doel",
        "grondslag",
        "gegeven",
        "achtergehouden",
        "bevestigd",
    ):
        table.add_column(column)
    for v in overzicht.verstrekkingen:
        withheld = [*v.achtergehouden] + [
            f"{kind} {w}"
            for kind, items in (
                ("vrije tekst", v.vrije_tekst),
                ("beroepsgeheim", v.beroepsgeheim),
                ("afscherming", v.afscherming),
            )
            for w in items
        ]
        table.add_row(
            lokale_tijd(v.tijd),
            str(v.ontvanger),
            str(v.afzender),
            f"{v.berichttype} {v.bericht_id[:8]}",
            v.doel,
            v.grondslag,
            ", ".join(v.gegeven) or (f"beperkt: {', '.join(v.beperking)}" if v.beperking else "-"),
            "; ".join(withheld) or "-",
            lokale_tijd(v.bevestigd)
            or (f"nee: {v.niet_afleverbaar}" if v.niet_afleverbaar else "nee"),
        )
    out.print(table)
    if overzicht.niet_verstrekt:
        niet = Table(title="Niet verstrekt")
        for column in ("tijd (NL)", "van", "aan", "bericht", "doel", "reden"):
            niet.add_column(column)
        for n in overzicht.niet_verstrekt:
            niet.add_row(
                lokale_tijd(n.tijd),
                str(n.afzender or "-"),
                str(n.ontvanger or "-"),
                f"{n.berichttype or '-'} {(n.bericht_id or '')[:8]}",
                n.doel or "-",
                f"{n.reden}: {n.toelichting}",
            )
        out.print(niet)
    reads = Table(title="Raadplegingen van deze historie")
    for column in ("tijd (NL)", "lezer", "wat"):
        reads.add_column(column)
    for r in overzicht.raadplegingen:
        reads.add_row(lokale_tijd(r.tijd), r.lezer, r.wat)
    out.print(reads)


@audit_app.command("purge")
def audit_purge() -> None:
    """Remove the personal part of records past their retention; proofs stay valid. The
    purge is recorded (how many per log) in the audit trail."""
    counts = asyncio.run(audit_access.audit_purge(common.settings()))
    out.print(f"{sum(counts.values())} record(s) past their retention lost their personal part")
    for log_id, count in sorted(counts.items()):
        out.print(f"log {log_id}: {count}")


@audit_app.command("wis")
def audit_erase(
    bsn: Annotated[str, typer.Option("--bsn", help="The person's BSN (pseudonymised at once).")],
    besluit_door: Annotated[
        str, typer.Option("--besluit-door", help="Who decided the erasure (recorded).")
    ],
    reden: Annotated[str, typer.Option(help="Why, e.g. the decision's reference (recorded).")],
) -> None:
    """A lawful early erasure (AVG art. 17): the person's records lose their personal part
    before their retention ends, after an erasure record (who decided, which records) is
    signed into the trail."""
    if not elfproef(bsn):
        err.print("not a valid BSN (elfproef)")
        raise typer.Exit(2)
    named = asyncio.run(audit_access.audit_erase(common.settings(), bsn, besluit_door, reden))
    out.print(f"{len(named)} record(s) lost their personal part (erasure recorded)")


@audit_app.command("rotate-key")
def audit_rotate_key() -> None:
    """A new checkpoint signing key becomes active; old checkpoints keep verifying."""
    keyring = Keyring(common.settings().audit_key_dir)
    kid = keyring.rotate()
    out.print(f"new signing key {kid} is active")
    out.print(f"verifier key (publish it): {keyring.verifier_keys()[kid]}", markup=False)


@audit_app.command("keys")
def audit_keys() -> None:
    """The verifier keys of every checkpoint signing key, one a line: what an operator
    publishes and an auditor pins (--trusted-keys)."""
    keyring = Keyring(common.settings().audit_key_dir)
    verifiers = keyring.verifier_keys()
    if not verifiers:
        err.print(f"no keys in {keyring.directory}")
        raise typer.Exit(1)
    for verifier in verifiers.values():
        sys.stdout.write(verifier + "\n")


def _print_proof(title: str, data: dict[str, object], hashes: list[str]) -> None:
    out.print(title, markup=False, highlight=False)
    for key, value in data.items():
        out.print(f"  {key}: {value}", markup=False, highlight=False)
    for number, digest in enumerate(hashes):
        out.print(f"  proof[{number}]: {digest}", markup=False, highlight=False)


@audit_app.command("prove")
def audit_prove(
    log_id: Annotated[str, typer.Option("--log", help="The log of the record.")],
    seq: Annotated[int, typer.Option("--seq", help="The record's number in its log.")],
    trusted_keys: TrustedKeys = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the proof as JSON.")] = False,
) -> None:
    """Check the newest signed checkpoint's signature, then record SEQ's inclusion proof to
    its root; print both (the checkpoint note, leaf hash and audit path)."""
    pinned = _pinned_file(trusted_keys)
    if not as_json:
        _say_keys(pinned, "the gateway's own key folder")
    proof, trusted = asyncio.run(audit_access.audit_prove(common.settings(), log_id, seq, pinned))
    if proof is None:
        out.print(f"record {log_id}/{seq}: no such record under a signed checkpoint")
        raise typer.Exit(EXIT_FAILED)
    data = proof.to_json()
    if as_json:
        sys.stdout.write(json.dumps({**data, "pinned": trusted}, indent=2) + "\n")
    else:
        shown = {k: data[k] for k in ("log", "seq", "size", "leaf", "root")}
        _print_proof("inclusion proof (RFC 9162 2.1.3):", shown, data["inclusion"])
        out.print(str(data["checkpoint"]), markup=False, highlight=False)
    if proof.problem is not None:
        out.print(f"audit prove: FAILED: {proof.problem}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED)
    if as_json:
        raise typer.Exit(0 if trusted else EXIT_UNPINNED)
    _end_sound(
        trusted,
        f"record {log_id}/{seq} is included in the signed checkpoint of {proof.checkpoint.size}",
    )


@audit_app.command("consistency")
def audit_consistency(
    log_id: Annotated[str, typer.Option("--log", help="The log.")],
    old: Annotated[int, typer.Option("--from", help="An older signed tree size.")],
    new: Annotated[int, typer.Option("--to", help="A newer signed tree size.")],
    trusted_keys: TrustedKeys = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the proof as JSON.")] = False,
) -> None:
    """Check both checkpoints' signatures and that the older tree is a prefix of the newer
    (RFC 9162 consistency proof); print the proof."""
    pinned = _pinned_file(trusted_keys)
    if not as_json:
        _say_keys(pinned, "the gateway's own key folder")
    proof, trusted = asyncio.run(
        audit_access.audit_consistency(common.settings(), log_id, old, new, pinned)
    )
    if isinstance(proof, str):
        out.print(f"audit consistency: {proof}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED)
    data = proof.to_json()
    if as_json:
        sys.stdout.write(json.dumps({**data, "pinned": trusted}, indent=2) + "\n")
    else:
        shown = {k: data[k] for k in ("log", "from", "to", "old_root", "new_root")}
        _print_proof("consistency proof (RFC 9162 2.1.4):", shown, data["consistency"])
    if proof.problem is not None:
        out.print(f"audit consistency: FAILED: {proof.problem}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED)
    if as_json:
        raise typer.Exit(0 if trusted else EXIT_UNPINNED)
    _end_sound(trusted, f"{log_id}@{old} is a prefix of {log_id}@{new}")


__all__ = ["audit_app", "print_inzage"]
