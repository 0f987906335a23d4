"""The audit trail: export, verify, inzage, purge, keys, proofs."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gateway.audit.signing import Keyring
from gateway.audit.verify import verify_export
from gateway.cli import common
from gateway.cli.common import err, out
from gateway.domain.bsn import elfproef
from gateway.runtime import audit_access

audit_app = typer.Typer(
    help="The audit trail: export, verify, inzage, retention, keys.", no_args_is_help=True
)


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
) -> None:
    """Verify offline with only the public keys: exit 0 when sound, else 1 and the first failure."""
    if directory is not None:
        outcome = verify_export(directory)
        unsigned: dict[str, int] = {}
    else:
        outcome, unsigned = asyncio.run(audit_access.audit_verify_store(common.settings()))
    if not outcome.sound:
        out.print(f"audit verify: FAILED: {outcome.problem}", markup=False, highlight=False)
        raise typer.Exit(1)
    for log_id, count in outcome.logs.items():
        out.print(f"log {log_id}: {count} records verified")
    for log_id, count in unsigned.items():
        if count:
            out.print(f"log {log_id}: {count} newer record(s) await their checkpoint")
    out.print(f"audit verify: sound ({outcome.checkpoints} signed checkpoints)")


@audit_app.command("inzage")
def audit_inzage(
    bsn: Annotated[str, typer.Option("--bsn", help="The person's BSN (pseudonymised at once).")],
    formaat: Annotated[Formaat, typer.Option("--format", help="text, json or csv.")] = Formaat.TEXT,
    lezer: Annotated[
        str, typer.Option(help="Who asks (recorded in the audit trail).")
    ] = os.environ.get("USER", "onbekend"),
) -> None:
    """A person's history: every disclosure with time, sender, recipient, type, doel,
    grondslag and categories. The read itself is recorded."""
    if not elfproef(bsn):
        err.print("not a valid BSN (elfproef)")
        raise typer.Exit(2)
    rows = asyncio.run(audit_access.audit_inzage(common.settings(), bsn, lezer))
    if formaat is Formaat.JSON:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    if formaat is Formaat.CSV:
        audit_access.inzage_csv(rows, sys.stdout)
        return
    table = Table(title=f"Inzage: {len(rows)} vermeldingen (de vraag zelf is vastgelegd)")
    for column in (
        "tijd",
        "gebeurtenis",
        "afzender",
        "ontvanger",
        "berichttype",
        "doel",
        "grondslag",
        "categorieen",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["tijd"])[:19],
            str(row["gebeurtenis"]),
            f"{row['afzender'] or '-'} {row['afzender_rol'] or ''}".strip(),
            f"{row['ontvanger'] or '-'} {row['ontvanger_rol'] or ''}".strip(),
            str(row["berichttype"] or "-"),
            str(row["doel"] or "-"),
            str(row["grondslag"] or "-"),
            ", ".join(row["categorieen"]) or "-",
        )
    out.print(table)


@audit_app.command("purge")
def audit_purge() -> None:
    """Remove the personal part of records past their retention; proofs stay valid."""
    count = asyncio.run(audit_access.audit_purge(common.settings()))
    out.print(f"{count} record(s) past their retention lost their personal part")


@audit_app.command("rotate-key")
def audit_rotate_key() -> None:
    """A new checkpoint signing key becomes active; old checkpoints keep verifying."""
    kid = Keyring(common.settings().audit_key_dir).rotate()
    out.print(f"new signing key {kid} is active")


@audit_app.command("prove")
def audit_prove(
    log_id: Annotated[str, typer.Option("--log", help="The log of the record.")],
    seq: Annotated[int, typer.Option("--seq", help="The record's number in its log.")],
) -> None:
    """Check one record's inclusion proof against the latest signed checkpoint."""
    if asyncio.run(audit_access.audit_prove(common.settings(), log_id, seq)):
        out.print(f"record {log_id}/{seq} is included in the latest signed checkpoint")
        return
    out.print(f"record {log_id}/{seq}: no valid inclusion proof")
    raise typer.Exit(1)


__all__ = ["audit_app"]
