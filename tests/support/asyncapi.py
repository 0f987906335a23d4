"""docs/asyncapi.yaml through the real AsyncAPI parser (npm ``@asyncapi/parser`` on Node.js,
installed into .cache/node by scripts/ensure-services.sh asyncapi, which ./run test calls)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from tests.support.paths import REPO_ROOT

ASYNCAPI = REPO_ROOT / "docs" / "asyncapi.yaml"
VALIDATOR = REPO_ROOT / "scripts" / "asyncapi" / "validate.mjs"
NODE_MODULES = REPO_ROOT / ".cache" / "node" / "node_modules"


def parse(document: Path) -> dict[str, Any]:
    """The parser's report: ``valid``, ``diagnostics``, ``version``, ``document`` (resolved)."""
    node = shutil.which("node")
    if node is None or not (NODE_MODULES / "@asyncapi" / "parser").is_dir():
        raise RuntimeError(
            "Node.js or @asyncapi/parser is missing: run ./run test, or "
            "scripts/ensure-services.sh asyncapi"
        )
    result = subprocess.run(
        [node, str(VALIDATOR), str(document)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO_ROOT,
        env={**os.environ, "KETENPOORT_NODE_MODULES": str(NODE_MODULES)},
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"the AsyncAPI validator failed: {result.stderr.strip()}")
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@cache
def contract() -> dict[str, Any]:
    """The parsed (valid) docs/asyncapi.yaml, references resolved."""
    report = parse(ASYNCAPI)
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert not errors, errors
    assert report["valid"]
    document: dict[str, Any] = report["document"]
    return document


__all__ = ["ASYNCAPI", "contract", "parse"]
