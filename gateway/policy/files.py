"""The schemas of the policy files (``policy/v1``): one strict pydantic model per file and
the entries, conditions and grants they hold, as read before the cross-file checks."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.domain.model import BerichtType, Categorie, Doel, Prioriteit, Rol

__all__ = [
    "CONDITIE_BRANCHES",
    "BerichtRegel",
    "BerichtenFile",
    "Conditie",
    "Deadline",
    "DeelnameConditie",
    "DoelConditie",
    "DoelEntry",
    "DoelenFile",
    "ExtraGrant",
    "GrondslagRij",
    "HgConditie",
    "LeeftijdConditie",
    "OntvangerGrant",
    "PartnerEntry",
    "PartnersFile",
    "PolicyMeta",
    "RegioEntry",
    "Route",
    "Toegang",
    "VeldConditie",
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


class RegioEntry(_Strict):
    van: int = Field(ge=1000, le=9999)
    tot: int = Field(ge=1000, le=9999)
    oin: str = Field(pattern=r"^\d{20}$")


class PartnersFile(_Strict):
    partners: list[PartnerEntry] = Field(min_length=1)
    regios: list[RegioEntry] = Field(default_factory=list)


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

    def acceptabel(self, afzender: Rol, ontvanger: Rol) -> tuple[str, ...]:
        """The grondslagen ``afzender`` may cite to share for this doel with ``ontvanger``."""
        codes: list[str] = []
        for rij in self.grondslagen:
            if rij.afzender is afzender and (not rij.naar or ontvanger in rij.naar):
                codes.extend(c for c in rij.codes if c not in codes)
        return tuple(codes)


class DoelenFile(_Strict):
    doelen: dict[Doel, DoelEntry]


class DoelConditie(_Strict):
    doel: Doel


class VeldConditie(_Strict):
    veld: str
    is_: bool | int | str = Field(alias="is")


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


Conditie = DoelConditie | VeldConditie | LeeftijdConditie | HgConditie | DeelnameConditie
CONDITIE_BRANCHES = frozenset(
    c.__name__ for c in (DoelConditie, VeldConditie, LeeftijdConditie, HgConditie, DeelnameConditie)
)


class Route(_Strict):
    """One routing rule (spec v2 §5): a rol, its conditions, how its partner is found and
    whether it is required (a rule that applies and cannot be resolved refuses the message
    GEEN_ONTVANGER) or optional (reported in the Ontvangstbevestiging)."""

    naar: Rol
    als: list[Conditie] = Field(default_factory=list)
    regio: str | None = None
    verplicht: bool = True


class ExtraGrant(_Strict):
    als: list[Conditie] = Field(min_length=1)
    categorieen: list[Categorie] = Field(min_length=1)


class Toegang(_Strict):
    categorieen: list[Categorie] = Field(min_length=1)
    extra: list[ExtraGrant] = Field(default_factory=list)


class Deadline(_Strict):
    veld: str
    uren: int = Field(gt=0)


class BerichtRegel(_Strict):
    afzenders: list[Rol] = Field(min_length=1)
    doelen: list[Doel] = Field(min_length=1)
    prioriteit: Prioriteit | None = None
    uiterste_beslismoment: Deadline | None = None
    routes: list[Route] = Field(min_length=1)
    # the boolean field of the body that labels the casus HG (kept in the routing memory)
    hg_label: str | None = None
    toegang: dict[Doel, dict[Rol, Toegang]] = Field(default_factory=dict)
    # spec v2 §8: per free-text field (a dotted path), every category its content may hold
    vrije_tekst: dict[str, list[Categorie]] = Field(default_factory=dict)


class BerichtenFile(_Strict):
    berichten: dict[BerichtType, BerichtRegel]
