"""PCA as constrained maximisation: maximise uᵀSu subject to uᵀu = 1 (S symmetric).

Forming the Lagrangian L = uᵀSu − λ(uᵀu − 1) is the first step (checked where the constraint
holds: L equals uᵀSu at random unit vectors u); the engine then differentiates it,
∂L/∂u = 2Su − 2λu, and the stationary condition is the eigenproblem Su = λu. At a stationary
point uᵀSu = λuᵀu = λ, so the maximum is the top eigenvalue, attained by its eigenvector.
Verified against numpy.linalg.eigh: the top eigenpair makes the derived gradient vanish, and
no random unit vector does better.
"""

from dataclasses import replace

import numpy as np
import sympy as sp

from derive.api import gradient
from derive.expr import MatScalar
from derive.model import Claim, Derivation, Remark
from derive.record import Recorder
from derive.rules.constrained import LAGRANGE, LAMBDA, lagrangian

NAME = "pca"
TITLE = "PCA: the direction of maximum variance is the top eigenvector"

# Random unit vectors tried against the top eigenvector, per trial.
RANDOM_DIRECTIONS = 500


def build() -> Derivation:
    n = sp.Symbol("n", integer=True, positive=True)
    S, u = sp.MatrixSymbol("S", n, n), sp.MatrixSymbol("u", n, 1)
    variance = MatScalar(sp.MatMul(sp.Transpose(u), S, u))
    constraint = MatScalar(sp.MatMul(sp.Transpose(u), u)) - 1
    lag = lagrangian(variance, constraint, LAMBDA)
    d = gradient(lag, "u", assume={"S": "symmetric"}, check=False)
    # The engine calls the function it differentiates f; here that is the Lagrangian L, which
    # equals the objective uᵀSu only on the constraint set (their gradients differ).
    f = d.results[0][0].args[0]
    L = sp.Symbol("L")
    d = replace(
        d,
        steps=tuple(replace(s, lhs=s.lhs.xreplace({f: L})) for s in d.steps),
        results=tuple((lhs.xreplace({f: L}), rhs) for lhs, rhs in d.results),
        claims=tuple(replace(c, label=c.label.replace("∂f/", "∂L/")) for c in d.claims),
    )
    rec = Recorder()
    rec.cite(
        LAGRANGE,
        L,
        variance,
        lag,
        note="L = uᵀSu wherever uᵀu = 1, whatever λ",
        relation="constrained",
        wrt=("u",),
    )
    grad = d.result

    def top_eigenpair(values, value):
        """With (λ, u) the top eigenpair of S by eigh: ∂L/∂u at it, and uᵀSu against both
        λ and the largest uᵀSu over random unit vectors (derived vs expected)."""
        s = values["S"]
        eigenvalues, vectors = np.linalg.eigh(s)
        top, lam = vectors[:, -1:], eigenvalues[-1]
        at = {**values, "u": top, "lambda": np.asarray(lam)}
        residual = value(grad, at).ravel()
        rng = np.random.default_rng(s.shape[0])
        w = rng.standard_normal((s.shape[0], RANDOM_DIRECTIONS))
        w /= np.linalg.norm(w, axis=0)
        best = max(float(np.max(np.einsum("ij,ik,kj->j", w, s, w))), float(value(variance, at)))
        derived = np.concatenate([residual, [value(variance, at)] * 2])
        expected = np.concatenate([np.zeros_like(residual), [lam, best]])
        return derived, expected

    reference = Claim(
        "reference",
        "top eigenpair of S (numpy.linalg.eigh) is stationary and maximises uᵀSu",
        grad,
        lag,
        ("u",),
        method="numpy.linalg.eigh",
        reference=top_eigenpair,
    )
    stationary = (sp.MatMul(S, u), sp.MatMul(LAMBDA, u))
    eigenproblem = Claim(
        "stationary-equation",
        "∂L/∂u = 0 exactly where Su = λu (Su − λu against jax.grad of L)",
        sp.Tuple(*stationary),
        lag,
        ("u",),
    )
    return replace(
        d,
        title=TITLE,
        goal="maximise uᵀSu subject to uᵀu = 1: the stationary points of the Lagrangian",
        objective=variance,
        steps=(*rec.steps, *d.steps),
        results=(*d.results, stationary),
        claims=(*d.claims, eigenproblem, reference),
        remarks=(
            Remark.stated(
                "A maximum of uᵀSu on the unit sphere is a stationary point of L in u (with "
                "uᵀu = 1 from ∂L/∂λ = 0)",
                LAGRANGE.source,
            ),
            Remark.checked(
                "Setting ∂L/∂u = 2Su − 2λu to zero gives Su = λu: u is an eigenvector of S.",
                *d.claims,
                eigenproblem,
            ),
            Remark.checked(
                "At such a point uᵀSu = λuᵀu = λ, so the maximum variance is the largest "
                "eigenvalue, attained by its eigenvector (the first principal component).",
                reference,
            ),
        ),
    )
