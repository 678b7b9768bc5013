"""Cancelling an entry against its reciprocal, and a function against its inverse.

    σ(u)∘⁻¹ ∘ σ(u) ∘ (𝟏 − σ(u))  →  𝟏 − σ(u)        (σ is positive)
    log(exp(u))                  →  u
    (y ∘ p∘⁻¹)ᵀ p                →  𝟏ᵀ(y ∘ p∘⁻¹ ∘ p)  →  𝟏ᵀy   (p = softmax(z) is positive)

Only where no entry can be zero, by assumption (positive, nonzero) or by construction (exp,
σ, softmax, sums and products of positives: `derive.rules.signs`). Where a zero is possible,
x ∘ x∘⁻¹ is left as it is: it is undefined where x has a zero entry, 𝟏 is not.
`keeps_domain` is the same condition for the rules of the scalar view (`entrywise.simplify`,
`sigmoid`): no rewrite may define an expression where it was undefined.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.expr import elementwise, is_matrix, sigmoid
from derive.model import Context, Rewrite, RuleExample
from derive.rules.entries import Entries, coefficient, to_scalar
from derive.rules.registry import register
from derive.rules.signs import Sign, entries_sign, entry_sign
from derive.rules.transpose import tp

n = sp.Symbol("n", integer=True, positive=True)
_T = sp.Symbol("t", real=True)


def _v(name: str) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(name, n, 1)


# --- u ∘ u∘⁻¹ = 𝟏 ----------------------------------------------------------------------


def _same_variable(e: sp.Basic) -> sp.Basic:
    """e with every elementwise function written in the variable t, so that f∘ written with
    two variable names compares equal (SymPy's Lambda does not)."""
    if isinstance(e, ElementwiseApplyFunction):
        (var,) = e.function.variables
        body = e.function.expr.xreplace({var: _T})
        return ElementwiseApplyFunction(sp.Lambda(_T, body), _same_variable(e.expr))
    if not e.args or isinstance(e, (sp.MatrixSymbol, sp.Symbol)):
        return e
    return e.func(*[_same_variable(a) for a in e.args])


def _as_power(f: sp.Basic) -> tuple[sp.Basic, sp.Expr]:
    """A Hadamard factor as (base, k) with f = base∘ᵏ: u∘ᵏ, or g∘(u) for g(t) = h(t)ᵏ
    (1/σ(t) gives (σ∘(u), −1)); (f, 1) otherwise."""
    if isinstance(f, sp.HadamardPower) and f.exp.is_number:
        return f.base, f.exp
    if isinstance(f, ElementwiseApplyFunction):
        (var,) = f.function.variables
        body = f.function.expr
        if isinstance(body, sp.Pow) and body.exp.is_number:
            if body.base == var:
                return f.expr, body.exp
            if not (body.exp.free_symbols) and body.base.has(var):
                return elementwise(sp.Lambda(var, body.base), f.expr), body.exp
    return f, sp.S.One


def _power(base: sp.Basic, k: sp.Expr) -> sp.Basic | None:
    if k == 0:
        return None
    return base if k == 1 else sp.HadamardPower(base, k)


def _cancel_hadamard(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """u∘ʲ ∘ u∘ᵏ = u∘⁽ʲ⁺ᵏ⁾ for factors of one base u with exponents of opposite signs (u ∘ u∘⁻¹
    = 𝟏), where u has no zero entry; other factors kept in their places."""
    if not isinstance(node, sp.HadamardProduct):
        return None
    factors = list(node.args)
    powers = [_as_power(f) for f in factors]
    keys = [_same_variable(b) for b, _ in powers]
    for i, key in enumerate(keys):
        same = [j for j, other in enumerate(keys) if other == key]
        exps = [powers[j][1] for j in same]
        if not (any(k < 0 for k in exps) and any(k > 0 for k in exps)):
            continue
        integer = all(k.is_integer for k in exps)
        sign = entry_sign(powers[i][0], ctx)
        if sign is Sign.UNKNOWN or (not integer and sign is not Sign.POSITIVE):
            continue  # u^½ ∘ u⁻¹ = u^−½ only for a positive u
        merged = _power(powers[i][0], sp.Add(*exps))
        kept = [f for j, f in enumerate(factors) if j not in same[1:]]
        at = kept.index(factors[same[0]])
        kept[at : at + 1] = [] if merged is None else [merged]
        if not kept:
            return sp.OneMatrix(*node.shape)
        return kept[0] if len(kept) == 1 else sp.HadamardProduct(*kept)
    return None


CANCEL = register(
    Rewrite(
        id="entrywise.cancel",
        name="Cancel an entry against its reciprocal",
        source=(
            "elementary: u_i · u_i^{-1} = 1 where u_i ≠ 0; σ, softmax and exp are positive, "
            "so they never vanish"
        ),
        statement=(
            r"u\circ u^{\circ -1} = \mathbf{1},\quad "
            r"u^{\circ j}\circ u^{\circ k} = u^{\circ(j+k)}"
        ),
        conditions=("no entry of u is zero: u assumed positive or nonzero, or σ, softmax, exp",),
        apply=_cancel_hadamard,
        examples=lambda: [
            RuleExample(
                sp.HadamardProduct(
                    sp.HadamardPower(elementwise(sigmoid, _v("u")), -1),
                    elementwise(sigmoid, _v("u")),
                    sp.MatAdd(sp.OneMatrix(n, 1), sp.MatMul(-1, elementwise(sigmoid, _v("u")))),
                ),
                sp.MatAdd(sp.OneMatrix(n, 1), sp.MatMul(-1, elementwise(sigmoid, _v("u")))),
            ),
            RuleExample(
                sp.HadamardProduct(
                    _v("y"),
                    elementwise(sp.Lambda(_T, 1 / _T), _v("p")),
                    sp.HadamardPower(_v("p"), 2),
                ),
                sp.HadamardProduct(_v("y"), _v("p")),
                assume={"p": ("nonzero",)},
            ),
        ],
    )
)


# --- f(f⁻¹(u)) = u ----------------------------------------------------------------------


def _function_of(e: sp.Basic) -> type | None:
    """The named function f of f∘(u), as log for log∘(u); None for anything else."""
    if isinstance(e, ElementwiseApplyFunction):
        (var,) = e.function.variables
        body = e.function.expr
        if isinstance(body, sp.Function) and body.args == (var,):
            return type(body)
    return None


#: f → f⁻¹, with whether f(f⁻¹(u)) = u needs u > 0 (exp∘log: log is real only there)
_INVERSES: dict[type, tuple[type, bool]] = {
    sp.log: (sp.exp, False),
    sp.exp: (sp.log, True),
    sp.atanh: (sp.tanh, False),
    sp.asinh: (sp.sinh, False),
}


def _inverse_function(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """f∘(f⁻¹∘(u)) = u: log exp(u) = u; exp log(u) = u for u > 0."""
    outer = _function_of(node)
    if outer not in _INVERSES:
        return None
    inverse, needs_positive = _INVERSES[outer]
    inner = node.expr
    if _function_of(inner) is not inverse:
        return None
    u = inner.expr
    if needs_positive and entry_sign(u, ctx) is not Sign.POSITIVE:
        return None
    return u


INVERSE_FUNCTION = register(
    Rewrite(
        id="entrywise.inverse-function",
        name="A function of its inverse",
        source="elementary: f(f⁻¹(t)) = t, entry by entry (log e^{t} = t; e^{log t} = t for t > 0)",
        statement=r"\log(\exp(u)) = u,\quad \exp(\log(u)) = u \;(u > 0)",
        conditions=("exp∘log: every entry of u positive",),
        apply=_inverse_function,
        examples=lambda: [
            RuleExample(
                elementwise(sp.log, elementwise(sp.exp, _v("u"))),
                _v("u"),
            ),
            RuleExample(
                elementwise(sp.exp, elementwise(sp.log, _v("p"))),
                _v("p"),
                assume={"p": ("positive",)},
            ),
        ],
    )
)


# --- uᵀv = 𝟏ᵀ(u ∘ v), where the product cancels ----------------------------------------


def _column(row: sp.Basic) -> sp.Basic:
    """The column vector u of a row vector uᵀ (a Hadamard product of transposes too)."""
    if isinstance(row, sp.HadamardProduct):
        return sp.HadamardProduct(*[tp(a) for a in row.args])
    return tp(row)


def _flat_hadamard(*factors: sp.Basic) -> sp.HadamardProduct:
    flat: list[sp.Basic] = []
    for f in factors:
        flat.extend(f.args if isinstance(f, sp.HadamardProduct) else [f])
    return sp.HadamardProduct(*flat)


def _inner_product(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """uᵀv → 𝟏ᵀ(u ∘ v) for adjacent vectors of a product, where u ∘ v cancels (u = y ∘ p∘⁻¹,
    v = p): the sum of the entries of the entrywise product, written so that it can."""
    if not isinstance(node, sp.MatMul):
        return None
    c, mats = coefficient(node)
    for i in range(len(mats) - 1):
        row, col = mats[i], mats[i + 1]
        if row.shape[0] != 1 or col.shape[1] != 1 or row.shape[1] == 1:
            continue
        if isinstance(row, sp.OneMatrix):
            continue  # 𝟏ᵀ(u ∘ v) already
        if not any(isinstance(a, sp.HadamardProduct) for a in (row, _column(row), col)):
            continue
        product = _flat_hadamard(_column(row), col)
        if _cancel_hadamard(product, ctx) is None:
            continue
        ones = sp.OneMatrix(1, row.shape[1])
        new = [*mats[:i], ones, product, *mats[i + 2 :]]
        return sp.MatMul(*([c] if c != 1 else []), *new)
    return None


INNER_PRODUCT = register(
    Rewrite(
        id="entrywise.inner-product",
        name="An inner product as a sum of entries",
        source="elementary: uᵀv = Σᵢ uᵢvᵢ = 𝟏ᵀ(u ∘ v)",
        statement=r"u^{\top}v = \mathbf{1}^{\top}(u\circ v)",
        apply=_inner_product,
        examples=lambda: [
            RuleExample(
                sp.MatMul(
                    sp.HadamardProduct(
                        sp.Transpose(_v("y")), sp.Transpose(sp.HadamardPower(_v("p"), -1))
                    ),
                    _v("p"),
                ),
                sp.MatMul(
                    sp.OneMatrix(1, n),
                    sp.HadamardProduct(_v("y"), sp.HadamardPower(_v("p"), -1), _v("p")),
                ),
                assume={"p": ("positive",)},
            )
        ],
    )
)


# --- the condition of the scalar algebra --------------------------------------------------


def _restricted(s: sp.Expr) -> tuple[list[sp.Expr], list[sp.Expr]]:
    """(divisors, positives) of the scalar s as written: the bases of its negative powers, and
    the arguments of its logs and the bases of its fractional powers."""
    divs, pos = [], []
    for a in sp.preorder_traversal(s):
        if isinstance(a, sp.Pow) and a.exp.is_number:
            if a.exp.is_negative:
                divs.append(a.base)
            if not a.exp.is_integer:
                pos.append(a.base)
        elif isinstance(a, sp.log):
            pos.append(a.args[0])
    return divs, pos


def restrictions(e: sp.Basic, entries: Entries) -> tuple[list[sp.Expr], list[sp.Expr]]:
    """Where the entrywise expression e, as written, is defined, as (divisors, positives): the
    entry expressions it divides by, and those it takes the log or a fractional power of."""
    if not is_matrix(e):
        return _restricted(entries.opaque(e))
    parts: list[tuple[list, list]] = []
    if isinstance(e, sp.HadamardPower):
        here, k = to_scalar(e.base, entries), e.exp
        negative, fractional = k.is_number and k.is_negative, k.is_number and not k.is_integer
        parts.append(([here] if negative else [], [here] if fractional else []))
        parts.append(restrictions(e.base, entries))
    elif isinstance(e, ElementwiseApplyFunction):
        parts.append(_restricted(e.function(to_scalar(e.expr, entries))))
        parts.append(restrictions(e.expr, entries))
    elif isinstance(e, (sp.MatAdd, sp.HadamardProduct)):
        parts.extend(restrictions(a, entries) for a in e.args)
    elif isinstance(e, sp.MatMul):
        c, mats = coefficient(e)
        parts.append(restrictions(c, entries))
        if len(mats) == 1:
            parts.append(restrictions(mats[0], entries))
    return [d for p in parts for d in p[0]], [q for p in parts for q in p[1]]


def _divides(denominator: sp.Expr, d: sp.Expr) -> bool:
    try:
        left = sp.fraction(sp.cancel(denominator / d))[1]
    except (sp.PolynomialError, TypeError, ValueError):
        return False
    return not (left.free_symbols & d.free_symbols)


def keeps_domain(node: sp.Basic, new: sp.Expr, entries: Entries, ctx: Context) -> bool:
    """Whether the entry expression `new` is undefined wherever `node` is: each divisor of
    node that may vanish (`entries_sign`) still divides the denominator of new, and each
    argument of a log (or a fractional power) that may not be positive is still one. So
    x ∘ x∘⁻¹ is not made 𝟏 for an x that may have a zero entry, nor exp(log x) made x for an x
    that may be negative; y∘x∘⁻¹ − y = y∘(𝟏 − x)∘x∘⁻¹ is allowed."""
    divs, pos = restrictions(node, entries)
    try:
        denominator = sp.fraction(sp.together(new))[1]
    except (sp.PolynomialError, TypeError, ValueError):
        return False
    for d in divs:
        if entries_sign(d, entries, ctx) is Sign.UNKNOWN and not _divides(denominator, d):
            return False
    kept = _restricted(new)[1]
    for q in pos:
        if entries_sign(q, entries, ctx) is not Sign.POSITIVE and q not in kept:
            return False
    return True


def _left_to_own_step(node: sp.Basic, ctx: Context) -> bool:
    """Whether a cancellation of this module applies inside node: its own, clearer, step."""
    return any(
        rule.apply(a, ctx) is not None
        for a in sp.preorder_traversal(node)
        if isinstance(a, (sp.HadamardProduct, sp.MatMul, ElementwiseApplyFunction))
        for rule in (CANCEL, INNER_PRODUCT, INVERSE_FUNCTION)
    )


def may_rewrite(node: sp.Basic, new: sp.Expr, entries: Entries, ctx: Context) -> bool:
    """Whether a rule of the scalar view may replace `node` by the entry expression `new`:
    SymPy cancels u/u and exp(log u) on its own, so the view must not stand for a cancellation
    that is not allowed (`keeps_domain`), and one that is allowed is left to this module's
    rules, each its own step."""
    return not _left_to_own_step(node, ctx) and keeps_domain(node, new, entries, ctx)
