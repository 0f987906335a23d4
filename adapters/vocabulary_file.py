"""A partner's native vocabulary as a data file (``adapters/vocabularies/<name>.yaml``).

The file says how the partner spells things and which types it sends and receives::

    rol: politie                       # the partner rol (as the policy names it)
    namespace: urn:ketenpoort:politie:1
    prefix: pol
    stijl: pascal                      # pascal (PascalCase, codes in capitals) | kebab
    names: {bsn: BSN}                  # canonical field name -> native element name
    roots: {VtMelding: VTMelding}      # BerichtType -> native root element, where it differs
    wrap: {gezagsdrager: Gezagsdragers}  # list field -> an added wrapper element
    spellings: {verdachte: CLIENT}     # canonical code -> the partner's own word
    ident_as_attribute: false          # identifiers as attributes (the OM)
    xsd: politie                       # the XSD files' name (default: the prefix)
    sends: [VtMelding, ZsmAanmelding]
    receives: [Terugkoppeling]

Read strictly: an unknown key, type or style is a :class:`Misconfigured` naming the file.
Every ``*.yaml`` of the vocabulary folder is one partner format: a new rol's format is a new
file, no Python.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.shape import Partner, Stijl, Vocabulary
from gateway.domain.errors import Misconfigured
from gateway.domain.model import BerichtType, Rol
from gateway.domain.yamlfile import SAFE_LOADER

VOCABULARIES = Path(__file__).resolve().parent / "vocabularies"


class VocabularyFile(BaseModel):
    """The structure of ``adapters/<name>.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rol: Rol = Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
    namespace: str = Field(pattern=r"^urn:[a-z0-9:.-]+$")
    prefix: str = Field(pattern=r"^[a-z][a-z0-9]*$")
    stijl: str = Field(pattern=r"^(pascal|kebab)$")
    names: dict[str, str] = Field(default_factory=dict)
    roots: dict[BerichtType, str] = Field(default_factory=dict)
    wrap: dict[str, str] = Field(default_factory=dict)
    spellings: dict[str, str] = Field(default_factory=dict)
    ident_as_attribute: bool = False
    xsd: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*$")
    sends: tuple[BerichtType, ...]
    receives: tuple[BerichtType, ...]


def load_partners(directory: Path = VOCABULARIES) -> dict[Rol, Partner]:
    """Every partner format of a vocabulary folder, by rol (one file per rol)."""
    partners: dict[Rol, Partner] = {}
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise Misconfigured(f"{directory}: no vocabulary (*.yaml) in the folder")
    for path in paths:
        partner = load_partner(path)
        rol = partner.vocabulary.rol
        if rol in partners:
            raise Misconfigured(f"{path}: a second vocabulary for rol {rol}")
        partners[rol] = partner
    return partners


def load_partner(path: Path) -> Partner:
    """The partner format described by one vocabulary file."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - SAFE_LOADER is a safe loader
        file = VocabularyFile.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise Misconfigured(f"{path}: {exc}") from exc
    vocabulary = Vocabulary(
        rol=file.rol,
        namespace=file.namespace,
        prefix=file.prefix,
        stijl=Stijl.PASCAL if file.stijl == "pascal" else Stijl.KEBAB,
        names=dict(file.names),
        roots=dict(file.roots),
        wrap=dict(file.wrap),
        spellings=dict(file.spellings),
        ident_as_attribute=file.ident_as_attribute,
        schema=file.xsd,
    )
    return Partner(vocabulary, sends=file.sends, receives=file.receives)


__all__ = ["VOCABULARIES", "VocabularyFile", "load_partner", "load_partners"]
