"""Where the repository's files are, for every test module (one place, wherever a test lives)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO_ROOT / "examples"
POLICY_DIR = REPO_ROOT / "policy" / "v1"

__all__ = ["EXAMPLES_DIR", "POLICY_DIR", "REPO_ROOT"]
