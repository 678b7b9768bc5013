"""Maximum likelihood for the categorical distribution: a constrained problem, solved with
a Lagrange multiplier for the constraint that π sums to 1, and checked on the simplex."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derive.expr import GradientOf, MatScalar, elementwise
from derive.likelihood.matrix import Steps, model_given, nll_from
from derive.likelihood.side_claims import positive_definite
from derive.likelihood.symbols import hat, hat_matrix
from derive.model import Claim, Context, Derivation, Remark
from derive.rules import constrained as cs
from derive.rules import optimum as opt
from derive.rules import probability as pr
from derive.rules import regression as rg
from derive.rules import stationary as st

if TYPE_CHECKING:  # numpy is imported only when a check runs
    import numpy as np

K = sp.Symbol("K", integer=True, positive=True)


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


def categorical() -> Derivation:
    Y, pi, lam = Y_ONEHOT, PI_V, cs.LAMBDA
    b = Steps({"Y": ("onehot",), "pi": ("prob",)})
    density = rg.categorical_density(Y, pi)
    objective = sp.log(density, evaluate=False)
    nll = nll_from(
        b,
        density,
        rg.CATEGORICAL_LOGLIK,
        "maximising the log-likelihood is minimising its negative, the NLL: −∑ᵢ yᵢᵀ log π, "
        "the cross-entropy between each one-hot label yᵢ and the predicted distribution π, "
        "summed over the data (= −∑ₖ nₖ log πₖ with nₖ = (Y𝟏)ₖ the count of class k)",
    )
    constraint = 1 - MatScalar(sp.MatMul(sp.Transpose(rg.ones(K)), pi))
    lag = b.cite(
        cs.LAGRANGE,
        LAGRANGIAN,
        nll,
        cs.lagrangian(nll, constraint, lam),
        "π must be a probability vector: minimise the NLL subject to g(π) = 1 − 𝟏ᵀπ = 0 "
        "(πₖ ≥ 0 will hold at the solution without being imposed). The Lagrangian subtracts "
        "λ·g(π), a multiplier λ times the constraint; where the constraint holds (as for "
        "every π checked here, drawn from the simplex) ℒ equals the NLL, and at the "
        "constrained minimum both ∂ℒ/∂π and ∂ℒ/∂λ = −g(π) vanish",
    )
    g, _, g_steps, _ = b.engine(lag, "pi", LAGRANGIAN)
    b.include(g_steps)
    b.claims.append(Claim("gradient", "∂ℒ/∂π against jax.grad", g, lag, ("pi",)))
    g_lam = b.derivative(
        lag,
        lam,
        GradientOf(LAGRANGIAN, lam),
        opt.DERIVATIVE,
        "differentiate ℒ with respect to the multiplier: ∂ℒ/∂λ = 0 is the constraint 𝟏ᵀπ = 1",
    )
    b.claims.append(Claim("gradient", "∂ℒ/∂λ against jax.grad", g_lam, lag, ("lambda",)))
    times = sp.HadamardProduct(pi, g)
    ctx = Context(assume={k: frozenset(v) for k, v in b.assume.items()})
    cleared = b.transform(
        times,
        rg.CLEAR_DENOMINATORS,
        _EntrywiseTimes(pi, GradientOf(LAGRANGIAN, pi)),
        "∂ℒ/∂πₖ = λ − nₖ/πₖ; multiply the k-th entry by πₖ to clear the denominator: for "
        "πₖ > 0, ∂ℒ/∂πₖ = 0 exactly when λπₖ − nₖ = 0",
        ctx=ctx,
    )
    pi_of_lam = b.solve_for(
        cleared,
        pi,
        pi,
        st.LINEAR_STATIONARY,
        "set ∂ℒ/∂π = 0 and solve for π: λπ = Y𝟏, so πₖ = nₖ/λ, proportional to the counts",
    )
    on_constraint = _scalar_out(g_lam.xreplace({pi: pi_of_lam}))
    lam_sum = b.solve_for(
        on_constraint,
        lam,
        hat(lam),
        opt.JOINT,
        "substitute π = (1/λ)Y𝟏 into ∂ℒ/∂λ = 0, the constraint 𝟏ᵀπ = 1: (1/λ)𝟏ᵀY𝟏 = 1, so "
        "λ̂ = 𝟏ᵀY𝟏 = ∑ₖ nₖ",
    )
    lam_hat = b.transform(
        lam_sum,
        rg.ONEHOT_COLUMNS,
        hat(lam),
        "each column yᵢ of Y is one-hot, so the counts add up to the number of observations",
        ctx=ctx,
    )
    at_lam_hat = cleared.xreplace({lam: lam_hat})
    pi_hat = b.solve_for(
        at_lam_hat,
        pi,
        hat_matrix(pi),
        st.LINEAR_STATIONARY,
        "at λ = λ̂ = n: nπ = Y𝟏, so π̂ = (1/n)Y𝟏, π̂ₖ = nₖ/n, the fraction of the observations "
        "in class k",
    )
    simplex = _simplex_claim(Y, pi, lam, pi_hat, g, objective)
    # the remarks' Hessian diag(nₖ/πₖ²), nₖ = (Y𝟏)ₖ, and the NLL as n times a cross-entropy
    counts = sp.MatMul(Y, rg.ones(pr.n))
    stated = sp.DiagMatrix(sp.HadamardProduct(counts, sp.HadamardPower(pi, -2)))
    hessian = Claim(
        "jacobian",
        "∂²NLL/∂π∂πᵀ = diag(nₖ/πₖ²), the Jacobian of ∂ℒ/∂π against jax.jacobian",
        stated,
        g,
        ("pi",),
    )
    semidefinite = positive_definite(
        "diag(nₖ/πₖ²) is positive semidefinite (numpy.linalg.eigvalsh)",
        stated,
        -objective,
        ("pi",),
        strict=False,
    )
    cross_entropy = -pr.n * MatScalar(sp.MatMul(sp.Transpose(pi_hat), elementwise(sp.log, pi)))
    times_n = Claim(
        "constant",
        "NLL − n·H(π̂, π), H(π̂, π) = −π̂ᵀ log π, does not depend on π",
        cross_entropy,
        -objective,
        ("pi",),
    )
    b.claims += [simplex, hessian, semidefinite, times_n]
    return Derivation(
        title="Maximum likelihood for the categorical distribution",
        goal=(
            "the maximum-likelihood estimate of the class probabilities π (πₖ ≥ 0, ∑ₖ πₖ = 1) "
            "from n independent observations y₁, …, yₙ ~ Categorical(π), one-hot vectors in "
            "ℝᴷ, the columns of the K×n matrix Y"
        ),
        given=model_given(
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
            Remark.checked(
                "second-order check: the NLL −∑ₖ nₖ log πₖ is convex in π (its Hessian "
                "diag(nₖ/πₖ²) is positive semidefinite) and the constraint 𝟏ᵀπ = 1 is linear, "
                "so the stationary point of the Lagrangian is the minimum of the NLL on the "
                "simplex: the maximum of the likelihood",
                hessian,
                semidefinite,
                simplex,
            ),
            Remark.checked(
                "π̂ = (1/n)Y𝟏, π̂ₖ = nₖ/n: the fraction of the observations in class k; the "
                "multiplier is λ̂ = n. A class never observed gets π̂ₖ = 0, on the boundary of "
                "the simplex, where λπₖ = nₖ still holds but ∂ℒ/∂πₖ is not defined",
                simplex,
            ),
            Remark.checked(
                "the NLL is n times the cross-entropy between the empirical class frequencies "
                "π̂ and π, so maximum likelihood here is minimising the cross-entropy loss",
                times_n,
            ),
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
