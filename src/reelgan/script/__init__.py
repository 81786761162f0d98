"""Screenplays: Fountain in and out, and scene writing with a transformer language model."""
