"""The schemas of the policy files (``policy/v1``): one strict pydantic model per file and
the entries, conditions and grants they hold, as read before the cross-file checks."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.domain.model import BerichtType, Categorie, Doel, Prioriteit, Rol

# Names are data (catalogus.yaml, doelen.yaml, typen.yaml); their form is checked here, their
# existence by the checks across files.
ROL = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
DOEL = r"^[A-Z][A-Z0-9_]{0,63}$"

__all__ = [
    "AFGESCHERMD",
    "CASUSREGIE",
    "CONDITIE_BRANCHES",
    "CONVERSATIE",
    "GEHEUGEN_REGIOS",
    "GESPREK_CONDITIES",
    "LEVERING",
    "OVERDRACHT_STATUSSEN",
    "REEKS_GELDIG",
    "REEKS_INGETROKKEN",
    "REEKS_STATUSSEN",
    "ROL",
    "VRAAG",
    "BerichtRegel",
    "BerichtenFile",
    "CasusregieRegel",
    "Conditie",
    "DeelnameConditie",
    "Diensturen",
    "DoelConditie",
    "DoelEntry",
    "DoelenFile",
    "ExtraGrant",
    "Geheugenregel",
    "GemeenteEntry",
    "GenoemdConditie",
    "GrondslagRij",
    "HgConditie",
    "LeeftijdConditie",
    "NormEntry",
    "NormenFile",
    "OntvangerGrant",
    "OverdrachtConditie",
    "PartnerEntry",
    "PartnersFile",
    "PolicyMeta",
    "PostcodeBereik",
    "Reeksregel",
    "RegioEntry",
    "Route",
    "Signaalregel",
    "Sluiter",
    "Termijn",
    "Tijdgrens",
    "Toegang",
    "VeldConditie",
    "Vereiste",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PolicyMeta(_Strict):
    versie: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    omschrijving: str = ""


class PartnerEntry(_Strict):
    oin: str = Field(pattern=r"^\d{20}$")
    rol: Rol
    naam: str = Field(min_length=1)
    # spec v2 §2: the name of its service hours in ``diensturen`` (none: the default)
    diensturen: str | None = None


_KLOKTIJD = r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"


def _minuut(kloktijd: str) -> int:
    uur, minuut = kloktijd.split(":")
    return int(uur) * 60 + int(minuut)


class Diensturen(_Strict):
    """A partner's service hours (spec v2 §2): a daily window, every day or werkdagen only."""

    dagen: Literal["alle", "werkdagen"]
    van: str = Field(pattern=_KLOKTIJD)
    tot: str = Field(pattern=_KLOKTIJD)

    @model_validator(mode="after")
    def _not_empty(self) -> Diensturen:
        if self.van_minuut >= self.tot_minuut:
            raise ValueError(f"service hours {self.van}-{self.tot} are empty")
        return self

    @property
    def van_minuut(self) -> int:
        return _minuut(self.van)

    @property
    def tot_minuut(self) -> int:
        return _minuut(self.tot)

    @property
    def alleen_werkdagen(self) -> bool:
        return self.dagen == "werkdagen"


class RegioEntry(_Strict):
    van: int = Field(ge=1000, le=9999)
    tot: int = Field(ge=1000, le=9999)
    oin: str = Field(pattern=r"^\d{20}$")


class PostcodeBereik(_Strict):
    van: int = Field(ge=1000, le=9999)
    tot: int = Field(ge=1000, le=9999)


class GemeenteEntry(_Strict):
    """A gemeente (v2 §2): its CBS code, the postcode ranges (first four digits, inclusive)
    that lie in it, and its partners: at most one per rol (its VT regio, lokaal team,
    crisisdienst, gecertificeerde instelling)."""

    code: str = Field(pattern=r"^\d{4}$")
    naam: str = Field(min_length=1)
    postcodes: list[PostcodeBereik] = Field(min_length=1)
    partners: list[Annotated[str, Field(pattern=r"^\d{20}$")]] = Field(default_factory=list)


class PartnersFile(_Strict):
    partners: list[PartnerEntry] = Field(min_length=1)
    # v2 §2: routing by address goes through the gemeente
    gemeenten: list[GemeenteEntry] = Field(default_factory=list)
    # the rol whose partners cover the postcode ranges of ``regios`` (spec §5)
    regio_rol: Rol | None = Field(default=None, pattern=ROL)
    regios: list[RegioEntry] = Field(default_factory=list)
    diensturen: dict[str, Diensturen] = Field(min_length=1)
    standaard_diensturen: str

    @model_validator(mode="after")
    def _regios_have_a_rol(self) -> PartnersFile:
        if self.regios and self.regio_rol is None:
            raise ValueError("regios need regio_rol: the rol whose partners cover them")
        return self


GRONDSLAG_CODE = r"^[A-Z0-9][A-Z0-9.\-]{0,63}$"


class OntvangerGrant(_Strict):
    categorieen: list[Categorie] = Field(min_length=1)


class GrondslagRij(_Strict):
    """One row of spec v2 §4's table: what a sending rol may cite for the doel, towards the
    recipient rollen ``naar`` (empty: every recipient rol)."""

    afzender: Rol
    naar: list[Rol] = Field(default_factory=list)
    codes: list[Annotated[str, Field(pattern=GRONDSLAG_CODE)]] = Field(min_length=1)


class DoelEntry(_Strict):
    omschrijving: str = ""
    bewaartermijn_dagen: int = Field(gt=0)
    grondslagen: list[GrondslagRij] = Field(min_length=1)
    ontvangers: dict[Rol, OntvangerGrant] = Field(min_length=1)
    # spec v2 §8: the senders' grounds for breaking beroepsgeheim that this doel accepts (codes
    # of typen.yaml's Doorbrekingsgrond); a block under beroepsgeheim on any other ground, or
    # for a doel that lists none, reaches no recipient
    doorbrekingsgronden: list[str] = Field(default_factory=list)

    def acceptabel(self, afzender: Rol, ontvanger: Rol) -> tuple[str, ...]:
        """The grondslagen ``afzender`` may cite to share for this doel with ``ontvanger``."""
        codes: list[str] = []
        for rij in self.grondslagen:
            if rij.afzender == afzender and (not rij.naar or ontvanger in rij.naar):
                codes.extend(c for c in rij.codes if c not in codes)
        return tuple(codes)


class DoelenFile(_Strict):
    doelen: dict[Annotated[Doel, Field(pattern=DOEL)], DoelEntry] = Field(min_length=1)


class DoelConditie(_Strict):
    doel: Doel


class VeldConditie(_Strict):
    """A field of the body has a value (``is``) or one of several (``in``)."""

    veld: str
    is_: bool | int | str | None = Field(default=None, alias="is")
    in_: list[bool | int | str] | None = Field(default=None, alias="in", min_length=1)

    @model_validator(mode="after")
    def _one_test(self) -> VeldConditie:
        if (self.is_ is None) == (self.in_ is None):
            raise ValueError("a veld condition has exactly one of is or in")
        return self

    def holds(self, waarde: object) -> bool:
        if self.in_ is not None:
            return waarde in self.in_
        return bool(waarde == self.is_)


class LeeftijdConditie(_Strict):
    leeftijd: str
    op: str
    minimaal: int | None = None
    onder: int | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> LeeftijdConditie:
        if (self.minimaal is None) == (self.onder is None):
            raise ValueError("a leeftijd condition has exactly one of minimaal or onder")
        return self


class HgConditie(_Strict):
    """The casus is huiselijk geweld: the message's own HG label (``hg_label`` of its type)
    is true, or an earlier message of the conversation carried one (routing memory, v2 §5)."""

    hg: bool


class DeelnameConditie(_Strict):
    """The route's rol took part in the conversation (routing memory, v2 §5); the route then
    goes to the partners of that rol that took part."""

    deelgenomen: bool


# the statuses of an Overdracht the routing memory keeps (v2 §6)
OVERDRACHT_STATUSSEN = frozenset({"lopend", "afgesloten"})


class OverdrachtConditie(_Strict):
    """The conversation's Overdracht has this status (``lopend`` or ``afgesloten``: routing
    memory, v2 §5); a conversation without an Overdracht has none."""

    overdracht: str = Field(min_length=1)


class GenoemdConditie(_Strict):
    """The sender named a partner of the route's rol as Ontvanger (v2 §6: the Raad's
    Informatieverzoek reaches Veilig Thuis only when it names the regio)."""

    genoemd: bool


Conditie = (
    DoelConditie
    | VeldConditie
    | LeeftijdConditie
    | HgConditie
    | DeelnameConditie
    | OverdrachtConditie
    | GenoemdConditie
)
GESPREK_CONDITIES = (HgConditie, DeelnameConditie, OverdrachtConditie, GenoemdConditie)
CONDITIE_BRANCHES = frozenset(
    c.__name__
    for c in (
        DoelConditie,
        VeldConditie,
        LeeftijdConditie,
        HgConditie,
        DeelnameConditie,
        OverdrachtConditie,
        GenoemdConditie,
    )
)

# How a route finds its partner besides a postcode field (v2 §5, §6)
CONVERSATIE = "conversatie"  # the partners of the rol that took part in the conversation
VRAAG = "vraag"  # the partner whose question this message answers (kp:InAntwoordOp)
CASUSREGIE = "casusregie"  # the partner that holds casusregie in the conversation
GEHEUGEN_REGIOS = frozenset({CONVERSATIE, VRAAG, CASUSREGIE})
# spec v2 §8: the field beside a postcode that marks its address shielded (never routed on)
AFGESCHERMD = "afgeschermd"


class Route(_Strict):
    """One routing rule (spec v2 §5): a rol, its conditions, how its partner is found and
    whether it is required (a rule that applies and cannot be resolved refuses the message
    GEEN_ONTVANGER) or optional (reported in the Ontvangstbevestiging)."""

    naar: Rol
    als: list[Conditie] = Field(default_factory=list)
    # how the partner of a rol with several partners is found, tried in order: a postcode
    # field of the body (through its gemeente), or one of GEHEUGEN_REGIOS
    regio: list[str] | None = None
    verplicht: bool = True

    @field_validator("regio", mode="before")
    @classmethod
    def _one_or_more(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @property
    def regios(self) -> tuple[str, ...]:
        return tuple(self.regio or ())


class ExtraGrant(_Strict):
    als: list[Conditie] = Field(min_length=1)
    categorieen: list[Categorie] = Field(min_length=1)


class Toegang(_Strict):
    categorieen: list[Categorie] = Field(min_length=1)
    extra: list[ExtraGrant] = Field(default_factory=list)


class CasusregieRegel(_Strict):
    """The sender of an accepted message of the type becomes the casusregie holder of the
    conversation when the conditions (on the message) hold."""

    als: list[Conditie] = Field(default_factory=list)


class Geheugenregel(_Strict):
    """What an accepted message of a type writes into the routing memory (v2 §5):
    ``casusregie``: its sender takes casusregie; ``overdracht``: the field path of the
    Overdracht's status (lopend/afgesloten), kept as the conversation's."""

    casusregie: CasusregieRegel | None = None
    overdracht: str | None = None


# the statuses of one versie of an afspraken reeks (v2 §6)
REEKS_GELDIG = "geldig"
REEKS_INGETROKKEN = "ingetrokken"
REEKS_STATUSSEN = frozenset({REEKS_GELDIG, REEKS_INGETROKKEN})


class Reeksregel(_Strict):
    """A type whose messages are versions of a series (v2 §6, Veiligheidsafspraken): the
    field paths of its reeks-id, versie, status (geldig/ingetrokken), geldig-tot and reden;
    ``inhoud``: the content fields a geldig versie must carry and a withdrawal must not."""

    id: str
    versie: str
    status: str
    geldig_tot: str
    reden: str
    inhoud: list[str] = Field(min_length=1)
    # v2 §7: where the matching keys are: an adres group (postcode, huisnummer), persons (bsn)
    adres: str | None = None
    personen: str | None = None


class Signaalregel(_Strict):
    """A type whose arrival is matched against the valid afspraken reeksen (v2 §7): where its
    adres (postcode, huisnummer) and its persons (bsn) are; the AfsprakenSignaal goes to the
    recipients of the message itself that have one of the rollen ``ontvangers`` and, when
    ``afzender``, to its sender."""

    adres: str | None = None
    personen: str | None = None
    ontvangers: list[Rol] = Field(default_factory=list)
    afzender: bool = False


class Vereiste(_Strict):
    """Content the XSD cannot require (v2 §6): when the conditions (on the message) hold, each
    field path is filled (an Overdracht afgesloten has a reden; an acute inzet its time)."""

    als: list[Conditie] = Field(default_factory=list)
    velden: list[str] = Field(min_length=1)


class Tijdgrens(_Strict):
    """A date field lies at most ``maanden`` months after the message's kp:Tijdstip (v2 §6: a
    voorwaarde's termijn at most 3 months ahead, seed 004); every value of a repeated one."""

    veld: str
    maanden: int = Field(gt=0)


class BerichtRegel(_Strict):
    afzenders: list[Rol] = Field(min_length=1)
    doelen: list[Doel] = Field(min_length=1)
    prioriteit: Prioriteit | None = None
    routes: list[Route] = Field(min_length=1)
    # the boolean field of the body that labels the casus HG (kept in the routing memory)
    hg_label: str | None = None
    toegang: dict[Doel, dict[Rol, Toegang]] = Field(default_factory=dict)
    # spec v2 §8: per free-text field (a dotted path), every category its content may hold
    vrije_tekst: dict[str, list[Categorie]] = Field(default_factory=dict)
    # spec v2 §8: fields the type requires in every part that has them, on top of the
    # sender's XSD (``geinformeerd``: each betrokkene says whether it was told, or why not)
    verplicht: list[str] = Field(default_factory=list)
    # v2 §6: an answer: kp:InAntwoordOp names a message of one of these types that was
    # delivered to this sender (else ONTVANGER_NIET_TOEGESTAAN); the doel must be the question's
    antwoord_op: list[BerichtType] = Field(default_factory=list)
    # what a sending rol may send of this type (else AFZENDER_NIET_GEAUTORISEERD)
    afzender_als: dict[Rol, list[Conditie]] = Field(default_factory=dict)
    # what an accepted message of this type changes in the routing memory (v2 §5)
    geheugen: Geheugenregel | None = None
    # v2 §6: the type's messages are versions of an afspraken reeks
    reeks: Reeksregel | None = None
    # v2 §7: an accepted message of this type is matched against the valid afspraken reeksen
    afspraken_signaal: Signaalregel | None = None
    # content rules the XSD cannot express (SCHEMA_ONGELDIG naming the field)
    vereist: list[Vereiste] = Field(default_factory=list)
    tijdgrenzen: list[Tijdgrens] = Field(default_factory=list)


class BerichtenFile(_Strict):
    berichten: dict[BerichtType, BerichtRegel]


class Termijn(_Strict):
    """A norm's deadline (spec v2 §10), exactly one kind: ``werkdagen`` N (Atw), ``diensturen``
    H (hours of the recipient's service hours), ``wettelijke_klok`` H (the Sv ophoudtermijn:
    hours not counting 00:00–09:00) or ``datum``: a date field (of the item, for a norm
    ``per`` item) whose day's end is the deadline (a voorwaarde's own termijn)."""

    werkdagen: int | None = Field(default=None, gt=0)
    diensturen: int | None = Field(default=None, gt=0)
    wettelijke_klok: int | None = Field(default=None, gt=0)
    datum: str | None = Field(default=None, min_length=1)
    # a field path of the opening message whose value, when filled, gives the wettelijke_klok
    # hours instead (pol:Ophoudtermijn, 6 or 9: v2 §10)
    uren_veld: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Termijn:
        kinds = [
            k for k in ("werkdagen", "diensturen", "wettelijke_klok", "datum") if getattr(self, k)
        ]
        if len(kinds) != 1:
            raise ValueError(
                "a termijn has exactly one of werkdagen, diensturen, wettelijke_klok, datum"
            )
        if self.uren_veld is not None and self.wettelijke_klok is None:
            raise ValueError("uren_veld only with wettelijke_klok")
        return self


class Sluiter(_Strict):
    """A message that closes a norm: its type, optionally only from a sending rol. For a norm
    ``per`` item: ``per`` is the closing message's repeated part whose items close the step
    their ``sleutel`` field names, each only when the item meets ``als`` (a final status)."""

    type: str
    van: str | None = None
    per: str | None = None
    sleutel: str | None = None
    als: list[VeldConditie] = Field(default_factory=list)

    @model_validator(mode="after")
    def _per_met_sleutel(self) -> Sluiter:
        if (self.per is None) != (self.sleutel is None):
            raise ValueError("per and sleutel go together")
        if self.als and self.per is None:
            raise ValueError("als (on the item) only with per")
        return self


LEVERING = "levering"


class NormEntry(_Strict):
    """One row of spec v2 §10: opened by a type (or by every ``levering``), closed by the
    listed types in the conversation. ``start``: field paths of the opening message, the first
    filled one's time starts the norm (none: its arrival). ``spoed``: the deadline for a spoed
    message, when it differs. ``ontvangstbevestiging``: its deadline is reported to the
    sender. ``actief``: false for a row whose types do not exist yet (checked for shape
    only). ``als``: conditions on the opening message (else it opens nothing). ``per`` and
    ``sleutel``: one step per item of that repeated part, named by the item's field (a
    voorwaarde and its voorwaarde-id). ``bij_aankomst``: checked on arrival, the opening
    message is itself the step (a late report is a missed deadline): no ``gesloten_door``."""

    naam: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    geopend_door: str
    als: list[VeldConditie] = Field(default_factory=list)
    per: str | None = None
    sleutel: str | None = None
    start: list[str] = Field(default_factory=list)
    gesloten_door: list[Sluiter] = Field(default_factory=list)
    bij_aankomst: bool = False
    termijn: Termijn
    spoed: Termijn | None = None
    ontvangstbevestiging: bool = False
    actief: bool = True

    @model_validator(mode="after")
    def _gesloten(self) -> NormEntry:
        if self.bij_aankomst == bool(self.gesloten_door):
            raise ValueError(
                "a norm is closed by gesloten_door, or on arrival (bij_aankomst): one of them"
            )
        if (self.per is None) != (self.sleutel is None):
            raise ValueError("per and sleutel go together")
        if any((s.per is None) != (self.per is None) for s in self.gesloten_door):
            raise ValueError("a norm per item is closed per item (per, sleutel), and only it")
        if self.termijn.datum is not None and self.per is None:
            raise ValueError("a termijn datum is a field of the item: only with per")
        return self


class NormenFile(_Strict):
    normen: list[NormEntry]
