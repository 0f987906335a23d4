"""Reclassering (``urn:ketenpoort:reclassering:1``): PascalCase (spec §8.5).

The reclassering calls the verdachte its ``Client``: the element of the verdachte in an
Adviesaanvraag or OmBeslissing, and the rol of that person in a ZsmAanmelding (``CLIENT``).
"""

from __future__ import annotations

from adapters.shape import Partner, Stijl, Vocabulary
from gateway.domain.model import BerichtType as T
from gateway.domain.model import Rol

VOCABULARY = Vocabulary(
    rol=Rol.RECLASSERING,
    namespace="urn:ketenpoort:reclassering:1",
    prefix="rc",
    stijl=Stijl.PASCAL,
    names={"verdachte": "Client", "proces_verbaalnummer": "ProcesVerbaalNummer", "@ref": "id"},
    spellings={"verdachte": "CLIENT"},
)

PARTNER = Partner(
    VOCABULARY,
    sends=(T.RECLASSERINGSADVIES,),
    receives=(
        T.VEILIGHEIDSBEOORDELING,
        T.ZSM_AANMELDING,
        T.ADVIESAANVRAAG,
        T.OM_BESLISSING,
        T.ACTIEOVERLEG_AANMELDING,
        T.ACTIEOVERLEG_BESLUIT,
    ),
)
