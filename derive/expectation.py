"""Expectations in the engine: taking E[·] of a polynomial in x, and the Fisher information.

Each move is a rule of the rulebook recorded by `derive.record.Recorder`, with the relation
the checker verifies it by ("pointwise" while an integrand is rewritten, "monte-carlo" where
an expectation is taken). Evaluating expectations numerically is the checker's business
(`derive.integrate`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy as sp

from derive.distributions import Bernoulli, Distribution, Expectation
from derive.expr import GradientOf, HessianOf, ScalarDifferential, ScalarDifferentialSymbol
from derive.model import Claim, Rule, Step
from derive.record import Recorder
from derive.rules import expectation as ex
from derive.rules import loglik as lg
from derive.rules import optimum as opt

# --- the Fisher information ------------------------------------------------------------------


def _expectation_steps(r: Recorder, e: sp.Basic, lhs: sp.Basic, note: str) -> sp.Basic:
    """Take E[polynomial in x] over the family: expand, (x^k = x), linearity, moments, tidy."""
    e = r.rewrite(e, ex.EXPAND, lhs, note + ": expand the integrand in powers of the centred x")
    dist = next(iter(e.atoms(Expectation))).dist
    if isinstance(dist, Bernoulli):
        e = r.rewrite(e, ex.BINARY_POWER, lhs, "x ∈ {0, 1}, so every power of x is x")
    e = r.rewrite(e, ex.LINEARITY, lhs, "take the expectation term by term")
    if isinstance(dist, Bernoulli):
        e = r.rewrite(e, ex.BERNOULLI_MEAN, lhs, "E[x] = p", "monte-carlo")
    else:
        e = r.rewrite(
            e,
            ex.GAUSSIAN_MOMENTS,
            lhs,
            "the central moments of x ∼ 𝒩(μ, σ²): 0, σ², 0, 3σ⁴",
            "monte-carlo",
        )
    if ex.simplify_scalar(e) is not None:
        e = r.transform(e, ex.SIMPLIFY, lhs, "simplify")
    return e


def fisher_information(
    density: sp.Basic,
    x: sp.Symbol,
    dist: Distribution,
    params: Sequence[sp.Symbol],
    density_rule: Rule,
    shown: Mapping[str, str],
) -> tuple[list[Step], sp.Basic, sp.Basic, list]:
    """The Fisher information of one observation x ∼ p(x | θ), derived twice.

    Returns (steps, I as E[s sᵀ], I as −E[∂²ℓ/∂θ∂θᵀ], claims), I as a matrix with entry
    (a, b) for the parameters θ_a, θ_b (labelled I_ab in the steps): ℓ = log p(x | θ) written out
    by `density_rule` and the log rules; each score s_a = ∂ℓ/∂θ_a and second derivative by
    the scalar-derivative rule; each entry E[s_a s_b] and −E[∂²ℓ/∂θ_a∂θ_b] by expansion,
    linearity and the family's moments.
    The claims compare E[(dℓ)²] and −E[d(dℓ)], dℓ the JVP of ℓ in a random direction dθ, with
    dθᵀ I dθ: JAX's derivatives of the log density, independent of the steps.
    """
    ell = sp.Symbol("ell")
    r = Recorder()
    log_density = sp.log(density, evaluate=False)
    e = r.rewrite(log_density, density_rule, ell, "the log-likelihood of one observation x")
    e = r.rewrite_in_turn(e, lg.LOG_RULES, ell, lg.LOG_NOTES)
    ell_x = e

    def name(t: sp.Symbol) -> str:
        return shown.get(t.name, t.name)

    scores = {
        a: r.derivative(
            ell_x,
            a,
            GradientOf(ell, a),
            opt.DERIVATIVE,
            f"the score for {name(a)}: differentiate ℓ with respect to {name(a)}",
        )
        for a in params
    }
    second = {}
    for k, a in enumerate(params):
        for b in params[k:]:
            lhs = HessianOf(ell, a) if a == b else GradientOf(GradientOf(ell, a), b)
            second[(a, b)] = r.derivative(
                scores[a],
                b,
                lhs,
                opt.DERIVATIVE,
                f"differentiate the score for {name(a)} with respect to {name(b)}",
            )

    size = len(params)
    by_score, by_hessian = sp.zeros(size, size), sp.zeros(size, size)
    for k, a in enumerate(params):
        for q in range(k, size):
            b = params[q]
            entry = f"I[{name(a)}, {name(b)}]" if size > 1 else "I"
            lhs = sp.Symbol(f"I_{k + 1}{q + 1}") if size > 1 else sp.Symbol("I")
            start = Expectation(scores[a] * scores[b], x, dist)
            v = _expectation_steps(
                r, start, lhs, f"{entry} as the variance of the score, E[s_{name(a)} s_{name(b)}]"
            )
            by_score[k, q] = by_score[q, k] = v
            start = -Expectation(second[(a, b)], x, dist)
            v = _expectation_steps(
                r, start, lhs, f"{entry} as the negative expected second derivative of ℓ"
            )
            by_hessian[k, q] = by_hessian[q, k] = v

    d_theta = [ScalarDifferentialSymbol(t) for t in params]
    claims = []
    dl = ScalarDifferential(log_density)
    for label, function, matrix in (
        ("E[(dℓ)²] = dθᵀ I dθ", Expectation(dl**2, x, dist), by_score),
        ("−E[d(dℓ)] = dθᵀ I dθ", -Expectation(ScalarDifferential(dl), x, dist), by_hessian),
    ):
        quad = sp.Add(
            *[matrix[k, q] * d_theta[k] * d_theta[q] for k in range(size) for q in range(size)]
        )
        claims.append(
            Claim(
                "expectation",
                f"{label}, dℓ by jax.jvp of the log density, dθ random",
                quad,
                function,
                tuple(t.name for t in params),
            )
        )
    return r.steps, sp.ImmutableMatrix(by_score), sp.ImmutableMatrix(by_hessian), claims


def entries(info: sp.Basic) -> tuple[tuple[sp.Symbol, sp.Basic], ...]:
    """The result equations I_ab = value, a ≤ b, of a Fisher information matrix (I for 1×1)."""
    if info.shape == (1, 1):
        return ((sp.Symbol("I"), info[0, 0]),)
    n = info.shape[0]
    return tuple(
        (sp.Symbol(f"I_{a + 1}{b + 1}"), info[a, b]) for a in range(n) for b in range(a, n)
    )
