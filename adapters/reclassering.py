"""Reclassering (``urn:ketenpoort:reclassering:1``): PascalCase (spec §8.5).

The reclassering calls the verdachte its ``Client``: the element of the verdachte in an
Adviesaanvraag or OmBeslissing, and the rol of that person in a ZsmAanmelding (``CLIENT``).

The vocabulary (names, code spellings, what it sends and receives) is data:
``adapters/reclassering.yaml``.
"""

from __future__ import annotations

from adapters.vocabulary_file import load_partner

PARTNER = load_partner("reclassering")
VOCABULARY = PARTNER.vocabulary

__all__ = ["PARTNER", "VOCABULARY"]
