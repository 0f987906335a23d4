"""Measure and show: bench and demo."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from gateway.cli import common
from gateway.cli.audit import print_inzage
from gateway.cli.common import err, out
from gateway.observe import logs
from gateway.tools import bench_audit as bench

bench_app = typer.Typer(
    help="Measure the gateway: `bench` alone runs raw broker vs AMQP vs HTTPS pipeline; "
    "`bench audit` the audit trail at volume; `bench codec` the CPU of one decision against "
    "lxml parse + XSD."
)


@bench_app.callback(invoke_without_command=True)
def bench_pipeline(
    ctx: typer.Context,
    messages: Annotated[int, typer.Option(help="Messages per closed-loop run.")] = 3000,
    window: Annotated[int, typer.Option(help="Messages in flight in closed loop.")] = 64,
    rate: Annotated[float, typer.Option(help="Offered rate of the open-loop run.")] = 200.0,
    open_seconds: Annotated[float, typer.Option(help="Length of the open-loop run.")] = 10.0,
    conversations: Annotated[
        int,
        typer.Option(
            min=0,
            help="Over how many ConversatieIds a run's messages are spread (0: each message "
            "its own, as meldingen about different families; 1: all in one, handled one at a "
            "time).",
        ),
    ] = 0,
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
    from gateway.tools import bench_pipeline as pipeline_bench  # noqa: PLC0415 - the web stack only here

    settings = common.read_settings()
    logs.configure("warning", json=True)
    result = asyncio.run(
        pipeline_bench.bench(
            messages=messages,
            window=window,
            rate=rate,
            open_seconds=open_seconds,
            conversations=conversations,
            profile=profile,
            settings=settings,
        )
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
    out.print(f"conversations: {result['conversaties']}")
    out.print(f"ratio (b)/(a) = {result['ratio']['b_a']}, (c)/(a) = {result['ratio']['c_a']}")
    out.print(f"targets: {result['doelen']}")
    if as_json is not None:
        as_json.write_text(json.dumps(result, indent=2) + "\n")
        out.print(f"wrote {as_json}")
    if profile is not None:
        out.print(f"profile of the gateway process (py-spy, collapsed stacks): {profile}")


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
    settings = common.read_settings()
    logs.configure("warning", json=True)
    show = sys.stderr.isatty() and not as_json
    with Progress(console=err, transient=True, disable=not show) as progress:
        tasks: dict[str, Any] = {}

        def step(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done)

        report = asyncio.run(
            bench.bench_audit(records, dsn=dsn, batch=batch, progress=step, settings=settings)
        )
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        _print_bench(report)
    raise typer.Exit(0 if report["sound"] else 1)


@bench_app.command("codec")
def bench_codec(
    messages: Annotated[
        int, typer.Option("--messages", min=1, help="Decisions per measured run.")
    ] = 200,
    runs: Annotated[int, typer.Option("--runs", min=1, help="Runs; the median counts.")] = 5,
    as_json: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as JSON to this file.")
    ] = None,
) -> None:
    """CPU of one decision (VtMelding, one recipient) against lxml parse + XSD of its bytes,
    in-process; the steps of the decision; every example message."""
    from gateway.tools import bench_codec  # noqa: PLC0415 - loads the whole decision path

    logs.configure("warning", json=True)
    report = bench_codec.run(messages=messages, runs=runs, settings=common.read_settings())
    medians, ratio = report["medians_ms"], report["ratios"]["decide_over_parse"]
    table = Table(
        title=f"ketenpoort bench codec ({report['datum']}, {report['machine']['cpus']} cpus): "
        f"CPU ms per message, median of {report['runs']} runs of {report['berichten_per_run']}"
    )
    for column in ("bericht", "uitkomst", "decide", "parse + XSD", "decide / parse"):
        table.add_column(column)
    for row in report["examples"]:
        table.add_row(
            row["bericht"],
            row["uitkomst"],
            f"{row['decide_ms']:.3f}",
            f"{row['parse_ms']:.3f}",
            f"{row['decide_over_parse']:.1f}",
        )
    out.print(table)
    steps = ", ".join(f"{name} {ms:.3f}" for name, ms in report["steps_ms"].items())
    out.print(
        f"{report['bericht']}: decide {medians['decide']:.3f} ms, parse + XSD "
        f"{medians['parse']:.3f} ms ({medians['parse_after_decide']:.3f} ms each right after "
        f"a decision); steps (ms): {steps}"
    )
    met = ratio <= report["target"]["decide_over_parse"]
    colour = "green" if met else "red"
    out.print(
        f"decide_over_parse = [{colour}]{ratio:.2f}[/{colour}] "
        f"(target ≤ {report['target']['decide_over_parse']:g}); the codec alone (read + "
        f"render) / parse = {report['ratios']['codec_over_parse']:.2f}"
    )
    if as_json is not None:
        as_json.write_text(json.dumps(report, indent=2) + "\n")
        out.print(f"wrote {as_json}")


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


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep the demo's certificates, state and audit store in this folder."),
    ] = None,
) -> None:
    """Play the seed scenarios through a real gateway (HTTPS with mutual TLS, AMQP, RabbitMQ,
    audit trail): a timeline per scenario, then audit verify and one person's inzage."""
    from gateway.tools import demo as demo_run  # noqa: PLC0415 - the web stack only here

    settings = common.settings()
    common.under_tls_configuration()  # its HTTPS door as `serve` runs it
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    with common.exit_when_misconfigured("refusing to start:"):
        result = asyncio.run(demo_run.run(settings, keep))
    if as_json:
        data = dataclasses.asdict(result)
        del data["overzicht"]  # in "inzage" already, with Dutch times
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        _print_demo(result)
    raise typer.Exit(0 if result.ok else 1)


_NORMKLEUR = {"te laat": "red", "overschreden": "red", "op tijd": "green", "open": "yellow"}


def _print_normen(normen: list[Any]) -> None:
    """The norm timeline as a chain coordinator sees it on /keten (no personal data)."""
    from rich.table import Table  # noqa: PLC0415 - rich loads only when a result is printed

    table = Table(title="Normen van de keten (v2 §10), zoals de ketencoördinator ze op /keten ziet")
    for column in ("norm", "bericht", "van", "aan zet", "uiterlijk", "gesloten", "status"):
        table.add_column(column)
    for n in normen:
        kleur = _NORMKLEUR.get(n.status, "")
        table.add_row(
            n.norm + (f" · {n.sleutel}" if n.sleutel else ""),
            f"{n.berichttype} {n.bericht_id[:8]}",
            n.van,
            n.aan_zet or "-",
            n.uiterlijk,
            n.gesloten or "-",
            f"[{kleur}]{n.status}[/{kleur}]" if kleur else n.status,
        )
    out.print(table)


def _print_demo(result: Any) -> None:
    from rich.panel import Panel  # noqa: PLC0415 - rich loads only when a result is printed
    from rich.tree import Tree  # noqa: PLC0415 - likewise

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
                for veld in o.get("vrije_tekst_achtergehouden", []):
                    node.add(f"    [red]vrije tekst achtergehouden: {veld}[/red]")
            for signaal in step.get("signalen", []):
                node.add(f"[magenta]AfsprakenSignaal[/magenta] → {signaal} (geen inhoud)")
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
    _print_normen(result.normen)
    v = result.verificatie
    status = (
        "[green]in orde[/green]" if v["in_orde"] else f"[red]NIET in orde: {v['probleem']}[/red]"
    )
    out.print(
        f"\n[bold]audit verify[/bold]: {status} — {v['checkpoints']} ondertekende checkpoints, "
        + ", ".join(f"log {k}: {n} records" for k, n in v["logs"].items())
    )
    print_inzage(result.overzicht, f"Inzage: {result.inzage['bsn']}")
    out.print(
        f"klaar in {result.seconden} s"
        + ("" if result.ok else " [red](NIET alles zoals verwacht)[/red]")
    )


__all__ = ["bench_app", "demo"]
