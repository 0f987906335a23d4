"""Pinned audit keys for tests that run `ketenpoort audit verify` as an auditor would."""

from __future__ import annotations

from pathlib import Path

from gateway.audit.signing import Keyring

__all__ = ["pin_keys"]


def pin_keys(key_dir: Path) -> Path:
    """Write the verifier keys of ``key_dir`` to a file beside it (what an auditor obtains
    from the operator and passes as --trusted-keys); returns its path."""
    path = key_dir.parent / f"{key_dir.name}-trusted.txt"
    path.write_text("".join(v + "\n" for v in Keyring(key_dir).verifier_keys().values()))
    return path
