"""Softmax cross-entropy: the NLL of a categorical model with probabilities softmax(z),
L = −log p(y | softmax(z)) = −yᵀ log softmax(z), gives ∇_z L = softmax(z) − y when 1ᵀy = 1."""

import sympy as sp

from derive.api import gradient
from derive.distributions import CategoricalDensity
from derive.expr import Softmax
from derive.model import Derivation

NAME = "softmax-ce"
TITLE = "Softmax cross-entropy: the gradient with respect to the logits"


def build() -> Derivation:
    n = sp.Symbol("n", integer=True, positive=True)
    z = sp.MatrixSymbol("z", n, 1)
    y = sp.MatrixSymbol("y", n, 1)
    loss = -sp.log(CategoricalDensity(y, Softmax(z)))
    return gradient(loss, "z", assume={"y": "prob"}, check=False)
