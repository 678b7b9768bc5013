"""Expectations: the node E_{x∼D}[f(x)], the distributions D, and the rules that take an
expectation (linearity, moments, the quadratic form), plus the identities the worked
probability derivations use around them (the multivariate Gaussian density, log det(cA),
the Beta density and its kernel).

Rules that rewrite a node have ``apply(node, ctx) -> replacement | None``, as in
`derive.rewrite`. A step that rewrites only the integrand is checked "pointwise" (both
integrands agree at draws of x from D); a step that takes an expectation is checked by
"monte-carlo" (exactly, by enumeration, for a discrete D). See `derive.check`.
"""

from __future__ import annotations

import sympy as sp

from derive.distributions import (
    Bernoulli,
    DensityOf,
    Expectation,
    Normal,
    as_expr,
)
from derive.expr import MatScalar
from derive.model import Context, Rewrite, RuleExample, Transform
from derive.rules.registry import register

# --- shared symbols for the examples ----------------------------------------------------------

_d = sp.Symbol("d", integer=True, positive=True)
_x = sp.MatrixSymbol("x", _d, 1)
_m = sp.MatrixSymbol("m", _d, 1)
_c = sp.MatrixSymbol("c", _d, 1)
_S = sp.MatrixSymbol("S", _d, _d)
_A = sp.MatrixSymbol("A", _d, _d)
_t = sp.Symbol("t", real=True)
_mu = sp.Symbol("mu", real=True)
_v = sp.Symbol("v", positive=True)
_p = sp.Symbol("p", positive=True)
_a, _b = sp.symbols("a b", positive=True)


def _minus(u: sp.Basic, w: sp.Basic) -> sp.Basic:
    return sp.MatAdd(u, sp.MatMul(-1, w))


def quadratic(v: sp.Basic, A: sp.Basic) -> MatScalar:
    """The scalar vᵀAv."""
    return MatScalar(sp.MatMul(sp.Transpose(v), A, v))


# --- the multivariate Gaussian density ------------------------------------------------------


def normal_density(x: sp.MatrixSymbol, m: sp.Basic, S: sp.Basic) -> DensityOf:
    """p(x | m, Σ) = det(2πΣ)^{-1/2} exp(−½ (x − m)ᵀΣ⁻¹(x − m)), the density node (346)."""
    norm = sp.Pow(
        sp.Pow(sp.Determinant(sp.MatMul(2 * sp.pi, S)), sp.S.Half, evaluate=False),
        -1,
        evaluate=False,
    )
    expo = sp.exp(sp.Mul(sp.Rational(-1, 2), quadratic(_minus(x, m), sp.Inverse(S))))
    return DensityOf("mvn", x, (m, S), sp.Mul(norm, expo, evaluate=False))


def _mvn_density(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if isinstance(node, DensityOf) and node.family == "mvn":
        return node.definition
    return None


def _mvn_examples() -> list[RuleExample]:
    # The second form of (346): det(2πΣ) = (2π)^d det Σ, written out independently.
    q = quadratic(_minus(_x, _m), sp.Inverse(_S))
    rhs = (2 * sp.pi) ** (-_d / 2) * sp.Determinant(_S) ** sp.Rational(-1, 2) * sp.exp(-q / 2)
    return [RuleExample(normal_density(_x, _m, _S), rhs, assume={"S": ("spd",)})]


MVN_DENSITY = register(
    Rewrite(
        id="density.multivariate-gaussian",
        name="Multivariate Gaussian density",
        source="Matrix Cookbook (2012) eq. (346)",
        cookbook=("346",),
        statement=(
            r"p(x \mid m, \Sigma) = \frac{1}{\sqrt{\det(2\pi\Sigma)}}"
            r"\exp\left[-\tfrac12 (x - m)^{\top}\Sigma^{-1}(x - m)\right]"
        ),
        conditions=("Σ symmetric positive definite", "x, m d-vectors"),
        apply=_mvn_density,
        examples=_mvn_examples,
    )
)


# --- log det(cA) ---------------------------------------------------------------------------


def collect_logdet(e: sp.Basic, ctx: Context | None = None) -> sp.Basic | None:
    """d log c + log det A = log det(cA), for the first such pair of terms of the sum e
    (or of the sum s in e = k·s)."""
    if isinstance(e, sp.Mul):
        sums = [f for f in e.args if isinstance(f, sp.Add)]
        if len(sums) != 1:
            return None
        inner = collect_logdet(sums[0])
        if inner is None:
            return None
        rest = [f for f in e.args if f is not sums[0]]
        return sp.Mul(*rest, inner, evaluate=False)
    if not isinstance(e, sp.Add):
        return None
    terms = list(e.args)
    for i, t in enumerate(terms):
        if not (isinstance(t, sp.log) and isinstance(t.args[0], sp.Determinant)):
            continue
        A = t.args[0].arg
        for j, u in enumerate(terms):
            coeff, rest = u.as_independent(sp.log, as_Add=False)
            if j == i or not isinstance(rest, sp.log) or coeff != A.shape[0]:
                continue
            c = rest.args[0]
            if getattr(c, "is_Matrix", False) or c.has(sp.Determinant):
                continue
            merged = sp.log(sp.Determinant(sp.MatMul(c, A)))
            others = [s for k, s in enumerate(terms) if k not in (i, j)]
            return sp.Add(merged, *others)
    return None


LOGDET_COLLECT = register(
    Transform(
        id="logdet.scale-collect",
        name="Collect a log-determinant",
        source="Matrix Cookbook (2012) eq. (19), read from right to left",
        cookbook=("19",),
        statement=r"d\log c + \log\det A = \log\det(cA)",
        conditions=("A a d×d matrix with det A > 0", "c > 0"),
        apply=collect_logdet,
        examples=lambda: [
            RuleExample(
                _d * sp.log(2 * sp.pi * sp.E) + sp.log(sp.Determinant(_S)),
                sp.log(sp.Determinant(sp.MatMul(2 * sp.pi * sp.E, _S))),
                assume={"S": ("spd",)},
            )
        ],
    )
)


def _log_sum(e: sp.Basic, ctx: Context | None = None) -> sp.Basic | None:
    """a log b + a log c = a log(bc) for the scalar logs of the sum e (and a = a log e)."""
    if not isinstance(e, sp.Add):
        return None
    groups: dict[sp.Expr, list[sp.Expr]] = {}
    others = []
    for t in e.args:
        coeff, rest = t.as_independent(sp.log, as_Add=False)
        if isinstance(rest, sp.log) and not rest.args[0].has(sp.Determinant):
            groups.setdefault(coeff, []).append(rest.args[0])
        else:
            others.append(t)
    merged = []
    changed = False
    for coeff, args in groups.items():
        bare = [t for t in others if t == coeff]
        if bare:  # a = a log e
            others.remove(coeff)
            args = [*args, sp.E]
        if len(args) > 1:
            changed = True
        merged.append(coeff * sp.log(sp.Mul(*args)))
    return sp.Add(*merged, *others) if changed else None


LOG_SUM = register(
    Transform(
        id="log.sum",
        name="Sum of logs",
        source="elementary: a log b + a log c = a log(bc), and a = a log e",
        statement=r"a\log b + a\log c + a = a\log(b c e)",
        conditions=("b, c > 0",),
        apply=_log_sum,
        examples=lambda: [
            RuleExample(_d * sp.log(2 * sp.pi) + _d, _d * sp.log(2 * sp.pi * sp.E), assume={})
        ],
    )
)


# --- expectations ----------------------------------------------------------------------------


def _linearity(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if not isinstance(node, Expectation):
        return None
    var = node.var
    if node.body == var - centre_of(node):
        return None  # E[x − μ] is a central moment, not split into E[x] − μ
    out = []
    for term in sp.Add.make_args(node.body):
        c, g = term.as_independent(var, as_Add=False)
        out.append(c if g == 1 else c * Expectation(g, var, node.dist))
    new = sp.Add(*out)
    return None if new == node else new


def _linearity_examples() -> list[RuleExample]:
    x = sp.Symbol("x", real=True)
    dist = Normal(_mu, _v)
    body = _a + 3 * _b * (x - _mu) ** 2 - _t * x
    return [
        RuleExample(
            Expectation(body, x, dist),
            _a + 3 * _b * Expectation((x - _mu) ** 2, x, dist) - _t * Expectation(x, x, dist),
            relation="pointwise",
        ),
        RuleExample(
            Expectation(-quadratic(_minus(_x, _m), _A) / 2 + _a, _x, Normal(_m, _S)),
            _a - Expectation(quadratic(_minus(_x, _m), _A), _x, Normal(_m, _S)) / 2,
            assume={"S": ("spd",)},
            relation="pointwise",
        ),
    ]


LINEARITY = register(
    Rewrite(
        id="expectation.linearity",
        name="Linearity of the expectation",
        source="elementary: linearity of the expectation",
        statement=r"\mathbb{E}[a + c\,f(x) + g(x)] = a + c\,\mathbb{E}[f(x)] + \mathbb{E}[g(x)]",
        conditions=("a, c do not depend on x",),
        apply=_linearity,
        examples=_linearity_examples,
    )
)


def _quadratic_form(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """E[(x − m′)ᵀA(x − m′)] for x ∼ 𝒩(m, Σ) (any distribution with that mean and covariance)."""
    if not (isinstance(node, Expectation) and isinstance(node.dist, Normal)):
        return None
    body, x = node.body, node.var
    if not isinstance(body, MatScalar) or not isinstance(body.arg, sp.MatMul):
        return None
    factors = body.arg.args
    if len(factors) != 3 or not isinstance(factors[0], sp.Transpose):
        return None
    left, A, right = factors[0].arg, factors[1], factors[2]
    if left != right or A.has(x):
        return None
    parts = sp.MatAdd.make_args(left)
    if x not in parts:
        return None
    shift = [p for p in parts if p != x]
    m, S = node.dist.mean, node.dist.cov
    trace = sp.Trace(sp.MatMul(A, S))
    if len(shift) == 1 and shift[0] == sp.MatMul(-1, m):
        return trace  # m′ = m: the quadratic term (m − m′)ᵀA(m − m′) is zero
    offset = sp.MatAdd(m, *shift) if shift else m
    return quadratic(offset, A) + trace


def _quadratic_examples() -> list[RuleExample]:
    e = Expectation(quadratic(_minus(_x, _c), _A), _x, Normal(_m, _S))
    centred = Expectation(quadratic(_minus(_x, _m), _A), _x, Normal(_m, _S))
    return [
        RuleExample(
            e,
            quadratic(_minus(_m, _c), _A) + sp.Trace(sp.MatMul(_A, _S)),
            assume={"S": ("spd",)},
            relation="monte-carlo",
        ),
        RuleExample(
            centred, sp.Trace(sp.MatMul(_A, _S)), assume={"S": ("spd",)}, relation="monte-carlo"
        ),
    ]


QUADRATIC_FORM = register(
    Rewrite(
        id="expectation.quadratic-form",
        name="Expectation of a quadratic form",
        source="Matrix Cookbook (2012) eq. (380)",
        cookbook=("380",),
        statement=(
            r"\mathbb{E}[(x - m')^{\top}A(x - m')] = (m - m')^{\top}A(m - m') "
            r"+ \operatorname{tr}(A\Sigma)"
        ),
        conditions=("x has mean m and covariance Σ (here x ∼ 𝒩(m, Σ))", "A does not depend on x"),
        apply=_quadratic_form,
        examples=_quadratic_examples,
    )
)


def _trace_identity(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if isinstance(node, sp.Trace) and isinstance(node.arg, sp.MatMul):
        f = node.arg.args
        if len(f) == 2 and isinstance(f[0], sp.Inverse) and f[0].arg == f[1]:
            return f[1].shape[0]
    return None


TRACE_IDENTITY = register(
    Rewrite(
        id="trace.inverse-times",
        name="Trace of A⁻¹A",
        source="definition of the inverse (A⁻¹A = I) and of the trace (tr I_d = d)",
        statement=r"\operatorname{tr}(A^{-1}A) = \operatorname{tr}(I_d) = d",
        conditions=("A invertible d×d",),
        apply=_trace_identity,
        examples=lambda: [
            RuleExample(sp.Trace(sp.MatMul(sp.Inverse(_S), _S)), _d, assume={"S": ("invertible",)})
        ],
    )
)


def _gaussian_moment(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """E[(x − μ)^k] for scalar x ∼ 𝒩(μ, σ²): 0 for odd k, (k − 1)!! σ^k for even k."""
    if not (isinstance(node, Expectation) and isinstance(node.dist, Normal)):
        return None
    if getattr(node.var, "is_Matrix", False):
        return None
    mu, var = node.dist.mean, node.dist.cov
    centred = node.var - mu
    base, k = node.body.as_base_exp()
    if base != centred or not (k.is_Integer and k > 0):
        return None
    k = int(k)
    if k % 2:
        return sp.S.Zero
    return sp.factorial2(k - 1) * var ** (k // 2)


def _moment_examples() -> list[RuleExample]:
    x = sp.Symbol("x", real=True)
    dist = Normal(_mu, _v)
    return [
        RuleExample(Expectation((x - _mu) ** k, x, dist), as_expr(value), relation="monte-carlo")
        for k, value in ((1, 0), (2, _v), (3, 0), (4, 3 * _v**2))
    ]


GAUSSIAN_MOMENTS = register(
    Rewrite(
        id="expectation.gaussian-moments",
        name="Central moments of the Gaussian",
        source=(
            "theorem: the central moments of the normal distribution (Papoulis & Pillai, "
            "Probability, Random Variables and Stochastic Processes, 4th ed.)"
        ),
        statement=(
            r"x \sim \mathcal{N}(\mu, \sigma^2):\ \mathbb{E}[x - \mu] = 0,\ "
            r"\mathbb{E}[(x - \mu)^2] = \sigma^2,\ \mathbb{E}[(x - \mu)^3] = 0,\ "
            r"\mathbb{E}[(x - \mu)^4] = 3\sigma^4"
        ),
        conditions=("σ² > 0",),
        apply=_gaussian_moment,
        examples=_moment_examples,
    )
)


def _binary_power(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """x^k = x for a binary x and an integer k ≥ 2, inside an expectation over Bern(p)."""
    if not (isinstance(node, Expectation) and isinstance(node.dist, Bernoulli)):
        return None
    x = node.var

    def lower(e: sp.Basic) -> sp.Basic:
        if isinstance(e, sp.Pow) and e.base == x and e.exp.is_Integer and e.exp > 1:
            return x
        return e

    body = node.body.replace(lambda e: lower(e) != e, lower)
    return None if body == node.body else Expectation(body, x, node.dist)


BINARY_POWER = register(
    Rewrite(
        id="expectation.binary-power",
        name="Powers of a binary variable",
        source="elementary: for x ∈ {0, 1}, x^k = x for every integer k ≥ 1",
        statement=r"x \in \{0, 1\} \Rightarrow x^{k} = x\ (k \geq 1)",
        conditions=("x ∼ Bern(p), so x ∈ {0, 1}",),
        apply=_binary_power,
        examples=lambda: [
            RuleExample(
                Expectation(
                    _a * sp.Symbol("x") ** 2 + _b * sp.Symbol("x") ** 3,
                    sp.Symbol("x"),
                    Bernoulli(_p),
                ),
                Expectation((_a + _b) * sp.Symbol("x"), sp.Symbol("x"), Bernoulli(_p)),
                assume={"p": ("unit",)},
                relation="pointwise",
            )
        ],
    )
)


def _bernoulli_mean(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if isinstance(node, Expectation) and isinstance(node.dist, Bernoulli) and node.body == node.var:
        return node.dist.p
    return None


BERNOULLI_MEAN = register(
    Rewrite(
        id="expectation.bernoulli-mean",
        name="Mean of the Bernoulli distribution",
        source=(
            "definition of the Bernoulli distribution: E[x] = 0·(1 − p) + 1·p "
            "(Bishop, PRML, eq. (2.3))"
        ),
        statement=r"x \sim \operatorname{Bern}(p):\ \mathbb{E}[x] = p",
        conditions=("0 < p < 1",),
        apply=_bernoulli_mean,
        examples=lambda: [
            RuleExample(
                Expectation(sp.Symbol("x"), sp.Symbol("x"), Bernoulli(_p)),
                _p,
                assume={"p": ("unit",)},
                relation="monte-carlo",
            )
        ],
    )
)


# --- scalar algebra around the expectations --------------------------------------------------


def centre_of(node: Expectation) -> sp.Basic:
    """The point the integrand is expanded about: the mean of a Gaussian, 0 for a Bernoulli."""
    return node.dist.mean if isinstance(node.dist, Normal) else sp.S.Zero


def _expand(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """The integrand as a polynomial c₀ + c₁(x − m) + c₂(x − m)² + … in the centred x."""
    if not isinstance(node, Expectation) or getattr(node.var, "is_Matrix", False):
        return None
    x, m = node.var, centre_of(node)
    centred = x - m if m != 0 else x
    powers = []
    for term in sp.Add.make_args(node.body):
        c, g = term.as_independent(x, as_Add=False)
        base, k = g.as_base_exp()
        powers.append(0 if g == 1 else (k if base == centred and k.is_Integer else None))
    if None not in powers and len(set(powers)) == len(powers):
        return None  # already a polynomial in the centred x, one term per power
    u = sp.Dummy("u")
    poly = sp.collect(sp.expand(node.body.xreplace({x: u + m})), u, evaluate=False)
    if not all(k == 1 or (k.as_base_exp()[0] == u) for k in poly):
        return None  # not a polynomial in x
    terms = []
    for power, coeff in poly.items():
        k = 0 if power == 1 else int(power.as_base_exp()[1])
        factor = sp.S.One if k == 0 else (centred if k == 1 else sp.Pow(centred, k))
        terms.append(readable(sp.factor(coeff)) * factor)
    body = sp.Add(*terms)
    return None if body == node.body else Expectation(body, x, node.dist)


def _expand_examples() -> list[RuleExample]:
    x = sp.Symbol("x", real=True)
    body = ((x - _mu) / _v - _a) ** 2
    expanded = (x - _mu) ** 2 / _v**2 - 2 * _a * (x - _mu) / _v + _a**2
    return [
        RuleExample(
            Expectation(body, x, Normal(_mu, _v)),
            Expectation(expanded, x, Normal(_mu, _v)),
            relation="pointwise",
        )
    ]


EXPAND = register(
    Rewrite(
        id="expectation.expand",
        name="Expand in powers of the centred variable",
        source="elementary: the binomial theorem",
        statement=r"f(x) = \sum_{k} c_k (x - m)^k",
        conditions=("f a polynomial in x",),
        apply=_expand,
        examples=_expand_examples,
    )
)


def simplify_scalar(e: sp.Basic, ctx: Context | None = None) -> sp.Basic | None:
    """A rational function of the parameters over a common denominator, factored."""
    if e.atoms(Expectation) or getattr(e, "is_Matrix", False):
        return None
    new = readable(sp.factor(sp.together(e)))
    return None if new == e else new


def readable(v: sp.Expr) -> sp.Expr:
    """v with a denominator factor (p − 1)^k written (1 − p)^k, the sign moved for odd k."""
    num, den = sp.fraction(v)
    factors = []
    for f in sp.Mul.make_args(den):
        base, k = f.as_base_exp()
        if isinstance(base, sp.Add) and base.as_coeff_Add()[0] < 0:
            base = -base
            num = -num if k.is_odd else num
        factors.append(sp.Pow(base, k))
    return num / sp.Mul(*factors)


SIMPLIFY = register(
    Transform(
        id="algebra.common-denominator",
        name="Common denominator",
        source="elementary: add fractions over a common denominator and cancel",
        statement=r"\frac{a}{b} + \frac{c}{d} = \frac{ad + cb}{bd}",
        conditions=("b, d ≠ 0",),
        apply=simplify_scalar,
        examples=lambda: [
            RuleExample(1 / _p + 1 / (1 - _p), 1 / (_p * (1 - _p)), assume={"p": ("unit",)})
        ],
    )
)


def common_factor(e: sp.Basic, ctx: Context | None = None) -> sp.Basic | None:
    """a c + b c = c (a + b) for the numeric factor c that every term of the sum e shares."""
    if not isinstance(e, sp.Add):
        return None
    coeffs = [t.as_coeff_Mul()[0] for t in e.args]
    if not all(q.is_Rational and q != 0 for q in coeffs):
        return None
    c = (
        sp.Rational(sp.igcd(*[abs(q.p) for q in coeffs]), sp.ilcm(*[q.q for q in coeffs]))
        if len(coeffs) > 1
        else abs(coeffs[0])
    )
    if c == 1:
        return None
    inner = sp.Add(*[t / c for t in e.args], evaluate=False)
    return sp.Mul(c, inner, evaluate=False)


COMMON_FACTOR = register(
    Transform(
        id="algebra.scalar-factor",
        name="Take out a common numeric factor",
        source="elementary: distributivity",
        statement=r"c\,a + c\,b = c\,(a + b)",
        apply=common_factor,
        examples=lambda: [
            RuleExample(_a / 2 - _b / 2 + _t / 2, sp.Rational(1, 2) * (_a - _b + _t), assume={})
        ],
    )
)
