"""Raad voor de Kinderbescherming (``urn:ketenpoort:rvdk:1``): PascalCase, minors first (§8.4).

The RvdK receives the VerzoekTotOnderzoek as ``rvdk:Onderzoeksverzoek`` (``rvdk:Kind``,
``rvdk:Gezagsdragers``, ``rvdk:Zorgen``, ``rvdk:IngezetteHulp``, ``rvdk:Informatiebron``) and
answers an Adviesaanvraag about a minor with ``rvdk:Advies``, which carries the fields of a
Reclasseringsadvies.

The vocabulary (names, code spellings, what it sends and receives) is data:
``adapters/raad_kinderbescherming.yaml``.
"""

from __future__ import annotations

from adapters.vocabulary_file import load_partner

PARTNER = load_partner("raad_kinderbescherming")
VOCABULARY = PARTNER.vocabulary

__all__ = ["PARTNER", "VOCABULARY"]
