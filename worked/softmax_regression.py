"""Softmax regression (multinomial logistic): for one sample (x, y), y one-hot over k classes
and x with d features, the NLL ℓ(W) = −log p(y | softmax(Wx)) = lse(Wx) − yᵀWx has gradient
(softmax(Wx) − y)xᵀ and, with respect to the k × d weight matrix W, the dk × dk Hessian
(xxᵀ) ⊗ (diag(p) − ppᵀ), p = softmax(Wx), in the vec convention (vec stacks columns), read
off the second differential. Over a data set the NLL is Σᵢ ℓᵢ(W), so its gradient and Hessian
are the sums of the per-sample ones, and Newton's method steps
vec(W) ← vec(W) − H⁺ vec(∇) (H is singular along vec(𝟏cᵀ): adding one vector to every row
of W leaves each softmax unchanged, and the gradient has no part along it). A numeric demo
on random data, run with the derived expressions, shows Newton converging in a few
iterations where gradient descent has not.
"""

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import sympy as sp

from derive.api import hessian
from derive.codegen import generate, load_function
from derive.distributions import CategoricalDensity
from derive.expr import GradientOf, HessianOf, Softmax
from derive.model import Claim, Derivation, Remark

NAME = "softmax-regression"
TITLE = "Softmax regression: the Hessian in the weight matrix and Newton's method"

# The demo's data: labels drawn from a softmax model, so that the classes overlap (a finite
# minimiser exists up to the invariance W → W + 𝟏cᵀ).
SAMPLES, FEATURES, CLASSES = 40, 3, 3
TOLERANCE, NEWTON_MAX, DESCENT_FACTOR = 1e-8, 30, 20
SCALES = np.array([1.0, 3.0, 0.3])  # gradient descent's step is set by the largest


def race(gradient, hessian_of, seed: int) -> tuple[int, float, int, float]:
    """Newton (pseudo-inverse steps) and gradient descent (step 2/‖X‖², the inverse of the
    bound ‖X‖²/2 on the Hessian of Σᵢ ℓᵢ) from W = 0 on random data: Newton's iterations until
    ‖∇‖ < TOLERANCE and its final ‖∇‖, gradient descent's budget (DESCENT_FACTOR times
    Newton's iterations) and its ‖∇‖ then. `gradient` and `hessian_of` evaluate the derived
    per-sample expressions, summed over the samples."""
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((SAMPLES, FEATURES)) * SCALES  # features of unequal scale
    true_w = rng.standard_normal((CLASSES, FEATURES))
    ys = []
    for x in xs:
        p = np.exp(true_w @ x - np.max(true_w @ x))
        ys.append(np.eye(CLASSES)[rng.choice(CLASSES, p=p / p.sum())])

    def total(fn, w):
        return sum(fn(W=w, x=x, y=y) for x, y in zip(xs, ys, strict=True))

    def vec(a):
        return a.reshape(-1, order="F")

    w = np.zeros((CLASSES, FEATURES))
    newton = 0
    while np.linalg.norm(total(gradient, w)) >= TOLERANCE and newton < NEWTON_MAX:
        step = np.linalg.lstsq(total(hessian_of, w), vec(total(gradient, w)), rcond=None)[0]
        w, newton = w - step.reshape(w.shape, order="F"), newton + 1
    newton_residual = float(np.linalg.norm(total(gradient, w)))
    budget = DESCENT_FACTOR * newton
    rate = 2 / np.linalg.norm(xs, 2) ** 2
    w = np.zeros((CLASSES, FEATURES))
    for _ in range(budget):
        w = w - rate * total(gradient, w)
    return newton, newton_residual, budget, float(np.linalg.norm(total(gradient, w)))


def _generated(expr: sp.Basic, given: tuple) -> Callable[..., np.ndarray]:
    """The generated NumPy function of `expr`, called with keywords (the demo calls it some
    thousands of times: without the argument checks of `Derivation.function`)."""
    fn = load_function(generate(expr, given, name="f"), "f")
    params = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    return lambda **arrays: fn(*(arrays[p] for p in params))


def build() -> Derivation:
    k, d = sp.symbols("k d", integer=True, positive=True)
    W, x, y = sp.MatrixSymbol("W", k, d), sp.MatrixSymbol("x", d, 1), sp.MatrixSymbol("y", k, 1)
    loss = -sp.log(CategoricalDensity(y, Softmax(W * x)))
    h = hessian(loss, "W", assume={"y": "onehot"}, check=False)
    grad_expr = next(rhs for lhs, rhs in h.results if isinstance(lhs, GradientOf))
    hess_expr = next(rhs for lhs, rhs in h.results if isinstance(lhs, HessianOf))
    gradient, hessian_of = _generated(grad_expr, h.given), _generated(hess_expr, h.given)

    def newton_wins(values, value):
        """Newton reaches ∇ = 0 and gradient descent, given many times its iterations, not."""
        seed = int(np.abs(values["W"]).sum() * 1e6) % 2**32
        newton, residual, _, descent = race(gradient, hessian_of, seed)
        converged = float(newton < NEWTON_MAX and residual < TOLERANCE)
        return np.array([converged, float(descent > TOLERANCE)]), np.array([1.0, 1.0])

    newton, residual, budget, descent = race(gradient, hessian_of, seed=0)
    claim = Claim(
        "reference",
        "Newton converges where gradient descent, with many times its iterations, has not "
        "(numpy iteration)",
        hess_expr,
        hess_expr,
        (),
        method="numpy iteration (Newton against gradient descent)",
        reference=newton_wins,
    )
    demo = Remark.checked(
        f"On {SAMPLES} random samples with {FEATURES} features and {CLASSES} classes (seed 0), "
        f"from W = 0, with the gradient and Hessian summed over the samples: Newton "
        f"(vec(W) ← vec(W) − H⁺ vec(∇)) reached ‖∇‖ = {residual:.1e} in {newton} iterations; "
        f"gradient descent with step 2/‖X‖² was at ‖∇‖ = {descent:.1e} after {budget}.",
        claim,
    )
    return replace(h, claims=(*h.claims, claim), remarks=(*h.remarks, demo))
