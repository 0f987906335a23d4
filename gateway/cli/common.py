"""What every command shares: the consoles, settings, codec and policy as the CLI loads them."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
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


def under_tls_configuration() -> None:
    """For a command that serves the HTTPS door (``serve``, ``demo``): when Python's ssl cannot
    limit the TLS groups, run the command again under the OpenSSL configuration that does
    (``gateway/web/openssl.cnf``; OpenSSL reads its configuration once, at start). Returns
    when nothing needs doing; an operator's own ``OPENSSL_CONF`` is kept."""
    from gateway.web import tls  # noqa: PLC0415 - the web stack only where it is served

    conf = tls.openssl_conf_to_load()
    if conf is not None:
        os.environ["OPENSSL_CONF"] = str(conf)
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])  # noqa: S606 - ourselves


@contextlib.contextmanager
def exit_when_misconfigured(what: str) -> Iterator[None]:
    """Misconfigured inside: ``what`` and the reason on stderr, exit 2 (no traceback)."""
    try:
        yield
    except Misconfigured as exc:
        err.print(f"[red]{what}[/red] ", end="")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None


def read_settings() -> Settings:
    """The settings, read once; when one is wrong, exit 2 naming its environment variable
    and why (never a traceback, never a secret)."""
    with exit_when_misconfigured("configuration error"):
        return load_settings()


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
    with exit_when_misconfigured("policy error"):
        return app.catalogue(settings)


def codec(settings: Settings) -> MessageCodec:
    return catalogue(settings)[0]


def policy(settings: Settings, directory: Path | None = None) -> Policy:
    return catalogue(settings, directory)[1]


def problem(path: Path | str, refused: Refused) -> str:
    element = refused.element or "-"
    return f"{path}:{refused.regel or 0}: {refused.code.value}: {element}: {refused.reden}"


__all__ = [
    "codec",
    "err",
    "exit_when_misconfigured",
    "out",
    "policy",
    "problem",
    "read_settings",
    "settings",
]
