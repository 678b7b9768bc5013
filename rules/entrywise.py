"""Entrywise algebra: a Hadamard expression is simplified as the scalar function of each entry.

Sums, Hadamard products and powers, scalar multiples and elementwise functions of same-shape
matrices act entry by entry, so such an expression is a scalar expression evaluated at every
entry. `to_scalar` writes it as one (each other matrix node becomes a symbol standing for its
(i, j) entry), SymPy's rational-function algebra simplifies it, and `from_scalar` writes the
result back in Hadamard notation:

    (1 + exp(Xw))∘⁻¹ ∘ exp(Xw) − y   →   σ(Xw) − y
    −(1 − y) ∘ (1 − σ)∘⁻¹ ∘ σ∘(1 − σ) − y ∘ σ∘⁻¹ ∘ σ∘(1 − σ)   →   σ − y

A rewrite is taken only when it is strictly smaller (`sp.count_ops`), so passes settle.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from derive.expr import elementwise, is_matrix, sigmoid
from derive.model import Context, Rewrite, Rule, RuleExample
from derive.rules.registry import register

m, n = sp.symbols("m n", integer=True, positive=True)
_T = sp.Symbol("t", real=True)


class _Entries:
    """The atoms of one entrywise expression: matrix node ↔ scalar symbol for its entry."""

    def __init__(self, shape: tuple) -> None:
        self.shape = tuple(shape)
        self.symbol_of: dict[sp.Basic, sp.Dummy] = {}
        self.node_of: dict[sp.Dummy, sp.Basic] = {}
        self.scalar_node_of: dict[sp.Dummy, sp.Basic] = {}

    def atom(self, node: sp.Basic) -> sp.Dummy:
        if node not in self.symbol_of:
            s = sp.Dummy(f"e{len(self.symbol_of)}", real=True)
            self.symbol_of[node] = s
            self.node_of[s] = node
        return self.symbol_of[node]

    def opaque(self, e: sp.Expr) -> sp.Expr:
        """e with each scalar of a matrix (xᵀAx, tr X, lse(z), …) as a symbol: SymPy's
        rational-function algebra must not rebuild the matrix nodes inside them."""
        reps = {}
        walk = sp.preorder_traversal(e)
        for node in walk:
            if not is_matrix(node) and any(is_matrix(a) for a in node.args):
                walk.skip()  # the outermost such scalar stands for all inside it
                if node not in reps:
                    reps[node] = sp.Dummy(f"c{len(self.scalar_node_of)}", real=True)
                    self.scalar_node_of[reps[node]] = node
        return e.xreplace(reps)


def _coefficient(e: sp.MatMul) -> tuple[sp.Expr, list[sp.Basic]]:
    scalars = [a for a in e.args if not is_matrix(a)]
    return sp.Mul(*scalars), [a for a in e.args if is_matrix(a)]


def to_scalar(e: sp.Basic, entries: _Entries) -> sp.Expr:
    """The scalar expression of a generic entry of `e` (scalars are the same at every entry)."""
    if not is_matrix(e):
        return entries.opaque(e)
    if isinstance(e, sp.OneMatrix):
        return sp.S.One
    if isinstance(e, sp.ZeroMatrix):
        return sp.S.Zero
    if isinstance(e, sp.MatAdd):
        return sp.Add(*[to_scalar(a, entries) for a in e.args])
    if isinstance(e, sp.HadamardProduct):
        return sp.Mul(*[to_scalar(a, entries) for a in e.args])
    if isinstance(e, sp.HadamardPower):
        return sp.Pow(to_scalar(e.base, entries), e.exp)
    if isinstance(e, ElementwiseApplyFunction):
        return e.function(to_scalar(e.expr, entries))
    if isinstance(e, sp.MatMul):
        c, mats = _coefficient(e)
        if len(mats) == 1:
            return entries.opaque(c) * to_scalar(mats[0], entries)
    return entries.atom(e)


def _is_entry_function(e: sp.Basic) -> bool:
    return isinstance(e, sp.Function) and len(e.args) == 1


def from_scalar(s: sp.Expr, entries: _Entries) -> sp.Basic | None:
    """The Hadamard form of the scalar entry expression `s`; None where it has none."""
    e = _from_scalar(s, entries)
    return None if e is None else e.xreplace(entries.scalar_node_of)


def _from_scalar(s: sp.Expr, entries: _Entries) -> sp.Basic | None:
    shape = entries.shape
    atoms = set(entries.node_of)
    if not (s.free_symbols & atoms):
        if s == 0:
            return sp.ZeroMatrix(*shape)
        return sp.OneMatrix(*shape) if s == 1 else sp.MatMul(s, sp.OneMatrix(*shape))
    if s in atoms:
        return entries.node_of[s]
    if isinstance(s, sp.Add):
        parts = [_from_scalar(a, entries) for a in s.args]
        return None if any(p is None for p in parts) else sp.MatAdd(*parts)
    if isinstance(s, sp.Mul):
        const = [a for a in s.args if not (a.free_symbols & atoms)]
        # σ ∘ (1 − σ), as printed in textbooks: sums after the other factors
        varying = sorted(
            (a for a in s.args if a.free_symbols & atoms), key=lambda a: isinstance(a, sp.Add)
        )
        parts = [_from_scalar(a, entries) for a in varying]
        if any(p is None for p in parts):
            return None
        body = parts[0] if len(parts) == 1 else sp.HadamardProduct(*parts)
        c = sp.Mul(*const)
        return body if c == 1 else sp.MatMul(c, body)
    if isinstance(s, sp.Pow):
        base = _from_scalar(s.base, entries)
        if base is None or s.exp.free_symbols & atoms:
            return None
        if s.exp.is_Integer:
            return sp.HadamardPower(base, s.exp)
        return elementwise(sp.Lambda(_T, _T**s.exp), base)
    if _is_entry_function(s):
        inner = _from_scalar(s.args[0], entries)
        if inner is None:
            return None
        return elementwise(type(s), inner)
    return None


def applied(fn: sp.Lambda, arg: sp.Basic) -> sp.Basic:
    """f∘(X) in Hadamard notation where f is algebra of named functions: for
    f(t) = σ(t)(1 − σ(t)), σ(X) ∘ (1 − σ(X)); otherwise the elementwise application."""
    entries = _Entries(arg.shape)
    written = from_scalar(fn(entries.atom(arg)), entries)
    return elementwise(fn, arg) if written is None else written


def _cost(s: sp.Expr) -> int:
    return int(sp.count_ops(s))


def _positive_constant_first(s: sp.Expr) -> sp.Expr:
    """Write each factor (a − c) with a negative constant as −(c − a): σ(σ − 1) → −σ(1 − σ)."""
    if not isinstance(s, sp.Mul):
        return s
    coeff, factors = s.as_coeff_mul()
    kept = []
    for f in factors:
        if isinstance(f, sp.Add):
            const, rest = f.as_independent(*f.free_symbols)
            if const.is_number and const < 0 and rest.could_extract_minus_sign() is False:
                f = sp.Add(-const, -rest, evaluate=False)
                coeff = -coeff
        kept.append(f)
    return sp.Mul(coeff, *kept, evaluate=False) if coeff != 1 else sp.Mul(*kept, evaluate=False)


def _simplest(s: sp.Expr) -> sp.Expr:
    """The smallest of the usual normal forms of a rational expression (ties: the first)."""
    candidates = [s]
    for form in (sp.cancel, sp.factor, sp.expand):
        try:
            candidates.append(_positive_constant_first(form(s)))
        except (sp.PolynomialError, TypeError, ValueError):
            continue
    return min(candidates, key=_cost)


def _entry_view(node: sp.Basic) -> tuple[sp.Expr, _Entries] | None:
    """The scalar entry expression of `node`, when node is entrywise algebra at the top."""
    if not is_matrix(node) or not isinstance(
        node, (sp.MatAdd, sp.HadamardProduct, sp.HadamardPower, ElementwiseApplyFunction)
    ):
        return None
    entries = _Entries(node.shape)
    s = to_scalar(node, entries)
    if any(isinstance(a, sp.Identity) for a in entries.symbol_of):
        return None  # A ∘ I masks the diagonal; as scalar algebra it would print as 𝟏𝟏ᵀ − I
    return s, entries


def _rewritten(node: sp.Basic, s: sp.Expr, new: sp.Expr, entries: _Entries) -> sp.Basic | None:
    if _cost(new) >= _cost(s) or new == s:
        return None
    return from_scalar(new, entries)


def _simplify_entrywise(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    return _simplified(node)


@functools.lru_cache(maxsize=4096)
def _simplified(node: sp.Basic) -> sp.Basic | None:
    view = _entry_view(node)
    if view is None:
        return None
    s, entries = view
    if s.has(sp.exp) and _with_sigmoid(s) is not None:
        return None  # the sigmoid rule goes first: cancelling exp forms hides σ
    return _rewritten(node, s, _simplest(s), entries)


def _with_sigmoid(s: sp.Expr) -> sp.Expr | None:
    """s with exp(u) = σ(u)/(1 − σ(u)) substituted and simplified, when that is smaller."""
    exps = [e for e in s.atoms(sp.exp)]
    if not exps:
        return None
    sub = {}
    for e in exps:
        u = e.args[0]
        sig = 1 - sigmoid(-u) if u.could_extract_minus_sign() else sigmoid(u)
        sub[e] = sig / (1 - sig)
    new = _simplest(s.xreplace(sub))
    if new.has(sp.exp) or _cost(new) >= _cost(s):
        return None
    return new


def _recognise_sigmoid(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    return _with_sigmoid_node(node)


@functools.lru_cache(maxsize=4096)
def _with_sigmoid_node(node: sp.Basic) -> sp.Basic | None:
    view = _entry_view(node)
    if view is None:
        return None
    s, entries = view
    new = _with_sigmoid(s)
    return None if new is None else from_scalar(new, entries)


def _v(name: str, rows: sp.Expr = n) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(name, rows, 1)


def _hp(*args: sp.Basic) -> sp.HadamardProduct:
    return sp.HadamardProduct(*args)


SIMPLIFY = register(
    Rewrite(
        id="entrywise.simplify",
        name="Simplify entry by entry",
        source=(
            "elementary: sums, Hadamard products and powers and elementwise functions act on "
            "each entry, so the scalar algebra of one entry applies"
        ),
        statement=(
            r"(u \circ v + u \circ w)_{i} = u_i (v_i + w_i),\quad "
            r"(u \circ u^{\circ -1})_i = 1 \;(u_i \neq 0)"
        ),
        conditions=("no entry divided by is zero",),
        apply=_simplify_entrywise,
        examples=lambda: [
            RuleExample(
                sp.MatAdd(
                    _hp(sp.MatMul(-1, _v("y")), sp.HadamardPower(_v("u"), -1), _v("u"), _v("v")),
                    _hp(_v("y"), _v("v")),
                    _v("v"),
                ),
                _v("v"),
                assume={"u": ("positive",)},
            ),
            RuleExample(
                sp.MatAdd(
                    _hp(elementwise(sp.tanh, _v("u")), _v("v")),
                    sp.MatMul(-1, _hp(_v("v"), elementwise(sp.tanh, _v("u")), _v("w"))),
                ),
                _hp(
                    _v("v"),
                    elementwise(sp.tanh, _v("u")),
                    sp.MatAdd(sp.OneMatrix(n, 1), sp.MatMul(-1, _v("w"))),
                ),
            ),
        ],
    )
)

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
                _hp(
                    sp.HadamardPower(
                        sp.MatAdd(sp.OneMatrix(m, 1), elementwise(sp.exp, _v("z", m))), -1
                    ),
                    elementwise(sp.exp, _v("z", m)),
                ),
                elementwise(sigmoid, _v("z", m)),
            ),
            RuleExample(
                sp.HadamardPower(
                    sp.MatAdd(sp.OneMatrix(m, 1), elementwise(sp.exp, sp.MatMul(-1, _v("z", m)))),
                    -1,
                ),
                elementwise(sigmoid, _v("z", m)),
            ),
        ],
    )
)


# --- diagonal matrices -----------------------------------------------------------------------


def _diag_product(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """diag(a) diag(b) = diag(a ∘ b) for adjacent factors of a product."""
    if not isinstance(node, sp.MatMul):
        return None
    args = list(node.args)
    for i in range(len(args) - 1):
        a, b = args[i], args[i + 1]
        if isinstance(a, DiagMatrix) and isinstance(b, DiagMatrix):
            merged = DiagMatrix(sp.HadamardProduct(a.args[0], b.args[0]))
            new = args[:i] + [merged] + args[i + 2 :]
            return new[0] if len(new) == 1 else sp.MatMul(*new)
    return None


def _diag_vector(term: sp.Basic) -> sp.Basic | None:
    """The vector c·v of a term c·diag(v), or None."""
    if isinstance(term, DiagMatrix):
        return term.args[0]
    if isinstance(term, sp.MatMul):
        c, mats = _coefficient(term)
        if len(mats) == 1 and isinstance(mats[0], DiagMatrix):
            return sp.MatMul(c, mats[0].args[0])
    return None


def _diag_sum(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """a diag(u) + b diag(v) = diag(a u + b v), merging every diagonal term of a sum."""
    if not isinstance(node, sp.MatAdd):
        return None
    vectors = [_diag_vector(t) for t in node.args]
    found = [v for v in vectors if v is not None]
    if len(found) < 2:
        return None
    rest = [t for t, v in zip(node.args, vectors, strict=True) if v is None]
    merged = DiagMatrix(sp.MatAdd(*found))
    return sp.MatAdd(merged, *rest) if rest else merged


def _diag(name: str) -> DiagMatrix:
    return DiagMatrix(_v(name))


DIAG_PRODUCT = register(
    Rewrite(
        id="diag.product",
        name="Product of diagonal matrices",
        source="elementary: diagonal matrices multiply entry by entry on the diagonal",
        statement=(
            r"\operatorname{diag}(a)\operatorname{diag}(b) = \operatorname{diag}(a \circ b)"
        ),
        apply=_diag_product,
        examples=lambda: [
            RuleExample(sp.MatMul(_diag("a"), _diag("b")), DiagMatrix(_hp(_v("a"), _v("b"))))
        ],
    )
)

DIAG_SUM = register(
    Rewrite(
        id="diag.sum",
        name="Sum of diagonal matrices",
        source="elementary: diag is linear",
        statement=(
            r"\alpha\operatorname{diag}(a) + \beta\operatorname{diag}(b) = "
            r"\operatorname{diag}(\alpha a + \beta b)"
        ),
        apply=_diag_sum,
        examples=lambda: [
            RuleExample(
                sp.MatAdd(_diag("a"), sp.MatMul(-2, _diag("b"))),
                DiagMatrix(sp.MatAdd(_v("a"), sp.MatMul(-2, _v("b")))),
            )
        ],
    )
)


def _diagonal_of_diag(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """diag(diag(v)) = v; diag(v)⁻¹ = diag(v∘⁻¹); the diagonal of c·M is c times M's."""
    if isinstance(node, sp.Inverse) and isinstance(node.arg, DiagMatrix):
        return DiagMatrix(sp.HadamardPower(node.arg.args[0], -1))
    if not isinstance(node, DiagonalOf):
        return None
    inner = node.args[0]
    if isinstance(inner, DiagMatrix):
        return inner.args[0]
    if isinstance(inner, sp.Transpose):
        return DiagonalOf(inner.arg)
    if isinstance(inner, sp.MatMul):
        c, mats = _coefficient(inner)
        if c != 1:
            body = mats[0] if len(mats) == 1 else sp.MatMul(*mats)
            return sp.MatMul(c, DiagonalOf(body))
    return None


DIAGONAL_OF_DIAG = register(
    Rewrite(
        id="diag.inverse",
        name="Diagonal matrices: inverse and diagonal",
        source="elementary: a diagonal matrix is inverted entry by entry on its diagonal",
        statement=(
            r"\operatorname{diag}(v)^{-1} = \operatorname{diag}(v^{\circ -1}),\quad "
            r"\operatorname{diag}(\operatorname{diag}(v)) = v"
        ),
        conditions=("no entry of v is zero",),
        apply=_diagonal_of_diag,
        examples=lambda: [
            RuleExample(
                DiagonalOf(sp.MatMul(sp.Symbol("c"), sp.Inverse(_diag("v")))),
                sp.MatMul(sp.Symbol("c"), sp.HadamardPower(_v("v"), -1)),
                assume={"v": ("positive",)},
            ),
        ],
    )
)

#: applied, in this order of preference, to a result to bring it to textbook form
TEXTBOOK_RULES: tuple[Rule, ...] = (DIAG_PRODUCT, DIAG_SUM, DIAGONAL_OF_DIAG, SIGMOID, SIMPLIFY)
