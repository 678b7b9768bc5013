"""Backpropagation through a two-layer network, h = tanh(W₁x + b₁), p = softmax(W₂h + b₂),
L = −yᵀ log p: the engine derives ∂L/∂W₂, ∂L/∂b₂, ∂L/∂W₁, ∂L/∂b₁ one by one, and each result
is then written with the shared factors of the backpropagation recursion

    δ₂ = p − y,   δ₁ = (W₂ᵀδ₂) ∘ (1 − h∘h):   ∂L/∂W₂ = δ₂hᵀ, ∂L/∂b₂ = δ₂, ∂L/∂W₁ = δ₁xᵀ,
    ∂L/∂b₁ = δ₁.

Naming δ is a step of the rule "Name a subexpression" (the definitions travel with the
derivation); the checker computes h, p, δ₂, δ₁ from their definitions on every trial, so each
naming step is checked numerically, and the δ forms are checked against jax.grad.
"""

from dataclasses import replace

import sympy as sp

from derive.api import gradient
from derive.expr import Softmax, elementwise, ones
from derive.model import Claim, Derivation, Remark
from derive.record import Recorder
from derive.rules.constrained import NAMING

NAME = "mlp-backprop"
TITLE = "Backpropagation through a two-layer network (tanh hidden layer, softmax output)"

LOSS = r"-y^\top \log \operatorname{softmax}(W_2 \tanh(W_1 x + b_1) + b_2)"
NAMED = "h, p, δ₂ and δ₁ as defined under “where”"
# Distinct input, hidden and output sizes n, m, k: W₁ and W₂ are not square.
SHAPES = {
    "W_1": ("m", "n"),
    "b_1": ("m",),
    "W_2": ("k", "m"),
    "b_2": ("k",),
    "x": ("n",),
    "y": ("k",),
}


def build() -> Derivation:
    n, m, k = sp.symbols("n m k", integer=True, positive=True)
    W1, W2 = sp.MatrixSymbol("W_1", m, n), sp.MatrixSymbol("W_2", k, m)
    b1, b2 = sp.MatrixSymbol("b_1", m, 1), sp.MatrixSymbol("b_2", k, 1)
    x, y = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("y", k, 1)
    h, p = sp.MatrixSymbol("h", m, 1), sp.MatrixSymbol("p", k, 1)
    delta2, delta1 = sp.MatrixSymbol("delta_2", k, 1), sp.MatrixSymbol("delta_1", m, 1)
    definitions = (
        (h, elementwise(sp.tanh, sp.MatAdd(sp.MatMul(W1, x), b1))),
        (p, Softmax(sp.MatAdd(sp.MatMul(W2, h), b2))),
        (delta2, sp.MatAdd(p, sp.MatMul(-1, y))),
        (
            delta1,
            sp.HadamardProduct(
                sp.MatMul(sp.Transpose(W2), delta2),
                sp.MatAdd(ones(m), sp.MatMul(-1, sp.HadamardProduct(h, h))),
            ),
        ),
    )
    delta_form = {
        "W_2": sp.MatMul(delta2, sp.Transpose(h)),
        "b_2": delta2,
        "W_1": sp.MatMul(delta1, sp.Transpose(x)),
        "b_1": delta1,
    }

    rec = Recorder()
    results = []
    claims = []
    first = None
    for name, form in delta_form.items():
        d = gradient(LOSS, name, shapes=SHAPES, assume={"y": "prob"}, check=False)
        first = first or d
        # Each step keeps the variable it differentiates in: the checker's random direction.
        rec.include(replace(s, wrt=s.wrt or d.wrt) for s in d.steps)
        lhs = d.results[0][0]  # ∂f/∂W, as the engine labels it
        rec.cite(NAMING, lhs, d.result, form, note=NAMED, wrt=d.wrt)
        results.append((lhs, form))
        claims.append(
            Claim("gradient", f"δ form of ∂f/∂{name} against jax.grad", form, d.objective, d.wrt)
        )
    return Derivation(
        title=TITLE,
        goal="∂f/∂W₂, ∂f/∂b₂, ∂f/∂W₁, ∂f/∂b₁ for the loss f of one example, as backpropagation",
        given=first.given,
        objective=first.objective,
        wrt=tuple(delta_form),
        steps=tuple(rec.steps),
        results=tuple(results),
        claims=tuple(claims),
        definitions=definitions,
        remarks=(
            Remark.checked(
                "Backpropagation computes δ₂ once and passes it back through W₂ᵀ and the "
                "derivative 1 − h∘h of tanh to get δ₁: every weight gradient is an outer product "
                "of an error δ with the layer's input.",
                *claims,
            ),
        ),
    )
