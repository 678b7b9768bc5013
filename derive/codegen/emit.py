"""Printing the array program as the source of a standalone NumPy or JAX module (`generate`)."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from derive.arguments import names_used
from derive.codegen.identifiers import RESERVED, identifier
from derive.codegen.lower import Lowering
from derive.codegen.program import ATOM, C, D, M, Node, Program, R, S, kind_of
from derive.errors import InputError, UnsupportedError
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
    "_diag_minus_outer": (
        "def _diag_minus_outer(d, u, v):\n"
        '    """diag(d) − u vᵀ, each entry written once: the outer product, then d added to\n'
        '    its diagonal (in place for NumPy; a JAX array is immutable)."""\n'
        "    out = xp.outer(-u, v)\n"
        "    i = xp.arange(d.shape[0])\n"
        '    if hasattr(out, "at"):\n'
        "        return out.at[i, i].add(d)\n"
        "    out[i, i] += d\n"
        "    return out\n"
    ),
}


def _order(roots: list[Node]) -> list[Node]:
    """The nodes below the roots, each after its arguments (iterative: programs can be deep)."""
    out: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(r, False) for r in reversed(roots)]
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


def _print_program(
    roots: list[Node], names: dict[int, str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """(assignments, the returned expression of each root): a node used twice, or a root
    another root uses, becomes a local (CSE)."""
    order = _order(roots)
    uses: dict[int, int] = {id(n): 0 for n in order}
    for n in order:
        for a in n.args:
            uses[id(a)] += 1
    for r in roots:  # each root is used once more, by the return
        uses[id(r)] += 1
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
        if id(n) in local:
            while f"t{counter}" in taken:
                counter += 1
            name = f"t{counter}"
            counter += 1
            lines.append((name, rendered))
            text[id(n)] = (name, ATOM)
        else:
            text[id(n)] = (rendered, n.prec)
    return lines, [text[id(r)][0] for r in roots]


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
    in the order of `given`, each named by `identifier`; vectors are taken and returned as
    1-D arrays. `formula` (default: `expr` in Unicode text) goes in the docstring with the
    argument shapes. Raises `UnsupportedError` for a node it cannot lower, `InputError` for a
    bad name or backend.
    """
    return _module(((name, expr),), given, backend, name, formula, as_tuple=False)


def generate_outputs(
    outputs: Sequence[tuple[str, sp.Basic]],
    given: tuple[Given, ...],
    *,
    backend: str = "numpy",
    name: str = "f",
    formula: str | None = None,
) -> str:
    """As `generate`, for several expressions at once: ``def name(<args>)`` returns a named
    tuple of the `outputs` (field name, expression) in order, computing what they share once.
    The tuple's type is defined in the module, named for the function (``MlpBackpropResults``
    for ``mlp_backprop``)."""
    if not outputs:
        raise InputError("no expression to generate code for")
    return _module(tuple(outputs), given, backend, name, formula, as_tuple=True)


def results_type_name(function: str) -> str:
    """The named tuple a function returns: mlp_backprop → MlpBackpropResults."""
    words = [w for w in function.split("_") if w]
    return "".join(w[:1].upper() + w[1:] for w in words) + "Results"


def _out_kind(expr: sp.Basic) -> str:
    return kind_of(expr.shape) if getattr(expr, "is_Matrix", False) else S


def _out_doc(expr: sp.Basic, out_kind: str) -> str:
    return {
        S: "a scalar (0-d array)",
        C: f"a vector of shape ({expr.shape[0] if out_kind != S else ''},)",
        R: f"an array of shape (1, {expr.shape[1] if out_kind != S else ''})",
        M: f"a matrix of shape ({', '.join(map(str, getattr(expr, 'shape', ())))})",
    }[out_kind]


def _module(
    outputs: tuple[tuple[str, sp.Basic], ...],
    given: tuple[Given, ...],
    backend: str,
    name: str,
    formula: str | None,
    as_tuple: bool,
) -> str:
    """The module source for `generate` (one output, returned as is) and `generate_outputs`
    (several, returned as a named tuple)."""
    exprs = [e for _, e in outputs]
    for e in exprs:
        differentials = [a for a in sp.preorder_traversal(e) if isinstance(a, DIFFERENTIAL_NODES)]
        if differentials:
            raise UnsupportedError(
                f"code generation of the differential {text(differentials[0])}",
                "generated code computes results, which hold no differential",
            )
    prog = Program(backend)
    fn_name = identifier(name)
    fields = [identifier(f) for f, _ in outputs]
    if as_tuple and len(set(fields)) != len(fields):
        raise InputError(f"two outputs have the same name: {', '.join(fields)}")
    by_name = {g.name: g for g in given}
    dim_names = {str(d) for g in given for d in g.shape if isinstance(d, str)}
    used = set().union(*(names_used(e) for e in exprs)) - dim_names
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
    kinds = [_out_kind(e) for e in exprs]
    roots = []
    for e, out_kind in zip(exprs, kinds, strict=True):
        root = low(e)
        roots.append(prog.full(root) if out_kind == M or root.kind == D else root)

    # Which arguments: those read, then a carrier for each size not read off them.
    params = [g for g in given if g.name in used]
    carriers: dict[str, str] = {}
    prog.dims = {n.key[1] for n in _order(roots) if n.op == "dim"}
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
    for n in _order(roots):
        if n.op == "arg":
            names[id(n)] = n.key
        elif n.op == "dim":
            names[id(n)] = dim_idents[n.key[1]]
    lines, results = _print_program(roots, names)

    xp = prog.xp
    for k, out_kind in enumerate(kinds):
        if out_kind == R:
            results[k] = f"{xp}.reshape({results[k]}, (1, -1))"
        elif out_kind == S:
            results[k] = f"{xp}.asarray({results[k]})"
    type_name = results_type_name(fn_name)
    head = ["import numpy as np"] if backend == "numpy" else ["import jax.numpy as jnp"]
    if as_tuple:
        head.insert(0, "from collections import namedtuple\n")
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
    formula = formula if formula is not None else "\n".join(text(e) for e in exprs)
    arg_doc = [f"        {idents[g.name]}: {_shape_words(g.shape, g.kind)}" for g in params] or [
        "        (none)"
    ]
    if as_tuple:
        returns = [f"    Returns a named tuple {type_name} of"] + [
            f"        {f}: {_out_doc(e, k)}" for f, e, k in zip(fields, exprs, kinds, strict=True)
        ]
    else:
        returns = [f"    Returns {_out_doc(exprs[0], kinds[0])}."]
    body = [
        f"def {fn_name}({', '.join(idents[g.name] for g in params)}):",
        '    """' + _doc_escape(formula),
        "",
        "    Arguments (vectors as 1-D arrays):",
        *[_doc_escape(a) for a in arg_doc],
        *returns,
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
    if as_tuple:
        body.append(f"    return {type_name}(")
        body += [f"        {f}={r}," for f, r in zip(fields, results, strict=True)]
        body.append("    )")
    else:
        body.append(f"    return {results[0]}")
    library = "NumPy" if backend == "numpy" else "JAX"
    if backend == "numpy" and (prog.special or prog.expm):
        library = "NumPy and SciPy"
    module = [
        f'"""{fn_name}: generated by derive; needs {library} only."""',
        "",
        *head,
        "",
    ]
    if as_tuple:
        quoted = ", ".join(f'"{f}"' for f in fields)
        define = f'{type_name} = namedtuple("{type_name}", [{quoted}])'
        if len(define) > 99:
            define = f'{type_name} = namedtuple(\n    "{type_name}",\n    [{quoted}],\n)'
        module += ["", define, ""]
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
