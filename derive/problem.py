"""A differentiation problem: the function, the variable, the symbols' shapes and assumptions.

Shapes: () scalar, (n,) column vector, (m, n) matrix; entries are ints or dimension names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.printing.pretty.pretty_symbology import pretty_symbol

from derive.errors import InputError, ShapeError
from derive.expr import (
    DifferentialSymbol,
    MatScalar,
    NuclearNorm,
    ScalarDifferentialSymbol,
    is_matrix,
    normalize,
    relu,
)
from derive.model import Context, Given, Remark, Step

ASSUMPTIONS = (
    "symmetric",
    "spd",
    "invertible",
    "positive",
    "nonnegative",
    "nonzero",
    "prob",
    "onehot",
    "binary",
    "unit",
    "full-column-rank",
    "full-row-rank",
)

Shape = tuple[int | str, ...]


@dataclass(frozen=True)
class Problem:
    f: sp.Basic
    wrt: sp.Basic
    given: tuple[Given, ...]
    ctx: Context
    remarks: tuple[Remark, ...] = ()
    #: f as written in index notation (Σᵢ yᵢ log pᵢ), None for a formula in matrix notation
    index_form: sp.Basic | None = None
    #: the cited steps from `index_form` to f, which a derivation opens with
    opening: tuple[Step, ...] = ()


def dim_name(d: sp.Basic) -> int | str:
    if d.is_Integer:
        return int(d)
    if isinstance(d, sp.Symbol):
        return d.name
    raise ShapeError(f"a dimension must be a number or a name, got {d}")


def shape_of(sym: sp.Basic) -> Shape:
    """The API shape of a symbol: () scalar, (n,) column vector, (m, n) matrix."""
    if isinstance(sym, sp.MatrixSymbol):
        rows, cols = sym.shape
        if cols == 1:
            return (dim_name(rows),)
        return (dim_name(rows), dim_name(cols))
    return ()


def symbols_of(f: sp.Basic) -> dict[str, sp.Basic]:
    """The free scalar and matrix symbols of f by name (dimension symbols excluded)."""
    dims = set()
    out: dict[str, sp.Basic] = {}
    for node in sp.preorder_traversal(f):
        if isinstance(node, sp.MatrixSymbol) and not isinstance(node, DifferentialSymbol):
            dims |= node.shape[0].free_symbols | node.shape[1].free_symbols
            if node.name in out and out[node.name] != node:
                raise ShapeError(
                    f"{node.name} is used with two shapes: {shape_of(out[node.name])} "
                    f"and {shape_of(node)}"
                )
            out[node.name] = node
        elif isinstance(node, (sp.OneMatrix, sp.Identity, sp.ZeroMatrix)):
            for s in node.shape:
                dims |= s.free_symbols
    bound = set()
    for node in sp.preorder_traversal(f):
        if isinstance(node, sp.Lambda):
            bound |= set(node.variables)
    for s in f.free_symbols:
        if isinstance(s, ScalarDifferentialSymbol):
            continue
        if isinstance(s, sp.Symbol) and s not in dims and s not in bound:
            out.setdefault(s.name, s)
    return out


def _implied(
    f: sp.Basic, syms: dict[str, sp.Basic], declared: Mapping[str, set[str]]
) -> tuple[dict[str, set[str]], list[Remark]]:
    """Assumptions a numeric check needs because f would be undefined otherwise, and remarks
    saying so where the user did not declare them (conditions, which the check draws inside)."""
    implied: dict[str, set[str]] = {}
    remarks: list[Remark] = []
    for node in sp.preorder_traversal(f):
        if (
            isinstance(node, sp.log)
            and isinstance(node.args[0], sp.Determinant)
            and isinstance(node.args[0].arg, DiagMatrix)
            and isinstance(node.args[0].arg.args[0], sp.MatrixSymbol)
        ):  # log ∏ᵢ xᵢ is defined for positive entries
            implied.setdefault(node.args[0].arg.args[0].name, set()).add("positive")
        elif isinstance(node, sp.log) and isinstance(node.args[0], sp.Determinant):
            arg = node.args[0].arg
            if isinstance(arg, sp.MatrixSymbol):
                implied.setdefault(arg.name, set()).add("posdet")
                if not declared.get(arg.name, set()) & {"spd", "posdet"}:
                    shown = pretty_symbol(arg.name)
                    remarks.append(
                        Remark.condition(f"log det {shown} is defined for det {shown} > 0")
                    )
        if isinstance(node, sp.Inverse) and isinstance(node.arg, sp.MatrixSymbol):
            implied.setdefault(node.arg.name, set()).add("invertible")
        if isinstance(node, ElementwiseApplyFunction) and isinstance(node.expr, sp.MatrixSymbol):
            (var,) = node.function.variables
            body = node.function.expr
            if isinstance(body, sp.log) and body.args[0] == var:
                implied.setdefault(node.expr.name, set()).add("positive")
        if isinstance(node, sp.log) and isinstance(node.args[0], sp.Symbol):
            implied.setdefault(node.args[0].name, set()).add("positive")
        if (
            isinstance(node, ElementwiseApplyFunction)
            and node.shape[1] != 1
            and node.shape[0] == node.shape[1]
        ):
            # sin X of a matrix: a reader of the Cookbook may mean the matrix function (128)
            shown = _function_name(node.function)
            matrix_form = (
                f"; for that, write \\operatorname{{{shown}m}}({node.expr})"
                if shown in ("exp", "sin", "cos")
                else ", which is not supported"
            )
            note = Remark.stated(
                f"{shown} is applied to each entry of the matrix {node.expr}; it is not the "
                f"matrix function {shown}(X) = Σ cₖXᵏ{matrix_form}",
                "Matrix Cookbook (2012) eq. (128); N. J. Higham, Functions of Matrices, SIAM 2008",
            )
            if shown and note not in remarks:
                remarks.append(note)
    for kinked, what in (
        ((sp.Abs,), "|t| has no derivative at t = 0"),
        ((relu,), "ReLU(t) = max(0, t) has no derivative at t = 0 (its derivative is step(t))"),
        ((NuclearNorm,), "‖X‖_* has no derivative where X loses rank"),
    ):
        if f.has(*kinked):
            note = Remark.condition(
                f"{what}: the result holds wherever that does not happen (random draws "
                "never land there)"
            )
            if note not in remarks:
                remarks.append(note)
    return implied, remarks


def _check_rank_shape(name: str, sym: sp.Basic, kinds: set[str]) -> None:
    """A full-column-rank matrix cannot be wide, nor a full-row-rank one tall."""
    if not isinstance(sym, sp.MatrixSymbol) or 1 in (sym.shape[0], sym.shape[1]):
        raise ShapeError(f"{name} is assumed of full rank but is not a matrix")
    rows, cols = sym.shape
    if "full-column-rank" in kinds and "full-row-rank" in kinds and rows != cols:
        raise ShapeError(f"{name} cannot have both full column and full row rank unless square")
    if rows.is_Integer and cols.is_Integer:
        if "full-column-rank" in kinds and rows < cols:
            raise ShapeError(f"{name} is {rows} × {cols}, so it cannot have full column rank")
        if "full-row-rank" in kinds and rows > cols:
            raise ShapeError(f"{name} is {rows} × {cols}, so it cannot have full row rank")


def _function_name(fn: sp.Lambda) -> str:
    """sin, exp, tanh…: the name of a Lambda t ↦ f(t) for a named f, else ""."""
    (var,) = fn.variables
    body = fn.expr
    if isinstance(body, sp.Function) and body.args == (var,):
        return type(body).__name__
    return ""


def _culprits(f: sp.Basic, sources: Mapping[str, str]) -> str:
    """ "; x is read as a vector by convention (…)": the symbols whose kind came from a
    convention and whose dimensions make f a vector or matrix, for an error message."""
    dims = set(f.shape[0].free_symbols | f.shape[1].free_symbols)
    named = []
    for node in sp.preorder_traversal(f):
        if (
            isinstance(node, sp.MatrixSymbol)
            and sources.get(node.name, "").startswith("convention")
            and (node.shape[0].free_symbols | node.shape[1].free_symbols) & dims
            and node.name not in named
        ):
            named.append(node.name)
    if not named:
        return ""
    return "; " + "; ".join(
        f"{n} is read as a {'vector' if 'vector' in sources[n] else 'matrix'} only by "
        f"convention ({sources[n].removeprefix('convention: ')}): declare --shape {n}= if it "
        "is a number"
        for n in named
    )


def make_problem(
    f: sp.Basic,
    wrt: str,
    shapes: Mapping[str, Shape] | None = None,
    assume: Mapping[str, str | tuple[str, ...]] | None = None,
    *,
    vector_valued: bool = False,
) -> Problem:
    """Validate the inputs of `derive.gradient` and friends; build the problem.

    Names may be written in LaTeX (``\\Sigma``, ``W_{1}``) in wrt, shapes and assume alike.
    """
    from derive.latex import read_latex, symbol_name

    if not isinstance(shapes or {}, Mapping) or not isinstance(assume or {}, Mapping):
        raise InputError("shapes and assume map names to shapes and assumption kinds")
    sources: Mapping[str, str] = {}
    index = None
    if isinstance(f, str):
        reading = read_latex(f, shapes, assume)
        f, sources, index = reading.expr, reading.sources, reading.index
    if not isinstance(f, sp.Basic):
        raise InputError(f"f must be a SymPy expression, got {type(f).__name__}")
    f = normalize(f)
    if vector_valued and (not is_matrix(f) or tuple(f.shape) == (1, 1)):
        from derive.notation.text import text

        raise ShapeError(
            f"a Jacobian is taken of a vector function, and f = {text(f)} is a number: its "
            "derivative is the gradient (derive grad; the Jacobian of a number is the "
            "gradient transposed)"
        )
    if is_matrix(f):
        if vector_valued:
            if f.shape[1] != 1:
                raise ShapeError(f"a Jacobian needs a column-vector function, got shape {f.shape}")
        elif tuple(f.shape) == (1, 1):
            f = MatScalar(f)
        else:
            raise ShapeError(
                f"the gradient needs a scalar function; f has shape {f.shape[0]}x{f.shape[1]}"
                + _culprits(f, sources)
            )
    syms = symbols_of(f)

    def named(text: str, what: str) -> str:  # a symbol of f as it is, else LaTeX for one
        return text if isinstance(text, str) and text in syms else symbol_name(text, what)

    if not isinstance(wrt, str):
        wrt = getattr(wrt, "name", None) or str(wrt)
    wrt = named(wrt, "wrt")
    shapes = {named(name, "a shape"): shp for name, shp in (shapes or {}).items()}
    for name, shp in shapes.items():
        shp = tuple(shp)
        if name in syms and shape_of(syms[name]) != shp:
            raise ShapeError(f"{name} has shape {shape_of(syms[name])} in f but {shp} was declared")
    if wrt not in syms:
        raise InputError(f"f does not depend on {wrt!r}; its symbols are {', '.join(sorted(syms))}")
    assume_sets: dict[str, set[str]] = {}
    for name, kinds in (assume or {}).items():
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        for kind in kinds:
            if kind not in ASSUMPTIONS:
                raise InputError(
                    f"unknown assumption {kind!r} for {name}; known: {', '.join(ASSUMPTIONS)}"
                )
        name = named(name, "an assumption")
        if name not in syms:
            raise InputError(f"assumption on {name!r}, which does not occur in f")
        assume_sets.setdefault(name, set()).update(kinds)
    implied, remarks = _implied(f, syms, assume_sets)
    for name, kinds in implied.items():
        if name not in syms:  # a Lambda's bound variable
            continue
        have = assume_sets.setdefault(name, set())
        if "posdet" in kinds and have & {"spd"}:
            kinds = kinds - {"posdet"}
        if "invertible" in kinds and have & {"spd", "posdet"}:
            kinds = kinds - {"invertible"}
        if "positive" in kinds and have & {"prob"}:
            kinds = kinds - {"positive"}
        have.update(kinds)
    for name, kinds in assume_sets.items():
        sym = syms[name]
        if kinds & {"full-column-rank", "full-row-rank"}:
            _check_rank_shape(name, sym, kinds)
        if kinds & {"symmetric", "spd", "invertible", "posdet"}:
            if not isinstance(sym, sp.MatrixSymbol) or sym.shape[0] != sym.shape[1]:
                raise ShapeError(f"{name} is assumed {'/'.join(sorted(kinds))} but is not square")
    given = tuple(
        Given(
            name,
            shape_of(sym),
            tuple(sorted(assume_sets.get(name, ()))),
            source="given" if name in shapes else sources.get(name, ""),
        )
        for name, sym in sorted(syms.items())
    )
    ctx = Context(
        varying=frozenset({syms[wrt]}),
        assume={k: frozenset(v) for k, v in assume_sets.items()},
    )
    return Problem(
        f=f,
        wrt=syms[wrt],
        given=given,
        ctx=ctx,
        remarks=tuple(remarks),
        index_form=index.form if index is not None else None,
        opening=_opening(index, f),
    )


def _opening(index: object, f: sp.Basic) -> tuple[Step, ...]:
    """The steps from a formula's index form to f, each citing its identity (the moves of
    `derive.latex.contract`, the last ending at f exactly as the derivation starts)."""
    if index is None or not index.moves:
        return ()
    from derive.record import Recorder

    rec = Recorder()
    before = index.form
    for k, move in enumerate(index.moves):
        after = f if k == len(index.moves) - 1 else move.after
        before = rec.cite(move.rule, sp.Symbol("f"), before, after, move.note)
    return tuple(rec.steps)
