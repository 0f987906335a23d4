"""`ketenpoort route --json` gives what it gave before the restructuring ("One house").

``tests/system/golden/record.py`` stored, before anything moved, the input bytes of every
example and every hostile case under 256 KiB and what ``route --json`` printed for them. Each is
replayed here through the CLI in-process and compared whole: recipients, grondslagen, kept and
removed categories, the rendered message per recipient, and every refusal with its code,
element, line and reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.stem for p in (GOLDEN / "inputs").glob("*.xml"))

# Recorded outputs that were wrong and are deliberately changed, with what they are now.
# Before: `route` crashed (KeyError, empty stdout) on a technical message from a partner, which
# the gateway itself refused. Now `route` runs the gateway's one decision path and says so.
DELIBERATE = {
    "hostile-foutbericht-from-a-partner": "AFZENDER_NIET_GEAUTORISEERD",
    "hostile-ontvangstbevestiging-from-a-partner": "AFZENDER_NIET_GEAUTORISEERD",
}
# Before: `route` read the whole body before authorising, so a Kop naming the gateway itself as
# Afzender got SCHEMA_ONGELDIG for the body's namespace. Now the Kop is authorised first, as in
# the gateway: the gateway's OIN is no registered partner.
CHANGED = {
    "hostile-afzender-onjuist-impersonates-the-gateway": {
        "code": "AFZENDER_ONJUIST",
        "element": "kp:Afzender",
        "line": None,
        "reason": "OIN 00000099000000000100 is not a registered partner",
    },
}


def test_the_recording_is_there() -> None:
    assert len(CASES) >= 80, CASES
    assert any(c.startswith("example-") for c in CASES)
    assert any(c.startswith("hostile-") for c in CASES)


@pytest.mark.parametrize("name", CASES)
def test_route_json_unchanged(name: str) -> None:
    expected = json.loads((GOLDEN / "outputs" / f"{name}.json").read_text())
    result = CliRunner().invoke(app, ["route", "--json", str(GOLDEN / "inputs" / f"{name}.xml")])
    if name in DELIBERATE:
        assert expected["output"] == {"stdout": ""}, "the recording changed: review DELIBERATE"
        assert result.exit_code == 1, result.output
        assert json.loads(result.stdout)["refused"]["code"] == DELIBERATE[name]
        return
    if name in CHANGED:
        assert expected["output"]["refused"]["code"] == "SCHEMA_ONGELDIG", "review CHANGED"
        assert result.exit_code == 1, result.output
        assert json.loads(result.stdout)["refused"] == CHANGED[name]
        return
    assert result.exit_code == expected["exit"], result.output
    assert json.loads(result.stdout) == expected["output"]
