"""A partner's vocabulary is a data file beside its adapter, read strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import PARTNERS
from adapters.shape import Stijl
from adapters.vocabulary_file import HERE, load_partner
from gateway.domain.errors import Misconfigured
from gateway.domain.model import BerichtType, Rol


def test_every_partner_reads_its_vocabulary_from_its_file() -> None:
    files = sorted(p.stem for p in HERE.glob("*.yaml"))
    assert len(files) == len(PARTNERS) == 5
    for name in files:
        partner = load_partner(name)
        assert PARTNERS[Rol(partner.vocabulary.rol)] == partner


def test_the_file_says_what_the_adapter_does() -> None:
    reclassering = load_partner("reclassering")
    assert reclassering.vocabulary.names["verdachte"] == "Client"
    assert reclassering.vocabulary.spellings == {"verdachte": "CLIENT"}
    assert reclassering.sends == (BerichtType.RECLASSERINGSADVIES,)
    vt = load_partner("veilig_thuis")
    assert vt.vocabulary.stijl is Stijl.KEBAB
    assert vt.vocabulary.roots[BerichtType.VT_MELDING] == "melding"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("stijl: pascal", "stijl: camel"), "stijl"),
        (("prefix: rc", "prefix: rc\nsoort: extra"), "soort"),
        (("  - Reclasseringsadvies", "  - Reclasseringsrapport"), "sends"),
        (("rol: reclassering", "rol: wijkteam"), "rol"),
    ],
)
def test_a_wrong_file_is_refused_naming_file_and_field(
    tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    text = (HERE / "reclassering.yaml").read_text()
    assert change[0] in text
    (tmp_path / "reclassering.yaml").write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(Misconfigured) as caught:
        load_partner("reclassering", tmp_path)
    assert "reclassering.yaml" in str(caught.value)
    assert says in str(caught.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Misconfigured, match=r"gemeente\.yaml"):
        load_partner("gemeente", tmp_path)
