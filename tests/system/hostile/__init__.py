"""Hostile messages: one corpus (``corpus.py``), sent through every door the gateway has."""
