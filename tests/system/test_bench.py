"""``ketenpoort bench audit`` on a small store: the report is complete and the store verifies.

No timing is asserted here (the machine decides that); the full run is
``ketenpoort bench audit`` (1,000,000 records).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.tools import bench_audit as bench
from gateway.tools.audit_workload import Workload
from tests.support import catalogue

KEYS = {
    "engine",
    "records",
    "batch",
    "subjects",
    "messages",
    "commits",
    "append_s",
    "append_wall_s",
    "append_records_per_s",
    "db_bytes",
    "bytes_per_record",
    "verify_s",
    "verify_sound",
    "verify_problem",
    "verified_records",
    "checkpoints",
    "inzage_plan",
    "inzage_ms",
    "inzage_max_ms",
    "inzage_records",
    "inzage_records_max",
    "inclusion_ms",
    "inclusion_sound",
    "consistency_ms",
    "consistency_sound",
    "targets",
    "sound",
    "measured_at",
}


def assert_consistent(report: dict[str, Any], records: int, batch: int) -> None:
    """The report's figures agree with each other and with what was asked (no timing)."""
    assert set(report) == KEYS
    assert report["engine"] == "sqlite"
    assert (report["records"], report["batch"]) == (records, batch)
    assert report["verified_records"] == records
    assert report["commits"] == math.ceil(records / batch)  # one group commit per batch
    # the same seeded workload cut at the same place: the same number of messages
    workload = Workload(catalogue.POLICY, report["subjects"])
    assert sum(len(g) for g in workload.batches(records, batch)) == records
    assert report["messages"] == workload.messages
    # the rate is the quotient of the measured figures (each rounded as reported)
    appending = report["append_s"]
    assert 0 < appending <= report["append_wall_s"]
    low, high = records / (appending + 0.0005), records / max(appending - 0.0005, 1e-9)
    assert low - 0.05 <= report["append_records_per_s"] <= high + 0.05
    assert report["bytes_per_record"] == round(report["db_bytes"] / records, 1)
    assert report["db_bytes"] >= records * 100  # a record is hundreds of bytes, not nothing
    # medians are at most the maxima
    assert 0 <= report["inzage_ms"] <= report["inzage_max_ms"]
    assert 1 <= report["inzage_records"] <= report["inzage_records_max"]
    assert "audit_record_betrokkene" in report["inzage_plan"]  # inzage uses the index
    assert report["inclusion_ms"] >= 0
    # each target verdict is the comparison of its figure with the target
    targets = bench.TARGETS
    assert report["targets"] == {
        "append_records_per_s": report["append_records_per_s"] >= targets["append_records_per_s"],
        "verify_s": report["verify_s"] <= targets["verify_s"],
        "inzage_ms": report["inzage_ms"] <= targets["inzage_ms"],
        "inclusion_ms": report["inclusion_ms"] <= targets["inclusion_ms"],
    }
    assert report["verify_sound"], report["verify_problem"]
    assert report["verify_problem"] is None
    assert report["inclusion_sound"]
    assert report["consistency_sound"]
    assert report["sound"] is True
    measured = dt.datetime.fromisoformat(report["measured_at"])
    assert measured.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - measured) < dt.timedelta(days=1)


def test_bench_audit_reports_every_measure_and_verifies() -> None:
    report = bench.run(2_000, batch=500, checkpoint_every=600, proofs=10)
    assert_consistent(report, 2_000, 500)
    # signed after 1,000 and 2,000 records (600 since the last at a commit) and at the end
    assert 2 <= report["checkpoints"] <= report["commits"] + 1
    assert report["consistency_ms"] is not None  # more than one checkpoint to compare
    assert set(report["targets"]) == set(bench.TARGETS)


def test_bench_workload_is_like_the_trail() -> None:
    workload = Workload(catalogue.POLICY, subjects=500)
    entries = [e for group in workload.batches(5_000, 1_000) for e in group]
    assert len(entries) == 5_000
    assert len({e.dedup for e in entries}) == 5_000  # nothing the log would drop as a repeat
    events = {e.gebeurtenis for e in entries}
    assert {"ontvangen", "gerouteerd", "gefilterd", "afgeleverd", "bevestigd"} <= events
    assert {e.ontvanger for e in entries if e.gebeurtenis == "afgeleverd"}
    assert all(e.betrokkene in workload.used for e in entries)
    recipients: dict[str | None, set[tuple[str, str]]] = {}
    for e in entries:
        recipients.setdefault(e.bericht_id, set()).update([e.ontvanger] if e.ontvanger else [])
    assert len(recipients) == workload.messages  # whole messages (the last one cut short)
    assert max(len(r) for r in recipients.values()) == 2


def test_bench_audit_command_prints_json() -> None:
    result = CliRunner().invoke(app, ["bench", "audit", "--records", "1500", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert_consistent(report, 1_500, 2_000)  # the command's default batch
