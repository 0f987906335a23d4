"""What every command shares: the consoles, settings, codec and policy as the CLI loads them."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import typer
from rich.console import Console

from gateway.codec.envelope import MessageCodec
from gateway.domain.errors import Misconfigured, Refused
from gateway.domain.model import BerichtType, Rol
from gateway.observe import logs
from gateway.policy.catalogue import Policy, load_policy
from gateway.runtime.settings import Settings, load_settings

# Wide when not a terminal, so piped output (grep, files) is never cut off.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)
err = Console(stderr=True, soft_wrap=True)


def settings() -> Settings:
    settings = load_settings()
    logs.configure("warning", json=settings.log_json)
    return settings


def codec(settings: Settings) -> MessageCodec:
    return MessageCodec(
        settings.schema_dir, max_bytes=settings.max_bytes, max_depth=settings.max_depth
    )


def policy(
    directory: Path, *, leesbaar: Mapping[Rol, frozenset[BerichtType]] | None = None
) -> Policy:
    """The policy, or exit 2 naming file, line and problem. ``leesbaar`` (the codec's
    ``readable()``): also check that every rol can send what the policy lets it send."""
    try:
        return load_policy(directory, leesbaar=leesbaar)
    except Misconfigured as exc:
        err.print("[red]policy error[/red] ", end="")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None


def problem(path: Path | str, refused: Refused) -> str:
    element = refused.element or "-"
    return f"{path}:{refused.regel or 0}: {refused.code.value}: {element}: {refused.reden}"


__all__ = ["codec", "err", "out", "policy", "problem", "settings"]
