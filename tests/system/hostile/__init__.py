"""Hostile messages: one corpus (``tests/support/hostile_corpus.py``), sent through every door
the gateway has."""
