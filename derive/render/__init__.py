"""Printers that walk a `Derivation`: LaTeX, plain text, Markdown and JSON. They add no maths."""
