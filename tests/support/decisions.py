"""The gateway's decision path offline (no broker, no store): for tests that check decisions.

:func:`decide` runs :meth:`gateway.decision.pipeline.Pipeline.route` with the given facts and
returns the accepted decision, raising the refusal as :class:`Refused` (what the gateway would
answer with a Foutbericht).
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from pathlib import Path

from gateway.audit.log import Pseudonymiser
from gateway.decision.besluit import Aanvaarding, Feiten, Onbekend, Weigering, ingress
from gateway.decision.pipeline import Pipeline
from gateway.decision.routing import Gevraagd
from gateway.decision.trail import Trail
from gateway.domain.errors import Refused
from gateway.domain.model import Foutcode
from gateway.runtime.app import catalogue as catalogue_of
from gateway.runtime.settings import Settings
from tests.support import catalogue

__all__ = ["decide", "offline_pipeline", "pipeline_with_policy"]


@functools.cache
def offline_pipeline() -> Pipeline:
    """The real pipeline with the repository's policy and schemas (throwaway audit secret),
    on the tests' one default catalogue (so its models are the strategies' model classes)."""
    trail = Trail(Pseudonymiser(secrets.token_bytes(32)))
    return Pipeline(catalogue.CODEC, catalogue.POLICY, trail, Settings().gateway_oin)


def pipeline_with_policy(policy_dir: Path) -> Pipeline:
    """The real pipeline with the policy in ``policy_dir`` (throwaway audit secret)."""
    settings = Settings()
    codec, policy = catalogue_of(settings.model_copy(update={"policy_dir": policy_dir}))
    trail = Trail(Pseudonymiser(secrets.token_bytes(32)))
    return Pipeline(codec, policy, trail, settings.gateway_oin)


def decide(
    raw: bytes,
    afzender_oin: str,
    *,
    deelnemers: frozenset[str] = frozenset(),
    pipeline: Pipeline | None = None,
    nu: dt.datetime | None = None,
    casusregie: str | None = None,
    overdracht: str | None = None,
    gevraagd: tuple[Gevraagd, ...] = (),
) -> Aanvaarding:
    """The accepted decision for ``raw`` sent by ``afzender_oin`` arriving at ``nu`` (default:
    now), with what the routing memory knows of the conversation (who took part, the holder
    of casusregie, the Overdracht's status, the questions InAntwoordOp names); Refused
    otherwise."""
    feiten = Feiten(
        nu=nu or dt.datetime.now(dt.UTC),
        deelnemers=deelnemers,
        casusregie=casusregie,
        overdracht=overdracht,
        gevraagd=gevraagd,
    )
    besluit = (pipeline or offline_pipeline()).route(ingress(raw, afzender_oin), feiten)
    if isinstance(besluit, Weigering):
        raise besluit.refused
    if isinstance(besluit, Onbekend):
        raise Refused(Foutcode.AFZENDER_ONJUIST, f"OIN {afzender_oin} is not a partner")
    assert isinstance(besluit, Aanvaarding), besluit
    return besluit
