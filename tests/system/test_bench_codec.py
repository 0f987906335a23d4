"""``ketenpoort bench codec`` run small: the report is complete and consistent.

No timing is asserted (the machine decides that, and it is shared): the ratios must be the
quotients of the medians measured, every example must be in it, and the VtMelding measured
must be the accepted decision for one recipient. The full run is ``ketenpoort bench codec``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.tools import bench_codec

STEPS = {"read", "authorise", "route", "filter", "render", "answer", "audit_entries"}
KEYS = {
    "bericht",
    "uitkomst",
    "berichten_per_run",
    "runs",
    "medians_ms",
    "steps_ms",
    "ratios",
    "target",
    "examples",
    "datum",
    "machine",
}


def _consistent(report: dict[str, object], *, messages: int, runs: int) -> None:
    assert set(report) == KEYS
    assert report["bericht"] == "politie/VtMelding.xml"
    assert report["uitkomst"] == "aanvaard (1 ontvanger(s))"
    assert (report["berichten_per_run"], report["runs"]) == (messages, runs)
    medians = report["medians_ms"]
    assert isinstance(medians, dict)
    assert medians["decide"] > 0
    assert medians["parse"] > 0
    assert set(medians) == {"decide", "parse", "parse_after_decide"}
    assert medians["parse_after_decide"] > 0  # reported beside the ratio, not in it
    ratios = report["ratios"]
    assert isinstance(ratios, dict)
    assert ratios["decide_over_parse"] == pytest.approx(medians["decide"] / medians["parse"])
    assert report["target"] == {"decide_over_parse": 5.0}
    steps = report["steps_ms"]
    assert isinstance(steps, dict)
    assert set(steps) == STEPS
    assert set(ratios) == {"decide_over_parse", "codec_over_parse"}
    assert ratios["codec_over_parse"] == pytest.approx(
        (steps["read"] + steps["render"]) / medians["parse"]
    )
    assert all(ms >= 0 for ms in steps.values())
    examples = report["examples"]
    assert isinstance(examples, list)
    on_disk = sorted(
        str(p.relative_to(bench_codec.EXAMPLES)) for p in bench_codec.EXAMPLES.glob("*/*.xml")
    )
    assert [e["bericht"] for e in examples] == on_disk
    for example in examples:
        assert example["uitkomst"].startswith("aanvaard ("), example
        assert example["decide_ms"] > 0
        assert example["parse_ms"] > 0
        assert example["decide_over_parse"] == pytest.approx(
            example["decide_ms"] / example["parse_ms"]
        )
    main = next(e for e in examples if e["bericht"] == report["bericht"])
    assert main["uitkomst"] == report["uitkomst"]


def test_bench_codec_report_is_consistent() -> None:
    _consistent(bench_codec.run(messages=3, runs=3), messages=3, runs=3)


def test_bench_codec_cli_writes_the_report(tmp_path: Path) -> None:
    target = tmp_path / "codec.json"
    result = CliRunner().invoke(
        app, ["bench", "codec", "--messages", "2", "--runs", "1", "--json", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "decide_over_parse" in result.output
    assert "the codec alone (read + render) / parse" in result.output
    assert "each right after a decision" in result.output
    _consistent(json.loads(target.read_text()), messages=2, runs=1)


def test_bench_codec_refuses_an_empty_run() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        bench_codec.run(messages=0)


def test_measure_after_times_only_the_second_call_of_each_pair() -> None:
    """``then`` is timed, ``first`` is not: a costly ``first`` leaves the figure of a cheap
    ``then`` far below its own cost, and every run (warm-up included) makes its pairs."""
    calls: list[str] = []

    def first() -> None:
        calls.append("first")
        sum(range(200_000))  # costly, untimed

    def then() -> None:
        calls.append("then")

    ms = bench_codec.measure_after(first, then, messages=4, runs=3)
    assert calls == ["first", "then"] * 4 * (3 + 1)
    first_ms = bench_codec.measure({"first": lambda: sum(range(200_000))}, messages=4, runs=3)
    assert 0 <= ms < first_ms["first"]
