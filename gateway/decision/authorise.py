"""One authorisation, from the policy only: the authenticated partner is the Afzender and its
rol may send this BerichtType.

It runs on the Kop, before the body is read: the Kop settles it (the authenticated Afzender,
the BerichtType), so a rol that may not send a type is refused with
``AFZENDER_NIET_GEAUTORISEERD`` whatever the body's format. Technical messages follow the same
rule: a partner may send only the recipients' receipt (Afleverbevestiging) and a status
request (Statusvraag); the gateway alone answers (Ontvangstbevestiging, Foutbericht,
Statusantwoord).
"""

from __future__ import annotations

from gateway.domain.errors import Refused
from gateway.domain.model import Foutcode, Kop, TechnischType, is_technisch
from gateway.policy.catalogue import PartnerEntry, Policy

# Technical types a partner may send (the rest are the gateway's own answers).
VAN_PARTNERS = frozenset({TechnischType.AFLEVERBEVESTIGING, TechnischType.STATUSVRAAG})


def authorise(
    policy: Policy, kop: Kop, authenticated_oin: str, *, regel: int | None = None
) -> PartnerEntry:
    """The registered partner behind ``authenticated_oin``, if it may send this message.

    ``regel``: the line of kp:BerichtType, named in a refusal of the type.
    """
    partner = policy.partners.get(authenticated_oin)
    if partner is None:
        raise Refused(
            Foutcode.AFZENDER_ONJUIST,
            f"OIN {authenticated_oin} is not a registered partner",
            element="kp:Afzender",
        )
    if kop.afzender.oin != partner.oin or kop.afzender.rol != partner.rol:
        raise Refused(
            Foutcode.AFZENDER_ONJUIST,
            f"Afzender says {kop.afzender.oin} ({kop.afzender.rol}) but the message comes "
            f"from {partner.oin} ({partner.rol})",
            element="kp:Afzender",
        )
    berichttype = kop.berichttype
    if is_technisch(berichttype):
        if berichttype not in VAN_PARTNERS:
            raise Refused(
                Foutcode.AFZENDER_NIET_GEAUTORISEERD,
                f"only the gateway sends a {berichttype}",
                element="kp:BerichtType",
                regel=regel,
            )
        return partner
    if partner.rol not in policy.berichten[berichttype].afzenders:
        raise Refused(
            Foutcode.AFZENDER_NIET_GEAUTORISEERD,
            f"rol {partner.rol} may not send a {berichttype}",
            element="kp:BerichtType",
            regel=regel,
        )
    return partner


__all__ = ["VAN_PARTNERS", "authorise"]
