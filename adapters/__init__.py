"""Adapters: one native vocabulary per partner format, translating its XML to and from the
canonical model (``gateway.domain.model``). Adapters only translate; they do no I/O beyond
reading their vocabulary files once, at start.

Each partner's vocabulary (how it spells names and codes, which types it sends and receives) is
a data file, ``adapters/vocabularies/<name>.yaml`` (read by ``vocabulary_file``); the
structure of each BerichtType is the catalogue's (``policy/v1/typen.yaml``). To add a partner
format: copy a vocabulary file, set its rol and spelling, list what it sends and receives,
run ``ketenpoort schemas write`` (the XSDs for its integration engineers) and add an example per
type it sends under ``examples/``. No Python changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from adapters.codec import Adapter
from adapters.shape import Partner
from adapters.vocabulary_file import VOCABULARIES, load_partners
from gateway.domain.errors import Misconfigured
from gateway.domain.model import Berichttypen, Rol

__all__ = ["VOCABULARIES", "Adapter", "Partner", "load_adapters"]


def load_adapters(typen: Berichttypen, directory: Path = VOCABULARIES) -> Mapping[Rol, Adapter]:
    """An adapter per partner format of ``directory``, for the catalogue's ``typen``; a
    vocabulary naming a type or a rol the catalogue does not know is :class:`Misconfigured`."""
    adapters: dict[Rol, Adapter] = {}
    for rol, partner in load_partners(directory).items():
        if rol not in typen.rollen:
            raise Misconfigured(f"vocabulary of {rol}: no such rol in the catalogue")
        for berichttype in (*partner.sends, *partner.receives):
            if berichttype not in typen:
                raise Misconfigured(
                    f"vocabulary of {rol}: BerichtType {berichttype} is not in the catalogue"
                )
        adapters[rol] = Adapter(partner, typen)
    namespaces = [a.vocabulary.namespace for a in adapters.values()]
    if len(set(namespaces)) != len(namespaces):
        raise Misconfigured(f"{directory}: two vocabularies share a namespace")
    return adapters
