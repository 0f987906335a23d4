"""``ketenpoort bench`` run small against the real broker: every measure is made, every message
arrives, and ``--profile`` writes the gateway's stacks or says why it cannot.

No timing is asserted (the machine decides that, and it is shared); the full run is
``ketenpoort bench``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.tools import bench_pipeline

pytestmark = pytest.mark.broker

SMALL = ["bench", "--messages", "40", "--window", "8", "--rate", "40", "--open-seconds", "0.5"]
MEASURES = ["a_raw_broker", "b_amqp_pijplijn", "c_https_pijplijn", "b_amqp_open_40_per_s"]


def test_every_measure_is_made_and_every_message_arrives(tmp_path: Path) -> None:
    target = tmp_path / "bench.json"
    result = CliRunner().invoke(app, [*SMALL, "--json", str(target)])
    assert result.exit_code == 0, result.output
    report = json.loads(target.read_text())
    assert [m["meting"] for m in report["metingen"]] == MEASURES
    for meting in report["metingen"]:
        assert meting["aangekomen"] == meting["berichten"] > 0, meting
        assert meting["cpu_ms_per_bericht"] > 0, meting
    assert report["conversaties"] == "elk bericht een eigen"
    raw = report["metingen"][0]["berichten_per_s"]
    assert report["ratio"]["b_a"] == round(report["metingen"][1]["berichten_per_s"] / raw, 3)


def _conversatie(body: bytes) -> bytes:
    found = re.search(rb"<kp:ConversatieId>([^<]+)</kp:ConversatieId>", body)
    assert found is not None
    return found[1]


@pytest.mark.parametrize("conversations", [0, 1, 3])
def test_the_messages_are_spread_over_the_conversations_asked_for(conversations: int) -> None:
    raw = bench_pipeline.EXAMPLE.read_text()
    messages = bench_pipeline._messages(raw, 7, conversations)
    assert len({bericht_id for bericht_id, _ in messages}) == 7
    found = [_conversatie(body) for _, body in messages]
    assert _conversatie(raw.encode()) not in found
    if not conversations:  # each its own
        assert len(set(found)) == 7
        return
    assert len(set(found)) == conversations
    assert found == [found[i % conversations] for i in range(7)]  # round robin


def test_a_profile_without_py_spy_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked for a profile it cannot make, the bench fails at once saying so (it used to
    ignore the option and write nothing), before it runs anything: no vhost is made."""
    monkeypatch.setattr(bench_pipeline, "py_spy_tool", lambda: str(tmp_path / "no-py-spy"))
    ran: list[tuple[str, ...]] = []
    monkeypatch.setattr(bench_pipeline, "_ctl", lambda *args: ran.append(args))
    result = CliRunner().invoke(app, [*SMALL, "--profile", str(tmp_path / "stacks.raw")])
    assert result.exit_code != 0
    assert "--profile needs py-spy" in str(result.exception)
    assert ran == []
    assert not (tmp_path / "stacks.raw").exists()


@pytest.mark.skipif(
    not Path(bench_pipeline.py_spy_tool()).exists(), reason="py-spy is not installed here"
)
def test_a_profile_holds_the_gateways_stacks(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks.raw"
    result = CliRunner().invoke(app, [*SMALL, "--profile", str(stacks)])
    assert result.exit_code == 0, result.output
    assert "serve" in stacks.read_text()  # the gateway process, not the bench's
