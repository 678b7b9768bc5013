"""Maximum likelihood as a derivation: one pipeline for every scalar family in the rulebook.

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

import sympy as sp

import derive.families as fm
from derive.errors import UnsupportedError
from derive.expr import GradientOf, HessianOf
from derive.likelihood.steps import Recording
from derive.likelihood.symbols import ELL, NLL, L, hat, hat_name, squared
from derive.model import Claim, Context
from derive.rules import loglik as lg
from derive.rules import optimum as opt
from derive.rules import probability as pr


def _fresh_index(e: sp.Basic) -> sp.Symbol:
    used = {s.name for s in e.atoms(sp.Symbol)}
    for name in ("j", "k", "l", "m"):
        if name not in used:
            return sp.Symbol(name, integer=True, positive=True)
    raise UnsupportedError("more than four nested sums over the data")


def _reindexed(value: sp.Expr, into: sp.Basic) -> sp.Expr:
    """`value` with its summation index renamed, so it can be substituted inside a sum over i."""
    return value.xreplace({pr.i: _fresh_index(into)}) if value.has(pr.i) else value


class Builder(Recording):
    """Collects the steps and claims of one family's derivation."""

    def __init__(self, fam: fm.Family) -> None:
        super().__init__(Context(varying=frozenset(fam.params)))
        self.fam = fam
        #: each θ̂ as solved from its own equation ∂NLL/∂θ = 0, the other θ held fixed
        self.partial: dict[sp.Symbol, sp.Expr] = {}
        #: the claims checking each second derivative against jax.grad (`second_order`)
        self.second_claims: list[Claim] = []

    def show(self, theta: sp.Symbol) -> str:
        return self.fam.show(theta.name)

    # --- the likelihood, the log-likelihood, the NLL --------------------------------------

    def likelihood(self) -> sp.Expr:
        fam = self.fam
        params = ", ".join(self.show(t) for t in fam.params)
        joint = fm.joint_density(fam)
        prod = self.transform(
            joint,
            pr.IID,
            L,
            f"the likelihood of ({params}) is the joint density of the data; the observations "
            "are independent and identically distributed, so it is a product over i = 1, …, n",
        )
        return self.rewrite(
            prod, fam.density_rule, L, f"write out the density of {fam.title} for each xᵢ"
        )

    def log_likelihood(self, lik: sp.Expr) -> sp.Expr:
        log_lik = sp.log(lik, evaluate=False)
        ell = self.transform(
            log_lik,
            lg.LOG_PRODUCT,
            ELL,
            "the log-likelihood is log L: log is increasing, so it has the same maximiser "
            "as L, and the log of the product is the sum of the logs",
        )
        notes = {
            **lg.LOG_NOTES,
            lg.LOG_MUL: "the log of each factor: the log of a product is the sum of the logs",
        }
        ell = self.rewrite_in_turn(ell, lg.LOG_RULES, ELL, notes)
        return self.rewrite(
            ell,
            lg.SUM_LINEARITY,
            ELL,
            "split the sum over i and take out of it what does not depend on i "
            "(a term c that does not depend on i sums to n·c)",
        )

    def nll(self, ell: sp.Expr) -> sp.Expr:
        neg = sp.Mul(-1, ell, evaluate=False)
        note = "maximising the log-likelihood is minimising its negative, the NLL"
        if self.fam.nll_note:
            note += "; " + self.fam.nll_note
        return self.transform(neg, opt.NLL, NLL, note)

    def set_aside(self, nll: sp.Expr, objective: sp.Expr) -> None:
        """The NLL up to a constant in the parameters `fam.set_aside` (a view, not a step on
        the way to the estimates: the derivatives below are of the whole NLL)."""
        fam = self.fam
        if not fam.set_aside:
            return
        wrt = [t for t in fam.params if t.name in fam.set_aside]
        ctx = Context(varying=frozenset(wrt))
        if opt.SET_ASIDE.apply(nll, ctx) == nll:
            return
        rule = opt.SET_ASIDE_AS_MEAN if fam.as_mean else opt.SET_ASIDE
        view = self.transform(
            nll, rule, NLL, fam.set_aside_note, "constant", fam.set_aside, ctx=ctx
        )
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
        g = self.derivative(
            nll,
            theta,
            lhs,
            opt.DERIVATIVE,
            f"differentiate the NLL with respect to {name}, term by term; "
            "constant factors stay outside the sums",
        )
        self.claims.append(
            Claim("gradient", f"∂NLL/∂{name} against jax.grad", g, -objective, (theta.name,))
        )
        return self.rewrite(
            g,
            lg.SUM_LINEARITY,
            lhs,
            f"split the sums so that {name} stands outside them (∑ of a constant c is n·c)",
        )

    def solve(self, grads: dict[sp.Symbol, sp.Expr]) -> dict[sp.Symbol, sp.Expr]:
        """Each ∂NLL/∂θ = 0 solved for θ, then the solutions substituted into one another."""
        fam = self.fam
        partial = self.partial
        for theta in fam.params:
            name = self.show(theta)
            others = [self.show(t) for t in fam.params if t != theta]
            fixed = f" for fixed {', '.join(others)}" if others else ""
            rule, note = fam.solvers.get(theta.name, (opt.STATIONARY, ""))

            def solved(sol: sp.Basic, theta=theta, name=name, fixed=fixed) -> str:
                note = f"set ∂NLL/∂{name} = 0 and solve for {name}{fixed}"
                if not any(sol.has(t) for t in fam.params):
                    note += ": " + fam.estimators.get(theta.name, "")
                return note

            partial[theta] = self.solve_for(grads[theta], theta, hat(theta), rule, note or solved)
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
                at = ", ".join(f"{self.show(o)} = {hat_name(fam, o)}" for o in deps)
                closed[theta] = self.solve_for(
                    before,
                    theta,
                    hat(theta),
                    opt.JOINT,
                    f"the estimates make every derivative vanish together: at {at}, "
                    + fam.estimators.get(theta.name, ""),
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
                    f"∂²NLL/∂{squared(self.show(a))}"
                    if a == b
                    else f"∂²NLL/∂{self.show(a)}∂{self.show(b)}"
                )
                h = self.derivative(
                    grads[a],
                    b,
                    lhs,
                    opt.SECOND_ORDER,
                    f"{what}: differentiate ∂NLL/∂{self.show(a)} with respect to {self.show(b)}"
                    " (for the second-order check)",
                )
                claim = Claim("gradient", f"{what} against jax.grad", h, grads[a], (b.name,))
                self.claims.append(claim)
                self.second_claims.append(claim)
                hess[(a, b)] = h
        return hess
