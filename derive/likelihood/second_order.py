"""The second-order check of the scalar families: the Hessian of the NLL at the estimates,
whether it is positive definite, the remark that says so in Unicode, and the claim that
checks the remark."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import sympy as sp
from sympy.printing.str import StrPrinter

import derive.families as fm
from derive.likelihood.side_claims import agreement, at_point, definiteness
from derive.likelihood.symbols import hat, hat_name, squared
from derive.model import Claim, Remark
from derive.rules import optimum as opt

if TYPE_CHECKING:  # numpy is imported only when a check runs
    import numpy as np


def hessian_at_estimates(
    fam: fm.Family, hess: dict, partial: dict[sp.Symbol, sp.Expr]
) -> sp.Matrix:
    """The Hessian of the NLL at the estimates, written with the estimator symbols θ̂.

    `partial` holds each θ̂ as solved from its own equation (θ̂ = g(data, other θ)). At the
    estimates, every θ is θ̂; a sum over the data that some θ̂ is a function of is written
    back through θ̂ (∑xᵢ = n μ̂, ∑(xᵢ − μ̂)² = n σ̂²). Sums are held as symbols meanwhile.
    """
    to_hat = {t: hat(t) for t in fam.params}
    held: dict[sp.Sum, sp.Dummy] = {}

    def hold(e: sp.Expr) -> sp.Expr:
        out, back = opt.hold_sums(e.xreplace(to_hat))
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


def _positive_definite(fam: fm.Family, h: sp.Matrix) -> bool:
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

    def __init__(self, fam: fm.Family) -> None:
        super().__init__()
        self.fam = fam

    def _name(self, name: str) -> str:
        for theta in self.fam.params:
            if name == theta.name:
                return self.fam.show(name)
            if name == hat(theta).name:
                return hat_name(self.fam, theta)
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


def unicode(fam: fm.Family, e: sp.Expr) -> str:
    """e in one line of Unicode, in the family's names (σ̂⁴, 2σ̂², (n − 1)σ²/n)."""
    return _UnicodePrinter(fam).doprint(e)


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


def _shown(fam: fm.Family, h: sp.Matrix) -> str:
    """The Hessian at the estimates in Unicode: one entry, diag(…), or the matrix."""
    if h.shape == (1, 1):
        return unicode(fam, h[0, 0])
    if h.is_diagonal():
        return f"diag({', '.join(unicode(fam, h[k, k]) for k in range(h.shape[0]))})"
    return unicode(fam, h)


def _claim(
    fam: fm.Family, h: sp.Matrix, hess: dict, estimates: dict, pd: bool, nll: sp.Expr
) -> Claim:
    """The Hessian the remark prints, at the estimates of a random sample, against the
    derived second derivatives (each checked against jax.grad by its own claim) evaluated
    there, entry by entry; and, when the remark says so, positive definite there
    (``numpy.linalg.eigvalsh``)."""
    params = fam.smooth
    hatted = ", ".join(hat_name(fam, t) for t in params)
    hatted = f"({hatted})" if len(params) > 1 else hatted
    # the remark's entries in the data (θ̂ → its estimate), and the point θ = θ̂
    stated = sp.ImmutableMatrix(h).xreplace({hat(t): estimates[t] for t in fam.params})
    at = tuple((t.name, estimates[t]) for t in fam.params)
    index = {t: k for k, t in enumerate(params)}

    def reference(values: dict, value) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np  # only when checking

        moved = at_point(values, value, at)
        size = len(params)
        got, want = np.zeros((size, size)), np.zeros((size, size))
        for (a, b), entry in hess.items():
            ia, ib = index[a], index[b]
            s = stated[ia, ib]
            got[ia, ib] = got[ib, ia] = 0.0 if s == 0 else float(value(s, values))
            want[ia, ib] = want[ib, ia] = float(value(entry, moved))
        terms = float(np.abs(want).max())  # an entry that vanishes is judged against these
        pairs = [
            (got[a, b], want[a, b], terms if stated[a, b] == 0 else 0.0)
            for a in range(size)
            for b in range(a, size)
        ]
        derived, expected = agreement(*pairs)
        if pd:
            derived = np.append(derived, definiteness(got, strict=True))
            expected = np.append(expected, 1.0)
        return derived, expected

    return Claim(
        "reference",
        f"the Hessian of the NLL at {hatted} is {_shown(fam, h)}"
        + (", positive definite (numpy.linalg.eigvalsh)" if pd else ""),
        stated,
        nll,
        tuple(t.name for t in params),
        at=at,
        method="numpy.linalg.eigvalsh" if pd else "the second derivatives at the estimates",
        reference=reference,
    )


def second_order(
    fam: fm.Family,
    hess: dict,
    partial: dict[sp.Symbol, sp.Expr],
    estimates: dict[sp.Symbol, sp.Expr],
    entry_claims: Sequence[Claim],
    nll: sp.Expr,
) -> tuple[Claim, Remark]:
    """The second-order check's remark (the Hessian of the NLL at the estimates, in words,
    and whether the stationary point is a minimum), and the claim that checks it. The
    remark is checked by that claim and by `entry_claims`, which check each second
    derivative against jax.grad. `nll` is the function whose Hessian it is."""
    shown = ", ".join(fam.show(t.name) for t in fam.smooth)
    hatted = ", ".join(hat_name(fam, t) for t in fam.smooth)
    h = hessian_at_estimates(fam, hess, partial).applyfunc(_readable)
    pd = _positive_definite(fam, h)
    if h.shape == (1, 1):
        text = f"at {hatted}, ∂²NLL/∂{squared(shown)} = {_shown(fam, h)}"
        verdict = " > 0" if pd else ""
    else:
        text = f"at ({hatted}), the Hessian of the NLL in ({shown}) is {_shown(fam, h)}"
        verdict = ", positive definite" if pd else ""
    if pd:
        text = (
            f"second-order check: {text}{verdict}: the stationary point is a minimum of the "
            "NLL, a maximum of the likelihood"
        )
    else:
        text = f"second-order check: {text}; its sign is not settled symbolically"
    claim = _claim(fam, h, hess, estimates, pd, nll)
    return claim, Remark.checked(text, claim, *entry_claims)
