"""Models with matrix parameters: the matrix engine differentiates. Their data symbols and
the collector of their steps, which hands each gradient and Hessian to the engine."""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

import derive.distributions as distributions
from derive.likelihood.steps import Recording
from derive.likelihood.symbols import ELL, NLL
from derive.model import Context, Given, Rule, Step
from derive.rules import optimum as opt
from derive.rules import probability as pr

D = sp.Symbol("d", integer=True, positive=True)
X_DATA = sp.MatrixSymbol("X", pr.n, D)
Y_DATA = sp.MatrixSymbol("y", pr.n, 1)
W = sp.MatrixSymbol("w", D, 1)


class Steps(Recording):
    """The steps and claims of a matrix-model derivation, in order."""

    def __init__(self, assume: dict[str, tuple[str, ...]]) -> None:
        super().__init__(Context(assume={k: frozenset(v) for k, v in assume.items()}))
        self.assume = assume

    def engine(self, f: sp.Expr, wrt: str, lhs: sp.Symbol, *, hessian: bool = False):
        """∂f/∂wrt (and the Hessian) by the matrix engine, its steps relabelled f → lhs.

        Returns (gradient, Hessian or None, the gradient's steps, the Hessian's steps); the
        caller includes the steps where they belong in its derivation.
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
        # the Hessian's own steps follow the gradient it differentiates, which keeps the
        # constraints of the varying symbol out (so it may differ from `grad` in its last steps)
        unconstrained = gradient_derivation(p, at_point=False)
        hess = hessian_derivation(p, unconstrained)
        h_steps = [own(s) for s in hess.steps[len(unconstrained.steps) :]]
        return grad.result, hess.results[0][1], g_steps, h_steps

    def set_aside(self, lhs, nll: sp.Expr, wrt: tuple[sp.Basic, ...], note: str) -> sp.Expr:
        names = tuple(str(v) for v in wrt)
        ctx = Context(varying=frozenset(wrt))
        return self.transform(nll, opt.SET_ASIDE, lhs, note, "constant", names, ctx=ctx)


def model_given(*entries: tuple[str, tuple, tuple[str, ...], str]) -> tuple[Given, ...]:
    return tuple(Given(name, shape, kinds, role) for name, shape, kinds, role in entries)


def nll_from(b: Steps, density: distributions.DensityOf, loglik_rule: Rule, note: str) -> sp.Expr:
    """ℓ = log p(data | θ) written out by the model's rule, then NLL = −ℓ."""
    ell = b.rewrite(
        sp.log(density, evaluate=False),
        (loglik_rule,),
        ELL,
        "the log-likelihood is the log of the density of the data; the observations are "
        "independent, so it is a sum over i = 1, …, n, written here with matrices",
    )
    neg = sp.Mul(-1, ell, evaluate=False)
    return b.transform(neg, opt.NLL, NLL, note, ctx=Context())
