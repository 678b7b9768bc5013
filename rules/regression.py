"""Rules for models with matrix parameters: the log-likelihoods of linear and logistic
regression and of the multivariate Gaussian, the binary cross-entropy in logits, priors on
weights, Bayes' theorem, Lagrange multipliers, and the closed-form solutions of the
stationarity equations these models lead to.

Data are matrices: X (n×d, rows xᵢᵀ) and y (n-vector) for regression; X (n×d, rows xᵢᵀ) for
the multivariate Gaussian, so that ∑ᵢ(xᵢ − μ)(xᵢ − μ)ᵀ = (X − 𝟏μᵀ)ᵀ(X − 𝟏μᵀ); Y (K×n, one-hot
columns yᵢ) for the categorical. Each model's density is a `DensityOf` node whose definition
is the density in matrix form; its log-likelihood rule writes out log p. The rule examples
check each log-likelihood against the product of the per-observation densities for n = 2,
the observations picked out by basis vectors.
"""

from __future__ import annotations

import sympy as sp

import derive.distributions as distributions
from derive.expr import MatScalar, elementwise, sigmoid, softplus
from derive.model import Context, Rewrite, Rule, RuleExample
from derive.rules import probability as pr
from derive.rules.registry import register
from derive.rules.stationary import residual, scalar_coefficient

_d = sp.Symbol("d", integer=True, positive=True)
_K = sp.Symbol("K", integer=True, positive=True)
_E = (sp.ImmutableMatrix([[1], [0]]), sp.ImmutableMatrix([[0], [1]]))  # e₁, e₂ for n = 2


def ones(k: sp.Expr) -> sp.OneMatrix:
    return sp.OneMatrix(k, 1)


def quad(r: sp.Basic) -> MatScalar:
    """rᵀr, a scalar."""
    return MatScalar(sp.MatMul(sp.Transpose(r), r))


def centred(X: sp.Basic, mu: sp.Basic) -> sp.Basic:
    """X − 𝟏μᵀ: the rows xᵢᵀ − μᵀ."""
    return sp.MatAdd(X, sp.MatMul(-1, ones(X.shape[0]), sp.Transpose(mu)))


def _log_density_rule(family: str, build, **fields) -> Rule:
    """A rule writing out log p(data | θ) for `family`: build(obs, *params) is the result."""

    def apply(node: sp.Basic, ctx: Context) -> sp.Basic | None:
        if (
            isinstance(node, sp.log)
            and isinstance(node.args[0], distributions.DensityOf)
            and node.args[0].family == family
        ):
            dens = node.args[0]
            return build(dens.obs, *dens.params)
        return None

    return register(Rewrite(id=f"density.{family}", apply=apply, **fields))


# --- linear regression: y ~ N(Xw, σ²I) ------------------------------------------------------


def linear_loglik(y: sp.Basic, X: sp.Basic, w: sp.Basic, s2: sp.Basic) -> sp.Expr:
    """−(n/2) log(2πσ²) − (1/(2σ²))(y − Xw)ᵀ(y − Xw)."""
    k = y.shape[0]
    return -k * sp.log(2 * sp.pi * s2) / 2 - quad(residual(y, X, w)) / (2 * s2)


def linear_density(y: sp.Basic, X: sp.Basic, w: sp.Basic, s2: sp.Basic) -> distributions.DensityOf:
    """p(y | X, w, σ²) = (2πσ²)^(−n/2) exp(−‖y − Xw‖²/(2σ²))."""
    k = y.shape[0]
    definition = sp.Mul(
        sp.Pow(2 * sp.pi * s2, -k / 2, evaluate=False),
        sp.exp(-quad(residual(y, X, w)) / (2 * s2)),
        evaluate=False,
    )
    return distributions.DensityOf("linear-regression", y, (X, w, s2), definition)


def _linear_examples() -> list[RuleExample]:
    X, y, w = sp.MatrixSymbol("X", 2, _d), sp.MatrixSymbol("y", 2, 1), sp.MatrixSymbol("w", _d, 1)
    s2 = pr.SIGMA2
    each = [
        pr.gaussian_density(
            MatScalar(sp.MatMul(e.T, y)), MatScalar(sp.MatMul(e.T, X, w)), s2
        )  # fmt: skip
        for e in _E
    ]
    lhs = sp.log(sp.Mul(*each, evaluate=False), evaluate=False)
    return [RuleExample(lhs, linear_loglik(y, X, w, s2), assume={"sigma^2": ("positive",)})]


LINEAR_LOGLIK = _log_density_rule(
    "linear-regression",
    linear_loglik,
    name="Log-likelihood of linear regression",
    source=(
        "Matrix Cookbook (2012) eq. (346) with Σ = σ²I: yᵢ ~ N(xᵢᵀw, σ²) independently, "
        "so y ~ N(Xw, σ²I)"
    ),
    cookbook=("346",),
    statement=(
        r"\log p(y \mid X, w, \sigma^2) = \sum_{i=1}^{n} \log\mathcal N(y_i \mid x_i^{\top}w, "
        r"\sigma^2) = -\frac{n}{2}\log(2\pi\sigma^2) - \frac{1}{2\sigma^2}(y - Xw)^{\top}(y - Xw)"
    ),
    conditions=("σ² > 0", "y₁, …, yₙ independent given X"),
    examples=_linear_examples,
)


# --- logistic regression: yᵢ ~ Bernoulli(σ(xᵢᵀw)) -----------------------------------------


def bce(y: sp.Basic, z: sp.Basic) -> sp.Expr:
    """−yᵀ log σ(z) − (𝟏 − y)ᵀ log(𝟏 − σ(z)), the binary cross-entropy of logits z."""
    one = ones(y.shape[0])
    p = elementwise(sigmoid, z)
    return -MatScalar(sp.MatMul(sp.Transpose(y), elementwise(sp.log, p))) - MatScalar(
        sp.MatMul(
            sp.Transpose(sp.MatAdd(one, -y)), elementwise(sp.log, sp.MatAdd(one, -p))
        )  # fmt: skip
    )


def logistic_loglik(y: sp.Basic, X: sp.Basic, w: sp.Basic) -> sp.Expr:
    """yᵀ log σ(Xw) + (𝟏 − y)ᵀ log(𝟏 − σ(Xw))."""
    return -bce(y, sp.MatMul(X, w))


def logistic_density(y: sp.Basic, X: sp.Basic, w: sp.Basic) -> distributions.DensityOf:
    """p(y | X, w) = ∏ᵢ σ(xᵢᵀw)^{yᵢ}(1 − σ(xᵢᵀw))^{1−yᵢ}, as the determinant of a diagonal."""
    one = ones(y.shape[0])
    p = elementwise(sigmoid, sp.MatMul(X, w))
    factors = sp.HadamardProduct(
        sp.HadamardPower(p, y), sp.HadamardPower(sp.MatAdd(one, -p), sp.MatAdd(one, -y))
    )
    definition = sp.Determinant(sp.DiagMatrix(factors))
    return distributions.DensityOf("logistic-regression", y, (X, w), definition)


def _logistic_examples() -> list[RuleExample]:
    X, y, w = sp.MatrixSymbol("X", 2, _d), sp.MatrixSymbol("y", 2, 1), sp.MatrixSymbol("w", _d, 1)
    each = [
        pr.bernoulli_density(
            MatScalar(sp.MatMul(e.T, y)), sigmoid(MatScalar(sp.MatMul(e.T, X, w)))
        )  # fmt: skip
        for e in _E
    ]
    lhs = sp.log(sp.Mul(*each, evaluate=False), evaluate=False)
    return [RuleExample(lhs, logistic_loglik(y, X, w), assume={"y": ("binary",)})]


LOGISTIC_LOGLIK = _log_density_rule(
    "logistic-regression",
    logistic_loglik,
    name="Log-likelihood of logistic regression",
    source=(
        "definition of the Bernoulli distribution, yᵢ ~ Bernoulli(σ(xᵢᵀw)) independently "
        "(Bishop, PRML, §4.3.2)"
    ),
    statement=(
        r"\log p(y \mid X, w) = \sum_{i=1}^{n} \left[y_i \log\sigma(x_i^{\top}w) + (1 - y_i)"
        r"\log(1 - \sigma(x_i^{\top}w))\right] = y^{\top}\log\sigma(Xw) + (\mathbf{1} - y)^{\top}"
        r"\log(\mathbf{1} - \sigma(Xw))"
    ),
    conditions=("yᵢ ∈ {0, 1}", "y₁, …, yₙ independent given X"),
    examples=_logistic_examples,
)


def _bce_logits(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if not isinstance(node, sp.Add):
        return None
    ys = {t for t in sp.preorder_traversal(node) if isinstance(t, sp.Transpose)}
    zs = {
        t.expr
        for t in sp.preorder_traversal(node)
        if isinstance(t, sp.matrices.expressions.applyfunc.ElementwiseApplyFunction)
        and t.function.expr.func is sigmoid
    }
    for yt in ys:
        for z in zs:
            y = yt.arg
            if y.shape == z.shape and bce(y, z) == node:
                one = ones(y.shape[0])
                return MatScalar(
                    sp.MatMul(sp.Transpose(one), elementwise(softplus, z))
                ) - MatScalar(sp.MatMul(sp.Transpose(y), z))
    return None


def _bce_examples() -> list[RuleExample]:
    y, z = sp.MatrixSymbol("y", _K, 1), sp.MatrixSymbol("z", _K, 1)
    rhs = MatScalar(sp.MatMul(sp.Transpose(ones(_K)), elementwise(softplus, z))) - MatScalar(
        sp.MatMul(sp.Transpose(y), z)
    )
    return [
        RuleExample(bce(y, z), rhs, assume={"y": ("binary",)}),
        RuleExample(bce(y, z), rhs, assume={"y": ("unit",)}),
    ]


BCE_LOGITS = register(
    Rewrite(
        id="loss.bce-logits",
        name="Binary cross-entropy in the logits",
        source=(
            "elementary: log σ(z) = z − softplus(z) and log(1 − σ(z)) = −softplus(z), "
            "with softplus(z) = log(1 + eᶻ)"
        ),
        statement=(
            r"-y^{\top}\log\sigma(z) - (\mathbf{1} - y)^{\top}\log(\mathbf{1} - \sigma(z)) "
            r"= \mathbf{1}^{\top}\operatorname{softplus}(z) - y^{\top}z"
        ),
        apply=_bce_logits,
        examples=_bce_examples,
    )
)


# --- the multivariate Gaussian: xᵢ ~ N(μ, Σ) -------------------------------------------------


def mvn_loglik(X: sp.Basic, mu: sp.Basic, S: sp.Basic) -> sp.Expr:
    """−(n/2) log det(2πΣ) − ½ tr(Σ⁻¹(X − 𝟏μᵀ)ᵀ(X − 𝟏μᵀ))."""
    k = X.shape[0]
    C = centred(X, mu)
    return (
        -k * sp.log(sp.Determinant(sp.MatMul(2 * sp.pi, S))) / 2
        - sp.Trace(sp.MatMul(sp.Inverse(S), sp.Transpose(C), C)) / 2
    )


def mvn_density(X: sp.Basic, mu: sp.Basic, S: sp.Basic) -> distributions.DensityOf:
    """p(x₁, …, xₙ | μ, Σ) = det(2πΣ)^(−n/2) exp(−½ tr(Σ⁻¹(X − 𝟏μᵀ)ᵀ(X − 𝟏μᵀ)))."""
    k = X.shape[0]
    C = centred(X, mu)
    definition = sp.Mul(
        sp.Pow(sp.Determinant(sp.MatMul(2 * sp.pi, S)), -k / 2, evaluate=False),
        sp.exp(-sp.Trace(sp.MatMul(sp.Inverse(S), sp.Transpose(C), C)) / 2),
        evaluate=False,
    )
    return distributions.DensityOf("mvn", X, (mu, S), definition)


def _mvn_examples() -> list[RuleExample]:
    X, mu = sp.MatrixSymbol("X", 2, _d), sp.MatrixSymbol("mu", _d, 1)
    S = sp.MatrixSymbol("Sigma", _d, _d)

    def book(x: sp.Basic) -> sp.Expr:  # eq. (346) for one observation
        r = sp.MatAdd(x, sp.MatMul(-1, mu))
        q = MatScalar(sp.MatMul(sp.Transpose(r), sp.Inverse(S), r))
        return sp.exp(-q / 2) / sp.sqrt(sp.Determinant(sp.MatMul(2 * sp.pi, S)))

    lhs = sp.log(sp.Mul(*[book(sp.MatMul(X.T, e)) for e in _E], evaluate=False))
    return [RuleExample(lhs, mvn_loglik(X, mu, S), assume={"Sigma": ("spd",)})]


MVN_LOGLIK = _log_density_rule(
    "mvn",
    mvn_loglik,
    name="Log-likelihood of the multivariate Gaussian",
    source=(
        "Matrix Cookbook (2012) eq. (346) for each row xᵢᵀ of X, summed over i; "
        "∑ᵢ rᵢᵀΣ⁻¹rᵢ = tr(Σ⁻¹∑ᵢ rᵢrᵢᵀ) by eq. (16)"
    ),
    cookbook=("346", "16"),
    statement=(
        r"\log p(x_1, \dots, x_n \mid \mu, \Sigma) = -\frac{n}{2}\log\det(2\pi\Sigma) "
        r"- \frac12\operatorname{tr}\left(\Sigma^{-1}(X - \mathbf{1}\mu^{\top})^{\top}"
        r"(X - \mathbf{1}\mu^{\top})\right)"
    ),
    conditions=("Σ symmetric positive definite", "x₁, …, xₙ independent"),
    examples=_mvn_examples,
)


def _logdet_scale(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if not (isinstance(node, sp.log) and isinstance(node.args[0], sp.Determinant)):
        return None
    m = node.args[0].arg
    if not isinstance(m, sp.MatMul):
        return None
    c, mats = m.as_coeff_matrices()
    if c == 1 or not c.is_positive:
        return None
    return m.shape[0] * sp.log(c) + sp.log(sp.Determinant(sp.MatMul(*mats)))


LOGDET_SCALE = register(
    Rewrite(
        id="logdet.scale",
        name="Log-determinant of a scaled matrix",
        source="Matrix Cookbook (2012) eq. (346): det(2πΣ) = (2π)ᵈ det Σ",
        cookbook=("346",),
        statement=r"\log\det(cA) = d\log c + \log\det A,\ A \in \mathbb{R}^{d\times d}",
        conditions=("c > 0", "det A > 0"),
        apply=_logdet_scale,
        examples=lambda: [
            RuleExample(
                sp.log(sp.Determinant(sp.MatMul(2 * sp.pi, sp.MatrixSymbol("A", _d, _d)))),
                _d * sp.log(2 * sp.pi) + sp.log(sp.Determinant(sp.MatrixSymbol("A", _d, _d))),
                assume={"A": ("spd",)},
            )
        ],
    )
)


# --- priors on the weights and Bayes' theorem ----------------------------------------------


def gaussian_prior_logpdf(w: sp.Basic, t2: sp.Basic) -> sp.Expr:
    """log N(w | 0, τ²I) = −(d/2) log(2πτ²) − wᵀw/(2τ²)."""
    return -w.shape[0] * sp.log(2 * sp.pi * t2) / 2 - quad(w) / (2 * t2)


def laplace_prior_logpdf(w: sp.Basic, b: sp.Basic) -> sp.Expr:
    """log ∏ⱼ (1/(2b)) e^{−|wⱼ|/b} = −d log(2b) − ‖w‖₁/b, ‖w‖₁ = 𝟏ᵀ|w|."""
    l1 = MatScalar(sp.MatMul(sp.Transpose(ones(w.shape[0])), elementwise(sp.Abs, w)))
    return -w.shape[0] * sp.log(2 * b) - l1 / b


def prior_density(kind: str, w: sp.Basic, scale: sp.Basic) -> distributions.DensityOf:
    """p(w | τ²) for kind "gaussian", p(w | b) for "laplace": the density of i.i.d. weights."""
    logpdf = {"gaussian": gaussian_prior_logpdf, "laplace": laplace_prior_logpdf}[kind]
    return distributions.DensityOf(f"{kind}-prior", w, (scale,), sp.exp(logpdf(w, scale)))


def _laplace_scalar(u: sp.Basic, b: sp.Basic) -> sp.Expr:
    return sp.exp(-sp.Abs(u) / b) / (2 * b)


def _prior_examples(kind: str) -> list[RuleExample]:
    w, s = sp.MatrixSymbol("w", 2, 1), sp.Symbol("s", positive=True)
    entries = [MatScalar(sp.MatMul(e.T, w)) for e in _E]
    if kind == "gaussian":
        each = [pr.gaussian_density(u, 0, s) for u in entries]
        rhs = gaussian_prior_logpdf(w, s)
    else:
        each = [_laplace_scalar(u, s) for u in entries]
        rhs = laplace_prior_logpdf(w, s)
    return [RuleExample(sp.log(sp.Mul(*each, evaluate=False)), rhs, assume={"s": ("positive",)})]


GAUSSIAN_PRIOR = _log_density_rule(
    "gaussian-prior",
    gaussian_prior_logpdf,
    name="Gaussian prior on the weights",
    source="Matrix Cookbook (2012) eq. (346) with m = 0, Σ = τ²I",
    cookbook=("346",),
    statement=(
        r"\log p(w \mid \tau^2) = \log\mathcal N(w \mid 0, \tau^2 I) = -\frac{d}{2}"
        r"\log(2\pi\tau^2) - \frac{1}{2\tau^2}w^{\top}w"
    ),
    conditions=("τ² > 0",),
    examples=lambda: _prior_examples("gaussian"),
)

LAPLACE_PRIOR = _log_density_rule(
    "laplace-prior",
    laplace_prior_logpdf,
    name="Laplace prior on the weights",
    source=(
        "definition of the Laplace distribution, p(wⱼ | b) = e^{−|wⱼ|/b}/(2b), "
        "independently for each weight"
    ),
    statement=r"\log p(w \mid b) = -d\log(2b) - \frac{1}{b}\|w\|_1",
    conditions=("b > 0",),
    examples=lambda: _prior_examples("laplace"),
)


def posterior(
    likelihood: distributions.DensityOf, prior: distributions.DensityOf
) -> distributions.DensityOf:
    """p(w | data), standing for p(data | w) p(w) (the evidence p(data) is a constant in w)."""
    params = (*likelihood.params, *prior.params)
    params = tuple(p for p in params if p != prior.obs)
    return distributions.DensityOf(
        "posterior", prior.obs, (likelihood.obs, *params), likelihood * prior
    )


def _bayes(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """log p(w | 𝒟) ↦ log p(𝒟 | w) + log p(w); −log p(w | 𝒟) likewise, the sign kept."""
    if isinstance(node, sp.Mul) and len(node.args) == 2 and node.args[0] == -1:
        inner = _bayes(node.args[1], ctx)
        return None if inner is None else sp.Mul(-1, inner, evaluate=False)
    if (
        isinstance(node, sp.log)
        and isinstance(node.args[0], distributions.DensityOf)
        and node.args[0].family == "posterior"
    ):
        lik, prior = node.args[0].definition.args
        return sp.log(lik, evaluate=False) + sp.log(prior, evaluate=False)
    return None


def _bayes_examples() -> list[RuleExample]:
    # x ~ N(μ, 1), μ ~ N(0, 1): the posterior is N(x/2, 1/2); log p(μ | x) − (log p(x | μ) +
    # log p(μ)) = −log p(x), which does not depend on μ.
    m, xs = sp.Symbol("m", real=True), sp.Symbol("u", real=True)
    post = sp.log(pr.gaussian_density(m, xs / 2, sp.S.Half))
    joint = sp.log(pr.gaussian_density(xs, m, 1)) + sp.log(pr.gaussian_density(m, 0, 1))
    return [
        RuleExample(post, joint, wrt=("m",), relation="constant"),
        # −log p(μ | x) = −(log p(x | μ) + log p(μ)) up to a constant: the sign kept
        RuleExample(-post, -joint, wrt=("m",), relation="constant"),
    ]


BAYES = register(
    Rewrite(
        id="bayes.log-posterior",
        name="Bayes' theorem",
        source="Bayes' theorem (Bishop, PRML, §1.2.3)",
        statement=(
            r"\log p(w \mid \mathcal D) = \log p(\mathcal D \mid w) + \log p(w) "
            r"- \log p(\mathcal D)"
        ),
        conditions=("p(𝒟) > 0 does not depend on w",),
        apply=_bayes,
        examples=_bayes_examples,
    )
)


# --- the categorical: one-hot columns yᵢ of Y (K×n), yᵢ ~ Categorical(π) ---------------------


def counts(Y: sp.Basic) -> sp.Basic:
    """Y𝟏: the number of observations in each class, n_k = ∑ᵢ Y_ki."""
    return sp.MatMul(Y, ones(Y.shape[1]))


def categorical_loglik(Y: sp.Basic, pi: sp.Basic) -> sp.Expr:
    """𝟏ᵀYᵀ log π = ∑ᵢ yᵢᵀ log π = ∑_k n_k log π_k."""
    return MatScalar(
        sp.MatMul(sp.Transpose(ones(Y.shape[1])), sp.Transpose(Y), elementwise(sp.log, pi))
    )


def categorical_density(Y: sp.Basic, pi: sp.Basic) -> distributions.DensityOf:
    """p(y₁, …, yₙ | π) = ∏ᵢ ∏_k π_k^{Y_ki} = ∏_k π_k^{n_k}, as the determinant of a diagonal."""
    definition = sp.Determinant(sp.DiagMatrix(sp.HadamardPower(pi, counts(Y))))
    return distributions.DensityOf("categorical", Y, (pi,), definition)


def _categorical_examples() -> list[RuleExample]:
    pi = sp.MatrixSymbol("pi", _K, 1)
    Y2 = sp.MatrixSymbol("Y", _K, 2)
    each = [
        distributions.CategoricalDensity(sp.MatMul(Y2, e), pi) for e in _E
    ]  # y₁ = Ye₁, y₂ = Ye₂
    lhs = sp.log(sp.Mul(*each, evaluate=False), evaluate=False)
    Y = sp.MatrixSymbol("Y", _K, pr.n)
    assume = {"Y": ("onehot",), "pi": ("prob",)}
    return [
        RuleExample(lhs, categorical_loglik(Y2, pi), assume=assume),
        RuleExample(
            sp.log(categorical_density(Y, pi), evaluate=False),
            categorical_loglik(Y, pi),
            assume=assume,
        ),
    ]


def _log_categorical_sample(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if (
        isinstance(node, sp.log)
        and isinstance(node.args[0], distributions.DensityOf)
        and node.args[0].family == "categorical"
    ):
        dens = node.args[0]
        return categorical_loglik(dens.obs, *dens.params)
    return None


CATEGORICAL_LOGLIK = register(
    Rewrite(
        id="density.categorical-sample",
        name="Log-likelihood of categorical data",
        source=(
            "definition of the categorical distribution, p(yᵢ | π) = ∏_k π_k^{y_ki}, for "
            "independent one-hot yᵢ (Bishop, PRML, §2.2)"
        ),
        statement=(
            r"\log p(y_1, \dots, y_n \mid \pi) = \sum_{i=1}^{n} y_i^{\top}\log\pi "
            r"= \mathbf{1}^{\top}Y^{\top}\log\pi = \sum_{k=1}^{K} n_k \log\pi_k"
        ),
        conditions=("yᵢ one-hot, the columns of Y", "y₁, …, yₙ independent"),
        apply=_log_categorical_sample,
        examples=_categorical_examples,
    )
)


def _clear_denominators(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """π ∘ (∑ c_t M_t) with each M_t either 𝟏 or a Hadamard product with π^{∘−1}: π∘𝟏 = π,
    π ∘ a ∘ π^{∘−1} = a."""
    if not (isinstance(node, sp.HadamardProduct) and len(node.args) == 2):
        return None
    pi, g = node.args
    inv = sp.HadamardPower(pi, -1)
    out = []
    for term in g.args if isinstance(g, sp.MatAdd) else (g,):
        c, m = scalar_coefficient(term)
        if isinstance(m, sp.OneMatrix) and m.shape == pi.shape:
            out.append(sp.MatMul(c, pi) if c != 1 else pi)
        elif isinstance(m, sp.HadamardProduct) and inv in m.args:
            rest = list(m.args)
            rest.remove(inv)
            a = rest[0] if len(rest) == 1 else sp.HadamardProduct(*rest)
            out.append(sp.MatMul(c, a) if c != 1 else a)
        else:
            return None
    return sp.MatAdd(*out) if len(out) > 1 else out[0]


def _clear_examples() -> list[RuleExample]:
    pi, a = sp.MatrixSymbol("pi", _K, 1), sp.MatrixSymbol("a", _K, 1)
    lam = sp.Symbol("lambda", real=True)
    g = sp.MatAdd(
        sp.MatMul(lam, ones(_K)), sp.MatMul(-1, sp.HadamardProduct(a, sp.HadamardPower(pi, -1)))
    )
    return [
        RuleExample(
            sp.HadamardProduct(pi, g),
            sp.MatAdd(sp.MatMul(lam, pi), sp.MatMul(-1, a)),
            assume={"pi": ("positive",)},
        )
    ]


CLEAR_DENOMINATORS = register(
    Rewrite(
        id="optimum.clear-denominators",
        name="Multiply the stationarity equation by π entrywise",
        source=(
            "elementary: π_k · (a_k/π_k) = a_k for π_k ≠ 0, so for π_k > 0 the equation "
            "λ − a_k/π_k = 0 holds exactly when λπ_k − a_k = 0"
        ),
        statement=(
            r"\pi \circ \left(\lambda\mathbf{1} - a \circ \pi^{\circ -1}\right) = \lambda\pi - a"
        ),
        conditions=("π_k ≠ 0",),
        apply=_clear_denominators,
        examples=_clear_examples,
    )
)


def _onehot_columns(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """𝟏_Kᵀ Y ⋯ → 𝟏ₙᵀ ⋯ for Y with one-hot columns; 𝟏ₙᵀ𝟏ₙ = n."""
    inner = node.arg if isinstance(node, MatScalar) else node
    if not isinstance(inner, sp.MatMul) or len(inner.args) < 2:
        return None
    first, Y, *rest = inner.args
    if not (
        isinstance(Y, sp.MatrixSymbol)
        and first in (sp.Transpose(ones(Y.shape[0])), sp.OneMatrix(1, Y.shape[0]))
        and ctx.has(Y.name, "onehot")
    ):
        return None
    cols = Y.shape[1]
    if isinstance(node, MatScalar) and rest == [ones(cols)]:
        return cols
    return sp.MatMul(sp.Transpose(ones(cols)), *rest)


def _onehot_examples() -> list[RuleExample]:
    Y = sp.MatrixSymbol("Y", _K, pr.n)
    total = MatScalar(sp.MatMul(sp.Transpose(ones(_K)), Y, ones(pr.n)))
    return [
        RuleExample(total, pr.n, assume={"Y": ("onehot",)}),
        RuleExample(
            sp.MatMul(sp.Transpose(ones(_K)), Y),
            sp.Transpose(ones(pr.n)),
            assume={"Y": ("onehot",)},
        ),
    ]


ONEHOT_COLUMNS = register(
    Rewrite(
        id="onehot.column-sums",
        name="One-hot columns sum to one",
        source="definition of one-hot encoding: each column of Y has a single entry 1",
        statement=(
            r"\mathbf{1}_K^{\top}Y = \mathbf{1}_n^{\top},\ \text{so}\ "
            r"\mathbf{1}_K^{\top}Y\mathbf{1}_n = \sum_{k=1}^{K} n_k = n"
        ),
        conditions=("every column of Y one-hot",),
        apply=_onehot_columns,
        examples=_onehot_examples,
    )
)
