"""All configuration in one pydantic-settings object, read once at start.

Every field can be set from the environment as ``KETENPOORT_<FIELD>`` (e.g.
``KETENPOORT_AMQP_URL``) or from a ``.env`` file. Secrets are ``SecretStr`` and never logged.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.domain.errors import Misconfigured

__all__ = ["ENV_PREFIX", "ROOT", "Setting", "Settings", "described", "load_settings", "masked"]

ROOT = Path(__file__).resolve().parents[2]
ENV_PREFIX = "KETENPOORT_"
HIDDEN = "**********"

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class Settings(BaseSettings):
    """Ketenpoort's settings. Each field documents itself."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    amqp_url: SecretStr = Field(
        SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
        description="RabbitMQ URL (amqp:// or amqps://); holds a password, so never logged.",
    )
    amqp_prefix: str = Field(
        "ketenpoort",
        description="Prefix of every exchange and queue name, so several deployments "
        "(or test runs) can share one broker.",
    )
    gateway_oin: str = Field(
        "00000099000000000100",
        pattern=r"^\d{20}$",
        description="The gateway's own OIN: the Afzender of its Ontvangstbevestigingen and "
        "Foutberichten.",
    )
    prefetch: int = Field(
        32,
        ge=1,
        le=1000,
        description="AMQP prefetch per consumer: bounds unacknowledged messages in flight "
        "(memory) while keeping the pipeline busy during audit group commits.",
    )
    retry_delays_ms: tuple[int, ...] = Field(
        (1_000, 10_000, 60_000, 600_000, 3_600_000),
        description="Back-off between delivery attempts to a recipient that does not take a "
        "message (TTL + dead-lettering); after the last one it is dead-lettered.",
    )
    schema_dir: Path = Field(
        ROOT / "schemas" / "v1",
        description="Folder with envelop.xsd (the partner XSDs the gateway validates with are "
        "built from the catalogue and the vocabularies at start; the ones published there are "
        "for the partners).",
    )
    policy_dir: Path = Field(
        ROOT / "policy" / "v1",
        description="Folder with the versioned policy files: the catalogue (rollen, "
        "categories, BerichtTypes), partners, doelen, routing, need-to-know, retention.",
    )
    vocabulary_dir: Path = Field(
        ROOT / "adapters" / "vocabularies",
        description="Folder with the partner formats' native vocabularies, one <name>.yaml "
        "per rol.",
    )
    max_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest message accepted, in bytes (TE_GROOT above)."
    )
    max_depth: int = Field(
        32, ge=8, le=250, description="Deepest element nesting accepted (XML_ONGELDIG above)."
    )
    state_dsn: str = Field(
        "sqlite:///ketenpoort-state.db",
        description="Where delivery status, duplicates and conversations are kept: "
        "sqlite:///PATH or postgresql://user@host/db.",
    )
    dedup_days: int = Field(
        7,
        ge=5,
        description="How long a BerichtId is remembered to recognise a duplicate; at least "
        "the whole retry window (Digikoppeling's default is 5 days).",
    )
    normen_check_seconds: float = Field(
        60.0,
        gt=0,
        description="How often the gateway checks the chain's norm deadlines (spec v2 §10) and "
        "logs each one that passed (norm_overschreden).",
    )
    audit_dsn: str = Field(
        "sqlite:///ketenpoort-audit.db",
        description="The audit store: sqlite:///PATH (default, WAL) or postgresql://user@host/db.",
    )
    audit_log_id: str = Field(
        default_factory=socket.gethostname,
        pattern=r"^[A-Za-z0-9_.\-]{1,64}$",
        description="This process's own log in the audit store (each gateway process writes "
        "its own Merkle tree); defaults to the host name, unique per Kubernetes pod.",
    )
    audit_key_dir: Path = Field(
        Path("ketenpoort-keys"),
        description="Folder with the Ed25519 checkpoint signing keys (created on first start) "
        "and, unless audit_secret_file says otherwise, the pseudonym secret.",
    )
    audit_secret_file: Path | None = Field(
        None,
        description="File with the deployment secret for BSN pseudonyms (HMAC); default "
        "<audit_key_dir>/pseudoniem.secret, created on first start. Never logged.",
    )
    audit_trusted_keys: Path | None = Field(
        None,
        description="File of verifier keys (ketenpoort-audit+<hex>+<base64>, one a line) that "
        "`ketenpoort audit verify` and `prove` check every signature against; obtained from "
        "the operator, not from an export. Without it they only check internal consistency.",
    )
    audit_checkpoint_every: int = Field(
        10_000, ge=1, description="Sign a checkpoint at least every this many records."
    )
    audit_checkpoint_seconds: float = Field(
        60.0, gt=0, description="... and at least every this many seconds (and on shutdown)."
    )
    http_enabled: bool = Field(
        True,
        description="Serve the HTTPS door (partner API and audit pages) next to AMQP. It "
        "needs tls_cert_file, tls_key_file and tls_ca_file.",
    )
    http_host: str = Field("127.0.0.1", description="Address the HTTPS door listens on.")
    http_port: int = Field(8443, ge=0, le=65535, description="Port of the HTTPS door.")
    tls_cert_file: Path | None = Field(
        None, description="The gateway's server certificate (PEM, with its chain)."
    )
    tls_key_file: Path | None = Field(
        None, description="The server certificate's private key (PEM). Never logged."
    )
    tls_ca_file: Path | None = Field(
        None,
        description="CA certificates (PEM) that partner client certificates must chain to "
        "(PKIoverheid in production; `ketenpoort certs dev` makes a development CA). The "
        "partner's OIN is read from the subject's serialNumber.",
    )
    tls_crl_file: Path | None = Field(
        None,
        description="Certificate revocation lists (PEM, one per issuing CA) for the partners' "
        "client certificates: a revoked certificate gets no connection. Read again when the "
        "file changes; an expired CRL refuses every client certificate (fail closed). "
        "Without it, revocation is not checked.",
    )
    ops_enabled: bool = Field(
        True,
        description="Serve /health/live, /health/ready and /metrics on the ops port (plain "
        "HTTP for the kubelet and Prometheus; never on the partner port).",
    )
    ops_host: str = Field(
        "127.0.0.1",
        description="Address the ops port listens on (0.0.0.0 in a pod; keep it off the "
        "network partners reach).",
    )
    ops_port: int = Field(9464, ge=0, le=65535, description="The ops port (0: any free one).")
    rate_per_second: float = Field(
        50.0, gt=0, description="Per-partner request rate on the partner API (token bucket)."
    )
    rate_burst: int = Field(
        200, ge=1, description="Per-partner burst on the partner API before 429."
    )
    inbox_lease_seconds: float = Field(
        300.0,
        gt=0,
        description="A message fetched with GET /v1/berichten is held for its recipient this "
        "long; unconfirmed by then, it is offered again.",
    )
    cert_warning_days: int = Field(
        30, ge=1, description="Certificates expiring within this many days are an alert."
    )
    officers_file: Path = Field(
        Path("ketenpoort-officers.json"),
        description="The privacy officers who may open /audit (name and scrypt hash; "
        "`ketenpoort officer add`).",
    )
    session_secret_file: Path | None = Field(
        None,
        description="Secret signing the officers' session cookies; default "
        "<audit_key_dir>/sessie.secret, created on first start. Shared by all replicas.",
    )
    session_minutes: int = Field(
        30, ge=1, description="An officer's session ends after this many idle minutes."
    )
    log_level: Annotated[
        LogLevel, BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)
    ] = Field(
        "info",
        description="Lowest log level written: debug, info, warning, error or critical.",
    )
    log_json: bool = Field(
        True, description="Write logs as JSON lines (false: readable console output)."
    )


def load_settings(**overrides: object) -> Settings:
    """Read the settings once (environment, .env, then explicit overrides).

    Raises :class:`Misconfigured` naming each setting that is wrong, by its environment
    variable, and why; a value is repeated only when it holds no secret (:func:`masked`)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type] # pydantic validates each override
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            field = str(error["loc"][0]) if error["loc"] else ""
            where = f"{ENV_PREFIX}{field.upper()}" if field else "settings"
            got = error.get("input")
            shown = "" if isinstance(got, dict) else f" (got {masked(field, got)!r})"
            problems.append(f"{where}: {error['msg']}{shown}")
        raise Misconfigured("invalid settings: " + "; ".join(problems)) from None


def masked(field: str, value: Any) -> Any:
    """``value`` as it may be shown: the password of a URL or DSN
    (``postgresql://user:password@host/db``, ``?password=…``) as asterisks, and any other
    secret (a ``SecretStr`` field's value that is not such a URL) wholly."""
    secret = isinstance(value, SecretStr) or _is_secret(field)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        return HIDDEN if secret else value
    return _masked_text(value) if not secret or "://" in value else HIDDEN


def _masked_text(value: str) -> str:
    """A text with the passwords in it (a URL's, a password parameter's) as asterisks."""
    # a password given as a parameter (libpq's ?password=… or password=…) whatever the form
    value = _SECRET_PARAMETER.sub(lambda m: f"{m.group(1)}={HIDDEN}", value)
    if "://" not in value:
        return value
    try:
        parts = urlsplit(value)
    except ValueError:  # not a URL after all: shown as asterisks
        return HIDDEN
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:  # no password in it
        return value
    netloc = f"{userinfo.partition(':')[0]}:{HIDDEN}@{hostport}"
    return urlunsplit(parts._replace(netloc=netloc))


_SECRET_PARAMETER = re.compile(
    r"\b(password|passwd|sslpassword|secret|token|key)=([^&\s]+)", re.IGNORECASE
)


def _is_secret(field: str) -> bool:
    info = Settings.model_fields.get(field)
    return info is not None and info.annotation is SecretStr


@dataclass(frozen=True)
class Setting:
    """One setting as ``ketenpoort settings`` shows it."""

    naam: str
    env: str
    waarde: Any  # in effect, masked
    standaard: Any  # the default, masked; a computed default as its function's name
    gezet: bool  # set (environment, .env or an override) rather than the default
    beschrijving: str


def described(settings: Settings) -> list[Setting]:
    """Every setting: its environment variable, the value in effect (secrets masked), its
    default, whether it was set, and what it does."""
    rows = []
    for naam, info in Settings.model_fields.items():
        if info.default_factory is not None:
            standaard: Any = f"{getattr(info.default_factory, '__name__', 'computed')}()"
        else:
            standaard = masked(naam, info.default)
        rows.append(
            Setting(
                naam=naam,
                env=f"{ENV_PREFIX}{naam.upper()}",
                waarde=masked(naam, getattr(settings, naam)),
                standaard=standaard,
                gezet=naam in settings.model_fields_set,
                beschrijving=info.description or "",
            )
        )
    return rows
