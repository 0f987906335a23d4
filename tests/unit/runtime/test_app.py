"""``app.catalogue``: built once per content. The same files give the catalogue built before;
a changed byte in any policy, vocabulary or schema file, another limit or a broken file does
not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.domain.errors import Misconfigured
from gateway.runtime.app import catalogue
from gateway.runtime.settings import Settings
from tests.support.paths import POLICY_DIR


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose policy, vocabularies and schemas are copies of the repository's."""
    base = Settings()
    folders = {}
    for field in ("policy_dir", "vocabulary_dir", "schema_dir"):
        source: Path = getattr(base, field)
        folders[field] = tmp_path / field
        shutil.copytree(source, folders[field])
    assert base.policy_dir.resolve() == POLICY_DIR.resolve()
    return base.model_copy(update=folders)


def test_the_same_files_give_the_catalogue_built_before(settings: Settings) -> None:
    codec, policy = catalogue(settings)
    again = catalogue(settings.model_copy())
    assert again[0] is codec
    assert again[1] is policy


@pytest.mark.parametrize("field", ["policy_dir", "vocabulary_dir", "schema_dir"])
def test_a_changed_byte_in_any_folder_builds_it_again(settings: Settings, field: str) -> None:
    codec, policy = catalogue(settings)
    folder: Path = getattr(settings, field)
    target = sorted(p for p in folder.rglob("*") if p.is_file())[0]
    target.write_bytes(target.read_bytes() + b"\n")  # a blank line at the end: same meaning
    again = catalogue(settings)
    assert again[0] is not codec
    assert again[1] is not policy
    assert again[1].partners.keys() == policy.partners.keys()


def test_another_limit_builds_it_again(settings: Settings) -> None:
    codec, _ = catalogue(settings)
    smaller = catalogue(settings.model_copy(update={"max_bytes": 4096}))
    assert smaller[0] is not codec
    assert smaller[0].max_bytes == 4096


def test_a_policy_made_broken_is_refused_though_it_was_built_before(settings: Settings) -> None:
    catalogue(settings)
    partners = settings.policy_dir / "partners.yaml"
    partners.write_text(partners.read_text(encoding="utf-8") + "\n  : [\n", encoding="utf-8")
    with pytest.raises(Misconfigured, match=r"partners\.yaml"):
        catalogue(settings)


def test_only_the_last_four_are_kept(settings: Settings) -> None:
    """Five catalogues (five depth limits): the first is built again, the fifth is kept."""
    built = [catalogue(settings.model_copy(update={"max_depth": d}))[0] for d in range(20, 25)]
    assert catalogue(settings.model_copy(update={"max_depth": 24}))[0] is built[-1]
    assert catalogue(settings.model_copy(update={"max_depth": 20}))[0] is not built[0]
