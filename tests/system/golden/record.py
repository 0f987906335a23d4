"""Record the golden `ketenpoort route --json` outputs (issue "One house").

Run once, before a restructuring, from the repository root::

    .venv/bin/python -m tests.system.golden.record

It writes, for every example and every hostile-corpus case under 256 KiB, the input bytes
(``inputs/<name>.xml``) and what ``ketenpoort route --json`` printed with its exit code
(``outputs/<name>.json``). ``tests/system/test_golden_route.py`` replays the inputs through the
current code and compares. The corpus makes new BerichtIds each time it is built, so the inputs
are stored, not regenerated.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
MAX_BYTES = 256 * 1024


def inputs() -> dict[str, bytes]:
    sys.path.insert(0, str(ROOT))
    from tests.support.hostile_corpus import corpus  # noqa: PLC0415 - only when recording

    found: dict[str, bytes] = {}
    for path in sorted((ROOT / "examples").glob("*/*.xml")):
        found[f"example-{path.parent.name}-{path.stem}"] = path.read_bytes()
    for case in corpus():
        if case.large:
            continue
        data = case.data()
        if len(data) <= MAX_BYTES:
            found[f"hostile-{case.name}"] = data
    return found


def route(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [str(ROOT / ".venv/bin/ketenpoort"), "route", "--json", str(path)],
        capture_output=True,
        check=False,
    )
    try:
        out: object = json.loads(done.stdout)
    except json.JSONDecodeError:
        out = {"stdout": done.stdout.decode(errors="replace")}
    return {"exit": done.returncode, "output": out}


def main() -> None:
    (HERE / "inputs").mkdir(exist_ok=True)
    (HERE / "outputs").mkdir(exist_ok=True)
    for name, data in inputs().items():
        src = HERE / "inputs" / f"{name}.xml"
        src.write_bytes(data)
        result = route(src)
        (HERE / "outputs" / f"{name}.json").write_text(
            json.dumps(result, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        )


if __name__ == "__main__":
    main()
