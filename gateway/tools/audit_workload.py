"""The workload of ``ketenpoort bench audit``: realistic audit entries, message by message.

The records are like the trail's (``gateway.decision.trail``): per message ``ontvangen`` per data
subject, then ``gerouteerd``, ``gefilterd`` and ``afgeleverd`` for two recipients per subject
(a withheld subject: ``gefilterd`` only), often a ``bevestigd``, now and then a
``geweigerd`` message. Every data subject is a keyed pseudonym from a pool of ``subjects``,
so one inzage finds a realistic few dozen records. Seeded: the same run every time.
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gateway.audit.log import Entry, Pseudonymiser
from gateway.policy.catalogue import Policy

__all__ = ["Workload", "routes_of"]


@dataclass(frozen=True)
class _Route:
    berichttype: str
    afzender: tuple[str, str]
    doel: str
    grondslag: str
    bewaartermijn_dagen: int
    ontvangers: tuple[tuple[str, str, str], ...]  # (oin, rol, grondslag)
    categorieen: tuple[str, ...]


def routes_of(policy: Policy) -> tuple[_Route, ...]:
    """A route per (BerichtType, doel) of the policy: its first sender rol's first partner, up
    to two recipient partners the doel admits, each with its grondslag, and the categories of
    the first one's grant (the catalogue, not this module, names rollen and doelen)."""
    routes: list[_Route] = []
    for berichttype, regel in policy.berichten.items():
        afzender_rol = regel.afzenders[0]
        afzenders = policy.partners_met_rol(afzender_rol)
        for doel in regel.doelen:
            entry = policy.doelen[doel]
            ontvangers: list[tuple[str, str, str]] = []
            for rol in dict.fromkeys(r.naar for r in regel.routes):
                codes = entry.acceptabel(afzender_rol, rol)
                if rol == afzender_rol or rol not in entry.ontvangers or not codes:
                    continue
                ontvangers.extend((p.oin, rol, codes[0]) for p in policy.partners_met_rol(rol))
            if not afzenders or not ontvangers:
                continue
            routes.append(
                _Route(
                    berichttype,
                    (afzenders[0].oin, afzender_rol),
                    doel,
                    ontvangers[0][2],
                    entry.bewaartermijn_dagen,
                    tuple(ontvangers[:2]),
                    tuple(entry.ontvangers[ontvangers[0][1]].categorieen),
                )
            )
    return tuple(routes)


_SUBJECT_COUNTS = (1, 2, 3, 4)  # data subjects in one message ...
_SUBJECT_WEIGHTS = (0.2, 0.35, 0.3, 0.15)  # ... and how often
_REFUSAL_CODES = ("SCHEMA_ONGELDIG", "DOEL_NIET_TOEGESTAAN", "BSN_ONGELDIG")


class Workload:
    """Realistic audit entries, one message at a time (seeded: the same run every time)."""

    def __init__(self, policy: Policy, subjects: int = 50_000, seed: int = 20_261_120) -> None:
        self.routes = routes_of(policy)
        self.alle = policy.typen.categorieen  # a withheld subject: every category
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not a secret
        pseudonymise = Pseudonymiser(secrets.token_bytes(32))
        self.pool = [pseudonymise(f"{100_000_000 + i:09d}") for i in range(subjects)]
        self.policy = "1.0.0+sha256:bench"
        self.messages = 0
        self.used: set[str] = set()  # the subjects the records name (for inzage)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _hex(self, nbytes: int) -> str:
        return self.rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def message(self) -> list[Entry]:
        """The entries of one message (accepted, or now and then refused)."""
        rng = self.rng
        self.messages += 1
        route = rng.choice(self.routes)
        subjects = rng.sample(self.pool, rng.choices(_SUBJECT_COUNTS, _SUBJECT_WEIGHTS)[0])
        self.used.update(subjects)
        bericht_id = self._uuid()
        key = f"{route.afzender[0]}|{bericht_id}"
        base: dict[str, Any] = {
            "trace_id": self._hex(16),
            "berichttype": route.berichttype,
            "bericht_id": bericht_id,
            "afzender": route.afzender,
            "doel": route.doel,
            "policy": self.policy,
            "bewaartermijn_dagen": route.bewaartermijn_dagen,
        }
        received = self._hex(32)
        if rng.random() < 0.02:
            code = rng.choice(_REFUSAL_CODES)
            return [
                Entry(
                    gebeurtenis="geweigerd",
                    dedup=f"{key}|geweigerd||{subject}",
                    span_id=self._hex(8),
                    grondslag=route.grondslag,
                    sha256=received,
                    status=code,
                    betrokkene=subject,
                    **base,
                )
                for subject in subjects
            ]
        entries = [
            Entry(
                gebeurtenis="ontvangen",
                dedup=f"{key}|ontvangen||{subject}",
                span_id=self._hex(8),
                grondslag=route.grondslag,
                categorieen=route.categorieen,
                sha256=received,
                status="geaccepteerd",
                betrokkene=subject,
                **base,
            )
            for subject in subjects
        ]
        for oin, rol, grondslag in route.ontvangers:
            removed = tuple(sorted(rng.sample(route.categorieen, rng.randint(0, 2))))
            kept = tuple(sorted(set(route.categorieen) - set(removed)))
            delivered = self._hex(32)
            confirmed = rng.random() < 0.5
            for subject in sorted(subjects):
                withheld = rng.random() < 0.1
                for gebeurtenis in ("gerouteerd", "gefilterd", "afgeleverd"):
                    if withheld and gebeurtenis != "gefilterd":
                        continue
                    dedup = f"{key}|{gebeurtenis}|{oin}|{subject}"
                    entries.append(
                        Entry(
                            gebeurtenis=gebeurtenis,
                            dedup=dedup,
                            span_id=self._hex(8),
                            ontvanger=(oin, rol),
                            grondslag=grondslag,
                            categorieen=() if withheld else kept,
                            verwijderd=self.alle if withheld else removed,
                            sha256=delivered if gebeurtenis == "afgeleverd" else None,
                            status="weggelaten" if withheld else gebeurtenis,
                            betrokkene=subject,
                            **base,
                        )
                    )
                if confirmed and not withheld:
                    dedup = f"{key}|bevestigd|{oin}|{subject}|"
                    entries.append(
                        Entry(
                            gebeurtenis="bevestigd",
                            dedup=dedup,
                            trace_id=base["trace_id"],
                            span_id=self._hex(8),
                            bericht_id=bericht_id,
                            afzender=(route.afzender[0], ""),
                            ontvanger=(oin, rol),
                            status="afgeleverd",
                            betrokkene=subject,
                            bewaartermijn_dagen=route.bewaartermijn_dagen,
                        )
                    )
        return entries

    def batches(self, records: int, batch: int) -> Iterator[list[Entry]]:
        """Group commits of whole messages, about ``batch`` entries each, ``records`` in all."""
        left = records
        while left > 0:
            group: list[Entry] = []
            while len(group) < min(batch, left):
                group.extend(self.message())
            group = group[:left]
            left -= len(group)
            yield group
