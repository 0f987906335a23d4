"""A partner's vocabulary is a data file (adapters/vocabularies), read strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import load_adapters
from adapters.shape import Stijl
from adapters.vocabulary_file import VOCABULARIES, load_partner, load_partners
from gateway.domain.errors import Misconfigured
from tests.support.catalogue import PARTNERS, TYPEN

HERE = VOCABULARIES


def test_every_partner_reads_its_vocabulary_from_its_file() -> None:
    files = sorted(HERE.glob("*.yaml"))
    assert len(files) == len(PARTNERS) == 8  # v1's five rollen and v2 §2's three
    for path in files:
        partner = load_partner(path)
        assert PARTNERS[partner.vocabulary.rol] == partner


def test_the_file_says_what_the_adapter_does() -> None:
    reclassering = load_partner(HERE / "reclassering.yaml")
    assert reclassering.vocabulary.names["verdachte"] == "Client"
    assert reclassering.vocabulary.spellings["verdachte"] == "CLIENT"
    assert reclassering.vocabulary.spellings["huiselijk-geweld"] == "HG"
    assert reclassering.sends == ("Reclasseringsadvies",)
    vt = load_partner(HERE / "veilig_thuis.yaml")
    assert vt.vocabulary.stijl is Stijl.KEBAB
    assert vt.vocabulary.roots["VtMelding"] == "melding"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("stijl: pascal", "stijl: camel"), "stijl"),
        (("prefix: rc", "prefix: rc\nsoort: extra"), "soort"),
        (("rol: reclassering", "rol: Wijk Team"), "rol"),
    ],
)
def test_a_wrong_file_is_refused_naming_file_and_field(
    tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    text = (HERE / "reclassering.yaml").read_text()
    assert change[0] in text
    (tmp_path / "reclassering.yaml").write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(Misconfigured) as caught:
        load_partner(tmp_path / "reclassering.yaml")
    assert "reclassering.yaml" in str(caught.value)
    assert says in str(caught.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Misconfigured, match=r"gemeente\.yaml"):
        load_partner(tmp_path / "gemeente.yaml")


def test_an_empty_folder_or_two_files_of_one_rol_are_refused(tmp_path: Path) -> None:
    with pytest.raises(Misconfigured, match="no vocabulary"):
        load_partners(tmp_path)
    text = (HERE / "reclassering.yaml").read_text()
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text)
    with pytest.raises(Misconfigured, match="second vocabulary for rol reclassering"):
        load_partners(tmp_path)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("  - Reclasseringsadvies", "  - Reclasseringsrapport"), "Reclasseringsrapport"),
        (("rol: reclassering", "rol: wijkteam"), "wijkteam: no such rol"),
    ],
)
def test_a_vocabulary_the_catalogue_does_not_know_is_refused(
    tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    """A BerichtType or rol of a vocabulary must be the catalogue's (typen.yaml)."""
    for path in HERE.glob("*.yaml"):
        text = path.read_text()
        if path.name == "reclassering.yaml":
            text = text.replace(change[0], change[1], 1)
        (tmp_path / path.name).write_text(text)
    with pytest.raises(Misconfigured, match=says):
        load_adapters(TYPEN, tmp_path)
