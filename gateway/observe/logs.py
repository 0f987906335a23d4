"""Structured logging: structlog, JSON lines, one stable snake_case event per pipeline step.

Personal data never belongs in a log line; the code logs identifiers (BerichtId, OIN, rol,
type, codes) only. As a second line of defence, :func:`redact_bsn` replaces any 9-digit
number that passes the elfproef, wherever it appears in an event, before it is written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from gateway.domain.bsn import elfproef

__all__ = ["configure", "get_logger", "redact_bsn"]

_NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _NINE_DIGITS.sub(lambda m: "[bsn]" if elfproef(m.group(0)) else m.group(0), value)
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 10_000_000 <= value <= 999_999_999
        and elfproef(f"{value:09d}")
    ):
        return "[bsn]"
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    return value


def redact_bsn(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: no BSN leaves the process through a log line."""
    for key, value in event_dict.items():
        event_dict[key] = _scrub(value)
    return event_dict


def configure(level: str = "info", *, json: bool = True) -> None:
    """Configure structlog once for the process (JSON to stderr by default)."""
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_bsn,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    """A logger on the *current* stderr (not the one at configure time, which a test runner
    or a redirect may have closed since)."""
    return structlog.PrintLogger(file=sys.stderr)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
