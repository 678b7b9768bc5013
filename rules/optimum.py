"""Optimisation rules of a maximum-likelihood derivation: the NLL, constants set aside,
the scalar derivative, stationarity solved for one parameter or jointly, the second-order
condition, and the median as the minimiser of a sum of absolute deviations.

Rules that act on a whole expression (differentiate, solve, set aside) take the parameter
from ``ctx.varying``.
"""

from __future__ import annotations

import sympy as sp

from derive.distributions import Median
from derive.errors import UnsupportedError
from derive.expr import MatScalar, ScalarDifferential, ScalarDifferentialSymbol
from derive.model import Context, Rewrite, RuleExample, Transform
from derive.rules.loglik import pull_constants
from derive.rules.probability import MU, SIGMA2, B, i, j, n, over_data, x
from derive.rules.registry import register

_a = sp.Symbol("a", positive=True)

# --- the negative log-likelihood ----------------------------------------------------------


def _negate(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """−(a + b + …) = −a − b − …"""
    if isinstance(node, sp.Mul) and node.args[0] == -1 and len(node.args) == 2:
        return sp.Add(*[-t for t in sp.Add.make_args(node.args[1])])
    return None


NLL = register(
    Rewrite(
        id="nll.definition",
        name="Negative log-likelihood",
        source="definition of the negative log-likelihood",
        statement=r"\operatorname{NLL}(\theta) = -\ell(\theta) = -\log L(\theta)",
        apply=_negate,
        examples=lambda: [
            RuleExample(
                sp.Mul(
                    -1, -n * sp.log(_a) / 2 - sp.Sum(x[i] ** 2, over_data()) / _a, evaluate=False
                ),  # fmt: skip
                n * sp.log(_a) / 2 + sp.Sum(x[i] ** 2, over_data()) / _a,
                assume={"a": ("positive",)},
            )
        ],
    )
)


def as_mean(e: sp.Expr) -> sp.Expr:
    """c·∑_{i=1}^n g_i written (c n)·((1/n)∑ g_i): a multiple of a mean over the data."""
    out = []
    for term in sp.Add.make_args(e):
        sums = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum)]
        if len(sums) != 1:
            out.append(term)
            continue
        (s,) = sums
        k, lo, hi = s.limits[0]
        count = hi - lo + 1
        mean = sp.Mul(1 / count, s, evaluate=False)
        out.append(sp.Mul(term / s * count, mean, evaluate=False))
    return sp.Add(*out, evaluate=False) if len(out) > 1 else out[0]


def set_aside(e: sp.Expr, ctx: Context) -> sp.Expr:
    """The terms of e that depend on a varying symbol (the rest is a constant in them)."""
    return sp.Add(*[t for t in sp.Add.make_args(e) if ctx.depends(t)])


SET_ASIDE = register(
    Transform(
        id="nll.set-aside",
        name="Set aside a constant term",
        source="elementary: adding a constant does not move a minimiser",
        statement=r"f(\theta) = c + g(\theta) \doteq g(\theta)",
        conditions=("c does not depend on θ",),
        apply=set_aside,
        examples=lambda: [
            RuleExample(
                n * sp.log(2 * sp.pi * SIGMA2) / 2
                + sp.Sum((x[i] - MU) ** 2, over_data()) / (2 * SIGMA2),
                as_mean(sp.Sum((x[i] - MU) ** 2, over_data()) / (2 * SIGMA2)),
                wrt=("mu",),
                assume={"sigma^2": ("positive",)},
                relation="constant",
            )
        ],
    )
)


SET_ASIDE_AS_MEAN = register(
    Transform(
        id="nll.set-aside-mean",
        name=SET_ASIDE.name,
        source=SET_ASIDE.source + "; a sum over the data written n times its mean",
        statement=(
            r"f(\theta) = c + \sum_{i=1}^n g_i(\theta) \doteq "
            r"n \cdot \frac{1}{n}\sum_{i=1}^n g_i(\theta)"
        ),
        conditions=SET_ASIDE.conditions,
        apply=lambda e, ctx: as_mean(set_aside(e, ctx)),
        examples=SET_ASIDE.examples,
    )
)


# --- first- and second-order conditions ---------------------------------------------------


_REAL_X = sp.IndexedBase("x", real=True)


def derivative(e: sp.Expr, ctx: Context) -> sp.Expr:
    """∂e/∂θ for the one varying scalar θ: SymPy's scalar `diff` (sums differentiated term
    by term), then constant factors taken out of each sum."""
    (theta,) = ctx.varying
    # The observations are real numbers: so told, SymPy differentiates |xᵢ − μ| to
    # sign(μ − xᵢ) instead of through re(·) and im(·).
    d = sp.diff(e.xreplace({x: _REAL_X}), theta).xreplace({_REAL_X: x})
    return d.replace(lambda s: pull_constants(s) is not None, pull_constants)


DERIVATIVE = register(
    Transform(
        id="calculus.derivative",
        name="Scalar derivative",
        source="elementary: scalar differentiation (sum, constant-factor, power and chain rules)",
        statement=(
            r"\frac{\partial}{\partial\theta} \sum_{i} c\, g_i(\theta) "
            r"= c \sum_{i} g_i'(\theta)"
        ),
        conditions=("c does not depend on θ",),
        apply=derivative,
        examples=lambda: [
            RuleExample(
                ScalarDifferential(sp.Sum((x[i] - MU) ** 2, over_data()) / (2 * SIGMA2)),
                -sp.Sum(x[i] - MU, over_data()) / SIGMA2 * ScalarDifferentialSymbol(MU),
                wrt=("mu",),
                assume={"sigma^2": ("positive",)},
            ),
            RuleExample(
                ScalarDifferential(n * sp.log(2 * sp.pi * SIGMA2) / 2),
                n / (2 * SIGMA2) * ScalarDifferentialSymbol(SIGMA2),
                wrt=("sigma^2",),
                assume={"sigma^2": ("positive",)},
            ),
        ],
    )
)


def hold_sums(e: sp.Expr) -> tuple[sp.Expr, dict[sp.Dummy, sp.Sum]]:
    """e with each outermost sum (or 1×1 matrix product) replaced by a symbol, and the map
    back to them.

    The data enter only through sums and matrix products, so solving for a parameter outside
    them (or simplifying) can treat each as an opaque number.
    """
    found: dict[sp.Sum, sp.Dummy] = {}

    def walk(node: sp.Basic) -> sp.Basic:
        if isinstance(node, (sp.Sum, MatScalar)):
            return found.setdefault(node, sp.Dummy("S"))
        if not node.args or isinstance(node, sp.Symbol):
            return node
        args = [walk(a) for a in node.args]
        return node if tuple(args) == tuple(node.args) else node.func(*args)

    out = walk(e)
    return out, {v: k for k, v in found.items()}


def solve_stationary(e: sp.Expr, ctx: Context) -> sp.Expr:
    """The θ with e(θ) = 0, in closed form; sums over the data are held fixed while solving."""
    (theta,) = ctx.varying
    inside = [s for s in e.atoms(sp.Sum) if s.has(theta)]
    if inside:
        raise UnsupportedError(f"solving for {theta} inside a sum over the data", f"in {inside[0]}")
    held, back = hold_sums(e)
    # check=False: SymPy's own check imports sympy.physics (0.3 s); instead, drop the
    # roots where a denominator of the equation vanishes (σ² = 0 for the Gaussian)
    sols = sp.solve(held, theta, simplify=False, check=False)
    denominator = sp.denom(sp.together(held))
    sols = [r for r in sols if not denominator.xreplace({theta: r}).is_zero]
    if len(sols) != 1:
        raise UnsupportedError(
            f"a closed-form maximum-likelihood estimate of {theta}",
            f"sympy.solve found {len(sols)} solutions of {e} = 0",
        )
    return sols[0].xreplace(back)


STATIONARY = register(
    Transform(
        id="optimum.stationary",
        name="Set the derivative to zero",
        source="Fermat's theorem: at an interior extremum the derivative vanishes",
        statement=r"\frac{\partial\,\mathrm{NLL}}{\partial\theta}(\hat\theta) = 0",
        conditions=("θ̂ interior to the parameter set",),
        apply=solve_stationary,
        examples=lambda: [
            RuleExample(
                -(sp.Sum(x[i], over_data()) - n * MU) / SIGMA2,
                sp.Sum(x[i], over_data()) / n,
                wrt=("mu",),
                assume={"sigma^2": ("positive",)},
                relation="solve",
            )
        ],
    )
)


def _joint_example() -> list[RuleExample]:
    xbar_j = sp.Sum(x[j], over_data(j)) / n
    ss = sp.Sum((x[i] - xbar_j) ** 2, over_data())
    return [
        RuleExample(
            n / (2 * SIGMA2) - ss / (2 * SIGMA2**2),
            ss / n,
            wrt=("sigma^2",),
            assume={"sigma^2": ("positive",)},
            relation="solve",
        )
    ]


JOINT = register(
    Transform(
        id="optimum.joint",
        name="Solve the stationarity conditions together",
        source=(
            "elementary: at a joint stationary point every partial derivative vanishes; "
            "substitute the estimates already found"
        ),
        statement=(
            r"\frac{\partial\,\mathrm{NLL}}{\partial\theta_2}(\hat\theta_1, \theta_2) = 0 "
            r"\Rightarrow \hat\theta_2"
        ),
        apply=solve_stationary,
        examples=_joint_example,
    )
)


def _second_order_example() -> list[RuleExample]:
    # ∂/∂μ of ∂NLL/∂μ = −(∑xᵢ − nμ)/σ², as a differential: n/σ² dμ.
    return [
        RuleExample(
            ScalarDifferential(-(sp.Sum(x[i], over_data()) - n * MU) / SIGMA2),
            n / SIGMA2 * ScalarDifferentialSymbol(MU),
            wrt=("mu",),
            assume={"sigma^2": ("positive",)},
        )
    ]


SECOND_ORDER = register(
    Transform(
        id="optimum.second-order",
        name="Second derivative",
        source=(
            "theorem: second-derivative test (a stationary point where the Hessian is "
            "positive definite is a strict local minimum)"
        ),
        statement=(
            r"\frac{\partial^2\,\mathrm{NLL}}{\partial\theta_a\,\partial\theta_b} = "
            r"\frac{\partial}{\partial\theta_b}\frac{\partial\,\mathrm{NLL}}{\partial\theta_a}"
        ),
        apply=derivative,
        examples=_second_order_example,
    )
)


# --- the median (the location estimate of the Laplace) ----------------------------------


def _sign_sum(g: sp.Expr, theta: sp.Symbol) -> sp.IndexedBase | None:
    """The data x when g = c·∑_{i=1}^{n} sign(±(θ − x_i)) with c ≠ 0 free of θ, else None."""
    c, rest = g.as_independent(theta, as_Add=False)
    if c == 0 or not isinstance(rest, sp.Sum) or len(rest.limits) != 1:
        return None
    k, lo, hi = rest.limits[0]
    if lo != 1 or hi != n:
        return None
    sign = -rest.function if rest.function.could_extract_minus_sign() else rest.function
    if not isinstance(sign, sp.sign):
        return None
    u = sign.args[0]
    for arg in (u, -u):
        obs = theta - arg  # u = θ − x_k, so x_k = θ − u
        if isinstance(obs, sp.Indexed) and obs.indices == (k,) and not obs.has(theta):
            return obs.base
    return None


def solve_median(g: sp.Expr, ctx: Context) -> Median:
    """The θ where c·∑ sign(θ − x_i) vanishes: the median of x_1, …, x_n.

    A step function of θ has no closed-form zero in the symbolic sense; it is zero between
    the middle order statistics (at the median for odd n, anywhere in between for even n).
    """
    (theta,) = ctx.varying
    data = _sign_sum(g, theta)
    if data is None:
        raise UnsupportedError(
            f"the median as the zero of {g}", f"it is not c·∑ sign({theta} − x_i)"
        )
    return Median(data, n)


MEDIAN = register(
    Transform(
        id="optimum.median",
        name="The median minimises the sum of absolute deviations",
        source=(
            "theorem: ∑|xᵢ − μ| is convex in μ with derivative ∑ sign(μ − xᵢ) away from the "
            "data, negative below the median and positive above it (Hastie, Tibshirani & "
            "Friedman, The Elements of Statistical Learning, 2nd ed., §10.6: the L1 loss "
            "is minimised by the median)"
        ),
        statement=(
            r"\sum_{i=1}^{n}\operatorname{sign}(\mu - x_i) = 0 \text{ at } "
            r"\hat\mu = \operatorname{median}(x_1, \dots, x_n) "
            r"= \arg\min_\mu \sum_{i=1}^{n}|x_i - \mu|"
        ),
        conditions=("x₁, …, xₙ distinct (as with probability 1 for continuous data)",),
        apply=solve_median,
        examples=lambda: [
            RuleExample(
                sp.Sum(sp.sign(MU - x[i]), over_data()) / B,
                Median(x, n),
                wrt=("mu",),
                assume={"b": ("positive",)},
                relation="solve",
            ),
            RuleExample(
                -sp.Sum(sp.sign(x[i] - MU), over_data()),
                Median(x, n),
                wrt=("mu",),
                relation="solve",
            ),
        ],
    )
)
