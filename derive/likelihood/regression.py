"""Maximum likelihood for linear regression (closed form: least squares) and logistic
regression (no closed form: the gradient and Hessian for Newton's method)."""

from __future__ import annotations

import sympy as sp

from derive.expr import GradientOf, HessianOf
from derive.likelihood.matrix import X_DATA, Y_DATA, D, Steps, W, model_given, nll_from
from derive.likelihood.symbols import NLL, hat, hat_matrix
from derive.model import Claim, Derivation
from derive.rules import optimum as opt
from derive.rules import probability as pr
from derive.rules import regression as rg
from derive.rules import stationary as st


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
    b.claims.append(Claim("hessian", "∂²NLL/∂w∂wᵀ against jax.hessian", h, -objective, ("w",)))
    h_s2 = b.derivative(
        g_s2,
        s2,
        HessianOf(NLL, s2),
        opt.SECOND_ORDER,
        "∂²NLL/∂(σ²)²: differentiate ∂NLL/∂σ² with respect to σ² (for the second-order check)",
    )
    b.claims.append(Claim("gradient", "∂²NLL/∂(σ²)² against jax.grad", h_s2, g_s2, ("sigma^2",)))
    # The cross derivative the remark states, ∂²NLL/∂w∂σ² = Xᵀ(y − Xw)/σ⁴, checked as the
    # gradient in w of ∂NLL/∂σ² (mixed partials agree), at every w, not only at ŵ.
    cross = sp.MatMul(1 / s2**2, sp.Transpose(X), st.residual(y, X, w))
    b.claims.append(
        Claim("gradient", "∂²NLL/∂w∂σ² = Xᵀ(y − Xw)/σ⁴ against jax.grad", cross, g_s2, ("w",))
    )
    b.claims.append(
        Claim(
            "stationary",
            "the gradient of the log-likelihood vanishes at (ŵ, σ̂²)",
            objective,
            objective,
            ("w", "sigma^2"),
            (("w", w_hat), ("sigma^2", s2_hat)),
        )
    )
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
            "second-order check: ∂²NLL/∂w∂wᵀ = XᵀX/σ² is positive definite when X has full "
            "column rank; at (ŵ, σ̂²) the cross derivative ∂²NLL/∂w∂σ² = Xᵀ(y − Xŵ)/σ̂⁴ "
            "vanishes by the normal equations and ∂²NLL/∂(σ²)² = n/(2σ̂⁴) > 0, so the "
            "Hessian is positive definite: a maximum of the likelihood",
            "ŵ = (XᵀX)⁻¹Xᵀy, the ordinary least-squares solution; σ̂² = (1/n)‖y − Xŵ‖², "
            "the mean squared residual (biased: the unbiased estimate divides by n − d)",
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
    b.claims.append(Claim("gradient", "∂NLL/∂w against jax.grad", g, -objective, ("w",)))
    b.include(h_steps)
    b.claims.append(Claim("hessian", "∂²NLL/∂w∂wᵀ against jax.hessian", h, -objective, ("w",)))
    newton = sp.MatAdd(w, sp.MatMul(-1, sp.Inverse(h), g))
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
            "no closed form: the stationarity equation Xᵀ(σ(Xw) − y) = 0 is nonlinear in w "
            "(w enters through σ), and it has no solution at all when the classes are "
            "linearly separable; the estimate is found iteratively",
            "the Hessian XᵀSX with S = diag(σ(Xw) ∘ (1 − σ(Xw))) is positive semidefinite "
            "(positive definite when X has full column rank), so the NLL is convex and any "
            "stationary point is the maximum of the likelihood",
            "Newton's method (iteratively reweighted least squares): w ← w − H⁻¹g with g the "
            "gradient and H the Hessian above; gradient descent: w ← w − ηg",
        ),
    )
