"""Openbaar Ministerie (``urn:ketenpoort:om:1``): PascalCase, identifiers as attributes (§8.3).

The parketnummer and a person's BSN are attributes in every OM element (``parketnummer="…"``,
``<om:Verdachte bsn="…">``); the OmBeslissing is ``om:Beslissing``.
"""

from __future__ import annotations

from adapters.shape import Partner, Stijl, Vocabulary
from gateway.domain.model import BerichtType as T
from gateway.domain.model import Rol

VOCABULARY = Vocabulary(
    rol=Rol.OPENBAAR_MINISTERIE,
    namespace="urn:ketenpoort:om:1",
    prefix="om",
    stijl=Stijl.PASCAL,
    names={"proces_verbaalnummer": "ProcesVerbaalNummer", "@ref": "id"},
    roots={T.OM_BESLISSING: "Beslissing"},
    ident_as_attribute=True,
)

PARTNER = Partner(
    VOCABULARY,
    sends=(T.ADVIESAANVRAAG, T.OM_BESLISSING, T.ACTIEOVERLEG_BESLUIT),
    receives=(
        T.VEILIGHEIDSBEOORDELING,
        T.ZSM_AANMELDING,
        T.RECLASSERINGSADVIES,
        T.ACTIEOVERLEG_AANMELDING,
    ),
)
