"""Settings for a gateway a test starts: its own stores and keys in a folder of the test,
short retry delays, JSON logs, AMQP only unless the test opens the HTTPS door itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.runtime.settings import Settings
from tests.support.broker import new_prefix

__all__ = ["local_settings"]


def local_settings(work: Path, amqp_url: str, **overrides: Any) -> Settings:
    """Settings whose state and audit stores and keys live in ``work``; ``overrides`` win."""
    values: dict[str, Any] = {
        "amqp_url": amqp_url,
        "amqp_prefix": new_prefix(),
        "state_dsn": f"sqlite:///{work / 'state.db'}",
        "audit_dsn": f"sqlite:///{work / 'audit.db'}",
        "audit_key_dir": work / "keys",
        "audit_log_id": "test",
        "retry_delays_ms": (200, 400),
        "log_json": True,
        "http_enabled": False,  # AMQP only; https_settings opens the door
    }
    values.update(overrides)
    return Settings(**values)
