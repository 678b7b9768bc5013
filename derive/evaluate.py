"""Numeric evaluation of SymPy expressions by walking the tree, on NumPy or JAX.

One function per node type (`functools.singledispatch`); a node type without one raises
`UnsupportedError` rather than guess. Nothing is compiled from text: no ``lambdify``, no
``eval``, no ``sympify``. (Longer than most modules for that reason alone: one short
evaluator for each of some sixty node types, which belong together in one table.)

Conventions:

- a matrix expression of shape (m, n) evaluates to an (m, n) array, so a column vector is
  (n, 1); a scalar expression evaluates to a 0-d array;
- symbols are looked up by name; a `DifferentialSymbol` dX or `ScalarDifferentialSymbol` dθ is
  just the symbol named "dX" or "dθ";
- a dimension symbol (n in ``MatrixSymbol("X", n, m)``) evaluates to its size;
- ``x[i]`` (an `Indexed` of an `IndexedBase`) reads 1-D data with 1-based positions: ``x[i]``
  is array position ``i - 1``, so ``Sum(x[i], (i, 1, n))`` adds all n entries. Sum and Product
  bounds are inclusive. A position outside 1..len raises `InputError` (never a wrap-around);
- ``d(e)`` (`ScalarDifferential`, `MatDifferential`) evaluates only on the JAX backend, as
  ``jax.jvp`` of e with respect to the `varying` symbols in the directions given by the values
  named "d" + name.

JAX is imported only when the JAX backend is asked for, never at import time.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

import numpy as np
import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalMatrix, DiagonalOf
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct
from sympy.matrices.expressions.matexpr import MatrixElement

from derive.arguments import check_argument_names, check_argument_sizes, names_used
from derive.errors import InputError, ShapeError, UnsupportedError
from derive.expr import (
    CommutationMatrix,
    ExtremeEigenvalue,
    ExtremeEigenvector,
    FrechetDerivative,
    LogSumExp,
    MatDifferential,
    MatrixFunction,
    MatScalar,
    NuclearNorm,
    PolarFactor,
    PseudoInverse,
    ScalarDifferential,
    Softmax,
    Vec,
    relu,
    sigmoid,
    softplus,
    step,
)
from derive.jax_runtime import DEFER_JAX, Deferred, import_jax
from derive.latex.index_form import Assemble, Entry, MatrixIndexSum, Row
from derive.model import Given

Array = Any  # a numpy.ndarray or a jax.Array (possibly a tracer)


#: computes d(e) for the NumPy backend: (the node d(e), values, dims, varying, bound) → array
Tangents = Callable[[sp.Basic, Mapping[str, Array], Mapping[str, int], tuple, Mapping], Array]


class _Env:
    """What evaluation sees: the array backend, symbol values, sizes, bound indices."""

    __slots__ = ("xp", "backend", "stop_gradient", "values", "dims", "bound", "varying", "tangents")

    def __init__(
        self,
        backend: str,
        values: Mapping[str, Array],
        dims: Mapping[str, int],
        varying: tuple[str, ...],
        bound: Mapping[sp.Basic, Any] | None = None,
        tangents: Tangents | None = None,
    ) -> None:
        self.backend = backend
        self.tangents = tangents
        if backend == "numpy":
            self.xp = np
            self.stop_gradient = _identity
        elif backend == "jax":
            if DEFER_JAX.get():
                raise Deferred("a JAX evaluation, deferred")
            jax = import_jax()
            self.xp = jax.numpy
            self.stop_gradient = jax.lax.stop_gradient
        else:
            raise InputError(f"unknown backend {backend!r}; use 'numpy' or 'jax'")
        self.values = values
        self.dims = dims
        self.varying = varying
        self.bound = dict(bound or {})

    def _copy(self) -> _Env:
        new = object.__new__(_Env)
        for slot in self.__slots__:
            setattr(new, slot, getattr(self, slot))
        return new

    def bind(self, var: sp.Basic, value: Any) -> _Env:
        """This environment with the bound variable `var` (a Lambda or Sum variable) set."""
        new = self._copy()
        new.bound = {**self.bound, var: value}
        return new

    def with_values(self, updates: Mapping[str, Array]) -> _Env:
        new = self._copy()
        new.values = {**self.values, **updates}
        return new


def _identity(x: Array) -> Array:
    return x


def _static(e: sp.Basic, env: _Env) -> np.ndarray:
    """e with NumPy: a bound or an index must be a concrete number, also while JAX traces
    (where one computed from a traced value raises a TypeError: it cannot be known)."""
    if env.backend != "numpy":
        env = env._copy()
        env.backend, env.xp, env.stop_gradient = "numpy", np, _identity
    return np.asarray(_ev(e, env))


def _size(e: sp.Basic, env: _Env) -> int:
    """The integer value of a dimension expression (n, 3, 2*n, ...)."""
    if e.is_Integer:
        return int(e)
    if e.is_Symbol:  # the usual case, without SymPy's substitution
        if e.name not in env.dims:
            raise InputError(f"no size given for the dimension {e.name}")
        return int(env.dims[e.name])
    sub = {}
    for s in e.free_symbols:
        name = s.name if hasattr(s, "name") else str(s)
        if name not in env.dims:
            raise InputError(f"no size given for the dimension {name}")
        sub[s] = sp.Integer(env.dims[name])
    v = e.xreplace(sub)
    if not v.is_Integer:
        raise InputError(f"the dimension {e} is not a whole number")
    return int(v)


def _shape(e: sp.Basic, env: _Env) -> tuple[int, int]:
    return _size(e.shape[0], env), _size(e.shape[1], env)


def _same_shapes(node: sp.Basic, arrays: list[Array]) -> None:
    shapes = {tuple(a.shape) for a in arrays}
    if len(shapes) > 1:
        raise ShapeError(f"{type(node).__name__} of arrays with shapes {sorted(shapes)}")


def _scalar(node: sp.Basic, value: Array) -> Array:
    if getattr(value, "ndim", 0) != 0:
        raise ShapeError(f"{node} should be a scalar but evaluates to shape {value.shape}")
    return value


# --- the dispatcher ------------------------------------------------------------------------


@functools.singledispatch
def _ev(node: sp.Basic, env: _Env) -> Array:
    # A node that stands for an expression (a density for its definition) says so by an
    # `as_definition()` method; the rulebook defining it need not know the evaluator.
    as_definition = getattr(node, "as_definition", None)
    if callable(as_definition):
        return _ev(as_definition(), env)
    raise UnsupportedError(f"numeric evaluation of {type(node).__name__}")


def evaluator_of(cls: type) -> Callable | None:
    """The function that evaluates nodes of type `cls`, None if none is registered for it."""
    impl = _ev.dispatch(cls)
    return None if impl is _ev.registry[object] else impl


@_ev.register
def _(node: sp.Number, env: _Env) -> Array:
    if not node.is_finite:
        raise UnsupportedError(f"numeric evaluation of {type(node).__name__}")
    return env.xp.asarray(float(node))


@_ev.register
def _(node: sp.NumberSymbol, env: _Env) -> Array:
    return env.xp.asarray(float(node))


@_ev.register
def _(node: sp.Symbol, env: _Env) -> Array:
    if node in env.bound:
        return env.bound[node]
    if node.name in env.values:
        return env.values[node.name]
    if node.name in env.dims:
        return env.xp.asarray(float(env.dims[node.name]))
    raise InputError(f"no value given for the symbol {node.name}")


@_ev.register
def _(node: sp.Idx, env: _Env) -> Array:
    if node in env.bound:
        return env.bound[node]
    raise InputError(f"the index {node} is not bound by a Sum or Product")


@_ev.register
def _(node: sp.MatrixSymbol, env: _Env) -> Array:
    if node.name not in env.values:
        raise InputError(f"no value given for the matrix symbol {node.name}")
    value = env.values[node.name]
    shape = _shape(node, env)
    if tuple(value.shape) != shape:
        # Vectors may be passed 1-D (and a 1x1 as a scalar); anything else is a mismatch.
        if value.ndim <= 1 and value.size == shape[0] * shape[1] and 1 in shape:
            return env.xp.reshape(value, shape)
        raise ShapeError(f"{node.name} has shape {tuple(value.shape)}, expected {shape}")
    return value


# --- scalar arithmetic and functions -------------------------------------------------------


@_ev.register
def _(node: sp.Add, env: _Env) -> Array:
    return functools.reduce(operator.add, (_ev(a, env) for a in node.args))


@_ev.register
def _(node: sp.Mul, env: _Env) -> Array:
    return functools.reduce(operator.mul, (_ev(a, env) for a in node.args))


@_ev.register
def _(node: sp.Pow, env: _Env) -> Array:
    base = _ev(node.base, env)
    if node.exp.is_Integer:
        return base ** int(node.exp)
    if node.exp == sp.S.Half:
        return env.xp.sqrt(base)
    return env.xp.power(base, _ev(node.exp, env))


#: scalar SymPy functions and the NumPy / jax.numpy function of the same name
UFUNCS: dict[type, str] = {
    sp.log: "log",
    sp.exp: "exp",
    sp.Abs: "abs",
    sp.sign: "sign",
    sp.sin: "sin",
    sp.cos: "cos",
    sp.tan: "tan",
    sp.asin: "arcsin",
    sp.acos: "arccos",
    sp.atan: "arctan",
    sp.sinh: "sinh",
    sp.cosh: "cosh",
    sp.tanh: "tanh",
}


def _register_function(cls: type, xp_name: str) -> None:
    def run(node: sp.Basic, env: _Env) -> Array:
        if len(node.args) != 1:
            raise UnsupportedError(
                f"numeric evaluation of {cls.__name__}", f"{len(node.args)} arguments"
            )
        return getattr(env.xp, xp_name)(_ev(node.args[0], env))

    _ev.register(cls)(run)


for _cls, _name in UFUNCS.items():
    _register_function(_cls, _name)


def _special(env: _Env) -> ModuleType:
    """scipy.special or jax.scipy.special, for the backend (imported on first use)."""
    if env.backend == "jax":
        import jax.scipy.special as special
    else:
        import scipy.special as special
    return special


@_ev.register
def _(node: sp.gamma, env: _Env) -> Array:
    return _special(env).gamma(_ev(node.args[0], env))


@_ev.register
def _(node: sp.factorial, env: _Env) -> Array:
    return _special(env).gamma(_ev(node.args[0], env) + 1.0)


@_ev.register
def _(node: sp.loggamma, env: _Env) -> Array:
    return _special(env).gammaln(_ev(node.args[0], env))


@_ev.register
def _(node: sigmoid, env: _Env) -> Array:
    # σ(t) = exp(−softplus(−t)): no overflow of e^{−t} for t ≪ 0, unlike 1/(1 + e^{−t}).
    return env.xp.exp(-env.xp.logaddexp(0.0, -_ev(node.args[0], env)))


@_ev.register
def _(node: relu, env: _Env) -> Array:
    return env.xp.maximum(_ev(node.args[0], env), 0.0)


@_ev.register
def _(node: step, env: _Env) -> Array:
    return env.xp.where(_ev(node.args[0], env) > 0, 1.0, 0.0)


@_ev.register
def _(node: softplus, env: _Env) -> Array:
    return env.xp.logaddexp(0.0, _ev(node.args[0], env))


@_ev.register
def _(node: sp.Max, env: _Env) -> Array:
    return functools.reduce(env.xp.maximum, (_ev(a, env) for a in node.args))


@_ev.register
def _(node: sp.Min, env: _Env) -> Array:
    return functools.reduce(env.xp.minimum, (_ev(a, env) for a in node.args))


# --- matrix algebra ------------------------------------------------------------------------


@_ev.register
def _(node: sp.MatAdd, env: _Env) -> Array:
    terms = [_ev(a, env) for a in node.args]
    _same_shapes(node, terms)
    return functools.reduce(operator.add, terms)


@_ev.register
def _(node: sp.MatMul, env: _Env) -> Array:
    scalars = [_scalar(a, _ev(a, env)) for a in node.args if not a.is_Matrix]
    matrices = [_ev(a, env) for a in node.args if a.is_Matrix]
    out = functools.reduce(env.xp.matmul, matrices)
    for s in scalars:
        out = s * out
    return out


@_ev.register
def _(node: sp.MatPow, env: _Env) -> Array:
    if not node.exp.is_Integer:
        raise UnsupportedError(f"numeric evaluation of {type(node).__name__}", "non-integer power")
    base = _ev(node.base, env)
    k = int(node.exp)
    if k < 0:
        base, k = env.xp.linalg.inv(base), -k
    return env.xp.linalg.matrix_power(base, k)


@_ev.register
def _(node: sp.Transpose, env: _Env) -> Array:
    return _ev(node.arg, env).T


@_ev.register
def _(node: sp.Inverse, env: _Env) -> Array:
    return env.xp.linalg.inv(_ev(node.arg, env))


@_ev.register
def _(node: sp.Trace, env: _Env) -> Array:
    return env.xp.trace(_ev(node.arg, env))


@_ev.register
def _(node: sp.Determinant, env: _Env) -> Array:
    return env.xp.linalg.det(_ev(node.arg, env))


@_ev.register
def _(node: HadamardProduct, env: _Env) -> Array:
    factors = [_ev(a, env) for a in node.args]
    _same_shapes(node, factors)
    return functools.reduce(operator.mul, factors)


@_ev.register
def _(node: HadamardPower, env: _Env) -> Array:
    base = _ev(node.base, env)
    if node.exp.is_Integer:
        return base ** int(node.exp)
    if getattr(node.exp, "is_Matrix", False):  # entrywise: A^{∘B}_ij = A_ij^{B_ij}
        return env.xp.power(base, _ev(node.exp, env))
    return env.xp.power(base, _scalar(node.exp, _ev(node.exp, env)))


@_ev.register
def _(node: sp.KroneckerProduct, env: _Env) -> Array:
    return functools.reduce(env.xp.kron, (_ev(a, env) for a in node.args))


@_ev.register
def _(node: Vec, env: _Env) -> Array:
    # vec stacks columns: the transpose read row by row is A read column by column
    return env.xp.reshape(_ev(node.arg, env).T, (-1, 1))


def commutation_permutation(m: int, n: int) -> np.ndarray:
    """The permutation p with (K_mn v)[r] = v[p[r]]: K_mn vec(A) = vec(Aᵀ) for A m × n, and
    vec(Aᵀ)[j + n·i] = A_ij = vec(A)[i + m·j]."""
    return np.arange(m * n).reshape((m, n), order="F").ravel()


@_ev.register
def _(node: CommutationMatrix, env: _Env) -> Array:
    m, n = _size(node.m, env), _size(node.n, env)
    return env.xp.eye(m * n)[commutation_permutation(m, n)]


@_ev.register
def _(node: ElementwiseApplyFunction, env: _Env) -> Array:
    arg = _ev(node.expr, env)
    (var,) = node.function.variables
    out = _ev(node.function.expr, env.bind(var, arg))
    return env.xp.broadcast_to(out, arg.shape)


@_ev.register
def _(node: sp.Identity, env: _Env) -> Array:
    return env.xp.eye(_size(node.rows, env))


@_ev.register
def _(node: sp.ZeroMatrix, env: _Env) -> Array:
    return env.xp.zeros(_shape(node, env))


@_ev.register
def _(node: sp.OneMatrix, env: _Env) -> Array:
    return env.xp.ones(_shape(node, env))


@_ev.register
def _(node: DiagMatrix, env: _Env) -> Array:
    return env.xp.diag(env.xp.reshape(_ev(node.args[0], env), (-1,)))


@_ev.register
def _(node: DiagonalOf, env: _Env) -> Array:
    return env.xp.reshape(env.xp.diagonal(_ev(node.args[0], env)), (-1, 1))


@_ev.register
def _(node: DiagonalMatrix, env: _Env) -> Array:
    return env.xp.diag(env.xp.diagonal(_ev(node.args[0], env)))


@_ev.register
def _(node: sp.ImmutableDenseMatrix, env: _Env) -> Array:
    xp = env.xp
    rows = [
        xp.stack([xp.asarray(_ev(node[i, j], env)) for j in range(node.cols)])
        for i in range(node.rows)
    ]
    return xp.stack(rows)


@_ev.register
def _(node: MatrixElement, env: _Env) -> Array:
    # SymPy's matrix entries are 0-based, unlike Indexed data (see the module docstring).
    parent = _ev(node.parent, env)
    return parent[_index(node.i, env), _index(node.j, env)]


@_ev.register
def _(node: MatScalar, env: _Env) -> Array:
    value = _ev(node.arg, env)
    if tuple(value.shape) != (1, 1):
        raise ShapeError(f"MatScalar of an array of shape {tuple(value.shape)}")
    return value[0, 0]


@_ev.register
def _(node: Softmax, env: _Env) -> Array:
    xp = env.xp
    z = _ev(node.arg, env)
    # Shifting by max(z) changes nothing mathematically and avoids overflow.
    e = xp.exp(z - env.stop_gradient(xp.max(z)))
    return e / xp.sum(e)


@_ev.register
def _(node: LogSumExp, env: _Env) -> Array:
    xp = env.xp
    z = _ev(node.arg, env)
    top = env.stop_gradient(xp.max(z))
    return top + xp.log(xp.sum(xp.exp(z - top)))


def _eigh(node: ExtremeEigenvalue | ExtremeEigenvector, env: _Env) -> tuple[Array, Array]:
    """Eigenvalues (ascending) and eigenvectors of the symmetric part of the argument."""
    a = _ev(node.arg, env)
    return env.xp.linalg.eigh((a + a.T) / 2)


@_ev.register
def _(node: ExtremeEigenvalue, env: _Env) -> Array:
    values, _ = _eigh(node, env)
    return values[-1] if node.which == "max" else values[0]


@_ev.register
def _(node: ExtremeEigenvector, env: _Env) -> Array:
    _, vectors = _eigh(node, env)
    v = vectors[:, -1] if node.which == "max" else vectors[:, 0]
    return v.reshape(-1, 1)


@_ev.register
def _(node: NuclearNorm, env: _Env) -> Array:
    return env.xp.sum(env.xp.linalg.svd(_ev(node.arg, env), compute_uv=False))


@_ev.register
def _(node: PolarFactor, env: _Env) -> Array:
    u, _, vh = env.xp.linalg.svd(_ev(node.arg, env), full_matrices=False)
    return u @ vh


@_ev.register
def _(node: PseudoInverse, env: _Env) -> Array:
    return env.xp.linalg.pinv(_ev(node.arg, env))


@functools.cache
def _jax_expm() -> Callable[[Array], Array]:
    """jax.scipy.linalg.expm with its derivative from the block formula
    exp([[A, E], [0, A]]) = [[exp A, L(A, E)], [0, exp A]]. Autodiff through JAX's
    scaling and squaring loses accuracy as ‖A‖ grows (a relative error of 2e-7 at ‖A‖₁ = 85,
    where the block formula keeps 1e-14); the numeric checks need the accurate derivative."""
    jax = import_jax()

    @jax.custom_jvp
    def expm(a: Array) -> Array:
        return jax.scipy.linalg.expm(a)

    @expm.defjvp
    def _(primals: tuple, tangents: tuple) -> tuple[Array, Array]:
        # The tangent must be visibly linear in e for reverse mode, so L(A, ·) is built as
        # a matrix from its values on the unit matrices, then applied to e.
        jnp = jax.numpy
        (a,), (e,) = primals, tangents
        n = a.shape[0]
        zero = jnp.zeros_like(a)
        units = jnp.eye(n * n, dtype=a.dtype).reshape(n * n, n, n)
        frechet = jax.vmap(lambda u: expm(jnp.block([[a, u], [zero, a]]))[:n, n:])(units)
        return expm(a), jnp.tensordot(e.reshape(-1), frechet, axes=1)

    return expm


def _expm(env: _Env, a: Array) -> Array:
    if env.backend == "jax":
        return _jax_expm()(a)
    import scipy.linalg

    return scipy.linalg.expm(a)


def _matrix_function(fn: str, a: Array, env: _Env) -> Array:
    """f(A) for square A, all through the exponential: cos A and sin A are the blocks of
    exp([[0, A], [−A, 0]]), cosh A and sinh A those of exp([[0, A], [A, 0]]) (A commutes with
    itself, so the block exponential is exact)."""
    if fn == "exp":
        return _expm(env, a)
    xp = env.xp
    n = a.shape[0]
    zero = xp.zeros_like(a)
    sign = -1.0 if fn in ("sin", "cos") else 1.0
    big = _expm(env, xp.block([[zero, a], [sign * a, zero]]))
    return big[:n, :n] if fn in ("cos", "cosh") else big[:n, n:]


@_ev.register
def _(node: MatrixFunction, env: _Env) -> Array:
    return _matrix_function(node.fn, _ev(node.arg, env), env)


@_ev.register
def _(node: FrechetDerivative, env: _Env) -> Array:
    """L_f(X, E), the upper-right block of f([[X, E], [0, X]]) (Higham 2008, ch. 3)."""
    xp = env.xp
    x, e = _ev(node.arg, env), _ev(node.direction, env)
    n = x.shape[0]
    # L is linear in E: evaluate at E/s and scale back, so a large E (say 2 sinh X) does
    # not overflow the block exponential. s is held constant, which changes nothing.
    s = env.stop_gradient(xp.max(xp.abs(e)))
    s = xp.where(s > 0, s, 1.0)
    big = _matrix_function(node.fn, xp.block([[x, e / s], [xp.zeros_like(x), x]]), env)
    return s * big[:n, n:]


# --- indexed data, sums and products -------------------------------------------------------


def _index(e: sp.Basic, env: _Env) -> Any:
    """An integer index (or integer index array) from an index expression."""
    if e.is_Integer:
        return int(e)
    if e in env.bound:
        return env.bound[e]
    return np.rint(_static(e, env)).astype(int)


@_ev.register
def _(node: sp.Indexed, env: _Env) -> Array:
    name = node.base.label.name
    if name not in env.values:
        raise InputError(f"no data given for {name}")
    data = env.values[name]
    idx = tuple(_index(i, env) for i in node.indices)
    if len(idx) == 1 and data.ndim == 2 and data.shape[1] == 1:
        data = data[:, 0]
    if len(idx) != data.ndim:
        raise ShapeError(f"{node} takes {len(idx)} indices but {name} has shape {data.shape}")
    for i, length in zip(idx, data.shape, strict=True):
        if np.size(i) and (np.min(i) < 1 or np.max(i) > length):
            raise InputError(
                f"{node}: position {int(np.min(i)) if np.min(i) < 1 else int(np.max(i))} is "
                f"outside 1..{length} (Indexed positions are 1-based)"
            )
    if env.backend == "jax" and len(idx) == 1 and _consecutive(idx[0]):
        # x[i] for i = a..b all at once: a slice, which JAX traces, lowers and differentiates
        # far more cheaply than the gather an index array makes (the same entries).
        return data[int(idx[0][0]) - 1 : int(idx[0][-1])]
    # Positions as arrays, not Python ints: JAX would compile one program per constant index.
    return data[tuple(env.xp.asarray(np.asarray(i) - 1) for i in idx)]


def _consecutive(i: Any) -> bool:
    """Whether `i` is a 1-D integer array of consecutive ascending positions."""
    return (
        isinstance(i, np.ndarray) and i.ndim == 1 and i.size > 1 and bool(np.all(np.diff(i) == 1))
    )


def _has_nested_structure(body: sp.Basic) -> bool:
    """Whether a Sum body needs a loop: it holds matrices or further sums/products."""
    return any(
        getattr(n, "is_Matrix", False) or isinstance(n, (sp.Sum, sp.Product))
        for n in sp.preorder_traversal(body)
    )


def _reduce(node: sp.Basic, env: _Env, combine: Callable, reduce_axis: Callable) -> Array:
    """Sum or Product over its limits, the last limit outermost (SymPy's order)."""

    def run(body: sp.Basic, limits: tuple, env: _Env) -> Array:
        var, lo, hi = limits[-1]
        inner = limits[:-1]
        a, b = int(_static(lo, env)), int(_static(hi, env))
        if b < a - 1:
            raise UnsupportedError(
                f"numeric evaluation of {type(node).__name__}", "upper bound below lower bound"
            )
        if not inner and not _has_nested_structure(body):
            # One vectorised pass: the index is bound to all its values at once.
            positions = np.arange(a, b + 1)
            out = env.xp.asarray(_ev(body, env.bind(var, positions)))
            return reduce_axis(env.xp.broadcast_to(out, positions.shape))
        terms = [
            run(body, inner, env.bind(var, i)) if inner else _ev(body, env.bind(var, i))
            for i in range(a, b + 1)
        ]
        return functools.reduce(combine, terms, None) if terms else reduce_axis(np.zeros(0))

    return run(node.function, node.limits, env)


def _first(combine: Callable) -> Callable:
    return lambda acc, x: x if acc is None else combine(acc, x)


@_ev.register
def _(node: sp.Sum, env: _Env) -> Array:
    return _reduce(node, env, _first(operator.add), lambda a: env.xp.sum(a, axis=0))


@_ev.register
def _(node: sp.Product, env: _Env) -> Array:
    return _reduce(node, env, _first(operator.mul), lambda a: env.xp.prod(a, axis=0))


# --- index notation (derive.latex.index_form): 1-based entries, rows, sums of matrices ------


def _position(e: sp.Basic, env: _Env) -> Any:
    """The 0-based array position of a 1-based index (a bound index, or a number)."""
    return env.xp.asarray(np.asarray(_index(e, env)) - 1)


@_ev.register
def _(node: Entry, env: _Env) -> Array:
    parent = _ev(node.parent, env)
    if len(node.indices) == 2:
        i, j = (_position(k, env) for k in node.indices)
        return parent[i, j]
    k = _position(node.indices[0], env)
    return parent[k, 0] if node.parent.shape[1] == 1 else parent[0, k]


@_ev.register
def _(node: Row, env: _Env) -> Array:
    return env.xp.reshape(_ev(node.parent, env)[_position(node.index, env), :], (-1, 1))


@_ev.register
def _(node: sp.KroneckerDelta, env: _Env) -> Array:
    a, b = (np.asarray(_index(k, env)) for k in node.args[:2])
    return env.xp.asarray(np.equal(a, b).astype(float))


@_ev.register
def _(node: MatrixIndexSum, env: _Env) -> Array:
    terms = [_ev(node.term, env.bind(node.index, k)) for k in range(1, _size(node.length, env) + 1)]
    if not terms:
        return env.xp.zeros(_shape(node, env))
    return functools.reduce(operator.add, terms)


@_ev.register
def _(node: Assemble, env: _Env) -> Array:
    rows, cols = _shape(node, env)
    indices = node.indices
    entries = []
    for a in range(1, rows + 1):
        inner = env.bind(indices[0], a)
        if len(indices) == 1:
            entries.append([_ev(node.entry, inner)])
        else:
            entries.append([_ev(node.entry, inner.bind(indices[1], b)) for b in range(1, cols + 1)])
    xp = env.xp
    return xp.stack([xp.stack([xp.asarray(v) for v in row]) for row in entries])


# --- differentials -------------------------------------------------------------------------


def _differential(node: sp.Basic, env: _Env) -> Array:
    """d(e) as the JVP of e in the directions "d" + name of the varying symbols."""
    if env.backend != "jax":
        if env.tangents is not None:
            return env.tangents(node, env.values, env.dims, env.varying, env.bound)
        raise UnsupportedError(
            f"numeric evaluation of {type(node).__name__}",
            "a differential is evaluated as a JVP and needs backend='jax'",
        )
    jax = import_jax()
    names = env.varying
    if not names:
        return env.xp.zeros_like(_ev(node.arg, env))
    primals, tangents = [], []
    for name in names:
        if name not in env.values:
            raise InputError(f"no value given for the varying symbol {name}")
        if "d" + name not in env.values:
            raise InputError(f"no direction d{name} given for the varying symbol {name}")
        p = env.values[name]
        primals.append(p)
        tangents.append(env.xp.reshape(env.values["d" + name], p.shape).astype(p.dtype))

    def f(*vals: Array) -> Array:
        return _ev(node.arg, env.with_values(dict(zip(names, vals, strict=True))))

    _, out = jax.jvp(f, tuple(primals), tuple(tangents))
    return out


_ev.register(ScalarDifferential)(_differential)
_ev.register(MatDifferential)(_differential)


# --- public API ----------------------------------------------------------------------------


def _dim_names(dims: Mapping[str | sp.Symbol, int]) -> dict[str, int]:
    return {(k if isinstance(k, str) else k.name): int(v) for k, v in dims.items()}


def evaluate(
    expr: sp.Basic,
    values: Mapping[str, Any],
    dims: Mapping[str | sp.Symbol, int],
    *,
    backend: str = "numpy",
    varying: Iterable[str] = (),
    tangents: Tangents | None = None,
) -> Array:
    """The value of `expr` with the symbols named in `values` and the sizes in `dims`.

    Matrix expressions give 2-D arrays (column vectors (n, 1)); scalar expressions 0-d arrays.
    Vector values may be passed 1-D. `backend` is "numpy" or "jax"; differentials d(·) need
    "jax" and are JVPs with respect to the `varying` names, in the directions named
    "d" + name in `values`, unless `tangents` computes them for NumPy. Raises
    `UnsupportedError` for a node type it cannot evaluate, `InputError` for a missing value or
    size, `ShapeError` for an array of the wrong shape.
    """
    env = _Env(backend, {}, _dim_names(dims), tuple(varying), tangents=tangents)
    env.values = {k: env.xp.asarray(v, dtype=env.xp.float64) for k, v in values.items()}
    return env.xp.asarray(_ev(expr, env))


def compile_function(
    expr: sp.Basic, given: tuple[Given, ...], backend: str = "numpy"
) -> Callable[..., Any]:
    """A function ``f(**arrays)`` computing `expr` from the `given` symbols by name.

    Vectors are passed as 1-D arrays (an (n, 1) array is accepted too). Sizes are read off
    the arrays through the Given shapes (a string entry is a dimension name, an int a fixed
    size); a missing argument, an unknown name or inconsistent sizes raise `InputError`
    naming the symbol. The result has the shape of `expr`, except that a column vector is
    returned 1-D and a 1×1 matrix or scalar 0-d.
    """
    by_name = {g.name: g for g in given}
    dim_names = {d for g in given for d in g.shape if isinstance(d, str)}
    used = names_used(expr) - dim_names
    unknown = used - set(by_name)
    if unknown:
        raise InputError(
            f"the expression uses {', '.join(sorted(unknown))}, not among the given symbols"
        )
    required = tuple(g.name for g in given if g.name in used)
    _Env(backend, {}, {}, ())  # rejects an unknown backend now rather than at call time
    out_kind = "scalar"
    if getattr(expr, "is_Matrix", False):
        rows, cols = expr.shape
        if (rows, cols) != (1, 1):
            out_kind = "vector" if cols == 1 else "matrix"

    def f(**arrays: Any) -> Any:
        check_argument_names(arrays, given, required)
        dims = check_argument_sizes(arrays, by_name)
        out = evaluate(expr, arrays, dims, backend=backend)
        if out_kind == "scalar":
            out = out.reshape(())
        elif out_kind == "vector":
            out = out.reshape(-1)
        return np.asarray(out) if backend == "numpy" else out

    f.__doc__ = f"Evaluate {expr} ({backend}); keyword arguments: {', '.join(required) or 'none'}."
    return f
