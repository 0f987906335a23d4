"""``ketenpoort bench audit`` on a small store: the report is complete and the store verifies.

No timing is asserted here (the machine decides that); the full run is
``ketenpoort bench audit`` (1,000,000 records).
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.tools import bench_audit as bench
from gateway.tools.audit_workload import Workload

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


def test_bench_audit_reports_every_measure_and_verifies() -> None:
    report = bench.run(2_000, batch=500, checkpoint_every=600, proofs=10)
    assert set(report) == KEYS
    assert report["engine"] == "sqlite"
    assert report["records"] == report["verified_records"] == 2_000
    assert report["commits"] == 4
    assert report["verify_sound"], report["verify_problem"]
    assert report["sound"]
    assert report["checkpoints"] >= 2  # after 600 records or more, and at the end
    assert report["inclusion_sound"]
    assert report["consistency_sound"]
    assert report["consistency_ms"] is not None
    assert report["inzage_records"] >= 1
    assert "audit_record_betrokkene" in report["inzage_plan"]  # inzage uses the index
    assert set(report["targets"]) == set(bench.TARGETS)
    assert report["db_bytes"] > 0
    assert report["append_records_per_s"] > 0


def test_bench_workload_is_like_the_trail() -> None:
    workload = Workload(subjects=500)
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
    assert report["verified_records"] == 1_500
    assert report["sound"]
