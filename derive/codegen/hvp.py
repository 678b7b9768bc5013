"""The Hessian-vector product of a derived Hessian, without forming the Hessian.

For a Hessian H = ∂²f/∂vec(X)∂vec(X)ᵀ (vec stacks columns), `hvp_expression` writes H vec(V)
as a matrix expression M(V) of the shape of X, vec(M) = H vec(V), by applying each factor of
H to V as a matrix operation, right to left:

- (B ⊗ A) vec(Y) = vec(A Y Bᵀ) (Matrix Cookbook (2012) eq. (520));
- K_mn vec(Y) = vec(Yᵀ) (the commutation matrix);
- diag(vec A) vec(Y) = vec(A ∘ Y);
- vec(Q)ᵀ vec(Y) = tr(QᵀY) (521), a scalar, and vec(P) s = vec(s P);
- a sum term by term, a scalar factor as it is; for a column vector x, H v with the products
  associated right to left (diag(p) v − p (pᵀ v), never diag(p) − ppᵀ).

The expression is then generated like any other (`derive.codegen.compile_function`), so no
mn × mn matrix is ever built. A Hessian with a factor that cannot be applied this way (a
dense matrix acting on a matrix-shaped V) is refused by `hvp_expression`; `hvp_function`
then multiplies the dense Hessian instead, and says so in the callable's docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

from derive.codegen.identifiers import identifier
from derive.codegen.load import compile_function
from derive.errors import InputError, UnsupportedError
from derive.expr import CommutationMatrix, HessianOf, MatScalar, Vec, is_matrix
from derive.model import Derivation, Given
from derive.rules.transpose import tp


def _shape(e: sp.Basic) -> tuple[sp.Expr, sp.Expr]:
    return tuple(e.shape)


def _refuse(what: str) -> UnsupportedError:
    return UnsupportedError(f"a Hessian-vector product through {what}")


def _apply(h: sp.Basic, y: sp.Basic) -> sp.Basic:
    """M with vec(M) = h vec(y), M shaped as the structure of h says (see the module doc)."""
    if isinstance(h, sp.Identity):
        return y
    if isinstance(h, sp.MatAdd):
        return sp.MatAdd(*[_apply(t, y) for t in h.args])
    if isinstance(h, sp.MatMul):
        scalars = [a for a in h.args if not is_matrix(a)]
        out = y
        for factor in reversed([a for a in h.args if is_matrix(a)]):
            out = _apply(factor, out)
        return sp.MatMul(*scalars, out) if scalars else out
    if isinstance(h, sp.Transpose):
        return _apply_transposed(h.arg, y)
    if isinstance(h, sp.KroneckerProduct):
        if len(h.args) != 2:
            raise _refuse("a Kronecker product of more than two factors")
        b, a = h.args
        if _shape(y) != (a.shape[1], b.shape[1]):
            return _dense(h, y)
        return _product(_spread(a), y, tp(b))
    if isinstance(h, CommutationMatrix):
        if _shape(y) != (h.m, h.n):
            return _dense(h, y)
        return sp.Transpose(y)
    if isinstance(h, DiagMatrix):
        d = h.args[0]
        inner = d.arg if isinstance(d, Vec) else d
        if _shape(inner) == _shape(y):
            return sp.HadamardProduct(inner, y)
        return _dense(h, y)
    if isinstance(h, Vec) and _shape(y) == (1, 1):  # vec(P) s = vec(s P)
        return sp.MatMul(MatScalar(y), h.arg)
    return _dense(h, y)


def _product(left: list[sp.Basic], y: sp.Basic, right: sp.Basic) -> sp.Basic:
    """Σ_i L_i Y R over the terms L_i of the left factor, identities dropped."""
    terms = []
    for a in left:
        coef, mats = (a.args[0], list(a.args[1:])) if _scaled(a) else (sp.S.One, [a])
        factors = [f for f in (*mats, y, right) if not isinstance(f, sp.Identity)]
        product = factors[0] if len(factors) == 1 else sp.MatMul(*factors)
        terms.append(product if coef == 1 else sp.MatMul(coef, product))
    return terms[0] if len(terms) == 1 else sp.MatAdd(*terms)


def _scaled(a: sp.Basic) -> bool:
    return isinstance(a, sp.MatMul) and not is_matrix(a.args[0])


def _spread(a: sp.Basic) -> list[sp.Basic]:
    """The terms of a sum applied one by one when each is cheap to apply on its own (a
    diagonal, an outer product u vᵀ): diag(p) Y − p (pᵀ Y), never diag(p) − ppᵀ formed;
    any other factor as it is (forming A + Aᵀ costs less than a second product)."""
    if not isinstance(a, sp.MatAdd):
        return [a]

    def cheap(t: sp.Basic) -> bool:
        mats = [f for f in (t.args if isinstance(t, sp.MatMul) else (t,)) if is_matrix(f)]
        return isinstance(mats[0], DiagMatrix) or (len(mats) > 1 and mats[0].shape[1] == 1)

    return list(a.args) if all(cheap(t) for t in a.args) else [a]


def _apply_transposed(h: sp.Basic, y: sp.Basic) -> sp.Basic:
    """M with vec(M) = hᵀ vec(y)."""
    if isinstance(h, Vec):  # vec(Q)ᵀ vec(Y) = tr(QᵀY), as a 1 × 1 product
        if _shape(h.arg) != _shape(y):
            raise _refuse(f"vec({h.arg})ᵀ applied to a matrix of another shape")
        return sp.MatMul(sp.Transpose(_flat(h.arg)), _flat(y))
    if isinstance(h, sp.KroneckerProduct):
        return _apply(sp.KroneckerProduct(*[tp(a) for a in h.args]), y)
    if isinstance(h, CommutationMatrix):
        return _apply(CommutationMatrix(h.n, h.m), y)
    if isinstance(h, (DiagMatrix, sp.Identity)):  # symmetric
        return _apply(h, y)
    if isinstance(h, (sp.MatMul, sp.MatAdd)):
        return _apply(tp(h) if isinstance(h, sp.MatMul) else sp.MatAdd(*map(tp, h.args)), y)
    return _dense(sp.Transpose(h), y)


def _flat(e: sp.Basic) -> sp.Basic:
    return e if e.shape[1] == 1 else Vec(e)


def _dense(h: sp.Basic, y: sp.Basic) -> sp.Basic:
    """h times y for a column vector y; refused for a matrix y (it would need vec/unvec)."""
    if y.shape[1] != 1 or h.shape[1] != y.shape[0]:
        raise _refuse(f"{type(h).__name__} applied to a {y.shape[0]} × {y.shape[1]} matrix")
    return sp.MatMul(h, y)


def hvp_expression(h: sp.Basic, x: sp.Basic, v: sp.Basic) -> sp.Basic:
    """M(V) with vec(M) = H vec(V), of the shape of x, for the Hessian H with respect to x.

    Raises `UnsupportedError` when a factor of H cannot be applied as a matrix operation."""
    out = _apply(h, v)
    if _shape(out) != _shape(x):
        raise _refuse(f"a result of shape {out.shape}, not that of {x}")
    return out


def _direction_name(d: Derivation) -> str:
    taken = {g.name for g in d.given}
    for name in ("V", "V_dir", "direction"):
        if name not in taken:
            return name
    raise InputError("no free name for the direction V")  # pragma: no cover


def _hessian_of(d: Derivation) -> tuple[sp.Basic, sp.Basic]:
    """(H, x) of the derivation's Hessian result, with its named definitions written in."""
    for lhs, rhs in d.results:
        if isinstance(lhs, HessianOf) and is_matrix(lhs.args[1]):
            expr = rhs
            for symbol, definition, *compute in reversed(d.definitions):
                if compute:
                    raise UnsupportedError("a Hessian-vector product through a computed name")
                expr = expr.xreplace({symbol: definition})
            return expr, lhs.args[1]
    raise InputError(
        "form='hvp' is the Hessian-vector product of a Hessian with respect to a vector or "
        "matrix; this derivation has none"
    )


def _given_for(name: str, x: sp.Basic, d: Derivation) -> Given:
    for g in d.given:
        if g.name == str(x):
            return Given(name, g.shape, role="direction")
    raise InputError(f"{x} is not among the derivation's symbols")


def hvp_function(d: Derivation, backend: str = "numpy") -> Callable[..., Any]:
    """A callable ``hvp(V=…, **symbols)`` returning H vec(V) shaped as X, for the Hessian H of
    `d` with respect to X (1-D for a vector x): the symbols as keyword arrays, as for
    ``d.function()``, and the direction V, an array of the shape of X."""
    h, x = _hessian_of(d)
    name = _direction_name(d)
    v = sp.MatrixSymbol(name, *x.shape)
    given = (*d.given, _given_for(name, x, d))
    fname = f"hvp_{identifier(str(x))}"
    try:
        expr = hvp_expression(h, x, v)
    except UnsupportedError as exc:
        return _dense_hvp(h, d.given, name, backend, fname, str(exc))
    formula = f"H vec({name}) for the Hessian H with respect to {x}, shaped as {x}"
    return compile_function(expr, given, backend=backend, name=fname, formula=formula)


def _dense_hvp(
    h: sp.Basic, given: tuple[Given, ...], name: str, backend: str, fname: str, why: str
) -> Callable[..., Any]:
    """H vec(V) by forming H (the generated dense Hessian) and multiplying."""
    dense = compile_function(h, given, backend=backend, name=fname + "_dense")

    def hvp(**arrays: Any) -> Any:
        if name not in arrays:
            raise InputError(f"missing argument {name!r}, the direction")
        direction = arrays.pop(name)
        matrix = dense(**arrays)
        if backend == "jax":
            import jax.numpy as xp
        else:
            xp = np
        flat = xp.reshape(xp.asarray(direction).T, (-1,))  # vec: columns stacked
        out = matrix @ flat
        shape = np.shape(direction)
        return xp.reshape(out, shape[::-1]).T if len(shape) == 2 else out

    hvp.__doc__ = f"H vec({name}) by the dense Hessian (its structure could not be applied: {why})."
    hvp.__name__ = fname
    return hvp
