"""Openbaar Ministerie (``urn:ketenpoort:om:1``): PascalCase, identifiers as attributes (§8.3).

The parketnummer and a person's BSN are attributes in every OM element (``parketnummer="…"``,
``<om:Verdachte bsn="…">``); the OmBeslissing is ``om:Beslissing``.

The vocabulary (names, code spellings, what it sends and receives) is data:
``adapters/openbaar_ministerie.yaml``.
"""

from __future__ import annotations

from adapters.vocabulary_file import load_partner

PARTNER = load_partner("openbaar_ministerie")
VOCABULARY = PARTNER.vocabulary

__all__ = ["PARTNER", "VOCABULARY"]
