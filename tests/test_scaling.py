"""The gradient of an L-layer MLP with respect to every weight grows linearly in L (issue #6).

A size count, not a timing: the operations of the L gradients ∂f/∂W₁ … ∂f/∂W_L together,
each distinct subexpression counted once (`derive.codegen.op_count`), for
f = 𝟏ᵀ tanh(W_L tanh(… tanh(W₁x))). Backpropagation shares the layers' activations and
deltas, so the count must grow about linearly, never exponentially.
`tests/benchmarks/scale.py` measures the same up to L = 32, with times.
"""

from __future__ import annotations

import math

import sympy as sp

import derive
from derive.codegen import op_count
from derive.expr import MatScalar, elementwise, ones


def mlp_loss(layers: int) -> tuple[sp.Basic, list[str]]:
    """f = 𝟏ᵀ tanh(W_L … tanh(W₁x)) with n×n weights, and the weight names W_1 … W_L."""
    n = sp.Symbol("n", integer=True, positive=True)
    x = sp.MatrixSymbol("x", n, 1)
    h, names = x, []
    for layer in range(1, layers + 1):
        w = sp.MatrixSymbol(f"W_{layer}", n, n)
        names.append(w.name)
        h = elementwise(sp.tanh, sp.MatMul(w, h))
    return MatScalar(sp.MatMul(ones(n).T, h)), names


def all_gradients(layers: int) -> list[sp.Basic]:
    """∂f/∂W_l for l = 1 … L (derived one by one, unchecked: sizes are what is tested)."""
    f, names = mlp_loss(layers)
    return [derive.gradient(f, name, check=False).result for name in names]


def fitted_exponent(ls: list[int], sizes: list[int]) -> float:
    """The slope of log size against log L, by least squares."""
    xs, ys = [math.log(v) for v in ls], [math.log(v) for v in sizes]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / sum(
        (a - mx) ** 2 for a in xs
    )


def test_mlp_gradients_grow_linearly_in_depth():
    ls = [1, 2, 4, 8]
    sizes = [op_count(all_gradients(layers)) for layers in ls]
    assert all(b > a for a, b in zip(sizes, sizes[1:], strict=False)), sizes
    assert sizes[-1] / sizes[-2] < 2.6, sizes
    assert fitted_exponent(ls, sizes) <= 1.3, sizes


def test_the_size_count_would_catch_an_expanded_tree():
    # The same gradients without sharing (each written out as a tree) grow faster than
    # linearly: the check above is not vacuous.
    from derive.codegen import tree_size

    ls = [1, 2, 4, 8]
    sizes = [sum(tree_size(g) for g in all_gradients(layers)) for layers in ls]
    assert fitted_exponent(ls, sizes) > 1.3, sizes
