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

import sympy as sp
from sympy.printing.str import StrPrinter

from derive.errors import InputError, UnsupportedError
from derive.expr import GradientOf, HessianOf, ScalarDifferential
from derive.model import Claim, Context, Derivation, Given, Rule, Step
from derive.rewrite import rewrite
from derive.rules import probability as pr

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
            sol = pr.STATIONARY.apply(grads[theta], ctx)
            note = f"set ∂NLL/∂{name} = 0 and solve for {name}{fixed}"
            if not any(sol.has(t) for t in fam.params):
                note += ": " + fam.estimators.get(theta.name, "")
            self.step(hat(theta), grads[theta], sol, pr.STATIONARY, note, "solve", (theta.name,))
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
        params = self.fam.params
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
            sol = sp.solve(sp.Eq(hat(theta), g), d)
            if len(sol) == 1:
                through[d] = sol[0]
    unheld = {d: s for s, d in held.items()}
    size = len(fam.params)
    out = sp.zeros(size, size)
    for (a, b), h in hess.items():
        value = sp.simplify(hold(h).xreplace(through)).xreplace(unheld)
        ia, ib = fam.params.index(a), fam.params.index(b)
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
    shown = ", ".join(fam.show(t.name) for t in fam.params)
    hatted = ", ".join(_hatted(fam, t) for t in fam.params)
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


def _given(fam: pr.Family) -> tuple[Given, ...]:
    data = Given("x", ("n",), fam.data, role="data")
    params = tuple(Given(t.name, (), fam.assumptions.get(t.name, ())) for t in fam.params)
    return (data, *params)


def mle_derivation(family: str, **options: object) -> Derivation:
    """The maximum-likelihood estimates of `family`'s parameters from an i.i.d. sample
    x_1, …, x_n, derived step by step ("gaussian", "bernoulli", "poisson", "exponential").

    Results are ``(θ̂, estimate)`` pairs, the estimates written in the data (``Sum`` over
    ``x[i]``). Unknown family: `UnknownNameError`; no closed form: `UnsupportedError`.
    """
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
    b.claims.append(
        Claim(
            "stationary",
            f"the gradient of the log-likelihood vanishes at ({hatted})",
            ell,
            objective,
            tuple(names),
            tuple((t.name, estimates[t]) for t in fam.params),
        )
    )

    remarks = [
        _second_order_remark(fam, hessian_at_estimates(fam, hess, b.partial)),
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
