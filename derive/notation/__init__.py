"""Notation: how expressions are written, in LaTeX and in plain text (no derivations here)."""
