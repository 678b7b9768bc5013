"""Maximum likelihood for linear regression (closed form: least squares) and logistic
regression (no closed form: the gradient and Hessian for Newton's method)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derive.distributions import Expectation, Normal
from derive.expr import GradientOf, HessianOf
from derive.likelihood.matrix import X_DATA, Y_DATA, D, Steps, W, model_given, nll_from
from derive.likelihood.side_claims import agreement, at_point, definiteness
from derive.likelihood.symbols import NLL, hat, hat_matrix
from derive.model import Claim, Derivation, Remark
from derive.rules import optimum as opt
from derive.rules import probability as pr
from derive.rules import regression as rg
from derive.rules import stationary as st

if TYPE_CHECKING:  # numpy is imported only when a check runs
    import numpy as np

N = pr.n


def _second_order_at_estimates(parts: dict[str, sp.Basic], at: tuple) -> Claim:
    """At (ŵ, σ̂²) of a random sample: the remark's XᵀX/σ̂² against the derived ∂²NLL/∂w∂wᵀ,
    its cross derivative Xᵀ(y − Xŵ)/σ̂⁴ against 0 (the size of Xᵀy/σ̂⁴ is what cancels), its
    n/(2σ̂⁴) against the derived ∂²NLL/∂(σ²)²; and the Hessian assembled from the derived
    blocks positive definite (numpy.linalg.eigvalsh)."""

    def reference(values: dict, value) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np  # only when checking

        moved = at_point(values, value, at)
        ww, cross, s2s2 = (
            np.asarray(value(parts[k], moved), float) for k in ("ww", "cross", "s2s2")
        )
        stated_ww = value(parts["stated_ww"], moved)
        stated_cross = value(parts["stated_cross"], moved)
        terms = float(np.abs(value(parts["terms"], moved)).max())
        hessian = np.block([[ww, cross.reshape(-1, 1)], [cross.reshape(1, -1), s2s2.reshape(1, 1)]])
        derived, expected = agreement(
            (stated_ww, ww, 0.0),
            (stated_cross, np.zeros_like(cross), terms),
            (value(parts["stated_s2s2"], moved), s2s2, 0.0),
        )
        return np.append(derived, definiteness(hessian, strict=True)), np.append(expected, 1.0)

    return Claim(
        "reference",
        "at (ŵ, σ̂²): ∂²NLL/∂w∂wᵀ = XᵀX/σ̂², ∂²NLL/∂w∂σ² = Xᵀ(y − Xŵ)/σ̂⁴ = 0, "
        "∂²NLL/∂(σ²)² = n/(2σ̂⁴), and the Hessian in (w, σ²) is positive definite "
        "(numpy.linalg.eigvalsh)",
        parts["stated_ww"],
        parts["ww"],
        ("w", "sigma^2"),
        at=at,
        method="numpy.linalg.eigvalsh",
        reference=reference,
    )


def linear_regression() -> Derivation:
    X, y, w, s2 = X_DATA, Y_DATA, W, pr.SIGMA2
    b = Steps({"sigma^2": ("positive",)})
    density = rg.linear_density(y, X, w, s2)
    objective = sp.log(density, evaluate=False)
    nll = nll_from(
        b,
        density,
        rg.LINEAR_LOGLIK,
        "maximising the log-likelihood is minimising its negative, the NLL",
    )
    kept = b.set_aside(
        NLL,
        nll,
        (w,),
        "the term (n/2)·log(2πσ²) does not depend on w: set it aside. What is left, "
        "(1/(2σ²))‖y − Xw‖², is n/(2σ²) times the mean squared error (1/n)‖y − Xw‖²: "
        "under Gaussian noise, maximum likelihood for w is least squares",
    )
    g, h, g_steps, h_steps = b.engine(kept, "w", NLL, hessian=True)
    b.include(g_steps)
    b.claims.append(Claim("gradient", "∂NLL/∂w against jax.grad", g, -objective, ("w",)))
    w_hat = b.solve_for(
        g,
        w,
        hat_matrix(w),
        st.LINEAR_STATIONARY,
        "set ∂NLL/∂w = 0: the gradient (1/σ²)(XᵀXw − Xᵀy) vanishes where XᵀXw = Xᵀy, the "
        "normal equations; XᵀX is invertible when X has full column rank (σ² cancels)",
    )
    lhs_s2 = GradientOf(NLL, s2)
    g_s2 = b.derivative(
        nll,
        s2,
        lhs_s2,
        opt.DERIVATIVE,
        "differentiate the NLL with respect to σ² (‖y − Xw‖² does not depend on σ²)",
    )
    b.claims.append(Claim("gradient", "∂NLL/∂σ² against jax.grad", g_s2, -objective, ("sigma^2",)))
    at_w_hat = g_s2.xreplace({w: w_hat})
    s2_hat = b.solve_for(
        at_w_hat,
        s2,
        hat(s2),
        opt.JOINT,
        "set ∂NLL/∂σ² = 0 at w = ŵ and solve for σ²: σ̂² = (1/n)‖y − Xŵ‖², the mean "
        "squared residual",
    )
    b.include(h_steps)
    hessian = Claim("hessian", "∂²NLL/∂w∂wᵀ against jax.hessian", h, -objective, ("w",))
    b.claims.append(hessian)
    h_s2 = b.derivative(
        g_s2,
        s2,
        HessianOf(NLL, s2),
        opt.SECOND_ORDER,
        "∂²NLL/∂(σ²)²: differentiate ∂NLL/∂σ² with respect to σ² (for the second-order check)",
    )
    h_s2_claim = Claim("gradient", "∂²NLL/∂(σ²)² against jax.grad", h_s2, g_s2, ("sigma^2",))
    b.claims.append(h_s2_claim)
    # The cross derivative the remark states, ∂²NLL/∂w∂σ² = Xᵀ(y − Xw)/σ⁴, checked as the
    # gradient in w of ∂NLL/∂σ² (mixed partials agree), at every w, not only at ŵ.
    cross = sp.MatMul(1 / s2**2, sp.Transpose(X), st.residual(y, X, w))
    cross_claim = Claim(
        "gradient", "∂²NLL/∂w∂σ² = Xᵀ(y − Xw)/σ⁴ against jax.grad", cross, g_s2, ("w",)
    )
    b.claims.append(cross_claim)
    at = (("w", w_hat), ("sigma^2", s2_hat))
    stationary = Claim(
        "stationary",
        "the gradient of the log-likelihood vanishes at (ŵ, σ̂²)",
        objective,
        objective,
        ("w", "sigma^2"),
        at,
    )
    parts = {
        "ww": h,
        "cross": cross,
        "s2s2": h_s2,
        "stated_ww": sp.MatMul(1 / s2, sp.Transpose(X), X),
        "stated_cross": cross,
        "stated_s2s2": N / (2 * s2**2),
        "terms": sp.MatMul(1 / s2**2, sp.Transpose(X), y),
    }
    at_estimates = _second_order_at_estimates(parts, at)
    # σ̂² is biased: over y ∼ 𝒩(Xw, σ²I), E[σ̂²] = (n − d)σ²/n
    bias = Claim(
        "expectation",
        "E[σ̂²] = (n − d)σ²/n over y ∼ 𝒩(Xw, σ²I)",
        (N - D) * s2 / N,
        Expectation(s2_hat, y, Normal(sp.MatMul(X, w), s2 * sp.Identity(N))),
        (),
    )
    b.claims += [stationary, at_estimates, bias]
    return Derivation(
        title="Maximum likelihood for linear regression",
        goal=(
            "the maximum-likelihood estimates of w and σ² in y = Xw + ε, ε ~ N(0, σ²I): "
            "yᵢ ~ N(xᵢᵀw, σ²) independently, xᵢᵀ the rows of the n×d design matrix X"
        ),
        given=model_given(
            ("X", ("n", "d"), (), "data"),
            ("y", ("n",), (), "data"),
            ("w", ("d",), (), ""),
            ("sigma^2", (), ("positive",), ""),
        ),
        objective=objective,
        wrt=("w", "sigma^2"),
        steps=tuple(b.steps),
        results=((hat_matrix(w), w_hat), (hat(s2), s2_hat)),
        claims=tuple(b.claims),
        name="linear-regression-mle",
        remarks=(
            Remark.checked(
                "second-order check: ∂²NLL/∂w∂wᵀ = XᵀX/σ² is positive definite when X has "
                "full column rank; at (ŵ, σ̂²) the cross derivative ∂²NLL/∂w∂σ² = "
                "Xᵀ(y − Xŵ)/σ̂⁴ vanishes by the normal equations and ∂²NLL/∂(σ²)² = "
                "n/(2σ̂⁴) > 0, so the Hessian is positive definite: a maximum of the likelihood",
                hessian,
                h_s2_claim,
                cross_claim,
                at_estimates,
            ),
            Remark.checked(
                "ŵ = (XᵀX)⁻¹Xᵀy, the ordinary least-squares solution; σ̂² = (1/n)‖y − Xŵ‖², "
                "the mean squared residual (biased: E[σ̂²] = (n − d)σ²/n, so the unbiased "
                "estimate divides by n − d)",
                stationary,
                bias,
            ),
        ),
    )


def logistic_regression() -> Derivation:
    X, y, w = X_DATA, Y_DATA, W
    b = Steps({"y": ("binary",)})
    density = rg.logistic_density(y, X, w)
    objective = sp.log(density, evaluate=False)
    nll = nll_from(
        b,
        density,
        rg.LOGISTIC_LOGLIK,
        "maximising the log-likelihood is minimising its negative, the NLL: the binary "
        "cross-entropy between the labels y and the predictions σ(Xw), summed over the data",
    )
    nll = b.rewrite(
        nll, (rg.BCE_LOGITS,), NLL, "write the cross-entropy in the logits Xw, with softplus"
    )
    g, h, g_steps, h_steps = b.engine(nll, "w", NLL, hessian=True)
    b.include(g_steps)
    gradient = Claim("gradient", "∂NLL/∂w against jax.grad", g, -objective, ("w",))
    b.include(h_steps)
    hessian = Claim("hessian", "∂²NLL/∂w∂wᵀ against jax.hessian", h, -objective, ("w",))
    semidefinite = _logistic_definiteness(h)
    b.claims += [gradient, hessian, semidefinite]
    newton = sp.MatAdd(w, sp.MatMul(-1, sp.Inverse(h), g))
    step = Claim(
        "newton-step", "the Newton step w − H⁻¹g against JAX's", newton, -objective, ("w",)
    )
    b.claims.append(step)
    return Derivation(
        title="Maximum likelihood for logistic regression",
        goal=(
            "the gradient and Hessian of the negative log-likelihood of logistic regression, "
            "yᵢ ~ Bernoulli(σ(xᵢᵀw)) independently, xᵢᵀ the rows of the n×d matrix X, for an "
            "iterative maximum-likelihood method"
        ),
        given=model_given(
            ("X", ("n", "d"), (), "data"),
            ("y", ("n",), ("binary",), "data"),
            ("w", ("d",), (), ""),
        ),
        objective=objective,
        wrt=("w",),
        steps=tuple(b.steps),
        results=(
            (GradientOf(NLL, w), g),
            (HessianOf(NLL, w), h),
            (sp.MatrixSymbol("w_new", D, 1), newton),
        ),
        claims=tuple(b.claims),
        name="logistic-regression-mle",
        remarks=(
            Remark.checked(
                "no closed form: the stationarity equation Xᵀ(σ(Xw) − y) = 0 is nonlinear in w "
                "(w enters through σ); the estimate is found iteratively",
                gradient,
            ),
            Remark.stated(
                "when the classes are linearly separable the equation has no solution at all: "
                "the likelihood keeps increasing as w grows along a separating direction",
                "A. Albert and J. A. Anderson, Biometrika 71(1), 1984",
            ),
            Remark.checked(
                "the Hessian XᵀSX with S = diag(σ(Xw) ∘ (1 − σ(Xw))) is positive semidefinite "
                "(positive definite when X has full column rank), so the NLL is convex and any "
                "stationary point is the maximum of the likelihood",
                hessian,
                semidefinite,
            ),
            Remark.stated(
                "Newton's method (iteratively reweighted least squares): w ← w − H⁻¹g with g "
                "the gradient and H the Hessian above; gradient descent: w ← w − ηg",
                "C. M. Bishop, Pattern Recognition and Machine Learning, 2006, §4.3.3",
            ),
            Remark.checked(
                "the Newton step w_new = w − H⁻¹g above, with g and H as derived, equals w − H⁻¹g "
                "computed from JAX's gradient and Hessian of the NLL",
                step,
            ),
        ),
    )


def _logistic_definiteness(h: sp.Basic) -> Claim:
    """XᵀSX is positive semidefinite at every draw, and positive definite when X has full
    column rank (numpy.linalg.matrix_rank), by numpy.linalg.eigvalsh."""

    def reference(values: dict, value) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np  # only when checking

        m = value(h, values)
        full = np.linalg.matrix_rank(values["X"]) == values["X"].shape[1]
        flags = [definiteness(m, strict=False), definiteness(m, strict=True) if full else 1.0]
        return np.array(flags), np.ones(2)

    return Claim(
        "reference",
        "XᵀSX is positive semidefinite, and positive definite when X has full column rank "
        "(numpy.linalg.eigvalsh)",
        h,
        h,
        ("w",),
        method="numpy.linalg.eigvalsh",
        reference=reference,
    )
