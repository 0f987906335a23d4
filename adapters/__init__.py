"""Adapters: one module per partner, each translating its native XML to and from the
canonical model (``gateway.domain.model``). Adapters only translate; they do no I/O.

Each partner's vocabulary (how it spells names and codes, which types it sends and receives) is
a data file beside its module, ``adapters/<name>.yaml`` (read by ``vocabulary_file``). To add a
partner: copy ``adapters/politie.yaml`` and ``politie.py``, set its vocabulary, register it in
``PARTNERS`` below, run ``ketenpoort schemas write`` and add an example per type it sends under
``examples/``.
"""

from __future__ import annotations

from adapters import (
    openbaar_ministerie,
    politie,
    raad_kinderbescherming,
    reclassering,
    veilig_thuis,
)
from adapters.codec import Adapter
from adapters.shape import Partner
from adapters.shapes import SHAPES
from gateway.domain.model import Rol

PARTNERS: dict[Rol, Partner] = {
    Rol(m.PARTNER.vocabulary.rol): m.PARTNER
    for m in (politie, veilig_thuis, openbaar_ministerie, raad_kinderbescherming, reclassering)
}

ADAPTERS: dict[Rol, Adapter] = {rol: Adapter(p, SHAPES) for rol, p in PARTNERS.items()}

BY_NAMESPACE: dict[str, Adapter] = {a.vocabulary.namespace: a for a in ADAPTERS.values()}

__all__ = ["ADAPTERS", "BY_NAMESPACE", "PARTNERS", "Adapter", "Partner"]
