"""The ``ketenpoort`` command line (a face: imported by nothing). Each group of commands lives
in its own module; this one assembles them."""

from __future__ import annotations

import inspect

import typer

from gateway.cli import audit, catalogue, messages, operations, partners, tools

app = typer.Typer(
    name="ketenpoort",
    help="Ketenpoort: the interoperability gateway of the zorg-straf chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

app.command()(messages.validate)
app.command()(messages.translate)
app.command()(messages.types)
app.command()(messages.route)
app.command()(catalogue.topology)
app.command()(operations.serve)
app.command()(operations.status)
app.command("settings")(operations.show_settings)
app.command()(tools.demo)

app.add_typer(audit.audit_app, name="audit")
app.add_typer(operations.dlq_app, name="dlq")
app.add_typer(operations.ops_app, name="ops")
app.add_typer(catalogue.policy_app, name="policy")
app.add_typer(catalogue.schemas_app, name="schemas")
app.add_typer(tools.bench_app, name="bench")
app.add_typer(operations.certs_app, name="certs")
app.add_typer(operations.officer_app, name="officer")
app.add_typer(partners.partner_app, name="partner")


def one_line_summaries(group: typer.Typer) -> None:
    """Give every command of ``group`` and its subgroups a one-line summary: the first
    paragraph of its help, its line breaks joined. Typer's command listing keeps the line
    breaks of a docstring's first paragraph, which breaks sentences in the middle of a table
    cell; a command's own ``--help`` still shows its whole text."""
    for info in group.registered_commands:
        if info.short_help is None:
            text = info.help or inspect.getdoc(info.callback) or ""
            info.short_help = " ".join(text.split("\n\n")[0].split())
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            one_line_summaries(sub.typer_instance)


one_line_summaries(app)

__all__ = ["app", "one_line_summaries"]

if __name__ == "__main__":  # pragma: no cover
    app()
