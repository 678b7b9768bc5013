"""Expression nodes of probability: densities, distributions, expectations, the median.

Each node is a SymPy expression that stands for something the engine reasons about by
rules (`derive.rules.probability`, `derive.rules.expectation`) and that the numeric checker
evaluates through `as_definition` (a density, the median, B(a, b)) or by drawing from a
distribution (`derive.integrate`). They print themselves by SymPy's printer protocol
(`_sympystr`, `_latex`), which the notation printers follow.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions.diagonal import DiagMatrix

# --- densities -------------------------------------------------------------------------------


class DensityOf(sp.Expr):
    """p(obs | θ): the density of a family at `obs`, standing for its `definition`.

    ``DensityOf(family, x[i], (μ, σ²), f(x_i))`` prints as p(x_i | μ, σ²); with ``obs`` the
    IndexedBase x and a product as definition it is the joint density p(x_1, …, x_n | θ).
    It evaluates (``doit``, or an evaluator reading `definition`) as its definition.
    """

    is_commutative = True
    is_positive = True

    def __new__(cls, family: str | Str, obs: sp.Basic, params, definition: sp.Expr):
        family = family if isinstance(family, Str) else Str(family)
        return sp.Basic.__new__(cls, family, obs, sp.Tuple(*params), definition)

    @property
    def family(self) -> str:
        return self.args[0].name

    @property
    def obs(self) -> sp.Basic:
        return self.args[1]

    @property
    def params(self) -> tuple[sp.Symbol, ...]:
        return tuple(self.args[2])

    @property
    def definition(self) -> sp.Expr:
        return self.args[3]

    @property
    def is_joint(self) -> bool:
        return isinstance(self.obs, sp.IndexedBase)

    def doit(self, **hints):
        return self.definition.doit(**hints) if hints.get("deep", True) else self.definition

    def as_definition(self) -> sp.Expr:
        """What the node stands for; the numeric evaluator evaluates this instead."""
        return self.definition

    def _observations(self, printer) -> str:
        if not self.is_joint:
            return printer._print(self.obs)
        k, lo, hi = self.definition.limits[0]
        first, last = self.obs[lo], self.obs[hi]
        return f"{printer._print(first)}, ..., {printer._print(last)}"

    def _sympystr(self, printer) -> str:
        params = ", ".join(printer._print(t) for t in self.params)
        return f"p({self._observations(printer)} | {params})"

    def _latex(self, printer) -> str:
        params = ", ".join(printer._print(t) for t in self.params)
        obs = self._observations(printer).replace("...", r"\dots")
        return rf"p\left({obs} \mid {params}\right)"


class CategoricalDensity(sp.Expr):
    """p(y | π) = ∏_k π_k^{y_k}: the categorical density of y under class probabilities π."""

    is_commutative = True
    is_positive = True

    def __new__(cls, y: sp.Basic, probs: sp.Basic) -> CategoricalDensity:
        if y.shape != probs.shape or y.shape[1] != 1:
            raise TypeError(
                f"a categorical density needs two column vectors of one length: {y}, {probs}"
            )
        return sp.Basic.__new__(cls, y, probs)

    @property
    def y(self) -> sp.Basic:
        return self.args[0]

    @property
    def probs(self) -> sp.Basic:
        return self.args[1]

    def as_definition(self) -> sp.Expr:
        """∏_k π_k^{y_k}, as det(diag(π^{∘y})): a product of entries the evaluator knows."""
        return sp.Determinant(DiagMatrix(sp.HadamardPower(self.probs, self.y)))

    def _sympystr(self, printer) -> str:
        return f"p({printer._print(self.y)} | {printer._print(self.probs)})"

    def _latex(self, printer) -> str:
        return rf"p\left({printer._print(self.y)} \mid {printer._print(self.probs)}\right)"


# --- distributions and expectations ---------------------------------------------------------


class Distribution(sp.Basic):
    """A named distribution with parameters: ``Normal(m, Σ)``, ``Bernoulli(p)``, ``Beta(a, b)``."""

    symbol = "D"
    latex_symbol = r"\mathcal{D}"

    def __new__(cls, *params: sp.Basic) -> Distribution:
        return sp.Basic.__new__(cls, *params)

    @property
    def params(self) -> tuple[sp.Basic, ...]:
        return tuple(self.args)

    def _sympystr(self, printer) -> str:
        return f"{self.symbol}({', '.join(printer._print(a) for a in self.args)})"

    def _latex(self, printer) -> str:
        args = ", ".join(printer._print(a) for a in self.args)
        return rf"{self.latex_symbol}\left({args}\right)"


class Normal(Distribution):
    """𝒩(m, Σ): a Gaussian with mean m and covariance Σ (a scalar mean and variance for d = 1)."""

    symbol = "𝒩"
    latex_symbol = r"\mathcal{N}"

    @property
    def mean(self) -> sp.Basic:
        return self.args[0]

    @property
    def cov(self) -> sp.Basic:
        return self.args[1]


class Bernoulli(Distribution):
    """Bern(p): x = 1 with probability p, else 0."""

    symbol = "Bern"
    latex_symbol = r"\operatorname{Bern}"

    @property
    def p(self) -> sp.Basic:
        return self.args[0]


class Expectation(sp.Expr):
    """E_{x∼D}[f(x)]: the expectation of the scalar `body` over the random variable `var` ∼ `dist`.

    `var` is bound: the value of the node does not depend on a value of `var`. The numeric
    checker evaluates it by drawing `var` from `dist` (derive.expectation).
    """

    is_commutative = True
    is_real = True

    def __new__(cls, body: sp.Basic, var: sp.Basic, dist: Distribution) -> Expectation:
        return sp.Basic.__new__(cls, body, var, dist)

    @property
    def body(self) -> sp.Basic:
        return self.args[0]

    @property
    def var(self) -> sp.Basic:
        return self.args[1]

    @property
    def dist(self) -> Distribution:
        return self.args[2]

    def _sympystr(self, printer) -> str:
        under = f"{printer._print(self.var)}∼{printer._print(self.dist)}"
        return f"𝔼_{{{under}}}[{printer._print(self.body)}]"

    def _latex(self, printer) -> str:
        under = rf"{printer._print(self.var)} \sim {printer._print(self.dist)}"
        return rf"\mathbb{{E}}_{{{under}}}\left[{printer._print(self.body)}\right]"


def as_expr(a: sp.Basic | int) -> sp.Basic:
    """An argument as a SymPy expression: an int becomes an Integer (never text)."""
    if isinstance(a, sp.Basic):
        return a
    if isinstance(a, int):
        return sp.Integer(a)
    raise TypeError(f"expected a SymPy expression or an int, got {type(a).__name__}")


class BetaFunction(sp.Expr):
    """B(a, b) = Γ(a)Γ(b)/Γ(a + b), the normaliser of the Beta density."""

    is_commutative = True
    is_positive = True

    def __new__(cls, a: sp.Basic, b: sp.Basic) -> BetaFunction:
        return sp.Basic.__new__(cls, as_expr(a), as_expr(b))

    def as_definition(self) -> sp.Expr:
        """What the numeric evaluator computes (through log-gammas, for large arguments)."""
        a, b = self.args
        return sp.exp(sp.loggamma(a) + sp.loggamma(b) - sp.loggamma(a + b), evaluate=False)

    def _sympystr(self, printer) -> str:
        return f"B({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    def _latex(self, printer) -> str:
        a, b = (printer._print(t) for t in self.args)
        return rf"\mathrm{{B}}\left({a}, {b}\right)"


def beta_definition(theta: sp.Basic, a: sp.Basic, b: sp.Basic) -> sp.Expr:
    """θ^{a−1}(1 − θ)^{b−1}/B(a, b), kept as written."""
    return sp.Mul(
        sp.Pow(theta, a - 1, evaluate=False),
        sp.Pow(1 - theta, b - 1, evaluate=False),
        sp.Pow(BetaFunction(a, b), -1, evaluate=False),
        evaluate=False,
    )


class BetaOf(DensityOf):
    """Beta(θ | a, b): a Beta density node, printed by its name."""

    def __new__(cls, theta: sp.Basic, a: sp.Basic, b: sp.Basic, *rest: sp.Basic) -> BetaOf:
        if rest:  # SymPy rebuilding the node from its args (family, θ, (a, b), definition)
            return DensityOf.__new__(cls, theta, a, b, *rest)
        return DensityOf.__new__(cls, "beta", theta, (a, b), beta_definition(theta, a, b))

    def _sympystr(self, printer) -> str:
        a, b = self.params
        return f"Beta({printer._print(self.obs)} | {printer._print(a)}, {printer._print(b)})"

    def _latex(self, printer) -> str:
        a, b = (printer._print(t) for t in self.params)
        return rf"\operatorname{{Beta}}\left({printer._print(self.obs)} \mid {a}, {b}\right)"


# --- the median (the location estimate of the Laplace) ----------------------------------


def _step(u: sp.Expr) -> sp.Expr:
    """(1 + sign u)/2: 1 for u > 0, 0 for u < 0 (only used where u ≠ 0)."""
    return (1 + sp.sign(u)) / 2


class Median(sp.Expr):
    """median(x_1, …, x_n): the middle order statistic for odd n, the midpoint of the two
    middle ones for even n (ties allowed).

    Evaluates through `as_definition`, a formula in sign(·) that the numeric evaluator
    computes: the median is the midpoint of the distinct values x_l with at least n/2
    observations at or below them and at least n/2 at or above them (one value for odd n,
    the two middle values for even n).
    """

    is_commutative = True
    is_real = True

    def __new__(cls, data: sp.IndexedBase, count: sp.Expr) -> Median:
        return sp.Basic.__new__(cls, data, count)

    @property
    def data(self) -> sp.IndexedBase:
        return self.args[0]

    @property
    def count(self) -> sp.Expr:
        return self.args[1]

    def doit(self, **hints) -> Median:
        return self  # a value, not a formula to expand

    def as_definition(self) -> sp.Expr:
        """∑_l x_l w_l / ∑_l w_l with w_l = [C_l ≥ n/2][G_l ≥ n/2] / E_l: C_l, G_l, E_l count
        the observations at or below, at or above, and equal to x_l (so each distinct value
        counts once). C_l − n/2 is a multiple of 1/2, so the offset 1/4 keeps sign(·) ≠ 0."""
        return _median_formula(self.data, self.count)

    def _observations(self, printer) -> str:
        first, last = printer._print(self.data[1]), printer._print(self.data[self.count])
        return f"{first}, ..., {last}"

    def _sympystr(self, printer) -> str:
        return f"median({self._observations(printer)})"

    def _latex(self, printer) -> str:
        obs = self._observations(printer).replace("...", r"\dots")
        return rf"\operatorname{{median}}\left({obs}\right)"


# Building the formula costs seconds of SymPy (sign and Abs simplify their arguments), and
# the evaluator asks for it on every evaluation: build it once per (data, count).
@functools.lru_cache(maxsize=16)
def _median_formula(x: sp.IndexedBase, k: sp.Expr) -> sp.Expr:
    """The formula of `Median.as_definition`."""
    l_, m_ = sp.Dummy("l", integer=True), sp.Dummy("m", integer=True)
    s = sp.sign(x[l_] - x[m_])
    below = sp.Sum((2 + s - sp.Abs(s)) / 2, (m_, 1, k))
    above = sp.Sum((2 - s - sp.Abs(s)) / 2, (m_, 1, k))
    equal = sp.Sum(1 - sp.Abs(s), (m_, 1, k))
    quarter = sp.Rational(1, 4)
    w = _step(below - k / 2 + quarter) * _step(above - k / 2 + quarter) / equal
    return sp.Sum(x[l_] * w, (l_, 1, k)) / sp.Sum(w, (l_, 1, k))
