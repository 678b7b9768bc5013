"""The second-order check of the scalar families: the Hessian of the NLL at the estimates,
whether it is positive definite, and the remark that says so in Unicode."""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.str import StrPrinter

import derive.families as fm
from derive.likelihood.symbols import hat, hat_name, squared
from derive.rules import optimum as opt


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


def second_order_remark(fam: fm.Family, h: sp.Matrix) -> str:
    """The Hessian of the NLL at the estimates, in words, and whether it is a minimum."""
    uni = _UnicodePrinter(fam).doprint
    shown = ", ".join(fam.show(t.name) for t in fam.smooth)
    hatted = ", ".join(hat_name(fam, t) for t in fam.smooth)
    h = h.applyfunc(_readable)
    pd = _positive_definite(fam, h)
    if h.shape == (1, 1):
        text = f"at {hatted}, ∂²NLL/∂{squared(shown)} = {uni(h[0, 0])}"
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
