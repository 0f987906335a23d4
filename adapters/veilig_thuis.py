"""Veilig Thuis (``urn:ketenpoort:vt:1``): lower-case-hyphenated, codes in lower case (§8.2).

VT calls the persons in a message ``betrokkenen`` and a birth date ``geboren``; it receives
the police VTMelding as ``vt:melding``.

The vocabulary (names, code spellings, what it sends and receives) is data:
``adapters/veilig_thuis.yaml``.
"""

from __future__ import annotations

from adapters.vocabulary_file import load_partner

PARTNER = load_partner("veilig_thuis")
VOCABULARY = PARTNER.vocabulary

__all__ = ["PARTNER", "VOCABULARY"]
