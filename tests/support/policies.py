"""A copy of the default policy with text edits, for tests that need another catalogue (an
optional routing rule, say). Each edit must match exactly once in its file."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.messages import replace_once
from tests.support.paths import POLICY_DIR

__all__ = ["OPTIONAL_ZSM_VT", "OPTIONAL_ZSM_VT_AND_RECLASSERING", "policy_with"]

PolicyEdit = tuple[str, str, str]  # (file, old, new)

# ZsmAanmelding's rules to the VT regio (rule 2) and to reclassering (rule 3) made optional.
_ZSM_VT = """        als: [{veld: zaak.hg_label, is: true}]
        regio: incident.adres.postcode
        verplicht: true"""
_ZSM_RC = """          - {leeftijd: "personen[rol=verdachte]", op: zaak.aanhouding, minimaal: 18}
        verplicht: true"""
OPTIONAL_ZSM_VT: PolicyEdit = (
    "berichten.yaml",
    _ZSM_VT,
    _ZSM_VT.replace("verplicht: true", "verplicht: false"),
)
OPTIONAL_ZSM_VT_AND_RECLASSERING: tuple[PolicyEdit, ...] = (
    OPTIONAL_ZSM_VT,
    ("berichten.yaml", _ZSM_RC, _ZSM_RC.replace("verplicht: true", "verplicht: false")),
)


def policy_with(folder: Path, *edits: PolicyEdit) -> Path:
    """The default policy copied to ``folder``/policy with ``edits`` applied; its path."""
    target = folder / "policy"
    shutil.copytree(POLICY_DIR, target)
    for file, old, new in edits:
        path = target / file
        path.write_text(replace_once(path.read_text("utf-8"), old, new), "utf-8")
    return target
