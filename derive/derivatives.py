"""Gradients, Hessians and Jacobians as derivations: rewrite, differentiate, identify, tidy.

    f  →(rewrite rules)→  f'  →(differential rules)→  df  →(trace rules)→  Σ tr(G_kᵀ dX)
       →(collect)→  tr(Gᵀ dX)  →(identification)→  ∂f/∂X = G  →(textbook rules)→  G'

The Hessian continues from the gradient g: dg →(rearrange)→ H dx → ∂²f/∂x∂xᵀ = H.
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
    MatScalar,
    ScalarDifferential,
    ScalarDifferentialSymbol,
    is_matrix,
)
from derive.model import Citation, Claim, Context, Derivation
from derive.problem import Problem
from derive.readoff import gradient_terms, jacobian_of, rearrange_rule
from derive.record import Recorder
from derive.rules import (
    entrywise,
    identify,
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
    if not gs:
        raise UnsupportedError("a function whose differential vanishes identically")
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
        note="Cookbook layout: the gradient has the shape of " + str(x),
    )
    return rec.rewrite(g, TEXTBOOK_RULES, grad_lhs, ctx=ctx.at_a_point() if at_point else ctx)


def gradient_derivation(
    p: Problem, structure: str | None = None, *, at_point: bool = True
) -> Derivation:
    """∂f/∂X by differentials: unstructured (every entry of X independent, what autodiff
    computes) by default; with structure="symmetric", the derivative with respect to the free
    entries X_ij, i ≤ j, of a symmetric X (Cookbook (138))."""
    rec = Recorder(p.ctx)
    f1 = rec.rewrite(p.f, PREPARE_RULES, F)
    if any(s.rule.id == pseudo_inverse.WRITE_OUT.id for s in rec.steps):
        # (Aᵀ(AAᵀ)⁻¹)ᵀAᵀ(AAᵀ)⁻¹ = (AAᵀ)⁻¹ before differentiating, not after
        f1 = rec.rewrite(f1, textbook.SIMPLIFY_PRODUCTS, F)
    df = rec.differentiate(f1, ScalarDifferential(F))
    g = read_off_gradient(rec, df, p.wrt, p.ctx, F, at_point)
    name = str(p.wrt)
    if structure is None:
        return Derivation(
            title=f"Gradient with respect to {name}",
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
    scalar θ, as the derivative of the derivative (Cookbook (48) for det Y(θ)).

    `grad` is ``gradient_derivation(p, at_point=False)`` when the caller has it already: the
    gradient differentiated again, which uses no constraint of the varying symbol."""
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
        title=f"Hessian with respect to {name}",
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
    """∂g/∂xᵀ for a column-vector function g of a column vector x."""
    x = _column_variable(p, "Jacobian")
    rec = Recorder(p.ctx)
    j = _jacobian_steps(
        rec, p.f, x, p.ctx, G_NAME, JacobianOf(G_NAME, x), identify.IDENTIFY_JACOBIAN
    )
    name = str(x)
    return Derivation(
        title=f"Jacobian with respect to {name}",
        goal=f"∂g/∂{name}ᵀ, the Jacobian of g: entry (i, j) is ∂g_i/∂{name}_j",
        given=p.given,
        objective=p.f,
        wrt=(name,),
        steps=tuple(rec.steps),
        results=((JacobianOf(G_NAME, x), j),),
        claims=(Claim("jacobian", "Jacobian against jax.jacobian", j, p.f, (name,)),),
        remarks=p.remarks,
    )
