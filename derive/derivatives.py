"""Gradients, Hessians and Jacobians as derivations: rewrite, differentiate, identify, tidy.

    f  →(rewrite rules)→  f'  →(differential rules)→  df  →(trace rules)→  Σ tr(G_kᵀ dX)
       →(collect)→  tr(Gᵀ dX)  →(identification)→  ∂f/∂X = G  →(textbook rules)→  G'

The Hessian continues from the gradient g: dg →(rearrange)→ H dx → ∂²f/∂x∂xᵀ = H. With
respect to an m × n matrix X it is taken by the second differential, in the vec convention
of Magnus and Neudecker (vec stacks columns):

    d²f = d tr(Gᵀ dX) (dX fixed) = tr(dGᵀ dX) = vec(dX)ᵀ vec(dG) = vec(dX)ᵀ B vec(dX)
       →(second identification theorem)→  ∂²f/∂vec(X)∂vec(X)ᵀ = B  (mn × mn)

and the Jacobian of a p × q matrix function F as ∂vec(F)/∂vec(X)ᵀ (pq × mn), read off
vec(dF) = J vec(dX).
"""

from __future__ import annotations

import sympy as sp

from derive.errors import UnsupportedError
from derive.expr import (
    DifferentialSymbol,
    FrechetDerivative,
    GradientOf,
    HessianOf,
    JacobianOf,
    MatDifferential,
    MatScalar,
    ScalarDifferential,
    ScalarDifferentialSymbol,
    Vec,
    is_matrix,
)
from derive.latex.index_answer import with_index_answer
from derive.model import Citation, Claim, Context, Derivation
from derive.notation.text import text
from derive.problem import Problem
from derive.readoff import gradient_terms, jacobian_of, rearrange_rule, vec_jacobian, vec_of
from derive.record import Recorder
from derive.rules import (
    entrywise,
    identify,
    kronecker,
    matrix_function,
    prepare,
    probability,
    pseudo_inverse,
    textbook,
)
from derive.simplify import tidy

F = sp.Symbol("f")

#: rewritten in f before differentiating: log-densities written out, log softmax as lse
PREPARE_RULES = (
    probability.CATEGORICAL_LOG_DENSITY,
    *pseudo_inverse.PREPARE_RULES,
    *prepare.PREPARE_RULES,
)
G_NAME = sp.Symbol("g")
#: applied to a gradient, Hessian or Jacobian once read off, to bring it to textbook form
TEXTBOOK_RULES = (
    *textbook.TEXTBOOK_RULES,
    *entrywise.TEXTBOOK_RULES,
    *matrix_function.TEXTBOOK_RULES,
    *pseudo_inverse.TEXTBOOK_RULES,
)


def _dvar(x: sp.Basic) -> sp.Basic:
    return DifferentialSymbol(x) if is_matrix(x) else ScalarDifferentialSymbol(x)


def trace_form(g: sp.Basic, x: sp.Basic) -> sp.Basic:
    """tr(gᵀ dX) as a person writes it: gᵀdx for a vector, g dθ for a scalar."""
    dx = _dvar(x)
    if not is_matrix(x):
        return sp.Mul(g, dx, evaluate=False)
    if x.shape[1] == 1:
        return MatScalar(sp.MatMul(sp.Transpose(g), dx))
    return sp.Trace(sp.MatMul(sp.Transpose(g), dx))


def _sum(terms: list[sp.Basic]) -> sp.Basic:
    if len(terms) == 1:
        return terms[0]
    if any(is_matrix(t) for t in terms):
        return sp.MatAdd(*terms)
    return sp.Add(*terms)


def read_off_gradient(
    rec: Recorder,
    df: sp.Basic,
    x: sp.Basic,
    ctx: Context,
    lhs_f: sp.Basic,
    at_point: bool = True,
) -> sp.Basic:
    """From df linear in dX to ∂f/∂X in textbook form, each move recorded in `rec`.

    With at_point=True the textbook form may use every assumption (the gradient is a value
    at a point of the assumed sets); a gradient to be differentiated again (the Hessian's)
    keeps the constraints of the varying symbols out (`Context.constrains`)."""
    dlhs = ScalarDifferential(lhs_f)
    df = rec.rewrite(df, identify.READ_OFF_RULES, dlhs, ctx=ctx)
    terms = list(sp.Add.make_args(df))
    gs: list[sp.Basic] = []
    used: set[str] = set()
    for t in terms:
        gs.extend(tidy(g, ctx) for g in gradient_terms(t, sp.S.One, used))
    if not gs:  # df = 0: f is constant in x (cosh² − sinh²); the zero is checked like any result
        gs = [sp.ZeroMatrix(*x.shape) if is_matrix(x) else sp.S.Zero]
    if not is_matrix(x):
        gs = [tidy(MatScalar(g), ctx) if is_matrix(g) else g for g in gs]
    rearrange = rearrange_rule(used)
    if len(gs) > 1:
        form = sp.Add(*[trace_form(g, x) for g in gs], evaluate=False)
        if form != df:
            rec.cite(rearrange, dlhs, df, form)
        g = tidy(_sum(gs), ctx)
        collected = rec.cite(identify.COLLECT, dlhs, form, trace_form(g, x))
    else:
        g = gs[0]
        collected = trace_form(g, x)
        if collected != df:
            rec.cite(rearrange, dlhs, df, collected)
    grad_lhs = GradientOf(lhs_f, x)
    rec.cite(
        identify.IDENTIFY_GRADIENT,
        grad_lhs,
        collected,
        g,
        relation="gradient",
        note="Cookbook layout: the gradient has the shape of " + text(x),
    )
    return rec.rewrite(g, TEXTBOOK_RULES, grad_lhs, ctx=ctx.at_a_point() if at_point else ctx)


def gradient_derivation(
    p: Problem, structure: str | None = None, *, at_point: bool = True
) -> Derivation:
    """∂f/∂X by differentials: unstructured (every entry of X independent, what autodiff
    computes) by default; with structure="symmetric", the derivative with respect to the free
    entries X_ij, i ≤ j, of a symmetric X (Cookbook (138))."""
    rec = Recorder(p.ctx, steps=p.opening)  # a formula in index notation: to matrices first
    f1 = rec.rewrite(p.f, PREPARE_RULES, F)
    if any(s.rule.id == pseudo_inverse.WRITE_OUT.id for s in rec.steps):
        # (Aᵀ(AAᵀ)⁻¹)ᵀAᵀ(AAᵀ)⁻¹ = (AAᵀ)⁻¹ before differentiating, not after
        f1 = rec.rewrite(f1, textbook.SIMPLIFY_PRODUCTS, F)
    df = rec.differentiate(f1, ScalarDifferential(F))
    g = read_off_gradient(rec, df, p.wrt, p.ctx, F, at_point)
    name = str(p.wrt)
    if structure is None:
        d = Derivation(
            title=f"Gradient with respect to {text(p.wrt)}",
            goal=(
                f"∂f/∂{name}, the gradient of f with respect to {name} (it has the shape of {name})"
            ),
            given=p.given,
            objective=p.f,
            wrt=(name,),
            steps=tuple(rec.steps),
            results=((GradientOf(F, p.wrt), g),),
            claims=(Claim("gradient", f"∂f/∂{name} against jax.grad", g, p.f, (name,)),),
            remarks=p.remarks,
        )
        if p.index_form is not None and at_point:  # the answer in the input's notation too
            return with_index_answer(d, p.f, p.wrt, F)
        return d
    if structure != "symmetric":
        raise UnsupportedError(f"the structure {structure!r}", "the one offered is 'symmetric'")
    x = p.wrt
    if not (is_matrix(x) and x.shape[0] == x.shape[1] and x.shape[1] != 1):
        raise UnsupportedError(
            f"a symmetric gradient with respect to {name} of shape {x.shape}",
            "symmetry is a property of square matrices",
        )
    lhs = GradientOf(F, x)
    s = rec.transform(
        trace_form(g, x),
        identify.SYMMETRIC_GRADIENT,
        lhs,
        note=(
            f"{name} is symmetric: differentiate with respect to its free entries "
            f"{name}_ij, i ≤ j; an off-diagonal entry appears twice in {name}"
        ),
        relation="symmetric-gradient",
        wrt=(name,),
    )
    s2 = rec.rewrite(tidy(s, p.ctx), TEXTBOOK_RULES, lhs, ctx=p.ctx.at_a_point())
    return Derivation(
        title=f"Gradient with respect to the symmetric matrix {name}",
        goal=(
            f"df/d{name} for a symmetric {name}: the derivative with respect to the free "
            f"entries {name}_ij, i ≤ j (Cookbook (138)); not the unstructured gradient "
            "that autodiff computes"
        ),
        given=p.given,
        objective=p.f,
        wrt=(name,),
        steps=tuple(rec.steps),
        results=((lhs, s2),),
        claims=(
            Claim(
                "symmetric-gradient",
                f"df/d{name} against jax.grad over the entries {name}_ij, i ≤ j",
                s2,
                p.f,
                (name,),
            ),
        ),
        remarks=p.remarks,
    )


def _jacobian_steps(
    rec: Recorder,
    y: sp.Basic,
    x: sp.Basic,
    ctx: Context,
    lhs_y: sp.Basic,
    result_lhs: sp.Basic,
    ident: Citation,
) -> sp.Basic:
    """d y (a column vector of x) → J dx → result_lhs = J, each move recorded in `rec`."""
    dy = rec.differentiate(y, ScalarDifferential(lhs_y), ctx=ctx)
    dx = _dvar(x)
    if any(isinstance(a, FrechetDerivative) for a in sp.preorder_traversal(dy)):
        raise UnsupportedError(
            "a Jacobian or Hessian through the derivative L_f of a matrix function "
            "(expm, sinm, …) of the variable",
            "its gradient is supported",
        )
    j = tidy(jacobian_of(dy, dx), ctx)
    form = sp.MatMul(j, dx)
    if form != dy:
        rec.cite(identify.REARRANGE_JACOBIAN, ScalarDifferential(lhs_y), dy, form)
    rec.cite(ident, result_lhs, form, j, relation="jacobian")
    return rec.rewrite(j, TEXTBOOK_RULES, result_lhs, ctx=ctx.at_a_point())


def _column_variable(p: Problem, what: str, scalar_ok: bool = False) -> sp.Basic:
    x = p.wrt
    if scalar_ok and not is_matrix(x):
        return x
    if not (is_matrix(x) and x.shape[1] == 1):
        raise UnsupportedError(
            f"a {what} with respect to {x} of shape {x.shape}",
            f"{what}s are taken with respect to a column vector",
        )
    return x


def hessian_derivation(p: Problem, grad: Derivation | None = None) -> Derivation:
    """∂²f/∂x∂xᵀ for a column vector x, as the Jacobian of the gradient; ∂²f/∂θ² for a
    scalar θ, as the derivative of the derivative (Cookbook (48) for det Y(θ));
    ∂²f/∂vec(X)∂vec(X)ᵀ for a matrix X, by the second differential (`matrix_hessian`).

    `grad` is ``gradient_derivation(p, at_point=False)`` when the caller has it already: the
    gradient differentiated again, which uses no constraint of the varying symbol."""
    if _is_wide(p.wrt):
        return matrix_hessian(p, grad)
    x = _column_variable(p, "Hessian", scalar_ok=True)
    grad = grad or gradient_derivation(p, at_point=False)
    g = grad.result
    rec = Recorder(p.ctx, steps=grad.steps)
    if is_matrix(x):
        h = _jacobian_steps(
            rec, g, x, p.ctx, GradientOf(F, x), HessianOf(F, x), identify.IDENTIFY_HESSIAN
        )
    else:  # a scalar θ: d²f/dθ², the derivative of the derivative, read off d(∂f/∂θ)
        dg = rec.differentiate(g, ScalarDifferential(GradientOf(F, x)))
        h = read_off_gradient(rec, dg, x, p.ctx, GradientOf(F, x))
    name = str(x)
    return Derivation(
        title=f"Hessian with respect to {text(x)}",
        goal=(
            f"∂²f/∂{name}∂{name}ᵀ, the Hessian of f, as the Jacobian of the gradient"
            if is_matrix(x)
            else f"∂²f/∂{name}², the second derivative of f, as the derivative of ∂f/∂{name}"
        ),
        given=p.given,
        objective=p.f,
        wrt=(name,),
        steps=tuple(rec.steps),
        results=((HessianOf(F, x), h), (GradientOf(F, x), g)),
        claims=grad.claims + (Claim("hessian", "Hessian against jax.hessian", h, p.f, (name,)),),
        remarks=p.remarks,
    )


def jacobian_derivation(p: Problem) -> Derivation:
    """∂g/∂xᵀ for a column-vector function g of a column vector x; ∂vec(F)/∂vec(X)ᵀ when the
    function (given as F or vec(F)) or the variable is a matrix (`matrix_jacobian`)."""
    if _is_wide(p.wrt) or isinstance(p.f, Vec) or (is_matrix(p.f) and _is_wide(p.f)):
        return matrix_jacobian(p)
    x = _column_variable(p, "Jacobian")
    rec = Recorder(p.ctx)
    j = _jacobian_steps(
        rec, p.f, x, p.ctx, G_NAME, JacobianOf(G_NAME, x), identify.IDENTIFY_JACOBIAN
    )
    name = str(x)
    return Derivation(
        title=f"Jacobian with respect to {text(x)}",
        goal=f"∂g/∂{name}ᵀ, the Jacobian of g: entry (i, j) is ∂g_i/∂{name}_j",
        given=p.given,
        objective=p.f,
        wrt=(name,),
        steps=tuple(rec.steps),
        results=((JacobianOf(G_NAME, x), j),),
        claims=(Claim("jacobian", "Jacobian against jax.jacobian", j, p.f, (name,)),),
        remarks=p.remarks,
    )


# --- with respect to a matrix: the vec convention (Magnus & Neudecker) ---------------------


def vec_note(lhs: sp.Basic, rows: sp.Expr, x: sp.Basic) -> str:
    """The one line that says the convention, as a gradient says "Cookbook layout"."""
    size = x.shape[0] * x.shape[1]
    return (
        f"vec convention (Magnus & Neudecker): vec stacks columns; {text(lhs)} is "
        f"{text(rows)} × {text(size)}"
    )


def _is_wide(e: sp.Basic) -> bool:
    """A matrix with more than one column (not a scalar, not a column vector)."""
    return is_matrix(e) and e.shape[1] != 1


def _fresh_label(p: Problem, shape: tuple, name: str = "F") -> sp.MatrixSymbol:
    """A matrix symbol for the function's name in labels (dF, ∂vec(F)/∂vec(X)ᵀ), named so that
    it does not collide with a given symbol."""
    taken = {g.name for g in p.given}
    while name in taken:
        name += "'"
    return sp.MatrixSymbol(name, *shape)


def matrix_hessian(p: Problem, grad: Derivation | None = None) -> Derivation:
    """∂²f/∂vec(X)∂vec(X)ᵀ (mn × mn) for an m × n matrix X, by the second differential:
    d²f = d tr(Gᵀ dX) with dX fixed, G = ∂f/∂X; tr(dGᵀ dX) = vec(dX)ᵀ vec(dG) (Cookbook (13),
    (521)) = vec(dX)ᵀ B vec(dX) (520) with K where dXᵀ appears; then H = ½(B + Bᵀ) = B by the
    second identification theorem, B being the derivative of the gradient."""
    x = p.wrt
    grad = grad or gradient_derivation(p, at_point=False)
    g = grad.result
    rec = Recorder(p.ctx, steps=grad.steps)
    dx = DifferentialSymbol(x)
    d2f = ScalarDifferential(ScalarDifferential(F))
    second = rec.differentiate(trace_form(g, x), d2f)
    dg = _outer_coefficient(second, dx)
    if dg is None:  # the differential of G, taken on its own (the step is checked numerically)
        dg = tidy(Recorder(p.ctx).differentiate(g, d2f), p.ctx)
    vdx = Vec(dx)
    inner = rec.cite(
        kronecker.VEC_TRACE, d2f, second, MatScalar(sp.MatMul(sp.Transpose(vdx), vec_of(dg)))
    )
    b = tidy(vec_jacobian(dg, dx), p.ctx)
    form = rec.cite(kronecker.VEC_PRODUCT, d2f, inner, kronecker.quadratic_form(b, vdx))
    name = str(x)
    lhs = HessianOf(F, x)
    rec.cite(
        kronecker.IDENTIFY_HESSIAN,
        lhs,
        form,
        b,
        relation="hessian",
        wrt=(name,),
        note=vec_note(lhs, x.shape[0] * x.shape[1], x),
    )
    h = _textbook(rec, b, lhs, p.ctx.at_a_point())
    return Derivation(
        title=f"Hessian with respect to the matrix {text(x)}",
        goal=(
            f"{text(lhs)}, the Hessian of f in the vec convention (vec stacks the columns of "
            f"{text(x)}), by the second differential"
        ),
        given=p.given,
        objective=p.f,
        wrt=(name,),
        steps=tuple(rec.steps),
        results=((lhs, h), (GradientOf(F, x), g)),
        claims=grad.claims
        + (Claim("hessian", "Hessian against jax.hessian in the vec layout", h, p.f, (name,)),),
        remarks=p.remarks,
    )


def _textbook(rec: Recorder, e: sp.Basic, lhs: sp.Basic, ctx: Context) -> sp.Basic:
    """A result in the vec convention in textbook form: the Kronecker and commutation rules
    until none applies (the mixed product before any factor is taken out of a sum), then the
    matrix rules, then the Kronecker rules again on what those left."""
    e = rec.rewrite(e, kronecker.TEXTBOOK_RULES, lhs, ctx=ctx)
    e = rec.rewrite(e, TEXTBOOK_RULES, lhs, ctx=ctx)
    return rec.rewrite(e, kronecker.TEXTBOOK_RULES, lhs, ctx=ctx)


def _outer_coefficient(second: sp.Basic, dx: sp.Basic) -> sp.Basic | None:
    """P where `second` is written tr(Pᵀ dX), as d tr(Gᵀ dX) with dX fixed leaves it."""
    if isinstance(second, sp.Trace) and isinstance(second.arg, sp.MatMul):
        args = second.arg.args
        if len(args) == 2 and args[1] == dx and isinstance(args[0], sp.Transpose):
            return args[0].arg
    return None


def matrix_jacobian(p: Problem) -> Derivation:
    """∂vec(F)/∂vec(X)ᵀ (pq × mn) for a p × q matrix function F (given as F or vec(F)) of an
    m × n matrix or vector X: dF by the differential rules, vec(dF) = J vec(dX) by (520) and
    the commutation matrix, J read off by the first identification theorem."""
    x = p.wrt
    if not is_matrix(x):
        raise UnsupportedError(
            f"a Jacobian with respect to the scalar {x}", "take the derivative with grad"
        )
    fn = p.f.arg if isinstance(p.f, Vec) else p.f
    if not is_matrix(fn):
        raise UnsupportedError("the Jacobian of a scalar function", "take its gradient")
    label = _fresh_label(p, fn.shape)
    rec = Recorder(p.ctx)
    dfn = rec.differentiate(fn, MatDifferential(label))
    dx = DifferentialSymbol(x)
    j = tidy(vec_jacobian(dfn, dx), p.ctx)
    vdx = vec_of(dx)
    lhs_vec = MatDifferential(vec_of(label))
    form = rec.cite(kronecker.VEC_PRODUCT, lhs_vec, vec_of(dfn), _times_vec(j, vdx))
    name = str(x)
    lhs = JacobianOf(vec_of(label), x)
    size = fn.shape[0] * fn.shape[1]
    rec.cite(
        kronecker.IDENTIFY_JACOBIAN,
        lhs,
        form,
        j,
        relation="jacobian",
        wrt=(name,),
        note=vec_note(lhs, size, x),
    )
    result = _textbook(rec, j, lhs, p.ctx.at_a_point())
    function = p.f if is_matrix(p.f) and p.f.shape[1] == 1 else Vec(fn)
    return Derivation(
        title=f"Jacobian with respect to {text(x)}",
        goal=(
            f"{text(lhs)}, the Jacobian of {text(label)} = {text(fn)} in the vec convention: "
            f"entry (i, j) is the derivative of entry i of vec({text(label)}) by entry j of "
            f"vec({text(x)}) (vec stacks columns)"
        ),
        given=p.given,
        objective=p.f,
        wrt=(name,),
        steps=tuple(rec.steps),
        results=((lhs, result),),
        claims=(
            Claim(
                "jacobian",
                "Jacobian against jax.jacobian in the vec layout",
                result,
                function,
                (name,),
            ),
        ),
        remarks=p.remarks,
    )


def _times_vec(j: sp.Basic, v: sp.Basic) -> sp.Basic:
    """J vec(dX), the product with J's factors kept flat."""
    if isinstance(j, sp.MatMul):
        return sp.MatMul(*j.args, v)
    return sp.MatMul(j, v)
