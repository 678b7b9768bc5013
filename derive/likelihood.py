"""Maximum likelihood as a derivation: one pipeline for every family in the rulebook.

    L = p(x_1, …, x_n | θ) →(i.i.d.)→ ∏ p(x_i | θ) →(density)→ ∏ f(x_i; θ)
    ℓ = log L →(logs)→ ∑ log f(x_i; θ) →(linearity of ∑)→ ℓ(θ)
    NLL = −ℓ →(set aside constants)→ …
    ∂NLL/∂θ_k →(linearity of ∑)→ … = 0 →(solve, then together)→ θ̂
    ∂²NLL/∂θ_a∂θ_b (the second-order check)

Every step applies a rule of `derive.rules.probability`. SymPy's scalar `diff` is the machine
form of the differentiation rule; each derivative is also a `Claim` checked against
``jax.grad``, and the estimates against a vanishing gradient of the log-likelihood.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

import sympy as sp
from sympy.printing.str import StrPrinter

from derive.errors import InputError, UnknownNameError, UnsupportedError
from derive.expr import GradientOf, HessianOf, MatScalar, ScalarDifferential
from derive.model import Claim, Context, Derivation, Given, Rule, Step
from derive.rewrite import rewrite
from derive.rules import constrained as cs
from derive.rules import probability as pr
from derive.rules import regression as rg

if TYPE_CHECKING:  # numpy is imported only when a check runs
    import numpy as np

L = sp.Symbol("L")
ELL = sp.Symbol("ell")
NLL = sp.Symbol("NLL")
#: x̄ = (1/n) ∑ x_i, the sample mean (printed x̄ in notes; results are written out in full so
#: that they evaluate on data)
X_BAR_DEFINITION = sp.Sum(pr.x[pr.i], pr.over_data()) / pr.n


def hat(theta: sp.Symbol) -> sp.Symbol:
    """The estimator symbol of a parameter: mu → mu_hat, sigma^2 → sigma^2_hat."""
    return sp.Symbol(f"{theta.name}_hat")


def _hatted(fam: pr.Family, theta: sp.Symbol) -> str:
    """μ̂, σ̂², λ̂: the Unicode name of an estimate."""
    shown = fam.show(theta.name)
    return shown[0] + "\u0302" + shown[1:]


def _squared(name: str) -> str:
    """μ², (σ²)²: a parameter's name squared, as in ∂²NLL/∂μ²."""
    return f"({name})²" if name[-1] in "²³" else f"{name}²"


def _fresh_index(e: sp.Basic) -> sp.Symbol:
    used = {s.name for s in e.atoms(sp.Symbol)}
    for name in ("j", "k", "l", "m"):
        if name not in used:
            return sp.Symbol(name, integer=True, positive=True)
    raise UnsupportedError("more than four nested sums over the data")


def _reindexed(value: sp.Expr, into: sp.Basic) -> sp.Expr:
    """`value` with its summation index renamed, so it can be substituted inside a sum over i."""
    return value.xreplace({pr.i: _fresh_index(into)}) if value.has(pr.i) else value


class _Builder:
    """Collects the steps and claims of one family's derivation."""

    def __init__(self, fam: pr.Family) -> None:
        self.fam = fam
        self.steps: list[Step] = []
        self.claims: list[Claim] = []
        self.ctx = Context(varying=frozenset(fam.params))
        #: each θ̂ as solved from its own equation ∂NLL/∂θ = 0, the other θ held fixed
        self.partial: dict[sp.Symbol, sp.Expr] = {}

    def show(self, theta: sp.Symbol) -> str:
        return self.fam.show(theta.name)

    def step(self, lhs, before, after, rule: Rule, note: str, relation="equal", wrt=()):
        self.steps.append(Step(lhs, before, after, rule.ref, note, relation, tuple(wrt)))
        return after

    def differentiate(self, f: sp.Expr, theta: sp.Symbol, lhs, rule: Rule, note: str):
        """lhs = ∂f/∂θ, read off the differential: d f = (∂f/∂θ) dθ.

        Recorded with relation "gradient" from d(f), so the checker compares the JVP of f in
        a random direction dθ with the derivative times dθ (SymPy's `Derivative` is not
        evaluable; the derivative as `diff` first returns would often equal the result).
        """
        ctx = Context(varying=frozenset({theta}))
        return self.step(
            lhs, ScalarDifferential(f), rule.apply(f, ctx), rule, note, "gradient", (theta.name,)
        )

    def rewrite(self, e: sp.Basic, rule: Rule, lhs: sp.Basic, note: str) -> sp.Basic:
        e, steps = rewrite(e, [rule], self.ctx, lhs, note)
        self.steps.extend(steps)
        return e

    # --- the likelihood, the log-likelihood, the NLL --------------------------------------

    def likelihood(self) -> sp.Expr:
        fam = self.fam
        params = ", ".join(self.show(t) for t in fam.params)
        joint = pr.joint_density(fam)
        prod = self.step(
            L,
            joint,
            pr.IID.apply(joint, self.ctx),
            pr.IID,
            f"the likelihood of ({params}) is the joint density of the data; the observations "
            "are independent and identically distributed, so it is a product over i = 1, …, n",
        )
        return self.rewrite(
            prod, fam.density_rule, L, f"write out the density of {fam.title} for each xᵢ"
        )

    def log_likelihood(self, lik: sp.Expr) -> sp.Expr:
        log_lik = sp.log(lik, evaluate=False)
        ell = self.step(
            ELL,
            log_lik,
            pr.LOG_PRODUCT.apply(log_lik, self.ctx),
            pr.LOG_PRODUCT,
            "the log-likelihood is log L: log is increasing, so it has the same maximiser "
            "as L, and the log of the product is the sum of the logs",
        )
        notes = {
            pr.LOG_MUL: "the log of each factor: the log of a product is the sum of the logs",
            pr.LOG_POWER: "the log of a power is the exponent times the log of the base",
            pr.LOG_EXP: "the log of an exponential is its exponent",
        }
        for rule in pr.LOG_RULES:
            ell = self.rewrite(ell, rule, ELL, notes[rule])
        return self.rewrite(
            ell,
            pr.SUM_LINEARITY,
            ELL,
            "split the sum over i and take out of it what does not depend on i "
            "(a term c that does not depend on i sums to n·c)",
        )

    def nll(self, ell: sp.Expr) -> sp.Expr:
        neg = sp.Mul(-1, ell, evaluate=False)
        note = "maximising the log-likelihood is minimising its negative, the NLL"
        if self.fam.nll_note:
            note += "; " + self.fam.nll_note
        return self.step(NLL, neg, pr.NLL.apply(neg, self.ctx), pr.NLL, note)

    def set_aside(self, nll: sp.Expr, objective: sp.Expr) -> None:
        """The NLL up to a constant in the parameters `fam.set_aside` (a view, not a step on
        the way to the estimates: the derivatives below are of the whole NLL)."""
        fam = self.fam
        if not fam.set_aside:
            return
        wrt = [t for t in fam.params if t.name in fam.set_aside]
        kept = pr.SET_ASIDE.apply(nll, Context(varying=frozenset(wrt)))
        if kept == nll:
            return
        view = pr.as_mean(kept) if fam.as_mean else kept
        self.step(NLL, nll, view, pr.SET_ASIDE, fam.set_aside_note, "constant", fam.set_aside)
        shown = ", ".join(self.show(t) for t in wrt)
        self.claims.append(
            Claim(
                "constant",
                f"the term of the NLL set aside does not depend on {shown}",
                view,
                objective,
                fam.set_aside,
            )
        )

    # --- first-order conditions ------------------------------------------------------------

    def gradient(self, nll: sp.Expr, objective: sp.Expr, theta: sp.Symbol) -> sp.Expr:
        """∂NLL/∂θ with θ taken out of the sums, ready to be set to zero."""
        lhs = GradientOf(NLL, theta)
        name = self.show(theta)
        g = self.differentiate(
            nll,
            theta,
            lhs,
            pr.DERIVATIVE,
            f"differentiate the NLL with respect to {name}, term by term; "
            "constant factors stay outside the sums",
        )
        self.claims.append(
            Claim("gradient", f"∂NLL/∂{name} against jax.grad", g, -objective, (theta.name,))
        )
        return self.rewrite(
            g,
            pr.SUM_LINEARITY,
            lhs,
            f"split the sums so that {name} stands outside them (∑ of a constant c is n·c)",
        )

    def solve(self, grads: dict[sp.Symbol, sp.Expr]) -> dict[sp.Symbol, sp.Expr]:
        """Each ∂NLL/∂θ = 0 solved for θ, then the solutions substituted into one another."""
        fam = self.fam
        partial = self.partial
        for theta in fam.params:
            ctx = Context(varying=frozenset({theta}))
            name = self.show(theta)
            others = [self.show(t) for t in fam.params if t != theta]
            fixed = f" for fixed {', '.join(others)}" if others else ""
            rule, note = fam.solvers.get(theta.name, (pr.STATIONARY, ""))
            sol = rule.apply(grads[theta], ctx)
            if not note:
                note = f"set ∂NLL/∂{name} = 0 and solve for {name}{fixed}"
                if not any(sol.has(t) for t in fam.params):
                    note += ": " + fam.estimators.get(theta.name, "")
            self.step(hat(theta), grads[theta], sol, rule, note, "solve", (theta.name,))
            partial[theta] = sol
        closed: dict[sp.Symbol, sp.Expr] = {}
        while len(closed) < len(fam.params):
            ready = [
                t
                for t in fam.params
                if t not in closed
                and all(o in closed for o in fam.params if o != t and partial[t].has(o))
            ]
            if not ready:
                raise UnsupportedError(
                    "coupled stationarity equations",
                    "no parameter's estimate is free of the parameters still unknown",
                )
            for theta in ready:
                deps = {o: v for o, v in closed.items() if partial[theta].has(o)}
                if not deps:
                    closed[theta] = partial[theta]
                    continue
                before = grads[theta].xreplace(
                    {o: _reindexed(v, grads[theta]) for o, v in deps.items()}
                )
                ctx = Context(varying=frozenset({theta}))
                at = ", ".join(f"{self.show(o)} = {_hatted(fam, o)}" for o in deps)
                closed[theta] = self.step(
                    hat(theta),
                    before,
                    pr.JOINT.apply(before, ctx),
                    pr.JOINT,
                    f"the estimates make every derivative vanish together: at {at}, "
                    + fam.estimators.get(theta.name, ""),
                    "solve",
                    (theta.name,),
                )
        return closed

    # --- the second-order check ------------------------------------------------------------

    def second_order(self, grads: dict[sp.Symbol, sp.Expr]) -> dict:
        params = self.fam.smooth
        hess: dict[tuple[sp.Symbol, sp.Symbol], sp.Expr] = {}
        for k, a in enumerate(params):
            for b in params[k:]:
                lhs = HessianOf(NLL, a) if a == b else GradientOf(GradientOf(NLL, a), b)
                what = (
                    f"∂²NLL/∂{_squared(self.show(a))}"
                    if a == b
                    else f"∂²NLL/∂{self.show(a)}∂{self.show(b)}"
                )
                h = self.differentiate(
                    grads[a],
                    b,
                    lhs,
                    pr.SECOND_ORDER,
                    f"{what}: differentiate ∂NLL/∂{self.show(a)} with respect to {self.show(b)}"
                    " (for the second-order check)",
                )
                self.claims.append(
                    Claim("gradient", f"{what} against jax.grad", h, grads[a], (b.name,))
                )
                hess[(a, b)] = h
        return hess


def hessian_at_estimates(
    fam: pr.Family, hess: dict, partial: dict[sp.Symbol, sp.Expr]
) -> sp.Matrix:
    """The Hessian of the NLL at the estimates, written with the estimator symbols θ̂.

    `partial` holds each θ̂ as solved from its own equation (θ̂ = g(data, other θ)). At the
    estimates, every θ is θ̂; a sum over the data that some θ̂ is a function of is written
    back through θ̂ (∑xᵢ = n μ̂, ∑(xᵢ − μ̂)² = n σ̂²). Sums are held as symbols meanwhile.
    """
    to_hat = {t: hat(t) for t in fam.params}
    held: dict[sp.Sum, sp.Dummy] = {}

    def hold(e: sp.Expr) -> sp.Expr:
        out, back = pr.hold_sums(e.xreplace(to_hat))
        return out.xreplace({d: held.setdefault(s, d) for d, s in back.items()})

    through: dict[sp.Dummy, sp.Expr] = {}
    for theta in fam.params:
        g = hold(partial[theta])
        dummies = g.atoms(sp.Dummy)
        if len(dummies) == 1:
            (d,) = dummies
            sol = sp.solve(sp.Eq(hat(theta), g), d, simplify=False, check=False)
            if len(sol) == 1:
                through[d] = sol[0]
    unheld = {d: s for s, d in held.items()}
    params = fam.smooth
    size = len(params)
    out = sp.zeros(size, size)
    for (a, b), h in hess.items():
        # a rational function of the held sums: factor(cancel(·)) is the form simplify()
        # would give, without simplify's import of sympy.physics (0.15 s at start-up)
        value = sp.factor(sp.cancel(hold(h).xreplace(through))).xreplace(unheld)
        ia, ib = params.index(a), params.index(b)
        out[ia, ib] = out[ib, ia] = value
    return out


def _positive_definite(fam: pr.Family, h: sp.Matrix) -> bool:
    """Whether h is positive definite for every admissible value of the estimates
    (Sylvester's criterion, decided by SymPy's assumptions; False if undecided)."""
    q = {}
    for theta in fam.params:
        kinds = fam.assumptions.get(theta.name, ())
        if "unit" in kinds:  # p̂ = s/(1 + s) ranges over (0, 1) as s ranges over (0, ∞)
            s = sp.Symbol("s", positive=True)
            q[hat(theta)] = s / (1 + s)
        elif "positive" in kinds:
            q[hat(theta)] = sp.Symbol(hat(theta).name, positive=True)
    minors = [sp.simplify(h[:k, :k].det().xreplace(q)) for k in range(1, h.shape[0] + 1)]
    return all(m.is_positive for m in minors)


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_NORMAL = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


class _UnicodePrinter(StrPrinter):
    """One-line Unicode for remarks: μ̂, σ̂⁴ for (σ̂²)², 2σ̂² for 2·σ̂²."""

    def __init__(self, fam: pr.Family) -> None:
        super().__init__()
        self.fam = fam

    def _name(self, name: str) -> str:
        for theta in self.fam.params:
            if name == theta.name:
                return self.fam.show(name)
            if name == hat(theta).name:
                return _hatted(self.fam, theta)
        return name

    def _print_Symbol(self, e: sp.Symbol) -> str:
        return self._name(e.name)

    def _print_Pow(self, e: sp.Pow, rational: bool = False) -> str:
        base, expo = e.args
        if isinstance(base, sp.Symbol) and expo.is_Integer and expo > 0:
            shown = self._name(base.name)
            root, power = re.fullmatch(r"(.*?)([⁰¹²³⁴⁵⁶⁷⁸⁹]*)", shown).groups()
            k = int(expo) * (int(power.translate(_NORMAL)) if power else 1)
            return root + str(k).translate(_SUPERSCRIPT)
        return super()._print_Pow(e, rational)

    def doprint(self, e: sp.Basic) -> str:
        text = super().doprint(e)
        return re.sub(r"(\d)\*", r"\1", text).replace("*", "·").replace("-", "−")


def _readable(v: sp.Expr) -> sp.Expr:
    """v with a denominator factor such as (p̂ − 1) written (1 − p̂), and the sign moved."""
    num, den = sp.fraction(sp.factor(v))
    factors = []
    for f in sp.Mul.make_args(den):
        base, e = f.as_base_exp()
        if isinstance(base, sp.Add) and base.as_coeff_Add()[0] < 0 and e.is_odd:
            base, num = -base, -num
        factors.append(base**e)
    return num / sp.Mul(*factors)


def _second_order_remark(fam: pr.Family, h: sp.Matrix) -> str:
    """The Hessian of the NLL at the estimates, in words, and whether it is a minimum."""
    uni = _UnicodePrinter(fam).doprint
    shown = ", ".join(fam.show(t.name) for t in fam.smooth)
    hatted = ", ".join(_hatted(fam, t) for t in fam.smooth)
    h = h.applyfunc(_readable)
    pd = _positive_definite(fam, h)
    if h.shape == (1, 1):
        text = f"at {hatted}, ∂²NLL/∂{_squared(shown)} = {uni(h[0, 0])}"
        verdict = " > 0" if pd else ""
    else:
        entries = (
            f"diag({', '.join(uni(h[k, k]) for k in range(h.shape[0]))})"
            if h.is_diagonal()
            else uni(h)
        )
        text = f"at ({hatted}), the Hessian of the NLL in ({shown}) is {entries}"
        verdict = ", positive definite" if pd else ""
    if not pd:
        return f"second-order check: {text}; its sign is not settled symbolically"
    return (
        f"second-order check: {text}{verdict}: the stationary point is a minimum of the NLL, "
        "a maximum of the likelihood"
    )


#: offsets from θ̂ at which a non-smooth NLL is compared (besides every observation)
PERTURBATIONS = (1e-6, 1e-3, 0.05, 0.5, 2.0)


def _minimiser_claim(
    fam: pr.Family, theta: sp.Symbol, nll: sp.Expr, grad: sp.Expr, estimate: sp.Expr
) -> Claim:
    """θ̂ (a median) minimises the NLL over θ, checked against numpy.median.

    The reference compares θ̂ with ``numpy.median`` of the data, the derivative ∂NLL/∂θ at θ̂
    with 0, and NLL(θ̂) with the least NLL at θ̂ ± PERTURBATIONS and at every observation (a
    piecewise-linear convex function is least at a data point), the other parameters at their
    random values.
    """
    name = theta.name

    def reference(values: dict, value) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np  # only when checking

        at = float(value(estimate, values))
        moved = {**values, name: np.asarray(at)}
        slope = float(value(grad, moved))
        least = float(value(nll, moved))
        points = [at + s * e for e in PERTURBATIONS for s in (1.0, -1.0)]
        points += [float(v) for v in np.ravel(values["x"])]
        for p in points:
            least = min(least, float(value(nll, {**values, name: np.asarray(p)})))
        derived = np.array([at, slope, float(value(nll, moved))])
        expected = np.array([float(np.median(values["x"])), 0.0, least])
        return derived, expected

    shown, hatted = fam.show(name), _hatted(fam, theta)
    return Claim(
        "reference",
        f"{hatted} is the median of the data (numpy.median), ∂NLL/∂{shown} vanishes there, "
        f"and the NLL is no larger at perturbed {shown} or at any observation",
        estimate,
        nll,
        (name,),
        method="numpy.median",
        reference=reference,
    )


def _given(fam: pr.Family) -> tuple[Given, ...]:
    data = Given("x", ("n",), fam.data, role="data")
    params = tuple(Given(t.name, (), fam.assumptions.get(t.name, ())) for t in fam.params)
    return (data, *params)


def mle_derivation(family: str, **options: object) -> Derivation:
    """The maximum-likelihood estimates of `family`'s parameters from an i.i.d. sample
    x_1, …, x_n, derived step by step: any of `families()` ("gaussian", "bernoulli",
    "poisson", "exponential", "laplace", "linear-regression", "logistic-regression", "mvn",
    "categorical").

    Results are ``(θ̂, estimate)`` pairs, the estimates written in the data (``Sum`` over
    ``x[i]``). Unknown family: `UnknownNameError`; no closed form: `UnsupportedError`.
    """
    if family in MATRIX_MODELS:
        if options:
            raise InputError(f"mle_derivation takes no options; got {', '.join(sorted(options))}")
        return MATRIX_MODELS[family]()
    if family not in pr.FAMILIES:
        raise UnknownNameError("family", family, families())
    fam = pr.family(family)
    if options:
        raise InputError(
            f"mle_derivation takes no options for {family!r}; got {', '.join(sorted(options))}"
        )
    b = _Builder(fam)
    log_density = sp.log(fam.density, evaluate=False)
    objective = sp.Sum(log_density, pr.over_data())  # ℓ as first written: ∑ log p(x_i | θ)

    lik = b.likelihood()
    ell = b.log_likelihood(lik)
    nll = b.nll(ell)
    b.set_aside(nll, -objective)
    grads = {theta: b.gradient(nll, objective, theta) for theta in fam.params}
    estimates = b.solve(grads)
    hess = b.second_order(grads)

    names = [t.name for t in fam.params]
    shown = ", ".join(fam.show(t) for t in names)
    hatted = ", ".join(_hatted(fam, t) for t in fam.params)
    smooth = [t.name for t in fam.smooth]
    which = "" if len(smooth) == len(names) else f" in {', '.join(map(fam.show, smooth))}"
    b.claims.append(
        Claim(
            "stationary",
            f"the gradient of the log-likelihood{which} vanishes at ({hatted})",
            ell,
            objective,
            tuple(smooth),
            tuple((t.name, estimates[t]) for t in fam.params),
        )
    )
    for theta in fam.params:
        if theta.name in fam.nonsmooth:
            b.claims.append(_minimiser_claim(fam, theta, nll, grads[theta], estimates[theta]))

    remarks = [
        _second_order_remark(fam, hessian_at_estimates(fam, hess, b.partial)),
        *fam.remarks,
        "; ".join(fam.estimators[t] for t in names),
    ]
    return Derivation(
        title=f"Maximum likelihood for {fam.title}",
        goal=(
            f"the maximum-likelihood estimates of {shown} from n independent observations "
            f"x₁, …, xₙ of {fam.title}: the values that maximise the likelihood "
            "(equivalently, minimise the negative log-likelihood)"
        ),
        given=_given(fam),
        objective=objective,
        wrt=tuple(names),
        steps=tuple(b.steps),
        results=tuple((hat(t), estimates[t]) for t in fam.params),
        claims=tuple(b.claims),
        name=f"{fam.name}-mle",
        remarks=tuple(remarks),
    )


# --- models with matrix parameters: the matrix engine differentiates -------------------------

D = sp.Symbol("d", integer=True, positive=True)
K = sp.Symbol("K", integer=True, positive=True)
X_DATA = sp.MatrixSymbol("X", pr.n, D)
Y_DATA = sp.MatrixSymbol("y", pr.n, 1)
W = sp.MatrixSymbol("w", D, 1)
MU_V = sp.MatrixSymbol("mu", D, 1)
SIGMA_M = sp.MatrixSymbol("Sigma", D, D)
TAU2 = sp.Symbol("tau^2", positive=True)
B_SCALE = sp.Symbol("b", positive=True)


def hat_matrix(m: sp.MatrixSymbol) -> sp.MatrixSymbol:
    """ŵ, μ̂, Σ̂: the estimator symbol of a matrix parameter."""
    return sp.MatrixSymbol(f"{m.name}_hat", *m.shape)


class _Steps:
    """The steps and claims of a matrix-model derivation, in order."""

    def __init__(self, assume: dict[str, tuple[str, ...]]) -> None:
        self.steps: list[Step] = []
        self.claims: list[Claim] = []
        self.assume = assume

    def step(self, lhs, before, after, rule: Rule, note: str = "", relation="equal", wrt=()):
        self.steps.append(Step(lhs, before, after, rule.ref, note, relation, tuple(wrt)))
        return after

    def rewrite(self, e: sp.Basic, rules: tuple[Rule, ...], lhs: sp.Basic, note: str = ""):
        ctx = Context(assume={k: frozenset(v) for k, v in self.assume.items()})
        e, steps = rewrite(e, rules, ctx, lhs, note)
        self.steps.extend(steps)
        return e

    def engine(self, f: sp.Expr, wrt: str, lhs: sp.Symbol, *, hessian: bool = False):
        """∂f/∂wrt (and the Hessian) by the matrix engine, its steps relabelled f → lhs.

        Returns (gradient, Hessian or None, the gradient's steps, the Hessian's steps).
        """
        from derive.derivatives import F, gradient_derivation, hessian_derivation
        from derive.problem import make_problem

        p = make_problem(f, wrt, assume=self.assume)
        grad = gradient_derivation(p)
        relabel = {F: lhs}

        def own(s: Step) -> Step:  # the engine's steps vary wrt only (the rest is held fixed)
            return replace(s, lhs=s.lhs.xreplace(relabel), wrt=s.wrt or (wrt,))

        g_steps = [own(s) for s in grad.steps]
        if not hessian:
            return grad.result, None, g_steps, []
        hess = hessian_derivation(p)
        h_steps = [own(s) for s in hess.steps[len(grad.steps) :]]
        return grad.result, hess.results[0][1], g_steps, h_steps

    def set_aside(self, lhs, nll: sp.Expr, wrt: tuple[sp.Basic, ...], note: str) -> sp.Expr:
        kept = pr.SET_ASIDE.apply(nll, Context(varying=frozenset(wrt)))
        names = tuple(str(v) for v in wrt)
        return self.step(lhs, nll, kept, pr.SET_ASIDE, note, "constant", names)


def _model_given(*entries: tuple[str, tuple, tuple[str, ...], str]) -> tuple[Given, ...]:
    return tuple(Given(name, shape, kinds, role) for name, shape, kinds, role in entries)


def _nll_from(b: _Steps, density: pr.DensityOf, loglik_rule: Rule, note: str) -> sp.Expr:
    """ℓ = log p(data | θ) written out by the model's rule, then NLL = −ℓ."""
    ell = b.rewrite(
        sp.log(density, evaluate=False),
        (loglik_rule,),
        ELL,
        "the log-likelihood is the log of the density of the data; the observations are "
        "independent, so it is a sum over i = 1, …, n, written here with matrices",
    )
    neg = sp.Mul(-1, ell, evaluate=False)
    return b.step(NLL, neg, pr.NLL.apply(neg, Context()), pr.NLL, note)


def _linear_regression() -> Derivation:
    X, y, w, s2 = X_DATA, Y_DATA, W, pr.SIGMA2
    b = _Steps({"sigma^2": ("positive",)})
    density = rg.linear_density(y, X, w, s2)
    objective = sp.log(density, evaluate=False)
    nll = _nll_from(
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
    b.steps.extend(g_steps)
    b.claims.append(Claim("gradient", "∂NLL/∂w against jax.grad", g, -objective, ("w",)))
    w_hat = b.step(
        hat_matrix(w),
        g,
        rg.LINEAR_STATIONARY.apply(g, Context(varying=frozenset({w}))),
        rg.LINEAR_STATIONARY,
        "set ∂NLL/∂w = 0: the gradient (1/σ²)(XᵀXw − Xᵀy) vanishes where XᵀXw = Xᵀy, the "
        "normal equations; XᵀX is invertible when X has full column rank (σ² cancels)",
        "solve",
        ("w",),
    )
    lhs_s2 = GradientOf(NLL, s2)
    g_s2 = b.step(
        lhs_s2,
        ScalarDifferential(nll),
        pr.DERIVATIVE.apply(nll, Context(varying=frozenset({s2}))),
        pr.DERIVATIVE,
        "differentiate the NLL with respect to σ² (‖y − Xw‖² does not depend on σ²)",
        "gradient",
        ("sigma^2",),
    )
    b.claims.append(Claim("gradient", "∂NLL/∂σ² against jax.grad", g_s2, -objective, ("sigma^2",)))
    at_w_hat = g_s2.xreplace({w: w_hat})
    s2_hat = b.step(
        hat(s2),
        at_w_hat,
        pr.JOINT.apply(at_w_hat, Context(varying=frozenset({s2}))),
        pr.JOINT,
        "set ∂NLL/∂σ² = 0 at w = ŵ and solve for σ²: σ̂² = (1/n)‖y − Xŵ‖², the mean "
        "squared residual",
        "solve",
        ("sigma^2",),
    )
    b.steps.extend(h_steps)
    b.claims.append(Claim("hessian", "∂²NLL/∂w∂wᵀ against jax.hessian", h, -objective, ("w",)))
    h_s2 = b.step(
        HessianOf(NLL, s2),
        ScalarDifferential(g_s2),
        pr.SECOND_ORDER.apply(g_s2, Context(varying=frozenset({s2}))),
        pr.SECOND_ORDER,
        "∂²NLL/∂(σ²)²: differentiate ∂NLL/∂σ² with respect to σ² (for the second-order check)",
        "gradient",
        ("sigma^2",),
    )
    b.claims.append(Claim("gradient", "∂²NLL/∂(σ²)² against jax.grad", h_s2, g_s2, ("sigma^2",)))
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
        given=_model_given(
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
            "column rank; at (ŵ, σ̂²) the cross derivative ∂²NLL/∂w∂σ² = −Xᵀ(y − Xŵ)/σ̂⁴ "
            "vanishes by the normal equations and ∂²NLL/∂(σ²)² = n/(2σ̂⁴) > 0, so the "
            "Hessian is positive definite: a maximum of the likelihood",
            "ŵ = (XᵀX)⁻¹Xᵀy, the ordinary least-squares solution; σ̂² = (1/n)‖y − Xŵ‖², "
            "the mean squared residual (biased: the unbiased estimate divides by n − d)",
        ),
    )


def _logistic_regression() -> Derivation:
    X, y, w = X_DATA, Y_DATA, W
    b = _Steps({"y": ("binary",)})
    density = rg.logistic_density(y, X, w)
    objective = sp.log(density, evaluate=False)
    nll = _nll_from(
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
    b.steps.extend(g_steps)
    b.claims.append(Claim("gradient", "∂NLL/∂w against jax.grad", g, -objective, ("w",)))
    b.steps.extend(h_steps)
    b.claims.append(Claim("hessian", "∂²NLL/∂w∂wᵀ against jax.hessian", h, -objective, ("w",)))
    newton = sp.MatAdd(w, sp.MatMul(-1, sp.Inverse(h), g))
    return Derivation(
        title="Maximum likelihood for logistic regression",
        goal=(
            "the gradient and Hessian of the negative log-likelihood of logistic regression, "
            "yᵢ ~ Bernoulli(σ(xᵢᵀw)) independently, xᵢᵀ the rows of the n×d matrix X, for an "
            "iterative maximum-likelihood method"
        ),
        given=_model_given(
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


def _mvn() -> Derivation:
    X, mu, S = X_DATA, MU_V, SIGMA_M
    b = _Steps({"Sigma": ("spd",)})
    density = rg.mvn_density(X, mu, S)
    objective = sp.log(density, evaluate=False)
    nll = _nll_from(
        b,
        density,
        rg.MVN_LOGLIK,
        "maximising the log-likelihood is minimising its negative, the NLL",
    )
    nll = b.rewrite(nll, (rg.LOGDET_SCALE,), NLL, "take the constant 2π out of the determinant")
    kept = b.set_aside(
        NLL,
        nll,
        (mu, S),
        "the term (nd/2)·log(2π) depends on neither μ nor Σ: set it aside",
    )
    # The engine's Hessian in μ stops at dμ 𝟏ᵀ𝟏 (reported); the tests check nΣ⁻¹ numerically.
    g_mu, _, g_steps, _ = b.engine(kept, "mu", NLL)
    b.steps.extend(g_steps)
    b.claims.append(Claim("gradient", "∂NLL/∂μ against jax.grad", g_mu, -objective, ("mu",)))
    mu_hat = b.step(
        hat_matrix(mu),
        g_mu,
        rg.LINEAR_STATIONARY.apply(g_mu, Context(varying=frozenset({mu}))),
        rg.LINEAR_STATIONARY,
        "set ∂NLL/∂μ = 0: Σ⁻¹(nμ − Xᵀ𝟏) = 0, and Σ⁻¹ is invertible, so μ̂ = (1/n)Xᵀ𝟏 = "
        "(1/n)∑xᵢ = x̄, the sample mean, whatever Σ",
        "solve",
        ("mu",),
    )
    g_s, _, s_steps, _ = b.engine(kept, "Sigma", NLL)
    b.steps.extend(s_steps)
    b.claims.append(Claim("gradient", "∂NLL/∂Σ against jax.grad", g_s, -objective, ("Sigma",)))
    at_mu_hat = g_s.xreplace({mu: mu_hat})
    s_hat = b.step(
        hat_matrix(S),
        at_mu_hat,
        rg.SANDWICH_STATIONARY.apply(at_mu_hat, Context(varying=frozenset({S}))),
        rg.SANDWICH_STATIONARY,
        "set ∂NLL/∂Σ = 0 at μ = μ̂ and multiply by Σ on the left and on the right: "
        "Σ̂ = (1/n)(X − 𝟏x̄ᵀ)ᵀ(X − 𝟏x̄ᵀ) = (1/n)∑(xᵢ − x̄)(xᵢ − x̄)ᵀ, the sample covariance",
        "solve",
        ("Sigma",),
    )
    b.claims.append(
        Claim(
            "stationary",
            "the gradient of the log-likelihood vanishes at (μ̂, Σ̂)",
            objective,
            objective,
            ("mu", "Sigma"),
            (("mu", mu_hat), ("Sigma", s_hat)),
        )
    )
    return Derivation(
        title="Maximum likelihood for the multivariate Gaussian",
        goal=(
            "the maximum-likelihood estimates of μ and Σ from n independent observations "
            "x₁, …, xₙ ~ N(μ, Σ) in ℝᵈ, the rows of the n×d data matrix X"
        ),
        given=_model_given(
            ("X", ("n", "d"), (), "data"),
            ("mu", ("d",), (), ""),
            ("Sigma", ("d", "d"), ("spd",), ""),
        ),
        objective=objective,
        wrt=("mu", "Sigma"),
        steps=tuple(b.steps),
        results=((hat_matrix(mu), mu_hat), (hat_matrix(S), s_hat)),
        claims=tuple(b.claims),
        name="mvn-mle",
        remarks=(
            "second-order check: ∂²NLL/∂μ∂μᵀ = nΣ⁻¹ is positive definite; for Σ, the NLL in "
            "Λ = Σ⁻¹ is (n/2)(tr(ΛΣ̂) − log det Λ) + const, strictly convex, so the stationary "
            "point is the maximum of the likelihood (when Σ̂ is invertible: n > d)",
            "μ̂ = x̄ = (1/n)∑xᵢ, the sample mean; Σ̂ = (1/n)∑(xᵢ − x̄)(xᵢ − x̄)ᵀ, the sample "
            "covariance with divisor n (biased: the unbiased estimate divides by n − 1)",
        ),
    )


class _Named(sp.Symbol):
    """A symbol printed as `text` in plain text and as `tex` in LaTeX (ℒ, \\mathcal{L})."""

    def __new__(cls, name: str, text: str, tex: str) -> _Named:
        obj = super().__new__(cls, name)
        obj._text, obj._tex = text, tex
        return obj

    def __getnewargs_ex__(self):
        return ((self.name, self._text, self._tex), {})

    def _sympystr(self, printer) -> str:
        return self._text

    def _latex(self, printer) -> str:
        return self._tex


class _EntrywiseTimes(sp.Expr):
    """The label a ∘ g of an equation (a a vector, g a label such as ∂ℒ/∂π); print only."""

    def __new__(cls, a: sp.Basic, g: sp.Basic) -> _EntrywiseTimes:
        return sp.Basic.__new__(cls, a, g)

    def _sympystr(self, printer) -> str:
        return f"{printer._print(self.args[0])} ∘ {printer._print(self.args[1])}"

    def _latex(self, printer) -> str:
        return rf"{printer._print(self.args[0])} \circ {printer._print(self.args[1])}"


LAGRANGIAN = _Named("Lagrangian", "ℒ", r"\mathcal{L}")
Y_ONEHOT = sp.MatrixSymbol("Y", K, pr.n)
PI_V = sp.MatrixSymbol("pi", K, 1)
#: random points of the simplex against which the categorical estimate is compared
SIMPLEX_DRAWS = 200


def _scalar_out(e: sp.Expr) -> sp.Expr:
    """MatScalar(c·M) written c·MatScalar(M), nested products flattened first."""

    def pull(node: MatScalar) -> sp.Expr:
        inner = node.arg.doit() if isinstance(node.arg, sp.MatMul) else node.arg
        if not isinstance(inner, sp.MatMul):
            return node
        c, mats = inner.as_coeff_matrices()
        return c * MatScalar(sp.MatMul(*mats)) if c != 1 else node

    return e.replace(lambda a: isinstance(a, MatScalar), pull)


def _categorical() -> Derivation:
    Y, pi, lam = Y_ONEHOT, PI_V, cs.LAMBDA
    b = _Steps({"Y": ("onehot",), "pi": ("prob",)})
    density = rg.categorical_density(Y, pi)
    objective = sp.log(density, evaluate=False)
    nll = _nll_from(
        b,
        density,
        rg.CATEGORICAL_LOGLIK,
        "maximising the log-likelihood is minimising its negative, the NLL: −∑ᵢ yᵢᵀ log π, "
        "the cross-entropy between each one-hot label yᵢ and the predicted distribution π, "
        "summed over the data (= −∑ₖ nₖ log πₖ with nₖ = (Y𝟏)ₖ the count of class k)",
    )
    constraint = 1 - MatScalar(sp.MatMul(sp.Transpose(rg.ones(K)), pi))
    lag = b.step(
        LAGRANGIAN,
        nll,
        cs.LAGRANGE.apply(nll, constraint, lam),
        cs.LAGRANGE,
        "π must be a probability vector: minimise the NLL subject to g(π) = 1 − 𝟏ᵀπ = 0 "
        "(πₖ ≥ 0 will hold at the solution without being imposed). The Lagrangian subtracts "
        "λ·g(π), a multiplier λ times the constraint; where the constraint holds (as for "
        "every π checked here, drawn from the simplex) ℒ equals the NLL, and at the "
        "constrained minimum both ∂ℒ/∂π and ∂ℒ/∂λ = −g(π) vanish",
    )
    g, _, g_steps, _ = b.engine(lag, "pi", LAGRANGIAN)
    b.steps.extend(g_steps)
    b.claims.append(Claim("gradient", "∂ℒ/∂π against jax.grad", g, lag, ("pi",)))
    g_lam = b.step(
        GradientOf(LAGRANGIAN, lam),
        ScalarDifferential(lag),
        pr.DERIVATIVE.apply(lag, Context(varying=frozenset({lam}))),
        pr.DERIVATIVE,
        "differentiate ℒ with respect to the multiplier: ∂ℒ/∂λ = 0 is the constraint 𝟏ᵀπ = 1",
        "gradient",
        ("lambda",),
    )
    b.claims.append(Claim("gradient", "∂ℒ/∂λ against jax.grad", g_lam, lag, ("lambda",)))
    times = sp.HadamardProduct(pi, g)
    ctx = Context(assume={k: frozenset(v) for k, v in b.assume.items()})
    cleared = b.step(
        _EntrywiseTimes(pi, GradientOf(LAGRANGIAN, pi)),
        times,
        rg.CLEAR_DENOMINATORS.apply(times, ctx),
        rg.CLEAR_DENOMINATORS,
        "∂ℒ/∂πₖ = λ − nₖ/πₖ; multiply the k-th entry by πₖ to clear the denominator: for "
        "πₖ > 0, ∂ℒ/∂πₖ = 0 exactly when λπₖ − nₖ = 0",
    )
    pi_of_lam = b.step(
        pi,
        cleared,
        rg.LINEAR_STATIONARY.apply(cleared, Context(varying=frozenset({pi}))),
        rg.LINEAR_STATIONARY,
        "set ∂ℒ/∂π = 0 and solve for π: λπ = Y𝟏, so πₖ = nₖ/λ, proportional to the counts",
        "solve",
        ("pi",),
    )
    on_constraint = _scalar_out(g_lam.xreplace({pi: pi_of_lam}))
    lam_sum = b.step(
        hat(lam),
        on_constraint,
        pr.JOINT.apply(on_constraint, Context(varying=frozenset({lam}))),
        pr.JOINT,
        "substitute π = (1/λ)Y𝟏 into ∂ℒ/∂λ = 0, the constraint 𝟏ᵀπ = 1: (1/λ)𝟏ᵀY𝟏 = 1, so "
        "λ̂ = 𝟏ᵀY𝟏 = ∑ₖ nₖ",
        "solve",
        ("lambda",),
    )
    lam_hat = b.step(
        hat(lam),
        lam_sum,
        rg.ONEHOT_COLUMNS.apply(lam_sum, ctx),
        rg.ONEHOT_COLUMNS,
        "each column yᵢ of Y is one-hot, so the counts add up to the number of observations",
    )
    at_lam_hat = cleared.xreplace({lam: lam_hat})
    pi_hat = b.step(
        hat_matrix(pi),
        at_lam_hat,
        rg.LINEAR_STATIONARY.apply(at_lam_hat, Context(varying=frozenset({pi}))),
        rg.LINEAR_STATIONARY,
        "at λ = λ̂ = n: nπ = Y𝟏, so π̂ = (1/n)Y𝟏, π̂ₖ = nₖ/n, the fraction of the observations "
        "in class k",
        "solve",
        ("pi",),
    )
    b.claims.append(_simplex_claim(Y, pi, lam, pi_hat, g, objective))
    return Derivation(
        title="Maximum likelihood for the categorical distribution",
        goal=(
            "the maximum-likelihood estimate of the class probabilities π (πₖ ≥ 0, ∑ₖ πₖ = 1) "
            "from n independent observations y₁, …, yₙ ~ Categorical(π), one-hot vectors in "
            "ℝᴷ, the columns of the K×n matrix Y"
        ),
        given=_model_given(
            ("Y", ("K", "n"), ("onehot",), "data"),
            ("pi", ("K",), ("prob",), ""),
            ("lambda", (), (), ""),
        ),
        objective=objective,
        wrt=("pi",),
        steps=tuple(b.steps),
        results=((hat_matrix(pi), pi_hat), (hat(lam), lam_hat)),
        claims=tuple(b.claims),
        name="categorical-mle",
        remarks=(
            "second-order check: the NLL −∑ₖ nₖ log πₖ is convex in π (its Hessian "
            "diag(nₖ/πₖ²) is positive semidefinite) and the constraint 𝟏ᵀπ = 1 is linear, so "
            "the stationary point of the Lagrangian is the minimum of the NLL on the simplex: "
            "the maximum of the likelihood",
            "π̂ = (1/n)Y𝟏, π̂ₖ = nₖ/n: the fraction of the observations in class k; the "
            "multiplier is λ̂ = n. A class never observed gets π̂ₖ = 0, on the boundary of the "
            "simplex, where λπₖ = nₖ still holds but ∂ℒ/∂πₖ is not defined",
            "the NLL is n times the cross-entropy between the empirical class frequencies "
            "π̂ and π, so maximum likelihood here is minimising the cross-entropy loss",
        ),
    )


def _simplex_claim(Y, pi, lam, pi_hat, grad, objective) -> Claim:
    """π̂ against the class frequencies counted by numpy, the constraint, the gradient of the
    Lagrangian at (π̂, n) on the observed classes, and the log-likelihood at random points
    of the simplex and at small moves from π̂ along it (none may be larger)."""

    def reference(values: dict, value) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np  # only when checking

        labels = values["Y"]
        k, n = labels.shape
        freq = np.bincount(np.argmax(labels, axis=0), minlength=k) / n
        seen = freq > 0
        p = value(pi_hat, values).reshape(k, 1)
        with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 for unseen classes
            g = value(grad, {**values, "pi": p, "lambda": np.asarray(float(n))}).ravel()
        ell = float(value(objective, {**values, "pi": p}))
        rng = np.random.default_rng(k * n)
        others = rng.dirichlet(np.ones(k), SIMPLEX_DRAWS)
        others = np.vstack([others, p.ravel() + 1e-3 * (others[:20] - p.ravel())])
        best = max(float(value(objective, {**values, "pi": q.reshape(k, 1)})) for q in others)
        derived = np.concatenate([p.ravel(), [p.sum()], g[seen], [ell]])
        expected = np.concatenate([freq, [1.0], np.zeros(seen.sum()), [max(ell, best)]])
        return derived, expected

    return Claim(
        "reference",
        "π̂ is the vector of class frequencies (numpy.bincount), sums to 1, makes ∂ℒ/∂π "
        "vanish at λ̂ = n on the observed classes, and no point of the simplex tried has a "
        "larger likelihood",
        pi_hat,
        objective,
        ("pi",),
        method="numpy.bincount",
        reference=reference,
    )


#: the models whose parameters are vectors or matrices, derived with the matrix engine
MATRIX_MODELS = {
    "linear-regression": _linear_regression,
    "logistic-regression": _logistic_regression,
    "mvn": _mvn,
    "categorical": _categorical,
}


def families() -> list[str]:
    """Every family `mle_derivation` knows, scalar families first."""
    return [*pr.FAMILIES, *MATRIX_MODELS]


# --- maximum a posteriori ---------------------------------------------------------------------

PRIORS = {"gaussian": TAU2, "laplace": B_SCALE}


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
    b = _Steps({"sigma^2": ("positive",), scale.name: ("positive",)})
    lik = rg.linear_density(y, X, w, s2)
    pri = rg.prior_density(prior, w, scale)
    post = rg.posterior(lik, pri)
    lhs = sp.Mul(-1, sp.log(post, evaluate=False), evaluate=False)
    objective = sp.log(post, evaluate=False)
    neg = sp.Mul(-1, rg.BAYES.apply(objective, Context()), evaluate=False)
    e = b.step(
        lhs,
        sp.Mul(-1, objective, evaluate=False),
        neg,
        rg.BAYES,
        "the MAP estimate maximises the posterior, so minimises −log p(w | y, X); by Bayes' "
        "theorem that is the NLL plus −log p(w), up to log p(y | X), which does not depend on w",
        "constant",
        ("w",),
    )
    e = b.rewrite(e, (rg.LINEAR_LOGLIK,), lhs, "the log-likelihood of linear regression")
    e = b.rewrite(e, (rg.GAUSSIAN_PRIOR, rg.LAPLACE_PRIOR), lhs, f"the {prior} prior's density")
    if isinstance(e, sp.Mul) and e.args[0] == -1:
        e = b.step(lhs, e, pr.NLL.apply(e, Context()), pr.NLL, "distribute the minus sign")
    e = sp.Add(*[pr.NLL.apply(t, Context()) or t for t in sp.Add.make_args(e)])
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
    b.steps.extend(g_steps)
    b.claims.append(Claim("gradient", "the gradient against jax.grad", g, -objective, ("w",)))
    given = _model_given(
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
        w_hat = b.step(
            hat_matrix(w),
            g,
            rg.LINEAR_STATIONARY.apply(g, Context(varying=frozenset({w}))),
            rg.LINEAR_STATIONARY,
            "set the gradient to zero: (XᵀX + (σ²/τ²)I)w = Xᵀy; XᵀX + λI is positive definite "
            "for λ = σ²/τ² > 0, so it is invertible even when XᵀX is not",
            "solve",
            ("w",),
        )
        b.claims.append(
            Claim(
                "stationary",
                "the gradient of the log-posterior vanishes at ŵ",
                objective,
                objective,
                ("w",),
                (("w", w_hat),),
            )
        )
        results = ((hat_matrix(w), w_hat),)
        remarks = (
            "ridge regression: ŵ = (XᵀX + λI)⁻¹Xᵀy with λ = σ²/τ²; a broader prior (τ² → ∞) "
            "gives back least squares",
            "second-order check: the Hessian of −log p(w | y, X) is XᵀX/σ² + I/τ², positive "
            "definite, so ŵ is the unique maximum of the posterior",
        )
    else:
        results = ((GradientOf(lhs, w), g),)
        remarks = (
            "no closed form: the L1 term ‖w‖₁ is not differentiable where a weight is 0, and "
            "the stationarity condition (1/σ²)Xᵀ(Xw − y) + sign(w)/b = 0 mixes a linear term "
            "with signs; the gradient above holds wherever no wⱼ is 0 (a subgradient, with "
            "sign(0) ∈ [−1, 1], at 0). The estimate is found iteratively (coordinate descent, "
            "proximal gradient / soft-thresholding), and some weights come out exactly 0",
            "lasso: minimise ½‖y − Xw‖² + λ‖w‖₁ with λ = σ²/b",
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
