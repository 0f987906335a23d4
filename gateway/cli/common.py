"""What every command shares: the consoles, settings, codec and policy as the CLI loads them."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from gateway.codec.envelope import MessageCodec
from gateway.domain.errors import Misconfigured, Refused
from gateway.observe import logs
from gateway.policy.catalogue import Policy
from gateway.runtime import app
from gateway.runtime.settings import Settings, load_settings

# Wide when not a terminal, so piped output (grep, files) is never cut off.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)
err = Console(stderr=True, soft_wrap=True)


def read_settings() -> Settings:
    """The settings, read once; when one is wrong, exit 2 naming its environment variable
    and why (never a traceback, never a secret)."""
    try:
        return load_settings()
    except Misconfigured as exc:
        err.print("[red]configuration error[/red] ", end="")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None


def settings() -> Settings:
    """:func:`read_settings`, with the logs of a command (warnings and worse)."""
    settings = read_settings()
    logs.configure("warning", json=settings.log_json)
    return settings


def catalogue(settings: Settings, directory: Path | None = None) -> tuple[MessageCodec, Policy]:
    """The codec and checked policy (of ``directory`` instead of the settings' policy folder,
    when given), or exit 2 naming file, line and problem."""
    if directory is not None:
        settings = settings.model_copy(update={"policy_dir": directory})
    try:
        return app.catalogue(settings)
    except Misconfigured as exc:
        err.print("[red]policy error[/red] ", end="")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None


def codec(settings: Settings) -> MessageCodec:
    return catalogue(settings)[0]


def policy(settings: Settings, directory: Path | None = None) -> Policy:
    return catalogue(settings, directory)[1]


def problem(path: Path | str, refused: Refused) -> str:
    element = refused.element or "-"
    return f"{path}:{refused.regel or 0}: {refused.code.value}: {element}: {refused.reden}"


__all__ = ["codec", "err", "out", "policy", "problem", "read_settings", "settings"]
