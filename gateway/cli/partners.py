"""Partners on RabbitMQ: provision a partner's user (a generated secret) and permissions."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlsplit

import typer

from gateway.cli import common
from gateway.cli.common import err, out
from gateway.domain.errors import Misconfigured
from gateway.transport.provisioning import PartnerUser, generate_secret, provision
from gateway.transport.rabbit import Topology

partner_app = typer.Typer(
    help="Partners on RabbitMQ: users with a generated secret, permissions.",
    no_args_is_help=True,
)


def vhost_of(amqp_url: str) -> str:
    """The vhost an amqp:// URL names ("/" when the path is empty or "/")."""
    path = urlsplit(amqp_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


@partner_app.command("add")
def partner_add(
    oin: Annotated[str, typer.Argument(help="The partner's OIN (its RabbitMQ user name).")],
    secret_file: Annotated[
        Path | None,
        typer.Option(
            help="Write the secret to this new file (mode 0600) instead of standard output."
        ),
    ] = None,
    vhost: Annotated[
        str | None, typer.Option(help="The vhost (default: the one in KETENPOORT_AMQP_URL).")
    ] = None,
) -> None:
    """Create (or rotate) a registered partner's RabbitMQ user with a newly generated secret,
    and set its permissions: write to the ingress exchange, read and declare its own inbox.
    The secret is shown once; hand it to the partner over a protected channel."""
    settings = common.settings()
    policy = common.policy(settings)
    if oin not in policy.partners:
        err.print(f"{oin} is not a partner in the policy register ({settings.policy_dir})")
        raise typer.Exit(2)
    topology = Topology(settings.amqp_prefix, tuple(policy.partners), settings.retry_delays_ms)
    user = PartnerUser.of(topology, oin, vhost or vhost_of(settings.amqp_url.get_secret_value()))
    secret = generate_secret()
    if secret_file is not None:
        # exclusive create with 0600: never overwrite, never readable by others
        descriptor = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secret + "\n")
    try:
        provision(user, secret)
    except Misconfigured as exc:
        if secret_file is not None:
            secret_file.unlink()
        err.print(f"[red]not provisioned[/red]: {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None
    err.print(
        f"partner {oin} ({policy.partners[oin].naam}) in vhost {user.vhost}: "
        f"configure {user.configure}, write {user.write}, read {user.read}",
        markup=False,
        highlight=False,
    )
    if secret_file is None:
        sys.stdout.write(secret + "\n")
    else:
        out.print(f"secret written to {secret_file}")


__all__ = ["partner_app", "vhost_of"]
