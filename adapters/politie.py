"""Politie (``urn:ketenpoort:politie:1``): PascalCase, code lists in capitals (spec §8.1).

This is the reference adapter: every partner module has this anatomy, a
:class:`~adapters.shape.Vocabulary` (how the partner spells things) and a
:class:`~adapters.shape.Partner` (which types it sends and receives). Structure lives in
``adapters.shapes``; parsing, rendering and the XSD follow from the two together.

The vocabulary (names, code spellings, what it sends and receives) is data:
``adapters/politie.yaml``.
"""

from __future__ import annotations

from adapters.vocabulary_file import load_partner

PARTNER = load_partner("politie")
VOCABULARY = PARTNER.vocabulary

__all__ = ["PARTNER", "VOCABULARY"]
