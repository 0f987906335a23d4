"""Veilig Thuis (``urn:ketenpoort:vt:1``): lower-case-hyphenated, codes in lower case (§8.2).

VT calls the persons in a message ``betrokkenen`` and a birth date ``geboren``; it receives
the police VTMelding as ``vt:melding``.
"""

from __future__ import annotations

from adapters.shape import Partner, Stijl, Vocabulary
from gateway.domain.model import BerichtType as T
from gateway.domain.model import Rol

VOCABULARY = Vocabulary(
    rol=Rol.VEILIG_THUIS,
    namespace="urn:ketenpoort:vt:1",
    prefix="vt",
    stijl=Stijl.KEBAB,
    names={"personen": "betrokkenen", "persoon": "betrokkene", "geboortedatum": "geboren"},
    roots={T.VT_MELDING: "melding"},
)

PARTNER = Partner(
    VOCABULARY,
    sends=(
        T.VEILIGHEIDSBEOORDELING,
        T.TERUGKOPPELING,
        T.VEILIGHEIDSAFSPRAKEN,
        T.VERZOEK_TOT_ONDERZOEK,
        T.ACTIEOVERLEG_AANMELDING,
    ),
    receives=(
        T.VT_MELDING,
        T.ZSM_AANMELDING,
        T.OM_BESLISSING,
        T.ACTIEOVERLEG_AANMELDING,
        T.ACTIEOVERLEG_BESLUIT,
    ),
)
