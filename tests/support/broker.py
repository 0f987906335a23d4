"""Test support for the real RabbitMQ on 127.0.0.1:5672.

A test session gets its own vhost with the partner users (user name = OIN) that the gateway
really authenticates through the ``user_id`` property; every test gets its own prefix, so
topologies do not meet. Partner permissions are the production ones
(``gateway.transport.rabbit.partner_permissions``) with the prefix widened to any test prefix.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import time
import uuid
import warnings
from collections.abc import Iterable

import aio_pika

from gateway.tools.demo_scenarios import PARTNERS
from gateway.transport.rabbit import Topology, partner_permissions
from tests.support.catalogue import POLICY

# The rol of each test partner (the kp:Afzender/kp:Ontvanger rol attribute): the v1 partners
# of the repository's policy, as the demo names them. The suites built on these (the access
# matrix, every pair of partners) keep to them; the partners of v2 §2 (lokaal team, GI,
# crisisdienst) are registered by the suites about them (tests/system/test_lokaal_veld.py).
ROL = {
    "politie": "politie",
    "vt-twente": "veilig-thuis",
    "om": "openbaar-ministerie",
    "rvdk": "raad-kinderbescherming",
    "reclassering": "reclassering",
    "vt-rijnmond": "veilig-thuis",
}
OINS = {name: PARTNERS[name] for name in ROL}
PASSWORD = "kp-test-partner"  # noqa: S105 - a test user on a throw-away vhost
PREFIX_PATTERN = "kp-[0-9a-f]+"


def rabbitmqctl(*args: str) -> str:
    tool = shutil.which("rabbitmqctl")
    if tool is None:
        raise RuntimeError("rabbitmqctl is not installed: run ./run test, which installs it")
    stderr = ""
    timeouts = 0
    for attempt in range(10):
        # its own process group: on a time-out the whole tree (su, sh, beam) is ended, so
        # no stuck CLI keeps one of the few distribution ports the CLI may use
        process = subprocess.Popen(
            [tool, "-q", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            try:
                process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                # the CLI runs under su, whose children have a session of their own: one of
                # them may keep the pipes open after the group is gone; leave it, do not wait
                for pipe in (process.stdout, process.stderr):
                    if pipe is not None:
                        pipe.close()
                process.wait(timeout=10)
            stderr = "timed out after 60 s"
            timeouts += 1
            if timeouts == 2:  # a node that hangs twice is not coming back: fail, not wait
                break
            continue
        if process.returncode == 0:
            return stdout
        # Two rabbitmqctl processes at once can collide on the CLI's Erlang node name.
        if "Distribution failed" not in stderr or attempt == 9:
            break
        time.sleep(0.2 + random.random())  # noqa: S311 - jitter, not cryptography
    raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {stderr.strip()}")


def session_vhost() -> str:
    """A new vhost name for this test session; it names the session's process, so a later
    session can tell which vhosts an interrupted one left behind."""
    return f"kp-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def delete_stale_vhosts() -> list[str]:
    """Delete the vhosts of test sessions whose process is gone (killed before their
    teardown): their quorum queues would otherwise live on in the broker."""
    stale = []
    for name in rabbitmqctl("list_vhosts", "name").split():
        match = re.fullmatch(r"kp-test-(\d+)-[0-9a-f]{8}", name)
        if match and not _alive(int(match.group(1))):
            rabbitmqctl("delete_vhost", name)
            stale.append(name)
    return stale


def delete_vhost_if_possible(vhost: str) -> None:
    """Delete a test vhost, warning instead of failing: a vhost left behind is not a test's
    failure (the next session deletes it, :func:`delete_stale_vhosts`)."""
    try:
        delete_vhost(vhost)
    except RuntimeError as exc:
        warnings.warn(f"test vhost {vhost} not deleted: {exc}", stacklevel=2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def create_vhost(vhost: str) -> None:
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    add_partners(vhost, OINS.values())


def add_user(name: str) -> None:
    """Add a partner user with :data:`PASSWORD`; one that exists already is left as it is.
    Users belong to the broker, not to a vhost: another test session (an xdist worker that
    started at the same moment) may have added it between our look and our add."""
    try:
        rabbitmqctl("add_user", name, PASSWORD)
    except RuntimeError as exc:
        if "already exists" not in str(exc):
            raise


def add_partners(vhost: str, oins: Iterable[str]) -> None:
    """A RabbitMQ user per partner OIN (password :data:`PASSWORD`) with the production
    permissions of ``deploy/`` on ``vhost``, for every test prefix."""
    users = set(rabbitmqctl("list_users").split())
    marker = Topology(prefix="PREFIX", oins=(), retry_delays_ms=())
    for oin in oins:
        if oin not in users:
            add_user(oin)
        configure, write, read = partner_permissions(marker, oin)
        widen = re.escape("PREFIX")
        rabbitmqctl(
            "set_permissions",
            "-p",
            vhost,
            oin,
            configure.replace(widen, PREFIX_PATTERN),
            write.replace(widen, PREFIX_PATTERN),
            read.replace(widen, PREFIX_PATTERN),
        )


def delete_vhost(vhost: str) -> None:
    rabbitmqctl("delete_vhost", vhost)


async def delete_topology(vhost: str, topology: Topology, *, url: str | None = None) -> None:
    """Remove a test's queues and exchanges, so the broker does not pile up quorum queues
    (on the shared broker's ``vhost``, or on the broker at ``url``).

    The gateway declares the queues of every partner of its policy, also where the test
    talks to fewer: those of the default policy's partners are removed too (deleting a queue
    that does not exist is no error), or every test would leave the v2 partners' inboxes
    behind, thousands in a run, until the broker slows to a halt and deleting the session's
    vhost takes longer than the run."""
    oins = tuple(dict.fromkeys((*topology.oins, *POLICY.partners)))
    topology = Topology(topology.prefix, oins, topology.retry_delays_ms)
    connection = await aio_pika.connect_robust(url or f"amqp://guest:guest@127.0.0.1:5672/{vhost}")
    try:
        channel = await connection.channel()
        for name, _args in topology.queues():
            await channel.queue_delete(name)
        for name, _kind in topology.exchanges():
            await channel.exchange_delete(name)
    finally:
        await connection.close()


def new_prefix() -> str:
    return f"kp-{uuid.uuid4().hex[:10]}"


__all__ = [
    "OINS",
    "PASSWORD",
    "PREFIX_PATTERN",
    "ROL",
    "add_partners",
    "add_user",
    "create_vhost",
    "delete_stale_vhosts",
    "delete_topology",
    "delete_vhost",
    "delete_vhost_if_possible",
    "new_prefix",
    "rabbitmqctl",
    "session_vhost",
]
