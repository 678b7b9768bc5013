"""The logistic sigmoid recognised where it is written out, entrywise and in scalars.

    eᵗ/(1 + eᵗ),  1/(1 + e⁻ᵗ)           →  σ(t)
    e⁻ᵗ/(1 + e⁻ᵗ)²                       →  σ(t)(1 − σ(t))       (σ'(t))
    (1 + tanh(t/2))/2                    →  σ(t)
    y ∘ (𝟏 − σ(u)),  y − y ∘ σ(u)        →  y ∘ σ(−u)

Each works on the scalar view of one entry (`derive.rules.entries`): the candidate form is
taken only when it is strictly smaller, so passes settle.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import sympy as sp

from derive.expr import MatScalar, elementwise, is_matrix, sigmoid
from derive.model import Context, Rewrite, RuleExample
from derive.rules.cancel import may_rewrite
from derive.rules.entries import (
    ENTRYWISE_NODES,
    Entries,
    coefficient,
    cost,
    entry_view,
    from_scalar,
    scalar_view,
    simplest,
    to_scalar,
)
from derive.rules.registry import register
from derive.rules.signs import sign_context, sign_key

m, n = sp.symbols("m n", integer=True, positive=True)
_T = sp.Symbol("t", real=True)


def _view(node: sp.Basic) -> tuple[sp.Expr, Entries] | None:
    """The entry expression of an entrywise matrix node (c·F for an entrywise F too), or a
    scalar node with the scalars of matrices in it as symbols."""
    if not is_matrix(node):
        return scalar_view(node)
    if isinstance(node, sp.MatMul):
        c, mats = coefficient(node)
        if c == 1 or len(mats) != 1 or not isinstance(mats[0], ENTRYWISE_NODES):
            return None
        entries = Entries(node.shape)
        return to_scalar(node, entries), entries
    return entry_view(node)


def _with_coefficient(
    node: sp.Basic, attempt: Callable[[sp.Basic], sp.Basic | None]
) -> sp.Basic | None:
    """c·A·F·B with `attempt` made on c·F, the scalar c taken into the entrywise factor F:
    ¼Xᵀ(𝟏 − tanh(½Xw)∘²) → Xᵀ(σ(Xw) ∘ (𝟏 − σ(Xw)))."""
    if not isinstance(node, sp.MatMul):
        return None
    c, mats = coefficient(node)
    if c == 1 or len(mats) < 2:
        return None
    for i, f in enumerate(mats):
        if isinstance(f, ENTRYWISE_NODES):
            if attempt(f) is not None:
                return None  # F alone is rewritten, where it stands
            new = attempt(sp.MatMul(c, f))
            if new is not None:
                return sp.MatMul(*mats[:i], new, *mats[i + 1 :])
    return None


def _back(node: sp.Basic, new: sp.Expr, entries: Entries) -> sp.Basic | None:
    """`new` written back in the form of `node`: Hadamard notation, or a scalar."""
    if is_matrix(node):
        return from_scalar(new, entries)
    return entries.restore(new)


def _guarded(
    node: sp.Basic, new: sp.Expr | None, entries: Entries, signs: frozenset
) -> sp.Basic | None:
    """`new` written back, unless it stands for a cancellation `cancel` does not allow or
    leaves to its own step (`cancel.may_rewrite`)."""
    if new is None:
        return None
    back = _back(node, new, entries)
    if back is None or back == node:
        return None
    return back if may_rewrite(node, new, entries, sign_context(signs)) else None


# --- eᵗ/(1 + eᵗ) = σ(t) ----------------------------------------------------------------------


def _as_sigmoids(e: sp.exp) -> sp.Expr:
    """e^{ku} = (σ(u)/(1 − σ(u)))ᵏ for an integer k (e^{−t} = (1 − σ(t))/σ(t), e^{2t} one
    power of e^{t}); e^{u} with the sign of u read off: σ(−u) = 1 − σ(u)."""
    k, u = e.args[0].as_coeff_Mul()
    if not (k.is_Integer and k != 0):
        k, u = sp.S.One, e.args[0]
    sig = 1 - sigmoid(-u) if u.could_extract_minus_sign() else sigmoid(u)
    return (sig / (1 - sig)) ** k


def with_sigmoid(s: sp.Expr) -> sp.Expr | None:
    """s with e^{u} = σ(u)/(1 − σ(u)) substituted and simplified, when that is smaller."""
    exps = list(s.atoms(sp.exp))
    if not exps:
        return None
    new = simplest(s.xreplace({e: _as_sigmoids(e) for e in exps}), factored_first=True)
    if new.has(sp.exp) or cost(new) >= cost(s):
        return None
    return new


def _recognise_sigmoid(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    signs = sign_key(ctx)
    return _with_sigmoid_node(node, signs) or _with_coefficient(
        node, lambda g: _with_sigmoid_node(g, signs)
    )


@functools.lru_cache(maxsize=4096)
def _with_sigmoid_node(node: sp.Basic, signs: frozenset) -> sp.Basic | None:
    if isinstance(node, MatScalar) or not node.has(sp.exp):
        return None
    view = _view(node)
    if view is None:
        return None
    s, entries = view
    return _guarded(node, with_sigmoid(s), entries, signs)


def _v(name: str, rows: sp.Expr = m) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(name, rows, 1)


def _wx() -> MatScalar:
    return MatScalar(sp.MatMul(sp.Transpose(_v("w", n)), _v("x", n)))


def _ones_plus(e: sp.Basic) -> sp.MatAdd:
    return sp.MatAdd(sp.OneMatrix(m, 1), e)


SIGMOID = register(
    Rewrite(
        id="entrywise.sigmoid",
        name="Recognise the logistic sigmoid",
        source=(
            "definition of the logistic sigmoid: σ(t) = 1/(1 + e^{−t}) = e^{t}/(1 + e^{t}), "
            "so e^{t} = σ(t)/(1 − σ(t)) and σ(−t) = 1 − σ(t)"
        ),
        statement=(
            r"\frac{e^{t}}{1 + e^{t}} = \sigma(t),\quad \frac{1}{1 + e^{t}} = 1 - \sigma(t),"
            r"\quad e^{t} = \frac{\sigma(t)}{1 - \sigma(t)}"
        ),
        apply=_recognise_sigmoid,
        examples=lambda: [
            RuleExample(
                sp.HadamardProduct(
                    sp.HadamardPower(_ones_plus(elementwise(sp.exp, _v("z"))), -1),
                    elementwise(sp.exp, _v("z")),
                ),
                elementwise(sigmoid, _v("z")),
            ),
            RuleExample(
                sp.HadamardPower(_ones_plus(elementwise(sp.exp, sp.MatMul(-1, _v("z")))), -1),
                elementwise(sigmoid, _v("z")),
            ),
            RuleExample(  # σ'(t) = e^{−t}/(1 + e^{−t})² = σ(t)(1 − σ(t)), t a scalar wᵀx
                sp.exp(-_wx()) / (1 + sp.exp(-_wx())) ** 2,
                sigmoid(_wx()) * (1 - sigmoid(_wx())),
            ),
            RuleExample(sp.exp(_wx()) / (1 + sp.exp(_wx())), sigmoid(_wx())),
        ],
    )
)


# --- (1 + tanh(t/2))/2 = σ(t) ------------------------------------------------------------------


def _with_tanh_as_sigmoid(s: sp.Expr) -> sp.Expr | None:
    """s with tanh(u) = 2σ(2u) − 1 substituted and simplified, when no tanh is left."""
    tanhs = list(s.atoms(sp.tanh))
    if not tanhs:
        return None
    new = simplest(
        s.xreplace({t: 2 * sigmoid(2 * t.args[0]) - 1 for t in tanhs}), factored_first=True
    )
    return None if new.has(sp.tanh) else new


def _tanh_sigmoid(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    signs = sign_key(ctx)
    return _tanh_node(node, signs) or _with_coefficient(node, lambda g: _tanh_node(g, signs))


@functools.lru_cache(maxsize=4096)
def _tanh_node(node: sp.Basic, signs: frozenset) -> sp.Basic | None:
    if isinstance(node, MatScalar) or not node.has(sp.tanh):
        return None
    view = _view(node)
    if view is None:
        return None
    s, entries = view
    new = _with_tanh_as_sigmoid(s)
    if new is None or cost(new) >= cost(s):
        return None
    return _guarded(node, new, entries, signs)


TANH = register(
    Rewrite(
        id="sigmoid.tanh",
        name="The sigmoid as a shifted tanh",
        source=(
            "elementary: tanh(t/2) = (1 − e^{−t})/(1 + e^{−t}) = 2σ(t) − 1, so "
            "σ(t) = (1 + tanh(t/2))/2"
        ),
        statement=r"\frac{1 + \tanh(t/2)}{2} = \sigma(t),\quad \tanh(t) = 2\sigma(2t) - 1",
        apply=_tanh_sigmoid,
        examples=lambda: [
            RuleExample(
                sp.MatMul(
                    sp.Rational(1, 2),
                    _ones_plus(elementwise(sp.tanh, sp.MatMul(sp.Rational(1, 2), _v("z")))),
                ),
                elementwise(sigmoid, _v("z")),
            ),
            RuleExample(
                (1 - sp.tanh(_wx() / 2) ** 2) / 4,
                sigmoid(_wx()) * (1 - sigmoid(_wx())),
            ),
        ],
    )
)


# --- 1 − σ(u) = σ(−u) --------------------------------------------------------------------------


def _sums(s: sp.Expr) -> int:
    return sum(1 for a in sp.preorder_traversal(s) if isinstance(a, sp.Add))


def _both_signs(s: sp.Expr) -> bool:
    """Whether s has σ(u) and σ(−u) for one u: σ(u)(1 − σ(u)) is the form kept for σ'."""
    args = {a.args[0] for a in s.atoms(sigmoid)}
    return any(-u in args for u in args)


def _bare(s: sp.Expr) -> bool:
    """Whether s is a number plus a multiple of σ(u), as 1 − σ(u): it is reflected only by the
    product it is a factor of, which sees whether σ(u) stands beside it (σ(u)(1 − σ(u)))."""
    if not isinstance(s, sp.Add) or len(s.atoms(sigmoid)) != 1:
        return False
    return all(t.is_number or isinstance(t.as_coeff_Mul()[1], sigmoid) for t in s.args)


def _negated(s: sp.Expr) -> int:
    return sum(1 for a in s.atoms(sigmoid) if a.args[0].could_extract_minus_sign())


def _unsigned_cost(s: sp.Expr) -> int:
    """The operations of s, a minus sign not counted: −y σ(−u) is no longer than yσ(u) − y."""
    ops = sp.count_ops(s, visual=True)
    return int(ops.subs({sp.Symbol("NEG"): 0}).subs({o: 1 for o in ops.free_symbols}))


def _measure(s: sp.Expr) -> tuple[int, int]:
    """Sums first, then sigmoids of a negated argument: each reflection taken lowers it."""
    return _sums(s), _negated(s)


def _reflected(s: sp.Expr) -> sp.Expr | None:
    """s with one σ(u) written 1 − σ(−u), where that lowers `_measure` and leaves no σ(u)
    beside a σ(−u): y ∘ (𝟏 − σ(u)) → y ∘ σ(−u), y − y ∘ σ(u) → y ∘ σ(−u), and
    σ(−u)(1 − σ(−u)) → σ(u)(1 − σ(u))."""
    if _both_signs(s):
        return None
    for sig in sorted(s.atoms(sigmoid), key=sp.default_sort_key):
        new = simplest(s.xreplace({sig: 1 - sigmoid(-sig.args[0])}), factored_first=True)
        if (
            _measure(new) < _measure(s)
            and not _both_signs(new)
            and _unsigned_cost(new) <= _unsigned_cost(s)
        ):
            return new
    return None


def _reflect(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    return _reflect_node(node, sign_key(ctx))


def _reflect_part(part: sp.Basic, others: list[sp.Basic]) -> sp.Basic | None:
    """A bare factor 1 − σ(u) of a product reflected, when no other factor has σ(u)."""
    view = _view(part)
    if view is None or not _bare(view[0]):
        return None
    s, entries = view
    (sig,) = s.atoms(sigmoid)
    written = _back(part, sig, entries)
    if written is None or any(o.has(written) for o in others):
        return None
    return _back(part, simplest(s.xreplace({sig: 1 - sigmoid(-sig.args[0])})), entries)


@functools.lru_cache(maxsize=4096)
def _reflect_node(node: sp.Basic, signs: frozenset) -> sp.Basic | None:
    if isinstance(node, MatScalar) or not node.has(sigmoid):
        return None
    if isinstance(node, sp.MatMul):
        c, mats = coefficient(node)
        parts = [c, *mats]
        for i, part in enumerate(parts):
            new = _reflect_part(part, parts[:i] + parts[i + 1 :])
            if new is not None:
                parts[i] = new
                return sp.MatMul(*parts)
        return None
    view = _view(node)
    if view is None or _bare(view[0]):
        return None
    s, entries = view
    return _guarded(node, _reflected(s), entries, signs)


REFLECT = register(
    Rewrite(
        id="sigmoid.reflect",
        name="The sigmoid of the negative",
        source="elementary: σ(−t) = 1/(1 + e^{t}) = 1 − σ(t)",
        statement=r"1 - \sigma(t) = \sigma(-t)",
        apply=_reflect,
        examples=lambda: [
            RuleExample(
                sp.HadamardProduct(
                    _v("y"), _ones_plus(sp.MatMul(-1, elementwise(sigmoid, _v("z"))))
                ),
                sp.HadamardProduct(_v("y"), elementwise(sigmoid, sp.MatMul(-1, _v("z")))),
            ),
            RuleExample(
                sp.MatMul(sigmoid(_wx()) - 1, _v("x", n)),
                sp.MatMul(-sigmoid(-_wx()), _v("x", n)),
            ),
        ],
    )
)
