"""The policy, the partner schemas and the broker topology they imply: check, show, write."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from adapters.xsd import Richting, generate, schema_name
from gateway.cli import common
from gateway.cli.common import out
from gateway.transport.rabbit import Topology

policy_app = typer.Typer(help="Check and show the policy.", no_args_is_help=True)
schemas_app = typer.Typer(
    help="The partner XSDs generated from the adapters.", no_args_is_help=True
)


@policy_app.command("check")
def policy_check(
    directory: Annotated[Path | None, typer.Argument(help="Policy folder.")] = None,
) -> None:
    """Validate a policy and print the routing and need-to-know matrix."""
    settings = common.settings()
    _, policy = common.catalogue(settings, directory)
    out.print(f"policy {policy.versie}: [green]ok[/green] ({policy.directory})")
    routes = Table(title="Routing")
    for column in ("BerichtType", "afzender", "doel", "naar", "als", "regio", "verplicht"):
        routes.add_column(column)
    for berichttype, regel in policy.berichten.items():
        for r in regel.routes:
            routes.add_row(
                berichttype,
                ", ".join(regel.afzenders),
                ", ".join(regel.doelen),
                r.naar,
                "; ".join(_conditie(c) for c in r.als) or "-",
                r.regio or "-",
                "ja" if r.verplicht else "nee (optioneel)",
            )
    out.print(routes)
    matrix = Table(title="Need-to-know: categories per (BerichtType, doel, rol)")
    for column in (
        "BerichtType",
        "doel",
        "rol",
        "grondslag",
        *(c[:6] for c in policy.typen.categorieen),
    ):
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
                cells = [
                    "x" if c in base else ("(x)" if c in extra else "")
                    for c in policy.typen.categorieen
                ]
                grondslagen = "; ".join(
                    f"{a}: {', '.join(policy.doelen[doel].acceptabel(a, rol))}"
                    for a in regel.afzenders
                )
                matrix.add_row(berichttype, doel, rol, grondslagen, *cells)
    out.print(matrix)
    out.print("(x) = only under the condition in berichten.yaml")


def _conditie(c: Any) -> str:
    return " ".join(f"{k}={v}" for k, v in c.model_dump(by_alias=True, exclude_none=True).items())


@schemas_app.command("write")
def schemas_write(
    directory: Annotated[Path | None, typer.Argument(help="Target folder.")] = None,
) -> None:
    """Regenerate the partner XSDs from the catalogue and the vocabularies (after changing a
    BerichtType or a vocabulary)."""
    settings = common.settings()
    codec = common.codec(settings)
    target = directory or settings.schema_dir
    for adapter in codec.by_rol.values():
        for richting in Richting:
            path = target / schema_name(adapter.partner, richting)
            path.write_bytes(generate(adapter.partner, richting, codec.typen))
            out.print(f"wrote {path}")


@schemas_app.command("check")
def schemas_check(
    directory: Annotated[Path | None, typer.Argument(help="Schema folder.")] = None,
) -> None:
    """Exit 1 when a committed XSD differs from what the catalogue and vocabularies make."""
    settings = common.settings()
    codec = common.codec(settings)
    target = directory or settings.schema_dir
    stale = [
        schema_name(a.partner, r)
        for a in codec.by_rol.values()
        for r in Richting
        if not (target / schema_name(a.partner, r)).exists()
        or (target / schema_name(a.partner, r)).read_bytes() != generate(a.partner, r, codec.typen)
    ]
    for name in stale:
        out.print(f"{name} is out of date: run `ketenpoort schemas write`")
    raise typer.Exit(1 if stale else 0)


def topology(
    write: Annotated[Path | None, typer.Option(help="Write the definitions to this file.")] = None,
) -> None:
    """The RabbitMQ definitions (exchanges, quorum queues, bindings) the gateway declares, as
    ``rabbitmqctl import_definitions`` reads them. Partner users: ``ketenpoort partner add``."""
    settings = common.settings()
    policy = common.policy(settings)
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


__all__ = ["policy_app", "schemas_app", "topology"]
