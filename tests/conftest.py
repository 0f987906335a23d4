"""Shared fixtures: the codec, the example messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.envelope import MessageCodec

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="session")
def codec() -> MessageCodec:
    """One codec for the whole run (loading the schemas is the expensive part)."""
    return MessageCodec()


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES_DIR


@pytest.fixture(scope="session")
def example_bytes(examples_dir: Path) -> Callable[[str], bytes]:
    """``example_bytes("politie/VtMelding.xml")``: the bytes of one example message."""

    def read(rel_path: str) -> bytes:
        return (examples_dir / rel_path).read_bytes()

    return read
