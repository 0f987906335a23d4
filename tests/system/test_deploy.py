"""The deployment files (deploy/, Dockerfile) fit the gateway they deploy and each other.

Fast and offline: the files are read as data and checked against gateway.runtime.settings.Settings
and against one another (names, paths, users, labels). `docker compose config` and
`kubectl kustomize` run too where those tools are installed, and are skipped otherwise.
That deploy/rabbitmq/definitions.json is the declared topology is tests/test_topology.py's.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from gateway.runtime.settings import Settings
from gateway.transport.rabbit import Topology, partner_permissions
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
RABBITMQ_DIR = DEPLOY / "rabbitmq"
DASHBOARD = DEPLOY / "grafana" / "ketenpoort.json"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
K8S = DEPLOY / "k8s"
DOCKERFILE = ROOT / "Dockerfile"
POLICY_DIR = ROOT / "policy" / "v1"

PREFIX = "KETENPOORT_"
FIELDS = frozenset(Settings.model_fields)
GATEWAYS = ("gateway-1", "gateway-2")
RABBITS = ("rabbitmq-1", "rabbitmq-2", "rabbitmq-3")
NAMESPACE = "ketenpoort"
PLACEHOLDER = "CHANGE-ME"


def setting(env_name: str) -> str | None:
    """The Settings field an environment variable sets, or None."""
    if not env_name.startswith(PREFIX):
        return None
    name = env_name.removeprefix(PREFIX).lower()
    return name if name in FIELDS else None


def is_path_setting(field: str) -> bool:
    return field.endswith(("_file", "_dir"))


def under(path: str, folders: Iterable[str]) -> bool:
    """True when ``path`` is one of ``folders`` or lies below one."""
    target = PurePosixPath(path)
    return any(target == PurePosixPath(f) or PurePosixPath(f) in target.parents for f in folders)


def settings_from(env: dict[str, str]) -> Settings:
    """Validate environment values the way the gateway reads them (no .env file)."""
    values: dict[str, Any] = {}
    for name, value in env.items():
        field = setting(name)
        assert field is not None, f"{name} is not a setting of the gateway"
        values[field] = value
    return Settings(_env_file=None, **values)


# --------------------------------------------------------------------------- every file


def deploy_files(*suffixes: str) -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix in suffixes)


@pytest.mark.parametrize(
    "path", deploy_files(".yaml", ".yml"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_every_yaml_file_parses(path: Path) -> None:
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert documents, f"{path} holds no YAML document"
    assert all(isinstance(d, dict) for d in documents)


def test_every_json_file_of_deploy_has_its_content_checked() -> None:
    """Every JSON file of deploy/ is checked for its content below (a new one needs checks)."""
    assert deploy_files(".json") == sorted(
        [RABBITMQ_DIR / "definitions.json", RABBITMQ_DIR / "users.json", DASHBOARD]
    )


def test_the_grafana_dashboard_is_whole() -> None:
    """Every panel is titled and queries the selected job through the selected data source
    (the variables exist); panel ids and each panel's refIds are unique. That the queries are
    valid PromQL and name exposed metrics is tests/system/test_alerts.py's."""
    data = json.loads(DASHBOARD.read_text())
    assert data["uid"]
    assert data["title"]
    variables = {v["name"] for v in data["templating"]["list"]}
    assert {"datasource", "job"} <= variables
    panels = data["panels"]
    assert len(panels) >= 5
    assert len({p["id"] for p in panels}) == len(panels), "two panels share an id"
    for panel in panels:
        assert panel["title"], panel["id"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        targets = panel["targets"]
        assert targets, panel["title"]
        assert len({t["refId"] for t in targets}) == len(targets), panel["title"]
        for target in targets:
            assert 'job="$job"' in target["expr"], (panel["title"], target["expr"])
            assert "ketenpoort_" in target["expr"], (panel["title"], target["expr"])


def test_rabbitmq_definitions_are_a_whole_topology() -> None:
    """Every binding joins a declared exchange and queue in a declared vhost; every queue is a
    durable quorum queue; the definitions create no users (partners are provisioned with a
    secret of their own by ``ketenpoort partner add``), and the permissions a partner gets
    there reach exactly the ingress exchange and its own inbox."""
    data = json.loads((RABBITMQ_DIR / "definitions.json").read_text())
    vhosts = {v["name"] for v in data["vhosts"]}
    assert vhosts == {"/"}
    exchanges = {e["name"]: e for e in data["exchanges"]}
    queues = {q["name"]: q for q in data["queues"]}
    assert exchanges
    assert queues
    assert data["bindings"]
    for item in [*exchanges.values(), *queues.values(), *data["bindings"]]:
        assert item["vhost"] in vhosts, item
    for queue in queues.values():
        assert queue["durable"], queue["name"]
        assert queue["arguments"]["x-queue-type"] == "quorum", queue["name"]
        dead_letter = queue["arguments"].get("x-dead-letter-exchange")
        assert dead_letter in (None, "", *exchanges), queue["name"]
    for binding in data["bindings"]:
        assert binding["source"] in exchanges, binding
        assert binding["destination_type"] == "queue"
        assert binding["destination"] in queues, binding
    bound = {b["destination"] for b in data["bindings"]}
    dead_letter_targets = {
        q["arguments"].get("x-dead-letter-routing-key") for q in queues.values()
    } - {None}
    assert set(queues) == bound | dead_letter_targets, "a queue nothing can reach"
    assert "users" not in data  # no user without a secret of its own
    assert "permissions" not in data
    oins = tuple(
        p["oin"] for p in yaml.safe_load((POLICY_DIR / "partners.yaml").read_text())["partners"]
    )
    topology = Topology("ketenpoort", oins, Settings().retry_delays_ms)
    assert set(topology.oins) >= {
        q.removeprefix("ketenpoort.inbox.") for q in queues if ".inbox." in q
    }
    for oin in topology.oins:
        configure, write, read = partner_permissions(topology, oin)
        declarable = [n for n in queues if re.fullmatch(configure, n)]
        writable = [n for n in exchanges if re.fullmatch(write, n)]
        readable = [n for n in queues if re.fullmatch(read, n)]
        assert declarable == [f"ketenpoort.inbox.{oin}"], oin
        assert writable == ["ketenpoort.ingress"], oin
        assert readable == [f"ketenpoort.inbox.{oin}"], oin


def test_rabbitmq_users_are_the_gateway_and_an_administrator() -> None:
    data = json.loads((RABBITMQ_DIR / "users.json").read_text())
    users = {u["name"]: u for u in data["users"]}
    assert set(users) == {"ketenpoort", "admin"}
    assert all(PLACEHOLDER in u["password"] for u in users.values())  # set per installation
    assert users["admin"]["tags"] == ["administrator"]
    assert users["ketenpoort"]["tags"] == []
    vhosts = {v["name"] for v in data["vhosts"]}
    assert {p["user"] for p in data["permissions"]} == set(users)
    for permission in data["permissions"]:
        assert permission["vhost"] in vhosts
    [gateway] = [p for p in data["permissions"] if p["user"] == "ketenpoort"]
    prefix = Settings(_env_file=None).amqp_prefix
    for kind in ("configure", "write", "read"):
        assert re.match(gateway[kind], f"{prefix}.ingress"), kind
        assert not re.match(gateway[kind], "other.queue"), f"{kind} wider than the prefix"


# --------------------------------------------------------------------------- compose


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=VALUE list form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def mounts(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(source, target) of every volume of a service, short or long syntax."""
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            yield str(volume.get("source", "")), str(volume["target"])
        else:
            source, target = str(volume).split(":")[:2]
            yield source, target


def is_bind(source: str) -> bool:
    return source.startswith((".", "/", "~"))


def built_here(service: dict[str, Any]) -> bool:
    """Built from the repository's Dockerfile (the gateways and the one-shot services)."""
    build = service.get("build")
    if build is None:
        return False
    context = build if isinstance(build, str) else build.get("context", ".")
    return (DEPLOY / context).resolve() == ROOT


def test_compose_has_the_whole_stack(compose: dict[str, Any]) -> None:
    names = set(services(compose))
    assert {*RABBITS, "postgres", *GATEWAYS, "prometheus", "certs", "keys"} <= names
    assert services(compose)["postgres"]["image"].startswith("postgres:15")
    for name in RABBITS:
        assert re.match(r"rabbitmq:3\.1[23][.\d]*-management$", services(compose)[name]["image"])
    for name in (*GATEWAYS, "certs", "keys"):
        assert built_here(services(compose)[name]), f"{name} is not built from the Dockerfile"


def test_rabbitmq_nodes_form_one_cluster(compose: dict[str, Any]) -> None:
    nodes = {name: services(compose)[name] for name in RABBITS}
    cookies = {environment(s).get("RABBITMQ_ERLANG_COOKIE") for s in nodes.values()}
    assert len(cookies) == 1, "the nodes must share one Erlang cookie"
    assert None not in cookies
    assert "" not in cookies
    conf = (RABBITMQ_DIR / "rabbitmq.conf").read_text()
    peers = set(re.findall(r"^cluster_formation\.classic_config\.nodes\.\d+ = (\S+)$", conf, re.M))
    assert "cluster_formation.peer_discovery_backend = classic_config" in conf
    assert peers == {f"rabbit@{s['hostname']}" for s in nodes.values()}
    assert re.search(r"^default_queue_type = quorum$", conf, re.M)
    # The node every gateway connects to by one name: an alias that all three carry.
    for service in nodes.values():
        assert "rabbitmq" in service["networks"]["default"]["aliases"]
    for name in RABBITS[1:]:
        assert "rabbitmq-1" in nodes[name]["depends_on"], f"{name} must join rabbitmq-1"


def test_rabbitmq_nodes_import_the_topology_and_users(compose: dict[str, Any]) -> None:
    conf = (RABBITMQ_DIR / "rabbitmq.conf").read_text()
    found = re.search(r"^definitions\.local\.path = (\S+)$", conf, re.M)
    assert found, "rabbitmq.conf names no definitions folder"
    folder = found.group(1)
    for name in RABBITS:
        imported = {
            (DEPLOY / source).resolve()
            for source, target in mounts(services(compose)[name])
            if under(target, [folder]) and target != folder
        }
        assert imported == {RABBITMQ_DIR / "definitions.json", RABBITMQ_DIR / "users.json"}
        assert any(
            t.startswith("/etc/rabbitmq/conf.d/") for _, t in mounts(services(compose)[name])
        )


def test_gateway_user_may_use_every_exchange_and_queue_of_the_topology() -> None:
    topology = json.loads((RABBITMQ_DIR / "definitions.json").read_text())
    users = json.loads((RABBITMQ_DIR / "users.json").read_text())
    permission = next(p for p in users["permissions"] if p["user"] == "ketenpoort")
    names = [e["name"] for e in topology["exchanges"]] + [q["name"] for q in topology["queues"]]
    for kind in ("configure", "write", "read"):
        pattern = re.compile(permission[kind])
        assert all(pattern.match(name) for name in names), f"{kind} permission too narrow"
    # partner users are provisioned one by one (ketenpoort partner add), never in these files
    assert "users" not in topology
    partners = {
        p["oin"] for p in yaml.safe_load((POLICY_DIR / "partners.yaml").read_text())["partners"]
    }
    assert not partners & {u["name"] for u in users["users"]}, "users.json defines a partner"


def test_gateways_are_two_replicas_with_their_own_audit_log(compose: dict[str, Any]) -> None:
    log_ids = [environment(services(compose)[g]).get(f"{PREFIX}AUDIT_LOG_ID") for g in GATEWAYS]
    assert None not in log_ids
    assert len(set(log_ids)) == len(GATEWAYS), "each replica needs its own audit log"
    for log_id in log_ids:
        assert settings_from({f"{PREFIX}AUDIT_LOG_ID": str(log_id)}).audit_log_id == log_id


def test_every_variable_a_gateway_image_service_sets_is_a_setting(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        if not built_here(service):
            continue
        env = environment(service)
        unknown = sorted(n for n in env if setting(n) is None)
        assert not unknown, f"{name} sets variables the gateway does not read: {unknown}"
        settings_from(env)  # and the values are valid


def test_gateway_settings_fit_the_stack(compose: dict[str, Any]) -> None:
    rabbit_users = {
        u["name"]: u.get("password")
        for u in json.loads((RABBITMQ_DIR / "users.json").read_text())["users"]
    }
    postgres = environment(services(compose)["postgres"])
    databases = {postgres["POSTGRES_DB"]} | set(
        re.findall(r"CREATE DATABASE (\w+)", (DEPLOY / "postgres" / "init.sql").read_text())
    )
    for gateway in GATEWAYS:
        service = services(compose)[gateway]
        settings = settings_from(environment(service))
        amqp = urlsplit(settings.amqp_url.get_secret_value())
        assert amqp.hostname == "rabbitmq"  # the alias of all three nodes
        assert rabbit_users.get(amqp.username or "") == amqp.password
        for dsn in (settings.state_dsn, settings.audit_dsn):
            url = urlsplit(dsn)
            assert url.scheme == "postgresql"
            assert url.hostname == "postgres"
            assert (url.username, url.password) == (
                postgres["POSTGRES_USER"],
                postgres["POSTGRES_PASSWORD"],
            )
            assert url.path.lstrip("/") in databases
        assert settings.state_dsn != settings.audit_dsn
        assert settings.http_host == "0.0.0.0"  # noqa: S104 - a container listens on all
        assert settings.http_port == 8443
        assert settings.http_enabled
        assert settings.log_json
        # Every file and folder the gateway reads is in a volume it mounts.
        targets = [target for _, target in mounts(service)]
        for field in FIELDS:
            value = getattr(settings, field)
            if is_path_setting(field) and f"{PREFIX}{field.upper()}" in environment(service):
                assert under(str(value), targets), f"{gateway}: {field}={value} is not mounted"
        for dependency in ("certs", "keys"):
            condition = service["depends_on"][dependency]["condition"]
            assert condition == "service_completed_successfully"


def test_one_shot_services_write_where_the_gateways_read(compose: dict[str, Any]) -> None:
    all_services = services(compose)
    for name in ("certs", "keys"):
        assert all_services[name]["restart"] == "no"
    certs_command = " ".join(all_services["certs"]["command"])
    found = re.search(r"ketenpoort certs dev (\S+)", certs_command)
    assert found, "the certs service does not run `ketenpoort certs dev DIR`"
    certs_dir = found.group(1)
    for gateway in GATEWAYS:  # the names Prometheus (and partners) check the certificate for
        assert f"--host {gateway}" in certs_command
    keys_env = environment(all_services["keys"])
    keys_dir = keys_env[f"{PREFIX}AUDIT_KEY_DIR"]
    assert "ketenpoort audit rotate-key" in " ".join(all_services["keys"]["command"])

    def volume_at(service: dict[str, Any], folder: str) -> str:
        return next(s for s, t in mounts(service) if t == folder)

    certs_volume = volume_at(all_services["certs"], certs_dir)
    keys_volume = volume_at(all_services["keys"], keys_dir)
    for gateway in GATEWAYS:
        env = environment(all_services[gateway])
        for variable in ("TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CA_FILE"):
            assert str(PurePosixPath(env[PREFIX + variable]).parent) == certs_dir
        assert env[f"{PREFIX}AUDIT_KEY_DIR"] == keys_dir
        # The files the keys service makes are the ones the gateways read.
        for variable in ("AUDIT_SECRET_FILE", "SESSION_SECRET_FILE"):
            path = PurePosixPath(env[PREFIX + variable])
            assert str(path.parent) == keys_dir
            assert path.name in " ".join(all_services["keys"]["command"])
        assert env[f"{PREFIX}OFFICERS_FILE"] == keys_env[f"{PREFIX}OFFICERS_FILE"]
        assert volume_at(all_services[gateway], certs_dir) == certs_volume
        assert volume_at(all_services[gateway], keys_dir) == keys_volume
    assert {certs_volume, keys_volume} <= set(compose["volumes"])


def test_every_file_a_service_mounts_exists(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services(compose).items():
        for source, target in mounts(service):
            if is_bind(source):
                assert (DEPLOY / source).exists(), f"{name} mounts {source}, which is missing"
            elif source:
                assert source in declared, f"{name} uses volume {source}, which is not declared"
            assert target.startswith("/")


def test_no_real_secret_in_compose(compose: dict[str, Any]) -> None:
    gateway = environment(services(compose)["gateway-1"])
    for variable in ("AMQP_URL", "STATE_DSN", "AUDIT_DSN"):
        assert PLACEHOLDER in gateway[PREFIX + variable]
    assert PLACEHOLDER in environment(services(compose)["rabbitmq-1"])["RABBITMQ_ERLANG_COOKIE"]
    users = json.loads((RABBITMQ_DIR / "users.json").read_text())["users"]
    assert all(PLACEHOLDER in u["password"] for u in users)


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("the docker CLI is not installed: `docker compose config` not run")
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, check=False, timeout=60
    )
    if probe.returncode != 0:
        pytest.skip("the docker CLI has no compose plugin: `docker compose config` not run")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- prometheus


def test_prometheus_scrapes_both_gateways_on_the_ops_port_and_every_rabbitmq_node(
    compose: dict[str, Any],
) -> None:
    config = yaml.safe_load(PROMETHEUS.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    def targets(job: dict[str, Any]) -> set[str]:
        return {t for group in job["static_configs"] for t in group["targets"]}

    ops_port = settings_from(environment(services(compose)["gateway-1"])).ops_port
    assert ops_port == 9464
    gateway_jobs = [j for j in jobs.values() if targets(j) & {f"{g}:{ops_port}" for g in GATEWAYS}]
    assert len(gateway_jobs) == 1
    job = gateway_jobs[0]
    assert targets(job) == {f"{g}:{ops_port}" for g in GATEWAYS}
    assert job["scheme"] == "http"
    assert job.get("metrics_path", "/metrics") == "/metrics"
    # nothing scrapes the partner port (8443): /metrics is not there
    assert not {t for j in jobs.values() for t in targets(j) if t.endswith(":8443")}
    prometheus = services(compose)["prometheus"]
    # the alert rules are loaded, from the file that deploy/prometheus/alerts.test.yml tests
    (rules,) = config["rule_files"]
    assert any(s == "./prometheus/alerts.yml" and t == rules for s, t in mounts(prometheus))
    assert {f"{n}:15692" for n in RABBITS} <= set().union(*(targets(j) for j in jobs.values()))
    for job in jobs.values():
        for target in targets(job):
            assert target.split(":")[0] in services(compose), f"{target} is no compose service"
    assert any(
        s == "./prometheus/prometheus.yml" and t == "/etc/prometheus/prometheus.yml"
        for s, t in mounts(prometheus)
    )


# --------------------------------------------------------------------------- Dockerfile


def dockerfile_stage() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile's last (runtime) stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def test_dockerfile_runs_ketenpoort_as_a_non_root_user() -> None:
    stage = dockerfile_stage()
    args = dict(stage)  # the last of each instruction counts
    assert args["FROM"].startswith("python:3.11-slim")
    assert json.loads(args["ENTRYPOINT"]) == ["ketenpoort"]
    assert json.loads(args["CMD"]) == ["serve"]
    assert {"8443", "9464"} <= set(args["EXPOSE"].split())
    user = args["USER"].split(":")[0]
    assert user not in {"root", "0"}
    # Numeric, so that Kubernetes can check runAsNonRoot; the Deployment runs as the same uid.
    assert user.isdigit()
    deployment = next(d for d in k8s_documents() if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(user)
    text = DOCKERFILE.read_text()
    # the locked dependencies with their hashes, then the project without dependencies
    assert re.search(r"^COPY requirements\.lock ", text, re.M)
    assert re.search(r"^RUN pip install --require-hashes -r requirements\.lock$", text, re.M)
    assert re.search(r"^RUN pip install --no-deps --no-build-isolation \. ", text, re.M)
    for folder in ("schemas", "policy", "examples"):
        assert re.search(rf"^COPY {folder} ", text, re.M), f"the image lacks {folder}/"


def test_the_image_has_the_time_zone_data_for_dutch_time() -> None:
    """gateway.audit.inzage shows times in Europe/Amsterdam (zoneinfo reads the system's
    IANA data; without it the gateway would not start)."""
    runs = [rest for word, rest in dockerfile_stage() if word == "RUN"]
    assert any(re.search(r"apt-get install .*\btzdata\b", run) for run in runs), runs


def test_dockerfile_settings_are_settings_and_point_into_the_image() -> None:
    env: dict[str, str] = {}
    for word, rest in dockerfile_stage():
        if word == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                env[name] = value
    ours = {k: v for k, v in env.items() if k.startswith(PREFIX)}
    settings = settings_from(ours)
    # The installed package cannot find schemas/ and policy/ next to itself.
    assert str(settings.schema_dir) == "/app/schemas/v1"
    assert str(settings.policy_dir) == "/app/policy/v1"


def test_dockerignore_keeps_what_the_image_needs() -> None:
    patterns = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    needed = {"pyproject.toml", "README.md", "gateway", "adapters", "schemas", "policy", "examples"}
    assert not needed & patterns
    assert {".git", ".venv"} <= patterns
    # *.lock is kept out, except the dependency lock the image installs from
    assert "!requirements.lock" in patterns


# --------------------------------------------------------------------------- lock files

LOCKS = (ROOT / "requirements.lock", ROOT / "requirements-test.lock")
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", re.M)


def locked(path: Path) -> dict[str, str]:
    return {
        name.lower().replace("_", "-"): version for name, version in PIN.findall(path.read_text())
    }


def test_the_locks_fit_pyproject_and_pin_every_package_with_hashes() -> None:
    want = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "deps-hash.py"), str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for lock in LOCKS:
        text = lock.read_text()
        assert text.splitlines()[0] == f"# pyproject-deps-sha256: {want}", (
            f"{lock.name} was made from other dependencies: run scripts/lock.sh"
        )
        # every requirement is pinned (==) and followed by at least one hash
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2].strip())
        assert len(entries) > 20
        for entry in entries:
            assert PIN.match(entry), entry.splitlines()[0]
            assert "--hash=sha256:" in entry, entry.splitlines()[0]
    runtime, test = locked(LOCKS[0]), locked(LOCKS[1])
    # the test lock is the runtime lock plus the test tools, at the same versions
    assert runtime.items() <= test.items()
    assert {"pytest", "schemathesis", "mypy"} <= set(test) - set(runtime)
    assert {"fastapi", "uvicorn", "setuptools"} <= set(runtime)


def test_run_installs_the_test_lock_with_hashes_and_checks_it() -> None:
    run = (ROOT / "run").read_text()
    assert "readonly LOCK=requirements-test.lock" in run
    assert '--require-hashes -r "$LOCK"' in run
    assert "--no-deps --no-build-isolation -e ." in run
    assert "scripts/deps-hash.py" in run


def test_a_changed_dependency_without_new_locks_stops_run(tmp_path: Path) -> None:
    """./run's check, against a copy of the tree whose pyproject.toml gained a dependency."""
    for name in ("run", "pyproject.toml", *(lock.name for lock in LOCKS)):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "deps-hash.py", tmp_path / "scripts" / "deps-hash.py")
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"httpx>=0.27",', '"httpx>=0.27", "idna>=3",')
    )
    done = subprocess.run(
        ["bash", str(tmp_path / "run"), "lint"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "dependencies changed but requirements.lock was not regenerated" in done.stderr
    assert "scripts/lock.sh" in done.stderr


# --------------------------------------------------------------------------- Kubernetes


def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return data


def k8s_documents() -> list[dict[str, Any]]:
    return [
        document
        for resource in kustomization()["resources"]
        for document in yaml.safe_load_all((K8S / resource).read_text())
        if document is not None
    ]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in k8s_documents() if d["kind"] == kind]


def the(kind: str) -> dict[str, Any]:
    (document,) = of_kind(kind)
    return document


def named(kind: str, name: str) -> dict[str, Any]:
    return next(d for d in of_kind(kind) if d["metadata"]["name"] == name)


def test_kustomization_lists_exactly_the_manifests() -> None:
    resources = kustomization()["resources"]
    assert len(resources) == len(set(resources))
    for resource in resources:
        assert (K8S / resource).is_file(), f"kustomization lists {resource}, which is missing"
    manifests = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(resources) == manifests, "a manifest in deploy/k8s/ is not in kustomization.yaml"
    assert kustomization()["namespace"] == NAMESPACE


def test_every_manifest_has_the_fields_its_kind_requires() -> None:
    kinds = set()
    for document in k8s_documents():
        assert document.get("apiVersion")
        assert document.get("kind")
        assert document.get("metadata", {}).get("name")
        kinds.add(document["kind"])
        if document["kind"] != "Namespace":
            assert document["metadata"].get("namespace") == NAMESPACE
        if document["kind"] in {"ConfigMap", "Secret"}:
            assert document.get("data") or document.get("stringData")
    assert {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
    } <= kinds


def test_deployment_runs_two_probed_locked_down_replicas() -> None:
    deployment = the("Deployment")
    spec = deployment["spec"]
    template = spec["template"]
    labels = template["metadata"]["labels"]
    assert spec["replicas"] == 2
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    pod = template["spec"]
    assert pod["terminationGracePeriodSeconds"] >= 30
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["enableServiceLinks"] is False  # Service env vars share the KETENPOORT_ prefix
    (container,) = pod["containers"]
    assert container["image"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]["memory"]
    ports = {p["containerPort"] for p in container["ports"]}
    assert {8443, 9464} <= ports
    # probes on the ops port (health is not on the partner port)
    for probe, path in (
        ("livenessProbe", "/health/live"),
        ("readinessProbe", "/health/ready"),
        ("startupProbe", "/health/live"),
    ):
        get = container[probe]["httpGet"]
        assert (get["path"], get["scheme"], get["port"]) == (path, "HTTP", 9464), probe
    annotations = template["metadata"]["annotations"]
    assert (annotations["prometheus.io/port"], annotations["prometheus.io/scheme"]) == (
        "9464",
        "http",
    )


def test_deployment_settings_are_settings_and_their_files_are_mounted() -> None:
    pod = the("Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env[f"{PREFIX}AUDIT_LOG_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    for name in env:
        assert setting(name), f"{name} is not a setting"
    values = {name: e["value"] for name, e in env.items() if "value" in e}
    # From the Secret named in envFrom: its keys are settings too.
    for source in container["envFrom"]:
        secret = named("Secret", source["secretRef"]["name"])
        values.update(secret["stringData"])
    settings = settings_from(values)
    assert settings.http_host == "0.0.0.0"  # noqa: S104 - a container listens on all
    assert settings.http_port == 8443
    assert (settings.ops_host, settings.ops_port) == ("0.0.0.0", 9464)  # noqa: S104 - in a pod
    assert settings.tls_crl_file is not None
    for required in ("AMQP_URL", "STATE_DSN", "AUDIT_DSN"):
        assert PREFIX + required in values, f"{PREFIX}{required} is set nowhere"
    # Every path setting lies in a mounted volume, and names a key of what is mounted there.
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounted = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
    for name in values:
        field = setting(name)
        if field is None or not is_path_setting(field):
            continue
        path = PurePosixPath(str(getattr(settings, field)))
        folder = next((PurePosixPath(m) for m in mounted if under(str(path), [m])), None)
        assert folder is not None, f"{name}={path} is in no mounted volume"
        volume = mounted[str(folder)]
        if path != folder:
            assert path.parent == folder
            source = volume.get("secret", {}).get("secretName") or volume["configMap"]["name"]
            kind = "Secret" if "secret" in volume else "ConfigMap"
            document = named(kind, source)
            keys = {**document.get("data", {}), **document.get("stringData", {})}
            assert path.name in keys, f"{name}: {kind} {source} has no key {path.name}"


def test_every_volume_comes_from_a_manifest_here() -> None:
    pod = the("Deployment")["spec"]["template"]["spec"]
    for volume in pod["volumes"]:
        if "secret" in volume:
            named("Secret", volume["secret"]["secretName"])
        elif "configMap" in volume:
            named("ConfigMap", volume["configMap"]["name"])
        else:
            assert "emptyDir" in volume
    mounted = {m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounted == {v["name"] for v in pod["volumes"]}


def test_service_and_disruption_budget_select_the_gateway_pods() -> None:
    template = the("Deployment")["spec"]["template"]
    labels = template["metadata"]["labels"]
    service = the("Service")
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert port["port"] == 8443
    container_ports = {
        p.get("name"): p["containerPort"] for p in template["spec"]["containers"][0]["ports"]
    }
    assert container_ports.get(port["targetPort"], port["targetPort"]) == 8443
    budget = the("PodDisruptionBudget")
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["spec"]["minAvailable"] < the("Deployment")["spec"]["replicas"]


def test_secrets_are_placeholders_only() -> None:
    for secret in of_kind("Secret"):
        assert "data" not in secret, "real secrets stay out of git: stringData placeholders only"
        for key, value in secret["stringData"].items():
            if key == "officers.json":  # no officers: nobody can log in at /audit
                assert json.loads(value) == {"officers": []}
            else:
                assert PLACEHOLDER in value, f"{secret['metadata']['name']}/{key}: no placeholder"


def policy_digest() -> str:
    lines = "".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
        for p in sorted(POLICY_DIR.glob("*.yaml"))
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def test_policy_configmap_holds_the_policy_files_unchanged() -> None:
    configmap = named("ConfigMap", "ketenpoort-policy")
    files = {p.name: p.read_text() for p in sorted(POLICY_DIR.glob("*.yaml"))}
    assert configmap["data"] == files, (
        "deploy/k8s/policy-configmap.yaml is out of date: run deploy/k8s/render-policy-configmap.sh"
    )
    assert configmap["metadata"]["annotations"]["ketenpoort.nl/policy-sha256"] == policy_digest()
    pod = the("Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    volume = next(
        v["name"]
        for v in pod["volumes"]
        if v.get("configMap", {}).get("name") == "ketenpoort-policy"
    )
    mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == volume)
    assert env[f"{PREFIX}POLICY_DIR"] == mount


def test_render_script_agrees_with_the_committed_configmap() -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed: render-policy-configmap.sh not run")
    result = subprocess.run(
        [bash, str(K8S / "render-policy-configmap.sh"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_kustomize_builds_and_rolls_pods_on_a_new_policy() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: `kubectl kustomize deploy/k8s` not run")
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    built = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert {d["kind"] for d in built} == {d["kind"] for d in k8s_documents()}
    deployment = next(d for d in built if d["kind"] == "Deployment")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["ketenpoort.nl/policy-sha256"] == policy_digest()
