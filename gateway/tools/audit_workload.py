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
from gateway.domain.model import Categorie

__all__ = ["Workload"]


@dataclass(frozen=True)
class _Route:
    berichttype: str
    afzender: tuple[str, str]
    doel: str
    grondslag: str
    bewaartermijn_dagen: int
    ontvangers: tuple[tuple[str, str, str], tuple[str, str, str]]  # (oin, rol, grondslag)
    categorieen: tuple[str, ...]


_POLITIE = ("00000099000000000101", "politie")
_VT = ("00000099000000000102", "veilig-thuis")
_OM = ("00000099000000000103", "openbaar-ministerie")
_RVDK = ("00000099000000000104", "raad-kinderbescherming")
_RECLASSERING = ("00000099000000000105", "reclassering")
_ALL = tuple(c.value for c in Categorie)  # a withheld subject: every category
_ROUTES = (
    _Route(
        "VtMelding",
        _POLITIE,
        "VEILIGHEIDSBEOORDELING",
        "WMO2015-ART-5.2.6",
        1825,
        ((*_VT, "WMO2015-ART-5.2.6"), (*_RVDK, "JW-ART-7.3.11")),
        ("identificatie", "contact", "incident", "strafrechtelijk", "kind", "veiligheid"),
    ),
    _Route(
        "ZsmAanmelding",
        _POLITIE,
        "STRAFRECHTELIJKE_BESLISSING",
        "WJSG-ART-39F",
        2555,
        ((*_OM, "SV-ART-148"), (*_RECLASSERING, "WJSG-ART-39F")),
        ("identificatie", "incident", "strafrechtelijk", "proces", "veiligheid"),
    ),
    _Route(
        "Veiligheidsbeoordeling",
        _VT,
        "ACUTE_VEILIGHEID",
        "WPG-ART-19",
        1825,
        ((*_POLITIE, "WPG-ART-19"), (*_OM, "SV-ART-148")),
        ("identificatie", "contact", "veiligheid", "gezondheid", "proces"),
    ),
    _Route(
        "Adviesaanvraag",
        _OM,
        "RECLASSERINGSADVIES",
        "SV-ART-148",
        2555,
        ((*_RECLASSERING, "WJSG-ART-39F"), (*_RVDK, "WJSG-ART-39F")),
        ("identificatie", "strafrechtelijk", "hulpverlening", "proces"),
    ),
    _Route(
        "ActieoverlegAanmelding",
        _VT,
        "ACTIEOVERLEG",
        "WJSG-ART-39F",
        1825,
        ((*_OM, "WJSG-ART-39F"), (*_POLITIE, "WPG-ART-19")),
        ("identificatie", "incident", "veiligheid", "gezinsprofiel", "kind", "proces"),
    ),
)
_SUBJECT_COUNTS = (1, 2, 3, 4)  # data subjects in one message ...
_SUBJECT_WEIGHTS = (0.2, 0.35, 0.3, 0.15)  # ... and how often
_REFUSAL_CODES = ("SCHEMA_ONGELDIG", "DOEL_NIET_TOEGESTAAN", "BSN_ONGELDIG")


class Workload:
    """Realistic audit entries, one message at a time (seeded: the same run every time)."""

    def __init__(self, subjects: int = 50_000, seed: int = 20_261_120) -> None:
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
        route = rng.choice(_ROUTES)
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
                            verwijderd=_ALL if withheld else removed,
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
