"""Index notation to matrix notation: the identities a sum over an index is rewritten by.

    Σᵢ vᵢ = 𝟏ᵀv            Σᵢ xᵢyᵢ = xᵀy              Σⱼ Aᵢⱼxⱼ = (Ax)ᵢ
    Σᵢⱼ AᵢⱼBᵢⱼ = tr(AᵀB)   Σᵢⱼ xᵢAᵢⱼyⱼ = xᵀAy         Σᵢ Aᵢᵢ = tr(A)
    xᵢᵀw = (Xw)ᵢ           Σᵢ xᵢxᵢᵀ = XᵀX             Σⱼ δᵢⱼaⱼ = aᵢ
    ∏ᵢ vᵢ = det diag(v)    Σᵢ₌₁ⁿ c = nc              f(x)ᵢ = f(xᵢ)

The engine's algorithm (`derive.latex.contract`) finds, for each sum of a formula read in
index notation, the products its terms are, and cites these for each step. The examples are
written with SymPy's 0-based `MatrixElement` (the engine's own entries are 1-based, as a
student writes them); each is checked numerically like every rule.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.matexpr import MatrixElement

from derive.expr import MatScalar, elementwise
from derive.model import Citation, RuleExample
from derive.rules.registry import register
from derive.rules.symbols import ms as _ms

m, n = sp.symbols("m n", integer=True, positive=True)
i, j, k = sp.symbols("i j k", integer=True)


def _at(e: sp.Basic, *idx: sp.Basic) -> MatrixElement:
    """Entry e[idx] (0-based), column 0 of a vector."""
    return MatrixElement(e, idx[0], idx[1] if len(idx) > 1 else 0)


def _sum(body: sp.Expr, *over: tuple[sp.Symbol, sp.Expr]) -> sp.Sum:
    """Σ over each (index, length) pair, 0-based: the last pair outermost."""
    return sp.Sum(body, *[(s, 0, length - 1) for s, length in over])


def _q(e: sp.Basic) -> MatScalar:
    return MatScalar(e)


x, y, v, w = (_ms(s, n) for s in "xyvw")
A, B = _ms("A", n, m), _ms("B", n, m)
S = _ms("S", n, n)

SUM_OF_ENTRIES = register(
    Citation(
        id="index.sum-of-entries",
        name="A sum of entries as a product with 𝟏",
        source="elementary: definition of the matrix product, 𝟏ᵀv = Σᵢ 1·vᵢ",
        statement=(
            r"\sum_i v_i = \mathbf{1}^{\top} v,\ "
            r"\sum_{i,j} A_{ij} = \mathbf{1}^{\top} A \mathbf{1}"
        ),
        examples=lambda: [
            RuleExample(_sum(_at(v, i), (i, n)), _q(sp.MatMul(sp.OneMatrix(1, n), v))),
            RuleExample(
                _sum(_at(A, i, j), (j, m), (i, n)),
                _q(sp.MatMul(sp.OneMatrix(1, n), A, sp.OneMatrix(m, 1))),
            ),
        ],
    )
)

INNER_PRODUCT = register(
    Citation(
        id="index.inner-product",
        name="A sum of products as an inner product",
        source="elementary: definition of the matrix product, xᵀy = Σᵢ xᵢyᵢ",
        statement=r"\sum_i x_i y_i = x^{\top} y",
        examples=lambda: [
            RuleExample(_sum(_at(x, i) * _at(y, i), (i, n)), _q(sp.MatMul(sp.Transpose(x), y))),
        ],
    )
)

MATRIX_PRODUCT = register(
    Citation(
        id="index.matrix-product",
        name="A sum over the inner index as a matrix product",
        source="elementary: definition of the matrix product, (AB)ᵢₖ = Σⱼ AᵢⱼBⱼₖ",
        statement=r"\sum_j A_{ij} x_j = (A x)_i,\ \sum_j A_{ij} B_{jk} = (A B)_{ik}",
        examples=lambda: [
            RuleExample(
                _sum(_at(A, 0, j) * _at(_ms("u", m), j), (j, m)),
                _at(sp.MatMul(A, _ms("u", m)), 0),
            ),
            RuleExample(
                _sum(_at(A, 0, j) * _at(sp.Transpose(B), j, 0), (j, m)),
                _at(sp.MatMul(A, sp.Transpose(B)), 0, 0),
            ),
        ],
    )
)

TRACE_INNER_PRODUCT = register(
    Citation(
        id="index.trace-inner-product",
        name="A double sum of products as a trace",
        source=(
            "Matrix Cookbook (2012) eq. (11), tr(M) = Σⱼ Mⱼⱼ, with the definition of the "
            "matrix product: tr(AᵀB) = Σⱼ Σᵢ AᵢⱼBᵢⱼ and tr(AC) = Σᵢ Σⱼ AᵢⱼCⱼᵢ"
        ),
        statement=(
            r"\sum_{i,j} A_{ij} B_{ij} = \operatorname{tr}(A^{\top} B),\ "
            r"\sum_{i,j} A_{ij} C_{ji} = \operatorname{tr}(A C)"
        ),
        cookbook=("11",),
        examples=lambda: [
            RuleExample(
                _sum(_at(A, i, j) * _at(B, i, j), (j, m), (i, n)),
                sp.Trace(sp.MatMul(sp.Transpose(A), B)),
            ),
            RuleExample(
                _sum(_at(A, i, j) * _at(sp.Transpose(B), j, i), (j, m), (i, n)),
                sp.Trace(sp.MatMul(A, sp.Transpose(B))),
            ),
        ],
    )
)

BILINEAR_FORM = register(
    Citation(
        id="index.bilinear-form",
        name="A double sum as a bilinear form",
        source="elementary: definition of the matrix product, xᵀAy = Σᵢ Σⱼ xᵢAᵢⱼyⱼ",
        statement=r"\sum_{i,j} x_i A_{ij} y_j = x^{\top} A y",
        examples=lambda: [
            RuleExample(
                _sum(_at(x, i) * _at(A, i, j) * _at(_ms("u", m), j), (j, m), (i, n)),
                _q(sp.MatMul(sp.Transpose(x), A, _ms("u", m))),
            ),
        ],
    )
)

TRACE = register(
    Citation(
        id="index.trace",
        name="A sum of diagonal entries as a trace",
        source="Matrix Cookbook (2012) eq. (11)",
        statement=r"\sum_i A_{ii} = \operatorname{tr}(A)",
        cookbook=("11",),
        examples=lambda: [RuleExample(_sum(_at(S, i, i), (i, n)), sp.Trace(S))],
    )
)

SAMPLE_ROWS = register(
    Citation(
        id="index.sample-rows",
        name="Samples as the rows of a data matrix",
        source=(
            "elementary: definition of the matrix product, row i of X being the sample xᵢᵀ: "
            "xᵢᵀw = (Xw)ᵢ"
        ),
        statement=(
            r"x_i^{\top} w = (X w)_i,\ x_i^{\top} A x_i = ((X A) \circ X) \mathbf{1})_i "
            r"\quad (X^{\top} = [x_1, \dots, x_n])"
        ),
        examples=lambda: [
            RuleExample(
                _sum(_at(A, 0, k) * _at(_ms("u", m), k), (k, m)),
                _at(sp.MatMul(A, _ms("u", m)), 0),
            ),
            RuleExample(
                _sum(_at(A, 0, k) * _at(_ms("C", m, m), k, j) * _at(A, 0, j), (j, m), (k, m)),
                _at(
                    sp.MatMul(
                        sp.HadamardProduct(sp.MatMul(A, _ms("C", m, m)), A), sp.OneMatrix(m, 1)
                    ),
                    0,
                ),
            ),
        ],
    )
)

OUTER_PRODUCTS = register(
    Citation(
        id="index.outer-products",
        name="A sum of outer products of rows",
        source=(
            "elementary: definition of the matrix product, with aᵢᵀ and bᵢᵀ the rows of A and "
            "B: (AᵀB)ₖₗ = Σᵢ AᵢₖBᵢₗ"
        ),
        statement=r"\sum_i a_i b_i^{\top} = A^{\top} B,\ \sum_i x_i x_i^{\top} = X^{\top} X",
        examples=lambda: [
            RuleExample(
                _sum(_at(A, i, 0) * _at(B, i, 0), (i, n)),
                _at(sp.MatMul(sp.Transpose(A), B), 0, 0),
            ),
        ],
    )
)

KRONECKER_DELTA = register(
    Citation(
        id="index.kronecker-delta",
        name="The Kronecker delta keeps one term",
        source="definition of the Kronecker delta: δᵢⱼ = 1 where i = j, and 0 elsewhere",
        statement=r"\sum_j \delta_{ij} a_j = a_i",
        examples=lambda: [
            RuleExample(_sum(sp.KroneckerDelta(0, j) * _at(v, j), (j, n)), _at(v, 0)),
            RuleExample(_sum(sp.KroneckerDelta(i, j) * _at(S, i, j), (j, n), (i, n)), sp.Trace(S)),
        ],
    )
)

PRODUCT_OF_ENTRIES = register(
    Citation(
        id="index.product-of-entries",
        name="A product of entries as a determinant",
        source=(
            "Matrix Cookbook (2012) eq. (18), det(A) = ∏ᵢ λᵢ: the eigenvalues of diag(v) "
            "are its entries"
        ),
        statement=r"\prod_i v_i = \det(\operatorname{diag}(v))",
        cookbook=("18",),
        examples=lambda: [
            RuleExample(sp.Product(_at(v, i), (i, 0, n - 1)), sp.Determinant(DiagMatrix(v)))
        ],
    )
)

CONSTANT_TERM = register(
    Citation(
        id="index.constant-term",
        name="A term that does not depend on the index",
        source="elementary: Σᵢ₌₁ⁿ c = nc",
        statement=r"\sum_{i=1}^{n} c = n c,\ \sum_{i,j} u_i = n_j \sum_i u_i",
        examples=lambda: [
            RuleExample(_sum(_at(v, 0), (i, n)), n * _at(v, 0)),
            # j runs over n too: a bound that is no symbol's dimension would be drawn as a real
            RuleExample(_sum(_at(v, i), (j, n), (i, n)), n * _q(sp.MatMul(sp.OneMatrix(1, n), v))),
        ],
    )
)

SEPARABLE_SUM = register(
    Citation(
        id="index.separable-sum",
        name="A double sum of a product of separate factors",
        source="elementary: distributivity, Σᵢ Σⱼ uᵢvⱼ = (Σᵢ uᵢ)(Σⱼ vⱼ)",
        statement=r"\sum_{i,j} u_i v_j = (\mathbf{1}^{\top} u)(\mathbf{1}^{\top} v)",
        examples=lambda: [
            RuleExample(
                _sum(_at(v, i) * _at(_ms("u", m), j), (j, m), (i, n)),
                _q(sp.MatMul(sp.OneMatrix(1, n), v))
                * _q(sp.MatMul(sp.OneMatrix(1, m), _ms("u", m))),
            ),
        ],
    )
)

ENTRYWISE = register(
    Citation(
        id="index.entrywise",
        name="Entrywise operations act on each entry",
        source="definition of the entrywise (Hadamard) operations",
        statement=(
            r"f(x)_i = f(x_i),\ (x \circ y)_i = x_i y_i,\ (x + y)_i = x_i + y_i,\ "
            r"(c\,x)_i = c\,x_i,\ (x y^{\top})_{ij} = x_i y_j"
        ),
        examples=lambda: [
            RuleExample(_at(elementwise(sp.exp, x), 0), sp.exp(_at(x, 0))),
            RuleExample(_at(sp.HadamardProduct(x, y), 0), _at(x, 0) * _at(y, 0)),
            RuleExample(
                _at(sp.MatMul(x, sp.Transpose(_ms("u", m))), 0, 0),
                _at(x, 0) * _at(_ms("u", m), 0),
            ),
        ],
    )
)

#: the identities of a sum written out entrywise, in the order a step cites them first
RULES = (
    KRONECKER_DELTA,
    SAMPLE_ROWS,
    TRACE_INNER_PRODUCT,
    BILINEAR_FORM,
    TRACE,
    OUTER_PRODUCTS,
    MATRIX_PRODUCT,
    INNER_PRODUCT,
    SUM_OF_ENTRIES,
    SEPARABLE_SUM,
    PRODUCT_OF_ENTRIES,
    CONSTANT_TERM,
    ENTRYWISE,
)
