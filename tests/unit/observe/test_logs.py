"""Structured logs: JSON lines on the current stderr, no BSN ever."""

from __future__ import annotations

import io
import json
import sys

import pytest

from gateway.observe import logs


def test_logging_survives_a_closed_stderr_of_the_past(capsys: pytest.CaptureFixture[str]) -> None:
    """configure() under a redirected stderr that is closed later must not break logging."""
    original = sys.stderr
    sys.stderr = io.StringIO()
    try:
        logs.configure("info", json=True)
    finally:
        sys.stderr.close()
        sys.stderr = original
    logs.get_logger("test").info("iets_gebeurd", aantal=1)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(line)["event"] == "iets_gebeurd"


def test_a_bsn_never_reaches_a_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info", json=True)
    logs.get_logger("test").info(
        "bericht_ontvangen", bsn="999990019", tekst="over 999990020 en 123456789", nummer=999990032
    )
    event = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert event["bsn"] == "[bsn]"
    assert event["tekst"] == "over [bsn] en 123456789"  # 123456789 fails the elfproef
    assert event["nummer"] == "[bsn]"
    assert event["level"] == "info"
    assert "timestamp" in event
