"""Messages: validate, translate, route, and the catalogue of types."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from gateway.audit.log import Pseudonymiser
from gateway.cli import common
from gateway.cli.catalogue import catalogue_json, definition_table, register_table
from gateway.cli.common import err, out
from gateway.decision.besluit import Aanvaarding, Besluit, Feiten, Onbekend, Weigering, ingress
from gateway.decision.pipeline import Pipeline
from gateway.decision.routing import Gevraagd
from gateway.decision.trail import Trail
from gateway.domain.errors import Refused
from gateway.domain.model import Foutcode, Rol


def validate(
    files: Annotated[list[Path], typer.Argument(help="Enveloped XML messages.")],
) -> None:
    """Validate messages: exit 0 when all are valid, else one line per problem and exit 1."""
    codec = common.codec(common.settings())
    failed = False
    for path in files:
        try:
            codec.read(path.read_bytes())
        except OSError as exc:
            out.print(f"{path}:0: XML_ONGELDIG: -: cannot read: {exc.strerror}", markup=False)
            failed = True
        except Refused as refused:
            out.print(common.problem(path, refused), markup=False, highlight=False)
            failed = True
        else:
            err.print(f"{path}: valid")
    raise typer.Exit(1 if failed else 0)


def translate(
    file: Annotated[Path, typer.Argument(help="An enveloped XML message.")],
    to: Annotated[Rol, typer.Option("--to", help="Recipient rol to render for.")],
) -> None:
    """Print the message rendered for a recipient rol (before need-to-know filtering)."""
    codec = common.codec(common.settings())
    try:
        bericht = codec.read(file.read_bytes())
    except Refused as refused:
        out.print(common.problem(file, refused), markup=False, highlight=False)
        raise typer.Exit(1) from None
    adapter = codec.by_rol.get(to)
    if adapter is None or bericht.kop.berichttype not in adapter.partner.receives:
        err.print(f"{to} receives no {bericht.kop.berichttype}")
        raise typer.Exit(2)
    sys.stdout.write(codec.write(bericht, voor=to).decode())


def types(
    berichttype: Annotated[
        str | None, typer.Argument(help="Show this BerichtType's definition field by field.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The catalogue as JSON.")] = False,
) -> None:
    """The message catalogue: type, senders, doelen, recipient rollen; the register of rollen
    and partners; with a BerichtType, its fields and their need-to-know categories."""
    policy = common.policy(common.settings())
    if as_json:
        out.print_json(json.dumps(catalogue_json(policy)))
        return
    if berichttype is not None:
        if berichttype not in policy.typen:
            err.print(f"no BerichtType {berichttype} (known: {', '.join(policy.typen)})")
            raise typer.Exit(2)
        out.print(definition_table(policy, berichttype))
        return
    table = Table(title=f"Berichttypen (policy {policy.versie})")
    for column in ("BerichtType", "verzonden door", "doel", "ontvangers"):
        table.add_column(column)
    for naam, regel in policy.berichten.items():
        table.add_row(
            naam,
            ", ".join(regel.afzenders),
            ", ".join(regel.doelen),
            ", ".join(dict.fromkeys(r.naar for r in regel.routes)),
        )
    out.print(table)
    out.print(register_table(policy))


def route(
    file: Annotated[Path, typer.Argument(help="An enveloped XML message.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    nu: Annotated[
        dt.datetime | None,
        typer.Option(
            "--nu",
            formats=["%Y-%m-%dT%H:%M:%S%z"],
            help="The arrival time the norm deadlines count from (default: now).",
        ),
    ] = None,
    deelnemer: Annotated[
        list[str] | None,
        typer.Option(
            "--deelnemer",
            help="Routing memory: an OIN that took part in the conversation (repeatable).",
        ),
    ] = None,
    hg: Annotated[
        bool, typer.Option("--hg", help="Routing memory: the conversation is HG-labelled.")
    ] = False,
    casusregie: Annotated[
        str | None,
        typer.Option("--casusregie", help="Routing memory: the OIN that holds casusregie."),
    ] = None,
    overdracht: Annotated[
        str | None,
        typer.Option("--overdracht", help="Routing memory: the Overdracht is lopend|afgesloten."),
    ] = None,
    gevraagd: Annotated[
        str | None,
        typer.Option(
            "--gevraagd",
            help="Routing memory, for an answer: ASKER_OIN:TYPE:DOEL of the question that "
            "kp:InAntwoordOp names, as delivered to the sender.",
        ),
    ] = None,
) -> None:
    """Explain the routing decision for one message without sending it (sender: Afzender).

    The live gateway looks up the routing memory of the conversation (v2 §5); offline, give
    what it would know with the options (default: a conversation nobody took part in yet)."""
    settings = common.settings()
    codec, policy = common.catalogue(settings)
    # the offline decision makes no audit records: pseudonyms under a throwaway secret
    decision = Pipeline(
        codec, policy, Trail(Pseudonymiser(secrets.token_bytes(32))), settings.gateway_oin
    )
    raw = file.read_bytes()
    result: dict[str, Any] = {"refused": None, "recipients": []}
    besluit: Besluit | None = None
    try:
        afzender = codec.read_envelope(raw).kop.afzender.oin
    except Refused as refused:
        result["refused"] = _refusal(refused)
    else:
        feiten = Feiten(
            nu=nu or dt.datetime.now(dt.UTC),
            deelnemers=frozenset(deelnemer or ()),
            hg=hg,
            casusregie=casusregie,
            overdracht=overdracht,
            gevraagd=_gevraagd(gevraagd),
        )
        besluit = decision.route(ingress(raw, afzender), feiten)
    if isinstance(besluit, Weigering):
        result["refused"] = _refusal(besluit.refused)
    elif isinstance(besluit, Onbekend):
        result["refused"] = _refusal(
            Refused(
                Foutcode.AFZENDER_ONJUIST,
                f"OIN {afzender} is not a registered partner",
                element="kp:Afzender",
            )
        )
    elif isinstance(besluit, Aanvaarding):
        routering = besluit.gerouteerd.routering
        result["doel"] = routering.doel
        result["grondslagen"] = list(routering.grondslagen)
        result["policy"] = routering.policy_versie
        result["recipients"] = [
            {
                "rol": lev.ontvanger.partner.rol,
                "oin": lev.ontvanger.partner.oin,
                "naam": lev.ontvanger.partner.naam,
                "grondslag": lev.ontvanger.grondslag,
                "kept": sorted(lev.kept),
                "removed": sorted(lev.removed),
                "withheld": [
                    {
                        "field": a.veld,
                        "categories": sorted(a.categorieen),
                        "missing": sorted(a.ontbrekend),
                    }
                    for a in lev.achtergehouden
                ],
                # spec v2 §8: blocks under beroepsgeheim on a ground the doel does not accept
                # (the same for every recipient), and where the delivered blocks came from
                **(
                    {
                        "beroepsgeheim_withheld": [
                            {
                                "field": b.veld,
                                "ground": b.doorbrekingsgrond,
                                "source": b.bron,
                                "reason": b.reden,
                            }
                            for b in lev.beroepsgeheim
                        ]
                    }
                    if lev.beroepsgeheim
                    else {}
                ),
                # spec v2 §8: addresses marked afgeschermd this recipient did not receive, and
                # delivered blocks not to be shown to a betrokkene in their inzage
                **(
                    {
                        "afscherming_withheld": [
                            {"field": a.veld, "reason": a.reden} for a in lev.afscherming
                        ]
                    }
                    if lev.afscherming
                    else {}
                ),
                **(
                    {
                        "niet_delen_met": [
                            {"field": b.veld, "betrokkene": b.ref} for b in lev.beperkingen
                        ]
                    }
                    if lev.beperkingen
                    else {}
                ),
                **(
                    {
                        "provenance": [
                            {
                                "field": h.veld,
                                "source": h.bron,
                                "beroepsgeheim": h.beroepsgeheim,
                                "ground": h.doorbrekingsgrond,
                                "geaccordeerd": h.geaccordeerd,
                            }
                            for h in lev.herkomst
                        ]
                    }
                    if lev.herkomst
                    else {}
                ),
                "message": lev.payload.decode(),
            }
            for lev in besluit.leveringen
        ]
        result["normen"] = [
            {
                "naam": n.naam,
                "uiterlijk": n.uiterlijk.isoformat(timespec="seconds"),
                **({"ontvanger": n.ontvanger} if n.ontvanger else {}),
                **({"sleutel": n.sleutel} if n.sleutel else {}),
                # checked on arrival: met or missed already (v2 §10, acute inzet)
                **({"te_laat": n.gesloten > n.uiterlijk} if n.gesloten is not None else {}),
            }
            for n in besluit.normen
        ]
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_route(result)
    raise typer.Exit(1 if result["refused"] else 0)


def _gevraagd(option: str | None) -> tuple[Gevraagd, ...]:
    if option is None:
        return ()
    parts = option.split(":")
    if len(parts) != 3 or not all(parts):
        err.print("[red]--gevraagd is ASKER_OIN:TYPE:DOEL[/red]")
        raise typer.Exit(2)
    return (Gevraagd(*parts),)


def _refusal(refused: Refused) -> dict[str, Any]:
    return {
        "code": refused.code.value,
        "reason": refused.reden,
        "element": refused.element,
        "line": refused.regel,
    }


def _print_route(result: dict[str, Any]) -> None:
    if result["refused"]:
        refused = result["refused"]
        out.print(f"[red]refused[/red] {refused['code']}: {refused['reason']}")
        return
    out.print(
        f"doel [bold]{result['doel']}[/bold], grondslag {', '.join(result['grondslagen'])} "
        f"accepted (policy {result['policy']})"
    )
    for n in result["normen"]:
        wie = f" {n['ontvanger']}" if "ontvanger" in n else ""
        sleutel = f" · {n['sleutel']}" if "sleutel" in n else ""  # not [..]: rich markup
        laat = {True: " (te laat)", False: " (op tijd)"}.get(n.get("te_laat"), "")
        out.print(f"norm {n['naam']}{sleutel}{wie}: {n['uiterlijk']}{laat}")
    for r in result["recipients"]:
        out.rule(f"{r['rol']} {r['oin']} ({r['naam']}) under {r['grondslag']}")
        out.print(f"kept:    {', '.join(r['kept']) or '-'}")
        out.print(f"removed: {', '.join(r['removed']) or '-'}")
        for w in r["withheld"]:
            out.print(f"withheld free text {w['field']}: lacks {', '.join(w['missing'])}")
        for b in r.get("beroepsgeheim_withheld", []):
            out.print(f"withheld under beroepsgeheim {b['field']}: {b['reason']}")
        for a in r.get("afscherming_withheld", []):
            out.print(f"withheld shielded address {a['field']}: {a['reason']}")
        for b in r.get("niet_delen_met", []):
            out.print(f"not to be shown to betrokkene {b['betrokkene']}: {b['field']}")
        for h in r.get("provenance", []):
            grond = f", beroepsgeheim broken on {h['ground']}" if h["beroepsgeheim"] else ""
            out.print(f"provenance {h['field']}: {h['source'] or '-'}{grond}")
        out.print(r["message"], markup=False, highlight=False)


__all__ = ["route", "translate", "types", "validate"]
