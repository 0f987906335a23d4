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
from gateway.domain.model import Group, Node
from gateway.policy.catalogue import Policy
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
                " of ".join(r.regios) or "-",
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
    out.print(register_table(policy))
    out.print(gemeenten_table(policy))
    out.print(doelen_table(policy))


def register_table(policy: Policy) -> Table:
    """The register: every rol with its partners (name, OIN) and service hours."""
    table = Table(title="Register: rollen en partners (catalogus.yaml, partners.yaml)")
    for column in ("rol", "naam", "partners"):
        table.add_column(column)
    for rol in sorted(policy.typen.rollen):
        partners = policy.partners_met_rol(rol)
        table.add_row(
            rol,
            policy.typen.rol_namen.get(rol, ""),
            "; ".join(f"{p.naam} ({p.oin})" for p in partners) or "-",
        )
    return table


def gemeenten_table(policy: Policy) -> Table:
    """Per gemeente: its postcode ranges and its partner per rol (routing by address)."""
    table = Table(title="Gemeenten: postcodes en partners (partners.yaml)")
    for column in ("gemeente", "postcodes", "partners"):
        table.add_column(column)
    for gemeente in policy.gemeenten:
        table.add_row(
            f"{gemeente.code} {gemeente.naam}",
            ", ".join(f"{b.van}-{b.tot}" for b in gemeente.postcodes),
            "; ".join(
                f"{policy.partners[oin].rol}: {policy.partners[oin].naam}"
                for oin in gemeente.partners
            )
            or "-",
        )
    return table


def doelen_table(policy: Policy) -> Table:
    """Per doel: its bewaartermijn, the grounds for breaking beroepsgeheim it accepts (v2 §8)
    and, per sending rol and recipient, the grondslagen."""
    table = Table(title="Doelen: bewaartermijn, doorbrekingsgronden en grondslagen (doelen.yaml)")
    for column in (
        "doel",
        "bewaartermijn",
        "doorbrekingsgronden",
        "afzender",
        "naar",
        "grondslagen",
    ):
        table.add_column(column)
    for doel, entry in policy.doelen.items():
        for i, rij in enumerate(entry.grondslagen):
            table.add_row(
                doel if i == 0 else "",
                f"{entry.bewaartermijn_dagen} dagen" if i == 0 else "",
                (", ".join(entry.doorbrekingsgronden) or "geen") if i == 0 else "",
                rij.afzender,
                ", ".join(rij.naar) or "alle ontvangers",
                ", ".join(rij.codes),
            )
    return table


def _fields(nodes: tuple[Node, ...], prefix: str, inherited: frozenset[str]) -> list[list[str]]:
    rows: list[list[str]] = []
    for node in nodes:
        path = f"{prefix}{node.field}"
        cats = inherited | node.categorieen
        high = "n" if node.max is None else str(node.max)
        if isinstance(node, Group):
            extra = "; ".join(
                f"+{', '.join(sorted(e.categorieen))} als {e.veld}={e.waarde}" for e in node.extra
            )
            rows.append([path, "groep", f"{node.min}..{high}", ", ".join(sorted(cats)), extra])
            rows += _fields(node.children, f"{path}.", cats)
            continue
        soort = node.codes.naam if node.codes is not None else node.kind.value
        rows.append([path, soort, f"{node.min}..{high}", ", ".join(sorted(cats)), ""])
    return rows


def definition_table(policy: Policy, berichttype: str) -> Table:
    """One BerichtType's definition: every field, its kind, occurrences and the categories a
    recipient must be granted to receive it (its own and its groups'); free text's too."""
    definitie = policy.typen[berichttype]
    vrij = policy.vrije_tekst.get(berichttype, {})
    table = Table(title=f"{berichttype}: {definitie.omschrijving}")
    for column in ("veld", "soort", "aantal", "categorieen", "vrije tekst / inhoud"):
        table.add_column(column)
    for row in _fields(definitie.children, "", frozenset()):
        if row[0] in vrij:
            row[4] = "vrije tekst: " + ", ".join(sorted(vrij[row[0]]))
        table.add_row(*row)
    return table


def catalogue_json(policy: Policy) -> dict[str, Any]:
    """The register, the BerichtTypes with their fields, rules and grants, as JSON."""
    return {
        "policy": policy.versie,
        "rollen": {
            rol: {
                "naam": policy.typen.rol_namen.get(rol, ""),
                "partners": [{"oin": p.oin, "naam": p.naam} for p in policy.partners_met_rol(rol)],
            }
            for rol in sorted(policy.typen.rollen)
        },
        "categorieen": list(policy.typen.categorieen),
        "doelen": {doel: entry.model_dump(mode="json") for doel, entry in policy.doelen.items()},
        "berichttypen": {
            naam: {
                "omschrijving": policy.typen[naam].omschrijving,
                "velden": [
                    dict(zip(("veld", "soort", "aantal", "categorieen", "extra"), row, strict=True))
                    for row in _fields(policy.typen[naam].children, "", frozenset())
                ],
                "regels": policy.berichten[naam].model_dump(mode="json", by_alias=True),
            }
            for naam in policy.typen
        },
    }


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
    `rabbitmqctl import_definitions` reads them. Partner users: `ketenpoort partner add`."""
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


__all__ = [
    "catalogue_json",
    "definition_table",
    "policy_app",
    "register_table",
    "schemas_app",
    "topology",
]
