"""Ops files: the Prometheus alert rules (deploy/prometheus/alerts.yml) pass their own unit
tests with ``promtool test rules`` (alerts.test.yml), and a broken rule makes them fail; the
Grafana dashboard (deploy/grafana/ketenpoort.json) is valid JSON whose every query is valid
PromQL (checked by promtool); and every metric either names is one a running gateway
exposes on its ops port.

promtool comes with Debian's prometheus package (``scripts/ensure-services.sh promtool``, run
by ``./run test``). Without it these tests skip, except under CI (``CI=true``), where a skip
would hide that nothing was checked: there they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.door import Door
from tests.support.paths import REPO_ROOT

PROMETHEUS = REPO_ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
ALERT_TESTS = PROMETHEUS / "alerts.test.yml"
DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "ketenpoort.json"
METRIC = re.compile(r"\bketenpoort_[a-z_]+\b")
REQUIRED_ALERTS = {
    "KetenpoortDeadLetters",
    "KetenpoortOpsQueueMessages",
    "KetenpoortAuditStoreNotWritable",
    "KetenpoortCertificateExpiresSoon",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = "promtool is missing: scripts/ensure-services.sh promtool (Debian prometheus)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def run(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def rules(path: Path) -> list[dict[str, Any]]:
    document = yaml.safe_load(path.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_queries() -> list[str]:
    document = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in document["panels"] for target in panel["targets"]]


# --------------------------------------------------------------------------- alert rules


def test_the_alert_rules_pass_their_promtool_unit_tests(promtool: str) -> None:
    checked = run(promtool, "check", "rules", ALERTS.name, cwd=PROMETHEUS)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run(promtool, "test", "rules", ALERT_TESTS.name, cwd=PROMETHEUS)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout
    names = {rule["alert"] for rule in rules(ALERTS)}
    assert names >= REQUIRED_ALERTS
    # every alert is exercised by the unit tests
    tests = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    exercised = {case["alertname"] for t in tests for case in t["alert_rule_test"]}
    assert exercised == names


def test_a_broken_rule_fails_the_unit_tests(promtool: str, tmp_path: Path) -> None:
    """Control: the unit tests notice a changed threshold (they can fail)."""
    broken = ALERTS.read_text().replace(
        "(ketenpoort_dead_letters) > 0", "(ketenpoort_dead_letters) > 5"
    )
    assert broken != ALERTS.read_text()
    (tmp_path / ALERTS.name).write_text(broken)
    shutil.copy(ALERT_TESTS, tmp_path / ALERT_TESTS.name)
    tested = run(promtool, "test", "rules", ALERT_TESTS.name, cwd=tmp_path)
    assert tested.returncode != 0
    assert "KetenpoortDeadLetters" in tested.stdout + tested.stderr


# --------------------------------------------------------------------------- dashboard


def test_the_dashboard_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    document = json.loads(DASHBOARD.read_text())
    assert document["uid"] == "ketenpoort"
    assert {v["name"] for v in document["templating"]["list"]} == {"datasource", "job"}
    ids = [panel["id"] for panel in document["panels"]]
    assert len(ids) == len(set(ids))
    queries = dashboard_queries()
    assert len(queries) >= 10
    # the variables substituted, each query becomes a recording rule promtool must parse
    recording = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": q.replace("$job", "ketenpoort")}
                    for i, q in enumerate(queries)
                ],
            }
        ]
    }
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(recording))
    checked = run(promtool, "check", "rules", "dashboard.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --------------------------------------------------------------------------- real names


@pytest.mark.broker
async def test_every_metric_the_alerts_and_dashboard_name_is_exposed(door: Door) -> None:
    async with door.ops() as ops:
        response = await ops.get("/metrics")
    assert response.status_code == 200
    exposed: set[str] = set()
    for family in text_string_to_metric_families(response.text):
        exposed.add(family.name)
        if family.type == "counter":
            exposed.add(f"{family.name}_total")
        if family.type == "histogram":
            exposed |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count")}
    named = set(METRIC.findall(ALERTS.read_text()))
    named |= {m for q in dashboard_queries() for m in METRIC.findall(q)}
    assert named
    assert named <= exposed, named - exposed
