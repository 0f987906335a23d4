"""The settings: one object, every field documented, read once; a wrong value is refused by
its environment variable, and a secret is never shown."""

from __future__ import annotations

import os
import socket

import pytest
from pydantic import SecretStr

from gateway.domain.errors import Misconfigured
from gateway.runtime.settings import (
    ENV_PREFIX,
    Settings,
    described,
    load_settings,
    masked,
)

HIDDEN = "**********"


@pytest.fixture(autouse=True)
def _no_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: no KETENPOORT_* of the environment the suite runs in."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def test_every_setting_is_documented_in_a_sentence() -> None:
    undocumented = [
        name
        for name, info in Settings.model_fields.items()
        if not info.description or not info.description.rstrip().endswith((".", ")"))
    ]
    assert undocumented == []


def test_a_setting_is_read_from_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETENPOORT_PREFETCH", "7")
    monkeypatch.setenv("KETENPOORT_RETRY_DELAYS_MS", "[10, 20]")
    settings = load_settings()
    assert settings.prefetch == 7
    assert settings.retry_delays_ms == (10, 20)
    assert {"prefetch", "retry_delays_ms"} <= settings.model_fields_set


def test_a_wrong_value_is_refused_naming_its_variable_and_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KETENPOORT_PREFETCH", "0")
    monkeypatch.setenv("KETENPOORT_GATEWAY_OIN", "12")
    with pytest.raises(Misconfigured) as refused:
        load_settings()
    message = str(refused.value)
    assert "KETENPOORT_PREFETCH: Input should be greater than or equal to 1 (got '0')" in message
    assert "KETENPOORT_GATEWAY_OIN: String should match pattern" in message
    assert "(got '12')" in message


def test_an_item_of_a_list_is_refused_by_its_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETENPOORT_RETRY_DELAYS_MS", '[10, "soon"]')
    with pytest.raises(Misconfigured, match=r"KETENPOORT_RETRY_DELAYS_MS: .*\(got 'soon'\)"):
        load_settings()


def test_the_log_level_is_one_of_five_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETENPOORT_LOG_LEVEL", "WARNING")
    assert load_settings().log_level == "warning"
    monkeypatch.setenv("KETENPOORT_LOG_LEVEL", "verbose")
    with pytest.raises(Misconfigured, match="KETENPOORT_LOG_LEVEL: Input should be 'debug'"):
        load_settings()


def test_a_refusal_never_repeats_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong override of a field that holds a URL with a password: the message names the
    field and masks the password."""
    with pytest.raises(Misconfigured) as refused:
        load_settings(amqp_url=["amqp://u:topsecret@h/"])  # not a string: refused
    assert "KETENPOORT_AMQP_URL" in str(refused.value)
    assert "topsecret" not in str(refused.value)


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        (
            "amqp_url",
            SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
            f"amqp://guest:{HIDDEN}@127.0.0.1:5672/",
        ),
        ("amqp_url", SecretStr("geen-url"), HIDDEN),
        ("amqp_url", "amqp://alleen-gebruiker@h/", "amqp://alleen-gebruiker@h/"),
        ("state_dsn", "postgresql://kp:geheim@db:5432/kp", f"postgresql://kp:{HIDDEN}@db:5432/kp"),
        ("state_dsn", "postgresql://kp:ge@heim@db/kp", f"postgresql://kp:{HIDDEN}@db/kp"),
        (
            "state_dsn",
            "postgresql://kp:geheim@db:99999/kp",
            f"postgresql://kp:{HIDDEN}@db:99999/kp",
        ),
        ("state_dsn", "sqlite:///ketenpoort-state.db", "sqlite:///ketenpoort-state.db"),
        (
            "state_dsn",
            "postgresql://kp@db/kp?sslmode=require&password=geheim",
            f"postgresql://kp@db/kp?sslmode=require&password={HIDDEN}",
        ),
        ("state_dsn", "host=db user=kp Password=geheim", f"host=db user=kp Password={HIDDEN}"),
        ("audit_dsn", "http://[::1/", HIDDEN),
        ("prefetch", 32, 32),
    ],
)
def test_masked_hides_secrets_and_passwords_only(field: str, value: object, shown: object) -> None:
    assert masked(field, value) == shown


def test_described_gives_every_setting_with_its_source_and_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KETENPOORT_AMQP_URL", "amqp://partner:topsecret@rabbit:5672/")
    monkeypatch.setenv("KETENPOORT_AUDIT_DSN", "postgresql://audit:geheim@db/audit")
    rows = described(load_settings())
    assert [r.naam for r in rows] == list(Settings.model_fields)
    by_name = {r.naam: r for r in rows}
    assert by_name["amqp_url"].waarde == f"amqp://partner:{HIDDEN}@rabbit:5672/"
    assert by_name["amqp_url"].gezet
    assert by_name["audit_dsn"].waarde == f"postgresql://audit:{HIDDEN}@db/audit"
    assert not by_name["prefetch"].gezet
    assert by_name["prefetch"].env == "KETENPOORT_PREFETCH"
    assert by_name["audit_log_id"].standaard == "gethostname()"
    assert by_name["audit_log_id"].waarde == socket.gethostname()
    assert all(r.beschrijving for r in rows)
    assert "topsecret" not in repr(rows)
    assert "geheim" not in repr(rows)
