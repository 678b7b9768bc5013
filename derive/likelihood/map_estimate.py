"""Maximum a posteriori: the weights of linear regression under a Gaussian prior (ridge,
closed form) or a Laplace prior (the L1 penalty, no closed form)."""

from __future__ import annotations

import sympy as sp

from derive.errors import UnknownNameError, UnsupportedError
from derive.expr import GradientOf, MatScalar, elementwise, ones
from derive.likelihood.matrix import X_DATA, Y_DATA, D, Steps, W, model_given
from derive.likelihood.mle import families
from derive.likelihood.side_claims import positive_definite
from derive.likelihood.symbols import hat_matrix
from derive.model import Claim, Context, Derivation, Remark
from derive.rules import optimum as opt
from derive.rules import probability as pr
from derive.rules import regression as rg
from derive.rules import stationary as st

TAU2 = sp.Symbol("tau^2", positive=True)
B_SCALE = sp.Symbol("b", positive=True)

PRIORS = {"gaussian": TAU2, "laplace": B_SCALE}

ESL = "T. Hastie, R. Tibshirani and J. Friedman, The Elements of Statistical Learning, 2nd ed."


def map_derivation(family: str, prior: str = "gaussian") -> Derivation:
    """The maximum-a-posteriori estimate of the weights of `family` under `prior`.

    Only "linear-regression" with a "gaussian" prior w ~ N(0, τ²I) (ridge regression,
    closed form) or a "laplace" prior wⱼ ~ Laplace(0, b) (the L1 penalty, no closed form).
    Unknown family or prior: `UnknownNameError`; a known family without a MAP derivation:
    `UnsupportedError`.
    """
    if family not in families():
        raise UnknownNameError("family", family, families())
    if family != "linear-regression":
        raise UnsupportedError(
            f"MAP estimation for {family}", "only linear-regression has a MAP derivation"
        )
    if prior not in PRIORS:
        raise UnknownNameError("prior", prior, sorted(PRIORS))
    X, y, w, s2, scale = X_DATA, Y_DATA, W, pr.SIGMA2, PRIORS[prior]
    b = Steps({"sigma^2": ("positive",), scale.name: ("positive",)})
    lik = rg.linear_density(y, X, w, s2)
    pri = rg.prior_density(prior, w, scale)
    post = rg.posterior(lik, pri)
    lhs = sp.Mul(-1, sp.log(post, evaluate=False), evaluate=False)
    objective = sp.log(post, evaluate=False)
    e = b.transform(
        sp.Mul(-1, objective, evaluate=False),
        rg.BAYES,
        lhs,
        "the MAP estimate maximises the posterior, so minimises −log p(w | y, X); by Bayes' "
        "theorem that is the NLL plus −log p(w), up to log p(y | X), which does not depend on w",
        "constant",
        ("w",),
        ctx=Context(),
    )
    e = b.rewrite(e, (rg.LINEAR_LOGLIK,), lhs, "the log-likelihood of linear regression")
    e = b.rewrite(e, (rg.GAUSSIAN_PRIOR, rg.LAPLACE_PRIOR), lhs, f"the {prior} prior's density")
    if isinstance(e, sp.Mul) and e.args[0] == -1:
        e = b.transform(e, opt.NLL, lhs, "distribute the minus sign", ctx=Context())
    penalty = {
        "gaussian": "(1/(2τ²))‖w‖², an L2 (ridge) penalty",
        "laplace": "(1/b)‖w‖₁, an L1 (lasso) penalty",
    }[prior]
    scaled = {
        "gaussian": "½‖y − Xw‖² + (λ/2)‖w‖² with λ = σ²/τ²",
        "laplace": "½‖y − Xw‖² + λ‖w‖₁ with λ = σ²/b",
    }[prior]
    kept = b.set_aside(
        lhs,
        e,
        (w,),
        f"the terms in log(2πσ²) and in the prior's normaliser do not depend on w: set them "
        f"aside. What is left is the least-squares term (1/(2σ²))‖y − Xw‖² plus {penalty}; "
        f"times σ² it is {scaled}",
    )
    g, _, g_steps, _ = b.engine(kept, "w", lhs)
    b.include(g_steps)
    gradient = Claim("gradient", "the gradient against jax.grad", g, -objective, ("w",))
    b.claims.append(gradient)
    given = model_given(
        ("X", ("n", "d"), (), "data"),
        ("y", ("n",), (), "data"),
        ("w", ("d",), (), ""),
        ("sigma^2", (), ("positive",), ""),
        (scale.name, (), ("positive",), ""),
    )
    goal = (
        f"the maximum-a-posteriori estimate of the weights w of linear regression, "
        f"y ~ N(Xw, σ²I), under the {prior} prior "
        + ("w ~ N(0, τ²I)" if prior == "gaussian" else "wⱼ ~ Laplace(0, b) independently")
    )
    if prior == "gaussian":
        w_hat = b.solve_for(
            g,
            w,
            hat_matrix(w),
            st.LINEAR_STATIONARY,
            "set the gradient to zero: (XᵀX + (σ²/τ²)I)w = Xᵀy; XᵀX + λI is positive definite "
            "for λ = σ²/τ² > 0, so it is invertible even when XᵀX is not",
        )
        stationary = Claim(
            "stationary",
            "the gradient of the log-posterior vanishes at ŵ",
            objective,
            objective,
            ("w",),
            (("w", w_hat),),
        )
        # the Hessian the remark states, as the Jacobian of the checked gradient (far cheaper
        # for JAX than the Hessian of the log-posterior), and positive definite
        stated = sp.MatAdd(
            sp.MatMul(1 / s2, sp.Transpose(X), X), sp.MatMul(1 / scale, sp.Identity(D))
        )
        hessian = Claim(
            "jacobian",
            "∂²/∂w∂wᵀ = XᵀX/σ² + I/τ², the Jacobian of the gradient against jax.jacobian",
            stated,
            g,
            ("w",),
        )
        definite = positive_definite(
            "XᵀX/σ² + I/τ² is positive definite (numpy.linalg.eigvalsh)", stated, -objective, ("w",)
        )
        b.claims += [stationary, hessian, definite]
        results = ((hat_matrix(w), w_hat),)
        remarks = (
            Remark.checked("ridge regression: ŵ = (XᵀX + λI)⁻¹Xᵀy with λ = σ²/τ²", stationary),
            Remark.stated(
                "a broader prior (τ² → ∞, so λ → 0) gives back least squares",
                f"{ESL}, §3.4.1",
            ),
            Remark.checked(
                "second-order check: the Hessian of −log p(w | y, X) is XᵀX/σ² + I/τ², positive "
                "definite, so ŵ is the unique maximum of the posterior",
                hessian,
                definite,
            ),
        )
    else:
        results = ((GradientOf(lhs, w), g),)
        # ½‖y − Xw‖² + λ‖w‖₁ with λ = σ²/b is σ² times −log p(w | y, X), up to a constant in w
        residual = sp.MatAdd(y, sp.MatMul(-1, X, w))
        l1 = MatScalar(sp.MatMul(sp.Transpose(ones(D)), elementwise(sp.Abs, w)))
        lasso = MatScalar(sp.MatMul(sp.Transpose(residual), residual)) / 2 + s2 / scale * l1
        scaled = Claim(
            "constant",
            "σ²·(−log p(w | y, X)) − (½‖y − Xw‖² + (σ²/b)‖w‖₁) does not depend on w",
            lasso,
            -s2 * objective,
            ("w",),
        )
        b.claims.append(scaled)
        remarks = (
            Remark.checked(
                "no closed form: the stationarity condition (1/σ²)Xᵀ(Xw − y) + sign(w)/b = 0 "
                "mixes a linear term with signs; the gradient above holds wherever no wⱼ is 0",
                gradient,
            ),
            Remark.stated(
                "the L1 term ‖w‖₁ is not differentiable where a weight is 0; there the condition "
                "holds with a subgradient, sign(0) ∈ [−1, 1]. The estimate is found iteratively "
                "(coordinate descent, proximal gradient / soft-thresholding), and some weights "
                "come out exactly 0",
                f"{ESL}, §3.4.2; R. Tibshirani, J. R. Statist. Soc. B 58(1), 1996",
            ),
            Remark.checked("lasso: minimise ½‖y − Xw‖² + λ‖w‖₁ with λ = σ²/b", scaled),
        )
    return Derivation(
        title=f"MAP estimate for linear regression with a {prior} prior",
        goal=goal,
        given=given,
        objective=objective,
        wrt=("w",),
        steps=tuple(b.steps),
        results=results,
        claims=tuple(b.claims),
        name=f"linear-regression-map-{prior}",
        remarks=remarks,
    )
