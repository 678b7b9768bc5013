"""Printing the array program as the source of a standalone NumPy or JAX module (`generate`)."""

from __future__ import annotations

import sympy as sp

from derive.codegen.identifiers import RESERVED, identifier
from derive.codegen.lower import Lowering
from derive.codegen.program import ATOM, C, D, M, Node, Program, R, S, kind_of
from derive.errors import InputError, UnsupportedError
from derive.evaluate import names_used
from derive.expr import DIFFERENTIAL_NODES
from derive.model import Given
from derive.notation.text import text

_HELPERS = {
    "_matrix_function": (
        "def _matrix_function(fn, a):\n"
        '    """f(A), f = exp, sin, cos, sinh or cosh, through the matrix exponential:\n'
        "    cos A and sin A are blocks of exp([[0, A], [-A, 0]]), cosh A and sinh A of\n"
        '    exp([[0, A], [A, 0]])."""\n'
        '    if fn == "exp":\n'
        "        return _expm(a)\n"
        "    n = a.shape[0]\n"
        "    z = xp.zeros_like(a)\n"
        '    s = -1.0 if fn in ("sin", "cos") else 1.0\n'
        "    big = _expm(xp.block([[z, a], [s * a, z]]))\n"
        '    return big[:n, :n] if fn in ("cos", "cosh") else big[:n, n:]\n'
    ),
    "_frechet": (
        "def _frechet(fn, x, e):\n"
        '    """L_f(X, E), the Fréchet derivative: the upper-right block of f([[X, E], [0, X]]),\n'
        '    with E scaled to unit size (L is linear in E) against overflow."""\n'
        "    n = x.shape[0]\n"
        "    s = xp.max(xp.abs(e))\n"
        "    s = xp.where(s > 0, s, 1.0)\n"
        "    big = _matrix_function(fn, xp.block([[x, e / s], [xp.zeros_like(x), x]]))\n"
        "    return s * big[:n, n:]\n"
    ),
    "_softmax": (
        "def _softmax(z):\n"
        '    """softmax(z) = exp(z) / Σ exp(z), shifted by max(z) against overflow."""\n'
        "    e = xp.exp(z - xp.max(z))\n"
        "    return e / xp.sum(e)\n"
    ),
    "_logsumexp": (
        "def _logsumexp(z):\n"
        '    """lse(z) = log Σ exp(z), shifted by max(z) against overflow."""\n'
        "    top = xp.max(z)\n"
        "    return top + xp.log(xp.sum(xp.exp(z - top)))\n"
    ),
}


def _order(root: Node) -> list[Node]:
    """The nodes below root, each after its arguments (iterative: programs can be deep)."""
    out: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        n, done = stack.pop()
        if done:
            out.append(n)
            continue
        if id(n) in seen:
            continue
        seen.add(id(n))
        stack.append((n, True))
        stack.extend((a, False) for a in reversed(n.args))
    return out


def _print_program(root: Node, names: dict[int, str]) -> tuple[list[tuple[str, str]], str]:
    """(assignments, returned expression): a node used twice becomes a local (CSE)."""
    order = _order(root)
    uses: dict[int, int] = {id(n): 0 for n in order}
    for n in order:
        for a in n.args:
            uses[id(a)] += 1
    for n in reversed(order):  # parents first: a transparent node passes its uses down
        if n.transparent and uses[id(n)] > 1:
            uses[id(n.args[0])] += uses[id(n)] - 1
    local: set[int] = {
        id(n)
        for n in order
        if uses[id(n)] > 1 and n.op not in ("arg", "dim", "const") and not n.transparent
    }
    counter = 0
    taken = set(names.values())
    text: dict[int, tuple[str, int]] = {}
    lines: list[tuple[str, str]] = []
    for n in order:
        if n.op in ("arg", "dim"):
            text[id(n)] = (names[id(n)], ATOM)
            continue
        if n.transparent:
            text[id(n)] = text[id(n.args[0])]
            continue
        parts = []
        for a, need in zip(n.args, n.needs, strict=True):
            s, prec = text[id(a)]
            parts.append(s if prec >= need else f"({s})")
        rendered = n.template.format(*parts)
        if id(n) in local and n is not root:
            while f"t{counter}" in taken:
                counter += 1
            name = f"t{counter}"
            counter += 1
            lines.append((name, rendered))
            text[id(n)] = (name, ATOM)
        else:
            text[id(n)] = (rendered, n.prec)
    return lines, text[id(root)][0]


def _shape_words(shape: tuple, kind: str) -> str:
    dims = ", ".join(str(d) for d in shape)
    return {
        "scalar": "scalar",
        "vector": f"vector ({dims},)",
        "matrix": f"matrix ({dims})",
    }[kind]


def _doc_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def generate(
    expr: sp.Basic,
    given: tuple[Given, ...],
    *,
    backend: str = "numpy",
    name: str = "f",
    formula: str | None = None,
) -> str:
    """Python source of a module defining ``def name(<args>)`` that computes `expr`.

    The arguments are the given symbols that `expr` reads (and any needed only for a size),
    in the order of `given`; vectors are taken and returned as 1-D arrays. `formula` (default:
    `expr` in Unicode text) goes in the docstring with the argument shapes. Raises
    `UnsupportedError` for a node it cannot lower, `InputError` for a bad name or backend.
    """
    differentials = [a for a in sp.preorder_traversal(expr) if isinstance(a, DIFFERENTIAL_NODES)]
    if differentials:
        raise UnsupportedError(
            f"code generation of the differential {text(differentials[0])}",
            "generated code computes results, which hold no differential",
        )
    prog = Program(backend)
    fn_name = identifier(name)
    by_name = {g.name: g for g in given}
    dim_names = {str(d) for g in given for d in g.shape if isinstance(d, str)}
    used = names_used(expr) - dim_names
    unknown = used - set(by_name)
    if unknown:
        raise InputError(
            f"the expression uses {', '.join(sorted(unknown))}, not among the given symbols"
        )
    idents: dict[str, str] = {}
    for g in given:
        ident = identifier(g.name)
        if ident in idents.values():
            raise InputError(f"two symbols become the Python name {ident!r}; rename one")
        idents[g.name] = ident
    args = {g.name: (idents[g.name], _given_kind(g)) for g in given}
    low = Lowering(prog, args, dim_names)
    low.given_shapes = {g.name: tuple(str(d) for d in g.shape) for g in given}
    root = low(expr)
    out_kind = kind_of(expr.shape) if getattr(expr, "is_Matrix", False) else S
    root = prog.full(root) if out_kind == M or root.kind == D else root

    # Which arguments: those read, then a carrier for each size not read off them.
    params = [g for g in given if g.name in used]
    carriers: dict[str, str] = {}
    prog.dims = {n.key[1] for n in _order(root) if n.op == "dim"}
    for dim in sorted(prog.dims):
        for g in params + [g for g in given if g not in params]:
            if dim in [str(d) for d in g.shape]:
                if g not in params:
                    params.append(g)
                carriers[dim] = f"{idents[g.name]}.shape[{[str(d) for d in g.shape].index(dim)}]"
                break
        else:
            raise InputError(f"no given symbol has the dimension {dim}")
    params.sort(key=lambda g: [x.name for x in given].index(g.name))

    taken = {idents[g.name] for g in given} | RESERVED
    names: dict[int, str] = {}
    dim_idents: dict[str, str] = {}
    for dim in sorted(prog.dims):
        ident = identifier(dim)
        while ident in taken:
            ident += "_"
        taken.add(ident)
        dim_idents[dim] = ident
    for n in _order(root):
        if n.op == "arg":
            names[id(n)] = n.key
        elif n.op == "dim":
            names[id(n)] = dim_idents[n.key[1]]
    lines, result = _print_program(root, names)

    xp = prog.xp
    head = ["import numpy as np"] if backend == "numpy" else ["import jax.numpy as jnp"]
    if prog.special:
        head.append(
            "from scipy import special" if backend == "numpy" else "from jax.scipy import special"
        )
    if prog.expm:
        head.append(
            "from scipy.linalg import expm as _expm"
            if backend == "numpy"
            else "from jax.scipy.linalg import expm as _expm"
        )
    formula = formula if formula is not None else text(expr)
    arg_doc = [f"        {idents[g.name]}: {_shape_words(g.shape, g.kind)}" for g in params] or [
        "        (none)"
    ]
    out_doc = {
        S: "a scalar (0-d array)",
        C: f"a vector of shape ({expr.shape[0] if out_kind != S else ''},)",
        R: f"an array of shape (1, {expr.shape[1] if out_kind != S else ''})",
        M: f"a matrix of shape ({', '.join(map(str, getattr(expr, 'shape', ())))})",
    }[out_kind]
    body = [
        f"def {fn_name}({', '.join(idents[g.name] for g in params)}):",
        '    """' + _doc_escape(formula),
        "",
        "    Arguments (vectors as 1-D arrays):",
        *[_doc_escape(a) for a in arg_doc],
        f"    Returns {out_doc}.",
        '    """',
    ]
    convert = "np.asarray({0}, dtype=np.float64)" if backend == "numpy" else "jnp.asarray({0})"
    for g in params:
        ident = idents[g.name]
        value = convert.format(ident)
        if g.kind == "vector":
            value = f"{xp}.reshape({value}, (-1,))"
        body.append(f"    {ident} = {value}")
    for dim in sorted(prog.dims):
        body.append(f"    {dim_idents[dim]} = {carriers[dim]}")
    body += [f"    {lhs} = {rhs}" for lhs, rhs in lines]
    if out_kind == R:
        result = f"{xp}.reshape({result}, (1, -1))"
    elif out_kind == S:
        result = f"{xp}.asarray({result})"
    body.append(f"    return {result}")
    library = "NumPy" if backend == "numpy" else "JAX"
    if backend == "numpy" and (prog.special or prog.expm):
        library = "NumPy and SciPy"
    module = [
        f'"""{fn_name}: generated by derive; needs {library} only."""',
        "",
        *head,
        "",
    ]
    for h in sorted(prog.helpers):
        module += ["", _HELPERS[h].replace("xp.", xp + ".")]
    module += ["", *body, ""]
    return "\n".join(module)


def _given_kind(g: Given) -> str:
    if g.kind == "scalar":
        return S
    if g.kind == "vector":
        return C
    rows, cols = g.shape
    return kind_of(
        (
            sp.Integer(rows) if isinstance(rows, int) else rows,
            sp.Integer(cols) if isinstance(cols, int) else cols,
        )
    )
