"""Politie (``urn:ketenpoort:politie:1``): PascalCase, code lists in capitals (spec §8.1).

This is the reference adapter: every partner module has this anatomy, a
:class:`~adapters.shape.Vocabulary` (how the partner spells things) and a
:class:`~adapters.shape.Partner` (which types it sends and receives). Structure lives in
``adapters.shapes``; parsing, rendering and the XSD follow from the two together.
"""

from __future__ import annotations

from adapters.shape import Partner, Stijl, Vocabulary
from gateway.domain.model import BerichtType as T
from gateway.domain.model import Rol

VOCABULARY = Vocabulary(
    rol=Rol.POLITIE,
    namespace="urn:ketenpoort:politie:1",
    prefix="pol",
    stijl=Stijl.PASCAL,
    names={"bsn": "BSN", "proces_verbaalnummer": "ProcesVerbaalNummer", "@ref": "id"},
    roots={T.VT_MELDING: "VTMelding"},
)

PARTNER = Partner(
    VOCABULARY,
    sends=(T.VT_MELDING, T.ZSM_AANMELDING, T.ACTIEOVERLEG_AANMELDING),
    receives=(
        T.TERUGKOPPELING,
        T.VEILIGHEIDSAFSPRAKEN,
        T.OM_BESLISSING,
        T.ACTIEOVERLEG_AANMELDING,
        T.ACTIEOVERLEG_BESLUIT,
    ),
)
