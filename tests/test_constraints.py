"""Assumptions that confine a symbol to a set (prob, onehot, binary, unit, symmetric) simplify
only what is held fixed: the gradient with respect to a constrained variable is the
unconstrained one, what jax.grad computes, evaluated at a point of the set.

Rewriting 1ᵀy as 1 in f before differentiating with respect to y changes f off the simplex
and gives a wrong gradient (z instead of z − lse(z)𝟏 for yᵀ log softmax(z)); after the
derivative is taken, the same rewrite of its value at a point of the simplex is exact.
"""

from __future__ import annotations

import pytest

import derive
from derive.model import Context
from derive.rules import prepare, transpose

CASES = [
    # (f, wrt, assume, the result as it should read)
    (r"\log(\mathbf 1^\top y) + y^\top z", "y", {"y": "prob"}, "𝟏 + z"),
    (r"\log(\mathbf 1^\top y) + y^\top z", "y", {"y": "onehot"}, "𝟏 + z"),
    (r"(\mathbf 1^\top p)^2 + p^\top z", "p", {"p": "prob"}, "2𝟏 + z"),
    (r"y^\top \log\operatorname{softmax}(z)", "y", {"y": "prob"}, "z − lse(z) 𝟏"),
    (r"y^\top \log\operatorname{softmax}(z)", "y", {"y": "onehot"}, "z − lse(z) 𝟏"),
    (r"(y^\top \mathbf 1) y^\top z", "y", {"y": "prob"}, None),
    (r"y^\top y", "y", {"y": "binary"}, "2y"),
    (r"\operatorname{tr}(A X^\top)", "X", {"X": "symmetric"}, "A"),
    (r"\operatorname{tr}(A X^\top X B)", "X", {"X": "symmetric"}, None),
    (r"\theta^2 (1 - \theta)", "theta", {"theta": "unit"}, None),
]


@pytest.mark.parametrize("f, wrt, assume, expected", CASES, ids=[c[0] for c in CASES])
def test_a_constrained_variable_gets_the_unconstrained_gradient(f, wrt, assume, expected):
    square = {"X": ("n", "n"), "A": ("n", "n"), "B": ("n", "n")}
    d = derive.gradient(f, wrt, assume=assume, shapes=square if "X" in assume else None)
    assert d.verification.passed, d.verification.failure
    if expected is not None:
        assert d.to_text().split("Result:")[1].splitlines()[1].endswith(expected)


def test_held_fixed_the_constraint_still_simplifies():
    """−yᵀ log softmax(z) with y one-hot, with respect to z: 1ᵀy = 1 is used (y is fixed)."""
    d = derive.gradient(r"-y^\top \log\operatorname{softmax}(z)", "z", assume={"y": "onehot"})
    assert any(s.rule.id == prepare.PROB_SUM.id for s in d.steps)
    assert "softmax(z) − y" in d.to_text()


def test_the_hessian_differentiates_the_unconstrained_gradient():
    """∇ = (𝟏ᵀy)⁻¹𝟏 + z, whose Jacobian at a point of the simplex is −𝟏𝟏ᵀ; simplifying ∇ to
    𝟏 + z first would give 0."""
    d = derive.hessian(r"\log(\mathbf 1^\top y) + y^\top z", "y", assume={"y": "prob"})
    assert d.verification.passed, d.verification.failure
    assert "−𝟏𝟏ᵀ" in d.to_text()


@pytest.mark.parametrize("at_point, expected", [(False, None), (True, "rewritten")])
def test_the_rules_ask_whether_the_symbol_is_held_fixed(at_point, expected):
    import sympy as sp

    from derive.expr import ones

    y = sp.MatrixSymbol("y", 3, 1)
    node = sp.MatMul(sp.Transpose(y), ones(3))
    ctx = Context(varying=frozenset({y}), assume={"y": frozenset({"prob"})}, at_point=at_point)
    out = prepare.PROB_SUM.apply(node, ctx)
    assert (out is not None) == (expected is not None)
    X = sp.MatrixSymbol("X", 3, 3)
    sym = Context(varying=frozenset({X}), assume={"X": frozenset({"symmetric"})})
    assert transpose.SYMMETRIC.apply(sp.Transpose(X), sym) is None
    assert transpose.SYMMETRIC.apply(sp.Transpose(X), sym.at_a_point()) == X
    # symmetric by structure is an identity, true off any set: always used
    assert transpose.SYMMETRIC.apply(sp.Transpose(X.T * X), sym) == X.T * X
