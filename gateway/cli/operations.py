"""Running the gateway: serve, certificates, officers, status, dead letters."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from gateway.cli import common
from gateway.cli.common import err, out
from gateway.observe import logs
from gateway.runtime import ops
from gateway.runtime.settings import ROOT, Setting, described

dlq_app = typer.Typer(help="Dead-lettered messages: see and resend.", no_args_is_help=True)
certs_app = typer.Typer(help="Certificates for mutual TLS.", no_args_is_help=True)
officer_app = typer.Typer(
    help="Privacy officers (who may open /audit) and chain coordinators (/keten).",
    no_args_is_help=True,
)
ops_app = typer.Typer(
    help="The ops queue: unroutable and unattributable messages (never answered).",
    no_args_is_help=True,
)


def serve() -> None:
    """Run the gateway: AMQP consumers, the HTTPS door (partner API, /audit) and the ops port
    (/health, /metrics) until SIGTERM or Ctrl-C; stops gracefully (HTTPS first, then AMQP
    drains)."""
    from gateway.web import server  # noqa: PLC0415 - the web stack only where it is served

    settings = common.read_settings()  # a wrong setting stops it here, before anything starts
    common.under_tls_configuration()
    logs.configure(settings.log_level, json=settings.log_json)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await server.serve(settings, stop)

    with common.exit_when_misconfigured("refusing to start:"):
        asyncio.run(main())


@certs_app.command("dev")
def certs_dev(
    directory: Annotated[Path, typer.Argument(help="Folder to write the PEM files to.")],
    host: Annotated[
        list[str], typer.Option(help="Server names/addresses in the server certificate.")
    ] = ["localhost", "127.0.0.1"],  # noqa: B006 - typer reads the default, never mutated
) -> None:
    """A development CA, a server certificate and a client certificate per registered partner
    (OIN in the subject's serialNumber, as PKIoverheid has it). Not for production."""
    from gateway.runtime import certs  # noqa: PLC0415 - only this command needs it

    settings = common.read_settings()
    policy = common.policy(settings)
    files = certs.dev_ca(directory, [(p.oin, p.naam) for p in policy.partners.values()], hosts=host)
    table = Table("wat", "bestand")
    table.add_row("CA (tls_ca_file)", str(files.ca))
    table.add_row("server (tls_cert_file)", str(files.server_cert))
    table.add_row("server key (tls_key_file)", str(files.server_key))
    for oin, (cert, key) in files.partners.items():
        table.add_row(f"partner {oin} ({policy.partners[oin].naam})", f"{cert}, {key}")
    if files.revoked is not None and files.crl is not None:
        table.add_row("revoked partner certificate", f"{files.revoked[0]}, {files.revoked[1]}")
        table.add_row("CRL (tls_crl_file)", str(files.crl))
    out.print(table)


@officer_app.command("add")
def officer_add(
    naam: Annotated[str, typer.Argument(help="The officer's login name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    rol: Annotated[
        str,
        typer.Option(
            "--rol",
            help="Login role: privacy-officer (/audit) or ketencoordinator (/keten: norm "
            "times, no personal data).",
        ),
    ] = "privacy-officer",
) -> None:
    """Add a privacy officer or chain coordinator (or set a new password)."""
    from gateway.runtime.officers import (  # noqa: PLC0415 - only this command needs it
        COORDINATOR,
        Officers,
    )

    settings = common.read_settings()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        Officers(settings.officers_file).add(naam, password, rol)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    pagina = "/keten" if rol == COORDINATOR else "/audit"
    out.print(f"{rol} {naam.strip().lower()} can log in at {pagina} ({settings.officers_file})")


@officer_app.command("list")
def officer_list() -> None:
    """The privacy officers and chain coordinators, with their login role."""
    from gateway.runtime.officers import Officers  # noqa: PLC0415 - only this command needs it

    for naam, rol in Officers(common.read_settings().officers_file).roles().items():
        out.print(f"{naam}\t{rol}")


def _shown(value: object) -> str:
    """A setting's value as text: a folder or file inside the installation relative to it, a
    tuple as its items, None as nothing."""
    if value is None:
        return ""
    if isinstance(value, Path) and value.is_relative_to(ROOT):
        return f"<installatie>/{value.relative_to(ROOT)}"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _reference(rows: list[Setting]) -> str:
    """The settings reference (docs/settings.md): every setting, its default and what it does."""
    lines = [
        "# Settings",
        "",
        "Generated by `ketenpoort settings --reference` from `gateway/runtime/settings.py`",
        "(a test keeps the two equal). Every setting is read once, at start, from its environment",
        "variable or a `.env` file; a list is given as JSON (`[1000, 10000]`). `ketenpoort",
        "settings` shows the values in effect, secrets and the passwords in URLs masked; a wrong",
        "value stops the gateway and every command with exit code 2, naming the variable.",
        "`<installatie>` is the folder Ketenpoort is installed in; a relative path is relative",
        "to the working directory.",
        "",
        "| variable | default | what |",
        "| --- | --- | --- |",
    ]
    for row in rows:
        standaard = _shown(row.standaard)
        shown = f"`{standaard}`" if standaard else "(none)"
        what = row.beschrijving.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        lines.append(f"| `{row.env}` | {shown} | {what} |")
    return "\n".join(lines) + "\n"


def show_settings(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per setting.")] = False,
    reference: Annotated[
        bool,
        typer.Option(
            "--reference", help="The reference of every setting in Markdown (docs/settings.md)."
        ),
    ] = False,
) -> None:
    """The settings in effect: per setting its environment variable, value (secrets and the
    passwords in URLs masked), whether it was set or is the default, and what it does."""
    rows = described(common.read_settings())
    if reference:
        sys.stdout.write(_reference(rows))
        return
    if as_json:
        data = [dataclasses.asdict(r) for r in rows]
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
        return
    table = Table("variabele", "waarde", "bron", "wat")
    for r in rows:
        table.add_row(r.env, _shown(r.waarde), "gezet" if r.gezet else "standaard", r.beschrijving)
    out.print(table)


def status(
    bericht_id: Annotated[str | None, typer.Argument(help="The BerichtId.")] = None,
    afzender: Annotated[
        str | None, typer.Option(help="OIN of the sender (status is the sender's).")
    ] = None,
    overschreden: Annotated[
        bool,
        typer.Option(
            "--overschreden",
            help="Instead: every step of the chain past its norm deadline (spec v2 §10).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Delivery status per recipient of one message (exit 1 when the sender has no such
    message); with --overschreden, the steps past their norm deadline."""
    if overschreden:
        _overdue(as_json)
        return
    if afzender is None or bericht_id is None:
        err.print("give --afzender OIN and a BerichtId, or --overschreden")
        raise typer.Exit(2)
    with common.exit_when_misconfigured("configuration error"):
        bekend = asyncio.run(ops.delivery_status(common.settings(), afzender, bericht_id.lower()))
    if bekend is None:
        err.print(
            f"{afzender} sent no message {bericht_id} (or it is older than the duplicate window)"
        )
        raise typer.Exit(1)
    rows = [
        {
            "ontvanger": lev.ontvanger_oin,
            "rol": lev.ontvanger_rol,
            "status": lev.status.value,
            "pogingen": lev.pogingen,
            "bijgewerkt": lev.bijgewerkt.isoformat(),
        }
        for lev in bekend.leveringen
    ]
    if as_json:
        _json(
            {"bericht_id": bekend.bericht_id, "berichttype": bekend.berichttype, "ontvangers": rows}
        )
        return
    _table(f"{bekend.berichttype} {bekend.bericht_id}", rows)


def _overdue(as_json: bool) -> None:
    """The open steps past their deadline: BerichtIds, types, partners, times; no personal data."""
    now = dt.datetime.now(dt.UTC)
    with common.exit_when_misconfigured("configuration error"):
        overdue = asyncio.run(ops.overdue_norms(common.settings(), now))
    rows = [
        {
            "norm": r.naam,
            "sleutel": r.sleutel or None,  # a step per item: its key (a voorwaarde-id)
            "partner": r.partner_oin or None,
            "berichttype": r.berichttype,
            "bericht_id": r.bericht_id,
            "afzender": r.afzender_oin,
            "uiterlijk": r.uiterlijk.isoformat(),
            "te_laat_seconden": int((now - r.uiterlijk).total_seconds()),
        }
        for r in overdue
    ]
    if as_json:
        _json({"overschreden": rows})
        return
    _table(f"Overschreden normen ({len(rows)})", rows)


def _json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _table(title: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=title)
    for column in rows[0] if rows else ():
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) if v is not None else "-" for v in row.values()))
    out.print(table)


@dlq_app.command("list")
def dlq_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
) -> None:
    """Show every dead-lettered message (metadata only, never the payload)."""
    entries = asyncio.run(ops.dlq_list(common.settings()))
    if as_json:
        sys.stdout.write(json.dumps(entries, indent=2) + "\n")
        return
    table = Table(title=f"Dead-lettered messages: {len(entries)}")
    for column in ("ontvanger", "bericht_id", "berichttype", "afzender", "pogingen", "reden"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            *(
                str(e[c])
                for c in ("ontvanger", "bericht_id", "berichttype", "afzender", "pogingen", "reden")
            )
        )
    out.print(table)


@dlq_app.command("replay")
def dlq_replay(
    ontvanger: Annotated[str | None, typer.Option(help="Only this recipient OIN.")] = None,
    bericht_id: Annotated[str | None, typer.Option("--id", help="Only this BerichtId.")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Every dead-lettered message.")] = False,
) -> None:
    """Put dead-lettered messages back in their recipient's inbox."""
    if not (ontvanger or bericht_id or everything):
        err.print("name --ontvanger, --id or --all")
        raise typer.Exit(2)
    replayed = asyncio.run(
        ops.dlq_replay(common.settings(), ontvanger=ontvanger, bericht_id=bericht_id)
    )
    for r in replayed:
        out.print(f"replayed {r['bericht_id']} to {r['ontvanger']}")
    out.print(f"{len(replayed)} message(s) replayed")


@ops_app.command("list")
def ops_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
) -> None:
    """Show every message in the ops queue (metadata only, never the payload; nothing is
    taken away). Move or delete them with RabbitMQ's own tools once followed up."""

    entries = asyncio.run(ops.ops_list(common.settings()))
    if as_json:
        sys.stdout.write(json.dumps(entries, indent=2) + "\n")
        return
    columns = ("reden", "user", "exchange", "routing_key", "bericht_id", "type", "bytes")
    table = Table(title=f"Ops queue: {len(entries)}")
    for column in columns:
        table.add_column(column)
    for e in entries:
        table.add_row(*(str(e[c]) for c in columns))
    out.print(table)


__all__ = ["certs_app", "dlq_app", "officer_app", "ops_app", "serve", "show_settings", "status"]
