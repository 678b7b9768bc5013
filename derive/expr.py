"""Expression nodes that SymPy lacks, and constructors that keep forms unevaluated.

SymPy's matrix expressions (MatrixSymbol, MatMul, MatAdd, Transpose, Inverse, Trace,
Determinant, HadamardProduct, ElementwiseApplyFunction, OneMatrix, Identity, DiagMatrix) are the
vocabulary. This module adds what a derivation needs on top:

- `MatScalar(M)`: a 1×1 matrix expression used as a scalar, so that ``x^T A x + c`` is legal;
- `ScalarDifferential(e)` / `MatDifferential(e)`: the unevaluated differential d(e);
- `DifferentialSymbol(X)`: the symbol dX;
- `Softmax(z)`, `LogSumExp(z)`: column-vector softmax and log-sum-exp;
- `MatrixFunction(X, f)`, `FrechetDerivative(X, E, f)`: expm(X), sinm(X), … and L_f(X, E);
- `sigmoid`, `softplus`: scalar functions applied elementwise through `elementwise`;
- `Vec(A)`, `CommutationMatrix(m, n)`: vec(A) (columns stacked) and K_mn, for Hessians
  and Jacobians with respect to a matrix (the vec convention of Magnus & Neudecker);
- `GradientOf`, `HessianOf`, `JacobianOf`: labels ∂f/∂X for the left side of an equation.

Constructors here never let SymPy rewrite a form behind the engine's back (``.T`` on a sum
distributes; `transpose` here does not).
"""

from __future__ import annotations

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr


class MatScalar(sp.Expr):
    """The single entry of a 1×1 matrix expression M, as a scalar: ``uᵀv`` in ``uᵀv + 1``."""

    is_commutative = True
    is_real = True

    def __new__(cls, arg: sp.Basic) -> sp.Expr:
        if not getattr(arg, "is_Matrix", False) or tuple(arg.shape) != (1, 1):
            raise TypeError(f"MatScalar needs a 1x1 matrix expression, got {arg}")
        if isinstance(arg, sp.ZeroMatrix):
            return sp.S.Zero
        return sp.Basic.__new__(cls, arg)

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]

    def _eval_transpose(self) -> sp.Expr:
        return self


class ScalarDifferential(sp.Expr):
    """d(e) for a scalar expression e, not yet evaluated."""

    is_commutative = True

    def __new__(cls, arg: sp.Basic) -> sp.Expr:
        return sp.Basic.__new__(cls, arg)

    @property
    def arg(self) -> sp.Basic:
        return self.args[0]


class _ShapePreserving(MatrixExpr):
    """A matrix node of one argument with that argument's shape, evaluated as a whole."""

    def __new__(cls, arg: MatrixExpr) -> MatrixExpr:
        return sp.Basic.__new__(cls, arg)

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]

    @property
    def shape(self) -> tuple:
        return self.args[0].shape

    def _entry(self, i, j, **kwargs):  # pragma: no cover - never indexed
        raise TypeError(f"{type(self).__name__} is evaluated as a whole, not by entries")


class MatDifferential(_ShapePreserving):
    """d(E) for a matrix expression E, not yet evaluated; it has the shape of E."""


class DifferentialSymbol(sp.MatrixSymbol):
    """dX: the differential of the matrix (or column vector) symbol X."""

    def __new__(cls, base: sp.MatrixSymbol | sp.Basic | str, *shape: sp.Expr) -> DifferentialSymbol:
        if shape:  # SymPy rebuilding the node from its args (name, rows, cols)
            return sp.MatrixSymbol.__new__(cls, base, *shape)
        return sp.MatrixSymbol.__new__(cls, "d" + base.name, *base.shape)

    @property
    def base_name(self) -> str:
        return self.name[1:]


class ScalarDifferentialSymbol(sp.Symbol):
    """dθ: the differential of a scalar symbol θ."""

    def __new__(cls, base: sp.Symbol | str, **assumptions: bool) -> ScalarDifferentialSymbol:
        name = base if isinstance(base, str) else "d" + base.name
        return sp.Symbol.__new__(cls, name, real=True)

    def __getnewargs_ex__(self):
        return ((self.name,), {})

    @property
    def base_name(self) -> str:
        return self.name[1:]


class Softmax(_ShapePreserving):
    """softmax(z) = exp(z) / (1ᵀ exp(z)) for a column vector z."""

    def __new__(cls, arg: MatrixExpr) -> Softmax:
        if arg.shape[1] != 1:
            raise TypeError(f"softmax takes a column vector, got shape {arg.shape}")
        return sp.Basic.__new__(cls, arg)


class LogSumExp(sp.Expr):
    """lse(z) = log(1ᵀ exp(z)) for a column vector z; a scalar."""

    is_commutative = True
    is_real = True

    def __new__(cls, arg: MatrixExpr) -> LogSumExp:
        if arg.shape[1] != 1:
            raise TypeError(f"log-sum-exp takes a column vector, got shape {arg.shape}")
        return sp.Basic.__new__(cls, arg)

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]


class NuclearNorm(sp.Expr):
    """‖X‖_*: the sum of the singular values of X, tr((XᵀX)^{1/2})."""

    is_commutative = True
    is_real = True

    def __new__(cls, arg: MatrixExpr) -> NuclearNorm:
        if not getattr(arg, "is_Matrix", False):
            raise TypeError(f"the nuclear norm is of a matrix, got {arg}")
        return sp.Basic.__new__(cls, arg)

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]


class PolarFactor(_ShapePreserving):
    """polar(X) = UVᵀ for the thin singular value decomposition X = UΣVᵀ: the orthogonal
    factor of the polar decomposition, X(XᵀX)^{-1/2} when X has full column rank. It is the
    gradient of ‖X‖_* wherever X has full rank."""


class ExtremeEigenvalue(sp.Expr):
    """λ_max(A) or λ_min(A): the largest or smallest eigenvalue of a symmetric matrix A."""

    is_commutative = True
    is_real = True

    def __new__(cls, arg: MatrixExpr, which: str | Str = "max") -> ExtremeEigenvalue:
        which = which.name if isinstance(which, Str) else which  # SymPy rebuilding the node
        if not getattr(arg, "is_Matrix", False) or arg.shape[0] != arg.shape[1]:
            raise TypeError(f"an eigenvalue needs a square matrix, got {arg}")
        if which not in ("max", "min"):
            raise TypeError(f"which must be 'max' or 'min', got {which!r}")
        return sp.Basic.__new__(cls, arg, Str(which))

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]

    @property
    def which(self) -> str:
        return self.args[1].name


class ExtremeEigenvector(MatrixExpr):
    """v_max(A) or v_min(A): a unit eigenvector of λ_max(A) or λ_min(A), a column vector
    (its sign is arbitrary; it appears in results only as v vᵀ or vᵀ M v)."""

    def __new__(cls, arg: MatrixExpr, which: str | Str = "max") -> ExtremeEigenvector:
        which = which.name if isinstance(which, Str) else which  # SymPy rebuilding the node
        return sp.Basic.__new__(cls, arg, Str(which))

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]

    @property
    def which(self) -> str:
        return self.args[1].name

    @property
    def shape(self) -> tuple:
        return (self.args[0].shape[0], sp.S.One)

    def _entry(self, i, j, **kwargs):  # pragma: no cover - never indexed
        raise TypeError("an eigenvector is evaluated as a whole, not by entries")


class PseudoInverse(_ShapePreserving):
    """A⁺, the Moore–Penrose pseudo-inverse of A (m × n, so A⁺ is n × m)."""

    @property
    def shape(self) -> tuple:
        return (self.args[0].shape[1], self.args[0].shape[0])


#: the analytic matrix functions: name → (name of its derivative f′, sign of f′)
MATRIX_FUNCTIONS: dict[str, tuple[str, int]] = {
    "exp": ("exp", 1),
    "sin": ("cos", 1),
    "cos": ("sin", -1),
    "sinh": ("cosh", 1),
    "cosh": ("sinh", 1),
}


def _function_name(name: str | Str) -> str:
    name = name.name if isinstance(name, Str) else name  # SymPy rebuilding the node
    if name not in MATRIX_FUNCTIONS:
        raise TypeError(f"no matrix function {name!r}; known: {', '.join(MATRIX_FUNCTIONS)}")
    return name


class _OfMatrixFunction(_ShapePreserving):
    """A node f(X, …) of a named matrix function f: args (X, …, Str(f)), the shape of X."""

    @property
    def fn(self) -> str:
        """The scalar function's name: "exp", "sin", …"""
        return self.args[-1].name


class MatrixFunction(_OfMatrixFunction):
    """f(X) = Σₖ cₖ Xᵏ, an analytic function of a square matrix X (exp, sin, cos, sinh,
    cosh): the matrix function, not f applied to each entry. Printed expm(X), sinm(X), …"""

    def __new__(cls, arg: MatrixExpr, name: str | Str) -> MatrixFunction:
        name = _function_name(name)
        if not getattr(arg, "is_Matrix", False) or arg.shape[0] != arg.shape[1]:
            raise TypeError(f"a matrix function needs a square matrix, got {arg}")
        return sp.Basic.__new__(cls, arg, Str(name))


class FrechetDerivative(_OfMatrixFunction):
    """L_f(X, E): the Fréchet derivative of the matrix function f at X in the direction E,
    f(X + E) = f(X) + L_f(X, E) + o(‖E‖); linear in E. For f(X) = Σₖ cₖXᵏ it is
    Σₖ cₖ Σⱼ Xʲ E Xᵏ⁻¹⁻ʲ."""

    def __new__(cls, arg: MatrixExpr, direction: MatrixExpr, name: str | Str) -> FrechetDerivative:
        name = _function_name(name)
        if tuple(arg.shape) != tuple(direction.shape) or arg.shape[0] != arg.shape[1]:
            raise TypeError(f"L_f(X, E) needs square X and E of one shape, got {arg}, {direction}")
        return sp.Basic.__new__(cls, arg, direction, Str(name))

    @property
    def direction(self) -> MatrixExpr:
        return self.args[1]


class sigmoid(sp.Function):  # noqa: N801 - a function name, as sp.exp
    """The logistic sigmoid σ(t) = 1 / (1 + e^{-t}); σ'(t) = σ(t)(1 − σ(t))."""

    is_real = True

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, arg):  # noqa: D102 - SymPy hook
        if arg.is_zero:
            return sp.S.Half


class softplus(sp.Function):  # noqa: N801
    """softplus(t) = log(1 + e^t); softplus'(t) = σ(t)."""

    is_real = True

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0])


class relu(sp.Function):  # noqa: N801
    """The rectifier ReLU(t) = max(0, t); ReLU'(t) = step(t) wherever t ≠ 0 (at 0 it has no
    derivative)."""

    is_real = True

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return step(self.args[0])

    @classmethod
    def eval(cls, arg):  # noqa: D102 - SymPy hook
        if arg.is_number and arg.is_real:
            return sp.Max(0, arg)


class step(sp.Function):  # noqa: N801
    """The unit step: 1 for t > 0, 0 for t < 0 (undefined at 0, where ReLU has a kink). Its
    derivative exists only as a distribution (Dirac's delta), so a second derivative through
    it is refused."""

    is_real = True

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.DiracDelta(self.args[0])

    @classmethod
    def eval(cls, arg):  # noqa: D102 - SymPy hook
        if arg.is_number and arg.is_real and not arg.is_zero:
            return sp.S.One if arg.is_positive else sp.S.Zero


class Vec(MatrixExpr):
    """vec(A): the columns of the m×n matrix A stacked into one mn-vector (column-major),
    vec(A)_{i + m·j} = A_ij counting from 0 (Magnus & Neudecker's vec; the Cookbook's
    (520)–(524))."""

    def __new__(cls, arg: MatrixExpr) -> Vec:
        if not getattr(arg, "is_Matrix", False):
            raise TypeError(f"vec takes a matrix, got {arg}")
        return sp.Basic.__new__(cls, arg)

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]

    @property
    def shape(self) -> tuple:
        rows, cols = self.args[0].shape
        return (rows * cols, sp.S.One)

    def _entry(self, i, j, **kwargs):  # pragma: no cover - never indexed
        raise TypeError("vec(A) is evaluated as a whole, not by entries")


def _size(d: sp.Expr | int) -> sp.Expr:
    """A dimension as a SymPy object: an int becomes an Integer (never sympify: see
    tests/test_bad_input.py)."""
    return sp.Integer(d) if isinstance(d, int) else d


class CommutationMatrix(MatrixExpr):
    """K_mn: the mn × mn permutation matrix with K_mn vec(A) = vec(Aᵀ) for every m × n
    matrix A; K_mnᵀ = K_mn⁻¹ = K_nm (Magnus & Neudecker, Matrix Differential Calculus,
    ch. 3, the commutation matrix)."""

    def __new__(cls, m: sp.Expr | int, n: sp.Expr | int) -> CommutationMatrix:
        return sp.Basic.__new__(cls, _size(m), _size(n))

    @property
    def m(self) -> sp.Expr:
        """The rows of the matrix A whose vec K_mn transposes."""
        return self.args[0]

    @property
    def n(self) -> sp.Expr:
        """The columns of that matrix A."""
        return self.args[1]

    @property
    def shape(self) -> tuple:
        size = self.args[0] * self.args[1]
        return (size, size)

    def _entry(self, i, j, **kwargs):  # pragma: no cover - never indexed
        raise TypeError("K is evaluated as a whole, not by entries")


class GradientOf(sp.Expr):
    """Label ∂f/∂X (Cookbook layout: the shape of X)."""

    def __new__(cls, f: sp.Basic, wrt: sp.Basic) -> GradientOf:
        return sp.Basic.__new__(cls, f, wrt)


class HessianOf(sp.Expr):
    """Label ∂²f/∂x∂xᵀ."""

    def __new__(cls, f: sp.Basic, wrt: sp.Basic) -> HessianOf:
        return sp.Basic.__new__(cls, f, wrt)


class JacobianOf(sp.Expr):
    """Label ∂g/∂xᵀ (entry (i, j) is ∂g_i/∂x_j)."""

    def __new__(cls, f: sp.Basic, wrt: sp.Basic) -> JacobianOf:
        return sp.Basic.__new__(cls, f, wrt)


#: the nodes that are differentials: d(e) unevaluated, and dX, dθ
DIFFERENTIAL_NODES = (
    ScalarDifferential,
    MatDifferential,
    DifferentialSymbol,
    ScalarDifferentialSymbol,
)


# --- constructors that keep forms as written -------------------------------------------------

_T = sp.Symbol("t", real=True)


def elementwise(fn: sp.Lambda | type, arg: MatrixExpr) -> ElementwiseApplyFunction:
    """f∘(X): the scalar function ``fn`` applied to each entry of X."""
    lam = fn if isinstance(fn, sp.Lambda) else sp.Lambda(_T, fn(_T))
    return ElementwiseApplyFunction(lam, arg)


def transpose(e: sp.Basic) -> sp.Basic:
    """Xᵀ, unevaluated except for scalars and double transposes."""
    if not getattr(e, "is_Matrix", False):
        return e
    if isinstance(e, sp.Transpose):
        return e.arg
    if isinstance(e, (sp.Identity, sp.ZeroMatrix, sp.OneMatrix)) and e.shape[0] == e.shape[1]:
        return e
    if isinstance(e, (sp.ZeroMatrix, sp.OneMatrix)):
        return type(e)(e.shape[1], e.shape[0])
    return sp.Transpose(e)


def ones(n: sp.Expr) -> sp.OneMatrix:
    """The all-ones column vector 1 of length n."""
    return sp.OneMatrix(n, 1)


def d(e: sp.Basic) -> sp.Basic:
    """The unevaluated differential of e."""
    return MatDifferential(e) if getattr(e, "is_Matrix", False) else ScalarDifferential(e)


def is_matrix(e: sp.Basic) -> bool:
    return bool(getattr(e, "is_Matrix", False))


def normalize(e: sp.Basic) -> sp.Basic:
    """Wrap every 1×1 matrix expression that sits in a scalar position in `MatScalar`.

    SymPy lets a 1×1 `MatMul` stand where a scalar is meant (``log(x.T*x)``); the engine wants
    the scalar view explicit. `MatrixElement` M[0, 0] of a 1×1 M becomes MatScalar(M).
    """
    if isinstance(e, MatrixElement) and tuple(e.parent.shape) == (1, 1):
        return MatScalar(normalize(e.parent))
    if not e.args or isinstance(e, (sp.MatrixSymbol, sp.Symbol, sp.Lambda)):
        return e
    if isinstance(e, MatScalar):
        return MatScalar(normalize(e.arg))
    scalar_parent = not is_matrix(e) and not isinstance(
        e,
        (
            sp.Trace,
            sp.Determinant,
            LogSumExp,
            ScalarDifferential,
            GradientOf,
            HessianOf,
            JacobianOf,
        ),
    )
    new_args = []
    for a in e.args:
        a2 = normalize(a)
        if scalar_parent and is_matrix(a2) and tuple(a2.shape) == (1, 1):
            a2 = MatScalar(a2)
        new_args.append(a2)
    if isinstance(e, ElementwiseApplyFunction):
        return ElementwiseApplyFunction(e.function, new_args[1])
    if tuple(new_args) == tuple(e.args):
        return e
    return e.func(*new_args)


def split_coeff(term: sp.Basic) -> tuple[sp.Expr, list[sp.Basic]]:
    """A matrix term as (scalar coefficient, matrix factors): 2 c A x → (2c, [A, x])."""
    if isinstance(term, sp.MatMul):
        scalars = [a for a in term.args if not is_matrix(a)]
        mats = [a for a in term.args if is_matrix(a)]
        return sp.Mul(*scalars), mats
    return sp.S.One, [term]


def mat_mul(scalar: sp.Expr, factors: list[sp.Basic]) -> sp.Basic:
    """scalar · F1 F2 ⋯ built without canonicalisation beyond the trivial ones."""
    shape_src = factors
    if scalar == 0:
        return sp.ZeroMatrix(shape_src[0].shape[0], shape_src[-1].shape[1])
    if len(factors) == 1 and scalar == 1:
        return factors[0]
    args = ([] if scalar == 1 else [scalar]) + factors
    return sp.MatMul(*args)
