"""Raad voor de Kinderbescherming (``urn:ketenpoort:rvdk:1``): PascalCase, minors first (§8.4).

The RvdK receives the VerzoekTotOnderzoek as ``rvdk:Onderzoeksverzoek`` (``rvdk:Kind``,
``rvdk:Gezagsdragers``, ``rvdk:Zorgen``, ``rvdk:IngezetteHulp``, ``rvdk:Informatiebron``) and
answers an Adviesaanvraag about a minor with ``rvdk:Advies``, which carries the fields of a
Reclasseringsadvies.
"""

from __future__ import annotations

from adapters.shape import Partner, Stijl, Vocabulary
from gateway.domain.model import BerichtType as T
from gateway.domain.model import Rol

VOCABULARY = Vocabulary(
    rol=Rol.RAAD_KINDERBESCHERMING,
    namespace="urn:ketenpoort:rvdk:1",
    prefix="rvdk",
    stijl=Stijl.PASCAL,
    names={
        "proces_verbaalnummer": "ProcesVerbaalNummer",
        "geaccordeerde_informatie": "Informatiebron",
        "@ref": "id",
    },
    roots={T.VERZOEK_TOT_ONDERZOEK: "Onderzoeksverzoek", T.RECLASSERINGSADVIES: "Advies"},
    wrap={"gezagsdrager": "Gezagsdragers"},
)

PARTNER = Partner(
    VOCABULARY,
    sends=(T.RECLASSERINGSADVIES,),
    receives=(
        T.VERZOEK_TOT_ONDERZOEK,
        T.VEILIGHEIDSBEOORDELING,
        T.ZSM_AANMELDING,
        T.ADVIESAANVRAAG,
        T.ACTIEOVERLEG_AANMELDING,
        T.ACTIEOVERLEG_BESLUIT,
    ),
)
