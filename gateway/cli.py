"""The ``ketenpoort`` command line (a face: imported by nothing)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from adapters import PARTNERS
from adapters.xsd import Richting, generate, schema_name
from gateway import app as gateway_app
from gateway import bench, logs, pipeline
from gateway.audit.signing import Keyring
from gateway.audit.verify import verify_export
from gateway.bsn import elfproef
from gateway.envelope import MessageCodec
from gateway.errors import Misconfigured, Refused
from gateway.model import Categorie, Rol
from gateway.policy import Policy, load_policy
from gateway.routing import NoConversations, Router
from gateway.settings import Settings, load_settings
from gateway.transport import Topology

app = typer.Typer(
    name="ketenpoort",
    help="Ketenpoort: the interoperability gateway of the zorg-straf chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(
    help="The audit trail: export, verify, inzage, retention, keys.", no_args_is_help=True
)
dlq_app = typer.Typer(help="Dead-lettered messages: see and resend.", no_args_is_help=True)
policy_app = typer.Typer(help="Check and show the policy.", no_args_is_help=True)
schemas_app = typer.Typer(
    help="The partner XSDs generated from the adapters.", no_args_is_help=True
)
bench_app = typer.Typer(
    help="Measure the gateway: `bench` alone runs raw broker vs AMQP vs HTTPS pipeline; "
    "`bench audit` the audit trail at volume."
)
app.add_typer(policy_app, name="policy")
app.add_typer(dlq_app, name="dlq")
app.add_typer(audit_app, name="audit")
app.add_typer(schemas_app, name="schemas")
app.add_typer(bench_app, name="bench")
certs_app = typer.Typer(help="Certificates for mutual TLS.", no_args_is_help=True)
officer_app = typer.Typer(help="Privacy officers (who may open /audit).", no_args_is_help=True)
app.add_typer(certs_app, name="certs")
app.add_typer(officer_app, name="officer")

# Wide when not a terminal, so piped output (grep, files) is never cut off.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)
err = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    settings = load_settings()
    logs.configure("warning", json=settings.log_json)
    return settings


def _codec(settings: Settings) -> MessageCodec:
    return MessageCodec(
        settings.schema_dir, max_bytes=settings.max_bytes, max_depth=settings.max_depth
    )


def _policy(directory: Path) -> Policy:
    try:
        return load_policy(directory)
    except Misconfigured as exc:
        err.print("[red]policy error[/red] ", end="")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None


def _problem(path: Path | str, refused: Refused) -> str:
    element = refused.element or "-"
    return f"{path}:{refused.regel or 0}: {refused.code.value}: {element}: {refused.reden}"


# --------------------------------------------------------------------------- validate etc.


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Enveloped XML messages.")],
) -> None:
    """Validate messages: exit 0 when all are valid, else one line per problem and exit 1."""
    codec = _codec(_settings())
    failed = False
    for path in files:
        try:
            codec.read(path.read_bytes())
        except OSError as exc:
            out.print(f"{path}:0: XML_ONGELDIG: -: cannot read: {exc.strerror}", markup=False)
            failed = True
        except Refused as refused:
            out.print(_problem(path, refused), markup=False, highlight=False)
            failed = True
        else:
            err.print(f"{path}: valid")
    raise typer.Exit(1 if failed else 0)


@app.command()
def translate(
    file: Annotated[Path, typer.Argument(help="An enveloped XML message.")],
    to: Annotated[Rol, typer.Option("--to", help="Recipient rol to render for.")],
) -> None:
    """Print the message rendered for a recipient rol (before need-to-know filtering)."""
    codec = _codec(_settings())
    try:
        bericht = codec.read(file.read_bytes())
    except Refused as refused:
        out.print(_problem(file, refused), markup=False, highlight=False)
        raise typer.Exit(1) from None
    if bericht.kop.berichttype not in PARTNERS[to].receives:
        err.print(f"{to.value} receives no {bericht.kop.berichttype.value}")
        raise typer.Exit(2)
    sys.stdout.write(codec.write(bericht, voor=to).decode())


@app.command()
def types() -> None:
    """The message catalogue: type, senders, doelen, recipient rollen."""
    policy = _policy(_settings().policy_dir)
    table = Table(title=f"Berichttypen (policy {policy.versie})")
    for column in ("BerichtType", "verzonden door", "doel", "ontvangers"):
        table.add_column(column)
    for berichttype, regel in policy.berichten.items():
        table.add_row(
            berichttype.value,
            ", ".join(r.value for r in regel.afzenders),
            ", ".join(d.value for d in regel.doelen),
            ", ".join(dict.fromkeys(r.naar.value for r in regel.routes)),
        )
    out.print(table)


@app.command()
def route(
    file: Annotated[Path, typer.Argument(help="An enveloped XML message.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Explain the routing decision for one message without sending it (sender: Afzender)."""
    settings = _settings()
    codec = _codec(settings)
    router = Router(_policy(settings.policy_dir), NoConversations())
    raw = file.read_bytes()
    result: dict[str, Any] = {"refused": None, "recipients": []}
    besluit = None
    try:
        afzender = codec.read(raw).kop.afzender.oin
        besluit = pipeline.decide(codec, router, pipeline.ingress(raw, afzender))
    except Refused as refused:
        result["refused"] = {
            "code": refused.code.value,
            "reason": refused.reden,
            "element": refused.element,
            "line": refused.regel,
        }
    if besluit is not None:
        routering = besluit.gerouteerd.routering
        result["doel"] = routering.doel.value
        result["grondslagen"] = list(routering.grondslagen)
        result["policy"] = routering.policy_versie
        result["recipients"] = [
            {
                "rol": lev.ontvanger.partner.rol.value,
                "oin": lev.ontvanger.partner.oin,
                "naam": lev.ontvanger.partner.naam,
                "grondslag": lev.ontvanger.grondslag,
                "kept": sorted(lev.kept),
                "removed": sorted(lev.removed),
                "message": lev.payload.decode(),
            }
            for lev in besluit.leveringen
        ]
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_route(result)
    raise typer.Exit(1 if result["refused"] else 0)


def _print_route(result: dict[str, Any]) -> None:
    if result["refused"]:
        refused = result["refused"]
        out.print(f"[red]refused[/red] {refused['code']}: {refused['reason']}")
        return
    out.print(
        f"doel [bold]{result['doel']}[/bold], grondslag {', '.join(result['grondslagen'])} "
        f"accepted (policy {result['policy']})"
    )
    for r in result["recipients"]:
        out.rule(f"{r['rol']} {r['oin']} ({r['naam']}) under {r['grondslag']}")
        out.print(f"kept:    {', '.join(r['kept']) or '-'}")
        out.print(f"removed: {', '.join(r['removed']) or '-'}")
        out.print(r["message"], markup=False, highlight=False)


# --------------------------------------------------------------------------- policy, schemas


@policy_app.command("check")
def policy_check(
    directory: Annotated[Path | None, typer.Argument(help="Policy folder.")] = None,
) -> None:
    """Validate a policy and print the routing and need-to-know matrix."""
    policy = _policy(directory or _settings().policy_dir)
    out.print(f"policy {policy.versie}: [green]ok[/green] ({policy.directory})")
    routes = Table(title="Routing")
    for column in ("BerichtType", "afzender", "doel", "naar", "als", "regio"):
        routes.add_column(column)
    for berichttype, regel in policy.berichten.items():
        for r in regel.routes:
            routes.add_row(
                berichttype.value,
                ", ".join(a.value for a in regel.afzenders),
                ", ".join(d.value for d in regel.doelen),
                r.naar.value,
                "; ".join(_conditie(c) for c in r.als) or "-",
                r.regio or "-",
            )
    out.print(routes)
    matrix = Table(title="Need-to-know: categories per (BerichtType, doel, rol)")
    for column in ("BerichtType", "doel", "rol", "grondslag", *(c.value[:6] for c in Categorie)):
        matrix.add_column(column)
    for berichttype, regel in policy.berichten.items():
        for doel in regel.doelen:
            for rol in dict.fromkeys(r.naar for r in regel.routes):
                grant = policy.doelen[doel].ontvangers.get(rol)
                if grant is None:
                    continue
                toegang = regel.toegang.get(doel, {}).get(rol)
                base = set(toegang.categorieen if toegang else grant.categorieen)
                extra = {c for e in (toegang.extra if toegang else []) for c in e.categorieen}
                cells = ["x" if c in base else ("(x)" if c in extra else "") for c in Categorie]
                matrix.add_row(berichttype.value, doel.value, rol.value, grant.grondslag, *cells)
    out.print(matrix)
    out.print("(x) = only under the condition in berichten.yaml")


def _conditie(c: Any) -> str:
    return " ".join(f"{k}={v}" for k, v in c.model_dump(by_alias=True, exclude_none=True).items())


@schemas_app.command("write")
def schemas_write(
    directory: Annotated[Path | None, typer.Argument(help="Target folder.")] = None,
) -> None:
    """Regenerate the partner XSDs from the adapters (after changing a shape or vocabulary)."""
    target = directory or _settings().schema_dir
    for partner in PARTNERS.values():
        for richting in Richting:
            path = target / schema_name(partner, richting)
            path.write_bytes(generate(partner, richting))
            out.print(f"wrote {path}")


@schemas_app.command("check")
def schemas_check(
    directory: Annotated[Path | None, typer.Argument(help="Schema folder.")] = None,
) -> None:
    """Exit 1 when a committed XSD differs from what the adapters generate."""
    target = directory or _settings().schema_dir
    stale = [
        schema_name(p, r)
        for p in PARTNERS.values()
        for r in Richting
        if not (target / schema_name(p, r)).exists()
        or (target / schema_name(p, r)).read_bytes() != generate(p, r)
    ]
    for name in stale:
        out.print(f"{name} is out of date: run `ketenpoort schemas write`")
    raise typer.Exit(1 if stale else 0)


@app.command()
def topology(
    write: Annotated[Path | None, typer.Option(help="Write the definitions to this file.")] = None,
) -> None:
    """The RabbitMQ definitions (exchanges, quorum queues, bindings, partner users and
    permissions) the gateway declares, as ``rabbitmqctl import_definitions`` reads them."""
    settings = _settings()
    policy = _policy(settings.policy_dir)
    definitions = Topology(
        settings.amqp_prefix, tuple(policy.partners), settings.retry_delays_ms
    ).definitions()
    text = json.dumps(definitions, indent=2) + "\n"
    if write is None:
        sys.stdout.write(text)
    else:
        write.parent.mkdir(parents=True, exist_ok=True)
        write.write_text(text)
        out.print(f"wrote {write}")


# --------------------------------------------------------------------------- run time


@app.command()
def serve() -> None:
    """Run the gateway: AMQP consumers and the HTTPS door (partner API, /health, /metrics,
    /audit) until SIGTERM or Ctrl-C; stops gracefully (HTTPS first, then AMQP drains)."""
    from gateway.web import server  # noqa: PLC0415 - the web stack only where it is served

    settings = load_settings()
    logs.configure(settings.log_level, json=settings.log_json)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await server.serve(settings, stop)

    try:
        asyncio.run(main())
    except Misconfigured as exc:
        err.print(f"[red]refusing to start[/red]: {exc}")
        raise typer.Exit(2) from None


@certs_app.command("dev")
def certs_dev(
    directory: Annotated[Path, typer.Argument(help="Folder to write the PEM files to.")],
    host: Annotated[
        list[str], typer.Option(help="Server names/addresses in the server certificate.")
    ] = ["localhost", "127.0.0.1"],  # noqa: B006 - typer reads the default, never mutated
) -> None:
    """A development CA, a server certificate and a client certificate per registered partner
    (OIN in the subject's serialNumber, as PKIoverheid has it). Not for production."""
    from gateway import certs  # noqa: PLC0415 - only this command needs it

    settings = load_settings()
    policy = _policy(settings.policy_dir)
    files = certs.dev_ca(directory, [(p.oin, p.naam) for p in policy.partners.values()], hosts=host)
    table = Table("wat", "bestand")
    table.add_row("CA (tls_ca_file)", str(files.ca))
    table.add_row("server (tls_cert_file)", str(files.server_cert))
    table.add_row("server key (tls_key_file)", str(files.server_key))
    for oin, (cert, key) in files.partners.items():
        table.add_row(f"partner {oin} ({policy.partners[oin].naam})", f"{cert}, {key}")
    out.print(table)


@officer_app.command("add")
def officer_add(
    naam: Annotated[str, typer.Argument(help="The officer's login name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Add a privacy officer (or set a new password)."""
    from gateway.officers import Officers  # noqa: PLC0415 - only this command needs it

    settings = load_settings()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        Officers(settings.officers_file).add(naam, password)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    out.print(f"officer {naam.strip().lower()} can log in at /audit ({settings.officers_file})")


@officer_app.command("list")
def officer_list() -> None:
    """The privacy officers."""
    from gateway.officers import Officers  # noqa: PLC0415 - only this command needs it

    for naam in Officers(load_settings().officers_file).names():
        out.print(naam)


@app.command()
def status(
    afzender: Annotated[str, typer.Option(help="OIN of the sender (status is the sender's).")],
    bericht_id: Annotated[str, typer.Argument(help="The BerichtId.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Delivery status per recipient of one message (exit 1 when the sender has no such message)."""
    bekend = asyncio.run(gateway_app.delivery_status(_settings(), afzender, bericht_id.lower()))
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
        sys.stdout.write(
            json.dumps(
                {
                    "bericht_id": bekend.bericht_id,
                    "berichttype": bekend.berichttype,
                    "ontvangers": rows,
                },
                indent=2,
            )
            + "\n"
        )
        return
    table = Table(title=f"{bekend.berichttype} {bekend.bericht_id}")
    for column in ("ontvanger", "rol", "status", "pogingen", "bijgewerkt"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(str(row[c]) for c in ("ontvanger", "rol", "status", "pogingen", "bijgewerkt"))
        )
    out.print(table)


@dlq_app.command("list")
def dlq_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
) -> None:
    """Show every dead-lettered message (metadata only, never the payload)."""
    entries = asyncio.run(gateway_app.dlq_list(_settings()))
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
        gateway_app.dlq_replay(_settings(), ontvanger=ontvanger, bericht_id=bericht_id)
    )
    for r in replayed:
        out.print(f"replayed {r['bericht_id']} to {r['ontvanger']}")
    out.print(f"{len(replayed)} message(s) replayed")


# --------------------------------------------------------------------------- audit


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
    result = asyncio.run(gateway_app.audit_export(_settings(), directory, lezer))
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
        outcome, unsigned = asyncio.run(gateway_app.audit_verify_store(_settings()))
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
    rows = asyncio.run(gateway_app.audit_inzage(_settings(), bsn, lezer))
    if formaat is Formaat.JSON:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    if formaat is Formaat.CSV:
        gateway_app.inzage_csv(rows, sys.stdout)
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
    count = asyncio.run(gateway_app.audit_purge(_settings()))
    out.print(f"{count} record(s) past their retention lost their personal part")


@audit_app.command("rotate-key")
def audit_rotate_key() -> None:
    """A new checkpoint signing key becomes active; old checkpoints keep verifying."""
    kid = Keyring(_settings().audit_key_dir).rotate()
    out.print(f"new signing key {kid} is active")


@audit_app.command("prove")
def audit_prove(
    log_id: Annotated[str, typer.Option("--log", help="The log of the record.")],
    seq: Annotated[int, typer.Option("--seq", help="The record's number in its log.")],
) -> None:
    """Check one record's inclusion proof against the latest signed checkpoint."""
    if asyncio.run(gateway_app.audit_prove(_settings(), log_id, seq)):
        out.print(f"record {log_id}/{seq} is included in the latest signed checkpoint")
        return
    out.print(f"record {log_id}/{seq}: no valid inclusion proof")
    raise typer.Exit(1)


# --------------------------------------------------------------------------- bench


@bench_app.callback(invoke_without_command=True)
def bench_pipeline(
    ctx: typer.Context,
    messages: Annotated[int, typer.Option(help="Messages per closed-loop run.")] = 3000,
    window: Annotated[int, typer.Option(help="Messages in flight in closed loop.")] = 64,
    rate: Annotated[float, typer.Option(help="Offered rate of the open-loop run.")] = 200.0,
    open_seconds: Annotated[float, typer.Option(help="Length of the open-loop run.")] = 10.0,
    as_json: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as JSON to this file.")
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option(help="Profile the gateway with py-spy (collapsed stacks to this file)."),
    ] = None,
) -> None:
    """Raw RabbitMQ vs the full pipeline over AMQP vs over HTTPS, on the same broker."""
    if ctx.invoked_subcommand is not None:
        return
    from gateway.web import bench as pipeline_bench  # noqa: PLC0415 - the web stack only here

    logs.configure("warning", json=True)
    result = asyncio.run(
        pipeline_bench.bench(messages=messages, window=window, rate=rate, open_seconds=open_seconds)
    )
    table = Table(title=f"ketenpoort bench ({result['datum']}, {result['machine']['cpus']} cpus)")
    for column in ("meting", "msg/s", "p50 ms", "p99 ms", "max ms", "CPU ms/msg", "aangekomen"):
        table.add_column(column)
    for r in result["metingen"]:
        table.add_row(
            r["meting"],
            f"{r['berichten_per_s']:.0f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['max_ms']:.1f}",
            f"{r['cpu_ms_per_bericht']:.2f}",
            f"{r['aangekomen']}/{r['berichten']}",
        )
    out.print(table)
    out.print(f"ratio (b)/(a) = {result['ratio']['b_a']}, (c)/(a) = {result['ratio']['c_a']}")
    out.print(f"targets: {result['doelen']}")
    if as_json is not None:
        as_json.write_text(json.dumps(result, indent=2) + "\n")
        out.print(f"wrote {as_json}")


@bench_app.command("audit")
def bench_audit(
    records: Annotated[
        int, typer.Option("--records", min=1, help="Records to append.")
    ] = 1_000_000,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    dsn: Annotated[
        str | None,
        typer.Option(
            "--dsn",
            help="postgresql://… (a fresh schema there, dropped afterwards); "
            "default: a temporary SQLite file.",
        ),
    ] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Records per group commit.")] = 2_000,
) -> None:
    """Append realistic audit records in durable group commits, then time a full verify,
    an inzage, inclusion and consistency proofs; exit 1 when verification fails."""
    logs.configure("warning", json=True)
    show = sys.stderr.isatty() and not as_json
    with Progress(console=err, transient=True, disable=not show) as progress:
        tasks: dict[str, Any] = {}

        def step(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done)

        report = asyncio.run(bench.bench_audit(records, dsn=dsn, batch=batch, progress=step))
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        _print_bench(report)
    raise typer.Exit(0 if report["sound"] else 1)


def _print_bench(report: dict[str, Any]) -> None:
    met = report["targets"]

    def target(key: str, text: str) -> str:
        return f"[green]{text}[/green]" if met[key] else f"[red]{text} (missed)[/red]"

    table = Table(
        title=f"Audit trail: {report['records']:,} records on {report['engine']} "
        f"({report['commits']:,} group commits of ≤ {report['batch']:,})"
    )
    for column in ("measure", "result", "target"):
        table.add_column(column)
    rows = [
        (
            "append (durable)",
            f"{report['append_records_per_s']:,.0f} records/s ({report['append_s']:.1f} s)",
            target("append_records_per_s", "≥ 5,000 records/s"),
        ),
        (
            "full verification",
            f"{report['verify_s']:.1f} s, {report['verified_records']:,} records, "
            f"{report['checkpoints']} checkpoints: "
            + ("sound" if report["verify_sound"] else f"FAILED: {report['verify_problem']}"),
            target("verify_s", "< 60 s"),
        ),
        (
            "one inzage",
            f"{report['inzage_ms']:.2f} ms (max {report['inzage_max_ms']:.2f} ms), "
            f"{report['inzage_records']:g} records",
            target("inzage_ms", "< 1 s"),
        ),
        ("inzage query plan", report["inzage_plan"], ""),
        (
            "one inclusion proof",
            f"{report['inclusion_ms']:.3f} ms",
            target("inclusion_ms", "< 10 ms"),
        ),
        (
            "one consistency proof",
            "-" if report["consistency_ms"] is None else f"{report['consistency_ms']:.3f} ms",
            "",
        ),
        (
            "store size",
            f"{report['db_bytes'] / 1e6:,.1f} MB ({report['bytes_per_record']:,.0f} B/record)",
            "",
        ),
    ]
    for row in rows:
        table.add_row(*row)
    out.print(table)


# --------------------------------------------------------------------------- demo


@app.command()
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep the demo's certificates, state and audit store in this folder."),
    ] = None,
) -> None:
    """Play the seed scenarios through a real gateway (HTTPS with mutual TLS, AMQP, RabbitMQ,
    audit trail): a timeline per scenario, then audit verify and one person's inzage."""
    from gateway.web import demo as demo_run  # noqa: PLC0415 - the web stack only here

    settings = load_settings()
    logs.configure("warning", json=settings.log_json)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    try:
        result = asyncio.run(demo_run.run(settings, keep))
    except Misconfigured as exc:
        err.print(f"[red]refusing to start[/red]: {exc}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(dataclasses.asdict(result), indent=2, ensure_ascii=False, default=str))
    else:
        _print_demo(result)
    raise typer.Exit(0 if result.ok else 1)


def _print_demo(result: Any) -> None:
    from rich.panel import Panel  # noqa: PLC0415
    from rich.tree import Tree  # noqa: PLC0415

    out.print(
        Panel.fit(
            "Ketenpoort demo: de seed-casussen door een echte gateway "
            "(HTTPS met mutual TLS, RabbitMQ, audit trail)",
            style="bold",
        )
    )
    for scenario in result.scenarios:
        tree = Tree(f"[bold]{scenario['titel']}[/bold]")
        for step in scenario["stappen"]:
            head = (
                f"{step['afzender']} → [cyan]{step['berichttype']}[/cyan]"
                f"  doel {step['doel'] or '-'}  [dim]{step['bericht_id'][:8]}[/dim]"
            )
            node = tree.add(f"{head}\n[italic]{step['titel']}[/italic]")
            if step["antwoord"] == "Foutbericht":
                node.add(
                    f"[red]geweigerd[/red] (HTTP {step['http_status']}): "
                    f"[bold]{step['foutcode']}[/bold] — {step['reden']}"
                )
                continue
            if step["dubbel"]:
                node.add(
                    f"[yellow]dubbel[/yellow] (HTTP {step['http_status']}): de oorspronkelijke "
                    "Ontvangstbevestiging opnieuw; niets twee keer afgeleverd"
                )
                continue
            answer = f"[green]Ontvangstbevestiging[/green] (HTTP {step['http_status']})"
            if step["uiterste_beslismoment"]:
                answer += f", OM beslist uiterlijk {step['uiterste_beslismoment']}"
            node.add(answer)
            for o in step["ontvangers"]:
                removed = ", ".join(o["verwijderd"]) or "niets"
                mark = "[green]✓ afleverbevestiging[/green]" if o["bevestigd"] else "[red]✗[/red]"
                node.add(
                    f"→ [bold]{o['ontvanger']}[/bold]  krijgt {', '.join(o['categorieen'])}"
                    f"  [red]verwijderd: {removed}[/red]  {mark}"
                )
            if step.get("toont"):
                shown = step["toont"]
                sub = node.add(
                    "[bold]wat de agent bij een nieuwe melding op dit adres ziet:[/bold]"
                )
                for afspraak in shown["afspraken"]:
                    sub.add(" · ".join(v for v in afspraak.values() if v))
                for bel in shown["bellen"]:
                    sub.add("bellen: " + " · ".join(v for v in bel.values() if v))
        out.print(tree)
    v = result.verificatie
    status = (
        "[green]in orde[/green]" if v["in_orde"] else f"[red]NIET in orde: {v['probleem']}[/red]"
    )
    out.print(
        f"\n[bold]audit verify[/bold]: {status} — {v['checkpoints']} ondertekende checkpoints, "
        + ", ".join(f"log {k}: {n} records" for k, n in v["logs"].items())
    )
    table = Table(title=f"Inzage: {result.inzage['bsn']}")
    for column in ("tijd", "gebeurtenis", "ontvanger", "berichttype", "doel", "categorieën"):
        table.add_column(column)
    shown = ("afgeleverd", "bevestigd", "geweigerd", "inzage", "niet-afleverbaar")
    for row in (r for r in result.inzage["regels"] if r["gebeurtenis"] in shown):
        table.add_row(
            (row["tijd"] or "")[11:19],
            row["gebeurtenis"] or "",
            row["ontvanger_rol"] or row["lezer"] or "",
            row["berichttype"] or "",
            row["doel"] or "",
            ", ".join(row["categorieen"]),
        )
    out.print(table)
    out.print(
        f"klaar in {result.seconden} s"
        + ("" if result.ok else " [red](NIET alles zoals verwacht)[/red]")
    )


if __name__ == "__main__":  # pragma: no cover
    app()
