"""A private RabbitMQ node for tests that stop, kill or restart the broker.

The machine's shared RabbitMQ (``rabbit@localhost`` on 127.0.0.1:5672) is used by other test
runs at the same time and is never touched here. A test that restarts the broker starts a
node of its own from the installed ``rabbitmq-server``:

- its own node name (``kp-<hex>@localhost``), a free AMQP port and a free distribution port,
  both on 127.0.0.1 (it registers with the running epmd like any node);
- its own ``rabbitmq-env.conf`` (empty: the shared one names ``rabbit@localhost``),
  ``rabbitmq.conf`` (one TCP listener; no management, no prometheus) and an empty
  ``enabled_plugins``; its database (``RABBITMQ_MNESIA_BASE``) and logs (``RABBITMQ_LOG_BASE``)
  in a temporary directory owned by the ``rabbitmq`` user;
- the Erlang cookie of the ``rabbitmq`` user (``HOME=/var/lib/rabbitmq``), so
  ``rabbitmqctl -n <node>`` controls it exactly like the shared node;
- the partner users (name = OIN, permissions as in ``tests.support.broker.create_vhost``) and guest
  on vhost ``/``, loaded from a definitions file when the node boots (one file instead of a
  dozen ``rabbitmqctl`` calls of a second or two each) and again after every restart.

Control: ``start()`` runs ``/usr/lib/rabbitmq/bin/rabbitmq-server`` in the foreground as the
rabbitmq user, in a process group of its own, and returns once the port answers the AMQP
header (2-6 s here, depending on the load of the machine); ``stop()`` sends SIGTERM to
``rabbitmq-server`` (a clean broker shutdown, about 1 s; no ``rabbitmqctl stop`` round trip
through ``su``); ``kill()`` sends SIGKILL to the whole process group (a crash);
``restart(hard=False)`` is stop (or kill) + start on the same database: durable quorum queues
and their messages survive, every connection is dropped; ``ctl(...)`` is
``rabbitmqctl -n <node> ...`` for inspection; ``cleanup()`` stops the node (killed if it does
not stop) and removes its directory. ``timings`` holds how long each step took.

If the test process itself is killed (SIGKILL, or ``timeout`` sending SIGTERM to pytest),
no finaliser runs: a node still running then is ``kp-<hex>@localhost`` (``rabbitmqctl -n
<node> stop``) and its directory is ``/tmp/kp-rabbit-*``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from gateway.transport.provisioning import password_hash
from gateway.transport.rabbit import Topology, partner_permissions
from tests.support.broker import OINS, PASSWORD, PREFIX_PATTERN, rabbitmqctl

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
RABBITMQ_USER = "rabbitmq"
RABBITMQ_HOME = Path("/var/lib/rabbitmq")  # the rabbitmq user's home: its Erlang cookie
START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0


class PrivateBrokerUnavailableError(RuntimeError):
    """A private node cannot be started on this machine (the reason says why)."""


# epmd, the shared node's AMQP and distribution ports, and the ports rabbitmqctl takes for
# itself (35672-35682: other test runs call it all the time)
RESERVED_PORTS = {4369, 5672, 25672, *range(35672, 35683)}


def free_port(taken: set[int] = RESERVED_PORTS) -> int:
    """A port nobody listens on now, outside the ports RabbitMQ's own tools use."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            return port


def speaks_amqp(port: int, timeout: float = 2.0) -> bool:
    """True when 127.0.0.1:port answers an AMQP 0-9-1 header with a Connection.Start frame."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            frame = sock.recv(7)
    except OSError:
        return False
    return len(frame) == 7 and frame[0] == 1  # frame type 1: a method frame


def definitions() -> dict[str, object]:
    """guest and the partner users on vhost ``/``; partner permissions as on the shared node."""
    marker = Topology(prefix="PREFIX", oins=(), retry_delays_ms=())
    widen = re.escape("PREFIX")
    users: list[dict[str, object]] = [
        {
            "name": "guest",
            "password_hash": password_hash("guest"),
            "hashing_algorithm": "rabbit_password_hashing_sha256",
            "tags": ["administrator"],
        }
    ]
    permissions: list[dict[str, str]] = [
        {"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
    ]
    for oin in OINS.values():
        users.append(
            {
                "name": oin,
                "password_hash": password_hash(PASSWORD),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
            }
        )
        configure, write, read = partner_permissions(marker, oin)
        permissions.append(
            {
                "user": oin,
                "vhost": "/",
                "configure": configure.replace(widen, PREFIX_PATTERN),
                "write": write.replace(widen, PREFIX_PATTERN),
                "read": read.replace(widen, PREFIX_PATTERN),
            }
        )
    return {"vhosts": [{"name": "/"}], "users": users, "permissions": permissions}


class RunAs(TypedDict, total=False):
    """Whom :class:`subprocess.Popen` runs the node as (nothing given: this process's user)."""

    user: str
    group: str
    extra_groups: list[str]


@dataclass
class PrivateBroker:
    """One private RabbitMQ node (see the module docstring). Not thread-safe."""

    base: Path
    node: str
    port: int
    dist_port: int
    process: subprocess.Popen[bytes] | None = None
    timings: dict[str, list[float]] = field(default_factory=dict)

    # ----------------------------------------------------------------- set-up

    @classmethod
    def create(cls) -> PrivateBroker:
        """Prepare (not start) a node: directory, configuration, ports."""
        if not SERVER.exists() or shutil.which("rabbitmqctl") is None:
            raise PrivateBrokerUnavailableError(f"{SERVER} or rabbitmqctl is not installed")
        try:
            import pwd  # noqa: PLC0415 - POSIX only

            account = pwd.getpwnam(RABBITMQ_USER)
        except KeyError as exc:
            raise PrivateBrokerUnavailableError(f"there is no {RABBITMQ_USER} user") from exc
        if os.geteuid() not in (0, account.pw_uid):
            raise PrivateBrokerUnavailableError(
                f"only root or {RABBITMQ_USER} can start a RabbitMQ node"
            )
        port = free_port()
        dist_port = free_port(RESERVED_PORTS | {port})
        base = Path(tempfile.mkdtemp(prefix="kp-rabbit-"))
        try:
            (base / "mnesia").mkdir()
            (base / "log").mkdir()
            (base / "rabbitmq-env.conf").write_text("")  # not /etc/rabbitmq/rabbitmq-env.conf
            (base / "enabled_plugins").write_text("[].\n")
            (base / "definitions.json").write_text(json.dumps(definitions(), indent=1))
            (base / "rabbitmq.conf").write_text(
                f"listeners.tcp.local = 127.0.0.1:{port}\n"
                "loopback_users.guest = true\n"
                f"load_definitions = {base / 'definitions.json'}\n"
                "log.file.level = info\n"
            )
            for path in (base, *base.iterdir()):
                os.chown(path, account.pw_uid, account.pw_gid)
        except OSError:
            shutil.rmtree(base, ignore_errors=True)
            raise
        node = f"kp-{secrets.token_hex(5)}@localhost"
        return cls(base=base, node=node, port=port, dist_port=dist_port)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def partner_url(self, oin: str) -> str:
        return f"amqp://{oin}:{PASSWORD}@127.0.0.1:{self.port}/"

    @property
    def server_log(self) -> Path:
        return self.base / "server.out"

    def _env(self) -> dict[str, str]:
        base = self.base
        return {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "HOME": str(RABBITMQ_HOME),
            "USER": RABBITMQ_USER,
            "LOGNAME": RABBITMQ_USER,
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),  # none
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_PID_FILE": str(base / "node.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    # ----------------------------------------------------------------- life cycle

    def _record(self, what: str, began: float) -> float:
        took = time.monotonic() - began
        self.timings.setdefault(what, []).append(took)
        return took

    def start(self, timeout: float = START_TIMEOUT) -> float:
        """Start the node and wait until its port speaks AMQP; returns the seconds it took."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"{self.node} is already running")
        began = time.monotonic()
        if speaks_amqp(self.port, timeout=0.5):
            raise PrivateBrokerUnavailableError(f"port {self.port} is taken by something else")
        with self.server_log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(SERVER)],
                env=self._env(),
                cwd=self.base,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # its own process group: kill() ends the whole tree (sh, erl, beam, helpers)
                start_new_session=True,
                **self._as_rabbitmq(),
            )
        deadline = began + timeout
        while not speaks_amqp(self.port):
            if self.process.poll() is not None:
                raise PrivateBrokerUnavailableError(
                    f"{self.node} exited with {self.process.returncode} while starting:\n"
                    + self.tail()
                )
            if time.monotonic() > deadline:
                self.kill()
                raise PrivateBrokerUnavailableError(
                    f"{self.node} did not accept AMQP within {timeout} s\n" + self.tail()
                )
            time.sleep(0.1)
        return self._record("start_s", began)

    def _as_rabbitmq(self) -> RunAs:
        if os.geteuid() != 0:
            return {}
        return {"user": RABBITMQ_USER, "group": RABBITMQ_USER, "extra_groups": []}

    def stop(self, timeout: float = STOP_TIMEOUT) -> float:
        """Stop the node cleanly (SIGTERM to rabbitmq-server: the broker shuts down, the VM
        exits); killed if it takes longer than ``timeout``. Returns the seconds it took."""
        began = time.monotonic()
        process = self.process
        if process is None or process.poll() is not None:
            return 0.0
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._wait_port_closed(timeout)
        self._end_group(process.pid)  # helpers the VM left behind, if any
        return self._record("stop_s", began)

    def kill(self) -> None:
        """SIGKILL the node's whole process group: a broker crash."""
        process = self.process
        if process is None:
            return
        self._end_group(process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        self._wait_port_closed(30)

    @staticmethod
    def _end_group(pgid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)

    def _wait_port_closed(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while speaks_amqp(self.port, timeout=0.5) and time.monotonic() < deadline:
            time.sleep(0.1)

    def restart(self, *, hard: bool = False, down_for: float = 0.0) -> float:
        """Stop (or, ``hard``, kill) the node and start it again on the same database;
        returns the seconds the broker was unreachable."""
        began = time.monotonic()
        if hard:
            self.kill()
        else:
            self.stop()
        time.sleep(down_for)
        self.start()
        return self._record("restart_s", began)

    def cleanup(self) -> None:
        """Stop the node (killed if it does not stop) and remove its directory."""
        try:
            self.stop(timeout=30)
        finally:
            if self.process is not None:
                self._end_group(self.process.pid)
            shutil.rmtree(self.base, ignore_errors=True)

    # ----------------------------------------------------------------- inspection

    def ctl(self, *args: str) -> str:
        """``rabbitmqctl -n <node> ARGS`` (run as the rabbitmq user, which has the cookie;
        retried when it collides with another rabbitmqctl on the CLI's distribution ports)."""
        return rabbitmqctl("-n", self.node, *args)

    def tail(self, chars: int = 3000) -> str:
        """The end of the server's output and of its log file (for failure messages)."""
        parts = []
        for path in (self.server_log, *sorted((self.base / "log").glob("*.log"))):
            with contextlib.suppress(OSError):
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)


@contextlib.contextmanager
def private_broker() -> Iterator[PrivateBroker]:
    """A started private node; stopped and removed afterwards, also when the test fails."""
    broker = PrivateBroker.create()
    try:
        broker.start()
        yield broker
    finally:
        broker.cleanup()
