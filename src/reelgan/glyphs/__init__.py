"""Glyph studio: procedural and phrase logograms, sheets, vector and transparent output."""
