"""The matrix symbols that rules' examples are written with."""

from __future__ import annotations

import sympy as sp


def ms(name: str, rows: sp.Expr, cols: sp.Expr = 1) -> sp.MatrixSymbol:
    """A rows × cols matrix symbol (a column vector when cols is left out)."""
    return sp.MatrixSymbol(name, rows, cols)
