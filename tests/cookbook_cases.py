r"""The Matrix Cookbook chapter-2 conformance cases: data only (tests/test_cookbook.py runs them).

Each `Case` instantiates Cookbook (2012) identities, cited by the equation numbers of
``shared/cookbook/equations.md`` (None for a composition), through the public API exactly as a
user writes it: the LaTeX of f, the shapes of its symbols (distinct dimension sizes wherever
the identity allows; square only when needed), the assumptions, the variable, the kind of
derivative, the expected answer as a NumPy function typed from the book, and the expected
textbook form as LaTeX. Inputs are drawn per name by the test (`draw` there): vectors as 1-D
arrays, non-symmetric matrices unless an assumption or `domain` says otherwise.

`compare` says how the form test judges the engine's result against `form`: "structural"
(equal after `derive.simplify.canonical`) or "ops" (no more operations than the textbook form,
for answers whose textbook writing is not unique, e.g. diag(u) v against u ∘ v).
`numeric_xfail` / `form_xfail` give the reason when the engine is known to fail that test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg

#: distinct sizes, so that a transposed or mis-shaped answer cannot pass by accident
DIMS = {"m": 4, "n": 3, "k": 2, "p": 5}

Values = Mapping[str, Any]


@dataclass(frozen=True)
class Case:
    """One conformance case: kind ∈ {gradient, hessian, jacobian} of `latex` by `wrt`."""

    id: str
    eqs: tuple[str, ...] | None
    latex: str
    shapes: Mapping[str, tuple[str | int, ...]]
    wrt: str
    expected: Callable[[Values], Any]
    form: str
    kind: str = "gradient"
    assume: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    #: sampling-only domains ("positive", "binary", ...) for symbols the engine infers itself
    domain: Mapping[str, str] = field(default_factory=dict)
    compare: str = "structural"
    numeric_xfail: str = ""
    form_xfail: str = ""


inv = np.linalg.inv
det = np.linalg.det
outer = np.outer
tr = np.trace


def sig(t: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-t))


def softmax(z: Any) -> Any:
    e = np.exp(z - np.max(z))
    return e / e.sum()


def softplus(t: Any) -> Any:
    return np.logaddexp(0.0, t)


def _n(v: Values, name: str) -> int:
    return v[name].shape[0]


def _eye(v: Values, name: str) -> Any:
    return np.eye(_n(v, name))


# --- shapes used again and again ---------------------------------------------------------------
SQ = {"X": ("n", "n")}
X_MN = {"X": ("m", "n")}


def _xtax(v: Values) -> Any:
    return v["X"].T @ v["A"] @ v["X"]


def _pow(m: Any, k: int) -> Any:
    return np.linalg.matrix_power(m, k)


CASES: list[Case] = []


def add(*args: Any, **kwargs: Any) -> None:
    CASES.append(Case(*args, **kwargs))


# === 2.1 Derivatives of a determinant: (46), (49)-(58), (43) ===================================
add("det-second-derivative", ("48",), r"\det(A + \theta B)",
    {"A": ("n", "n"), "B": ("n", "n"), "theta": ()}, "theta",
    lambda v: det(v["A"] + v["theta"] * v["B"]) * (
        np.trace(inv(v["A"] + v["theta"] * v["B"]) @ v["B"]) ** 2
        - np.trace(_pow(inv(v["A"] + v["theta"] * v["B"]) @ v["B"], 2))),
    r"\det(A + \theta B) \operatorname{tr}((A + \theta B)^{-1} B)^2"
    r" - \det(A + \theta B) \operatorname{tr}((A + \theta B)^{-1} B (A + \theta B)^{-1} B)",
    kind="hessian", assume={"A": "spd", "B": "spd"})  # fmt: skip
add("det-X", ("49", "66"), r"\det X", SQ, "X",
    lambda v: det(v["X"]) * inv(v["X"]).T,
    r"\det(X) X^{-\top}")  # fmt: skip
add("det-AXB", ("51",), r"\det(AXB)", {"A": ("n", "n"), "X": ("n", "n"), "B": ("n", "n")}, "X",
    lambda v: det(v["A"] @ v["X"] @ v["B"]) * inv(v["X"]).T,
    r"\det(AXB) X^{-\top}")  # fmt: skip
add("det-XTAX-square", ("52",), r"\det(X^\top A X)", {"X": ("n", "n"), "A": ("n", "n")}, "X",
    lambda v: 2 * det(_xtax(v)) * inv(v["X"]).T,
    r"2\det(X^\top A X) X^{-\top}")  # fmt: skip
add("det-XTAX-symmetric", ("53",), r"\det(X^\top A X)", {"X": ("m", "n"), "A": ("m", "m")}, "X",
    lambda v: 2 * det(_xtax(v)) * v["A"] @ v["X"] @ inv(_xtax(v)),
    r"2\det(X^\top A X) A X (X^\top A X)^{-1}", assume={"A": "symmetric"})  # fmt: skip
add("det-XTAX-general", ("54",), r"\det(X^\top A X)", {"X": ("m", "n"), "A": ("m", "m")}, "X",
    lambda v: det(_xtax(v))
    * (v["A"] @ v["X"] @ inv(_xtax(v)) + v["A"].T @ v["X"] @ inv(v["X"].T @ v["A"].T @ v["X"])),
    r"\det(X^\top A X)\left(A X (X^\top A X)^{-1}"
    r" + A^\top X (X^\top A^\top X)^{-1}\right)")  # fmt: skip
add("logdet-XTX", ("55",), r"\log\det(X^\top X)", X_MN, "X",
    lambda v: 2 * v["X"] @ inv(v["X"].T @ v["X"]),
    r"2 X (X^\top X)^{-1}")  # fmt: skip
# The same with the sizes fixed (X 4×3, tall): what a user does when the check needs them.
TALL = {"X": (4, 3), "A": (4, 4)}
add("det-XTAX-symmetric-tall", ("53",), r"\det(X^\top A X)", TALL, "X",
    lambda v: 2 * det(_xtax(v)) * v["A"] @ v["X"] @ inv(_xtax(v)),
    r"2\det(X^\top A X) A X (X^\top A X)^{-1}", assume={"A": "symmetric"})  # fmt: skip
add("det-XTAX-general-tall", ("54",), r"\det(X^\top A X)", TALL, "X",
    lambda v: det(_xtax(v))
    * (v["A"] @ v["X"] @ inv(_xtax(v)) + v["A"].T @ v["X"] @ inv(v["X"].T @ v["A"].T @ v["X"])),
    r"\det(X^\top A X)\left(A X (X^\top A X)^{-1}"
    r" + A^\top X (X^\top A^\top X)^{-1}\right)")  # fmt: skip
add("logdet-XTX-tall", ("55",), r"\log\det(X^\top X)", {"X": (4, 3)}, "X",
    lambda v: 2 * v["X"] @ inv(v["X"].T @ v["X"]),
    r"2 X (X^\top X)^{-1}")  # fmt: skip
# (55) as printed, 2(X⁺)ᵀ, once X is declared of full column rank; (56) as a function of
# Y = X⁺ (full row rank), where X = Y⁺: ∂f/∂Y = −2Xᵀ = −2(Y⁺)ᵀ.
add("logdet-XTX-pinv", ("55",), r"\log\det(X^\top X)", X_MN, "X",
    lambda v: 2 * np.linalg.pinv(v["X"]).T,
    r"2 (X^{+})^\top", assume={"X": "full-column-rank"})  # fmt: skip
add("logdet-pinv", ("56",), r"\log\det\left((Y^{+})^\top Y^{+}\right)", {"Y": ("n", "m")}, "Y",
    lambda v: -2 * np.linalg.pinv(v["Y"]).T,
    r"-2 (Y^{+})^\top", assume={"Y": "full-row-rank"})  # fmt: skip
add("logdet-X", ("43", "57"), r"\log\det X", SQ, "X",
    lambda v: inv(v["X"]).T,
    r"X^{-\top}")  # fmt: skip
add("log-abs-det-X", ("57",), r"\log|\det X|", SQ, "X",
    lambda v: inv(v["X"]).T,
    r"X^{-\top}")  # fmt: skip
add("ln-bars-X", ("43", "57"), r"\ln|X|", SQ, "X",
    lambda v: inv(v["X"]).T,
    r"X^{-\top}")  # fmt: skip
add("det-X-cubed", ("58",), r"\det(X X X)", SQ, "X",
    lambda v: 3 * det(_pow(v["X"], 3)) * inv(v["X"]).T,
    r"3\det(X^3) X^{-\top}")  # fmt: skip
add("det-X-inverse", ("62",), r"\det(X^{-1})", SQ, "X",
    lambda v: -det(inv(v["X"])) * inv(v["X"]).T,
    r"-\det(X^{-1}) X^{-\top}")  # fmt: skip
add("det-rank-one-update", ("46",), r"\det(A + x b^\top)",
    {"A": ("n", "n"), "x": ("n",), "b": ("n",)}, "x",
    lambda v: det(v["A"] + outer(v["x"], v["b"])) * inv(v["A"] + outer(v["x"], v["b"])).T @ v["b"],
    r"\det(A + x b^\top) (A + x b^\top)^{-\top} b", domain={"x": "small"})  # fmt: skip

# === 2.2 Derivatives of an inverse: (59)-(64), (124) ===========================================
add("inv-aT-Xinv-b", ("61",), r"a^\top X^{-1} b", {"a": ("n",), "X": ("n", "n"), "b": ("n",)}, "X",
    lambda v: -inv(v["X"]).T @ outer(v["a"], v["b"]) @ inv(v["X"]).T,
    r"-X^{-\top} a b^\top X^{-\top}")  # fmt: skip
add("inv-tr-A-Xinv-B", ("63", "124"), r"\operatorname{tr}(A X^{-1} B)",
    {"A": ("m", "n"), "X": ("n", "n"), "B": ("n", "m")}, "X",
    lambda v: -inv(v["X"]).T @ v["A"].T @ v["B"].T @ inv(v["X"]).T,
    r"-X^{-\top} A^\top B^\top X^{-\top}")  # fmt: skip
add("inv-tr-X-plus-A", ("64",), r"\operatorname{tr}\left((X + A)^{-1}\right)",
    {"X": ("n", "n"), "A": ("n", "n")}, "X",
    lambda v: -(inv(v["X"] + v["A"]) @ inv(v["X"] + v["A"])).T,
    r"-(X + A)^{-\top} (X + A)^{-\top}")  # fmt: skip
add("inv-scalar-parameter", ("59",), r"a^\top (A + \theta B)^{-1} c",
    {"a": ("n",), "A": ("n", "n"), "theta": (), "B": ("n", "n"), "c": ("n",)}, "theta",
    lambda v: -v["a"] @ inv(v["A"] + v["theta"] * v["B"]) @ v["B"]
    @ inv(v["A"] + v["theta"] * v["B"]) @ v["c"],
    r"-a^\top (A + \theta B)^{-1} B (A + \theta B)^{-1} c",
    assume={"theta": "positive"})  # fmt: skip

# === 2.3 Eigenvalues: (65), (66) (with (99), (49)) ===========================================
add("tr-X", ("65", "99"), r"\operatorname{tr}(X)", SQ, "X",
    lambda v: _eye(v, "X"),
    r"I")  # fmt: skip

# === 2.4 Linear, quadratic and higher-order forms: (69)-(93), (98) =============================
add("lin-xT-a", ("69",), r"x^\top a", {"x": ("n",), "a": ("n",)}, "x",
    lambda v: v["a"],
    r"a")  # fmt: skip
add("lin-aT-x", ("69",), r"a^\top x", {"x": ("n",), "a": ("n",)}, "x",
    lambda v: v["a"],
    r"a")  # fmt: skip
add("lin-aT-X-b", ("70",), r"a^\top X b", {"a": ("m",), "X": ("m", "n"), "b": ("n",)}, "X",
    lambda v: outer(v["a"], v["b"]),
    r"a b^\top")  # fmt: skip
add("lin-aT-XT-b", ("71",), r"a^\top X^\top b", {"a": ("n",), "X": ("m", "n"), "b": ("m",)}, "X",
    lambda v: outer(v["b"], v["a"]),
    r"b a^\top")  # fmt: skip
add("lin-aT-X-a", ("72",), r"a^\top X a", {"a": ("n",), "X": ("n", "n")}, "X",
    lambda v: outer(v["a"], v["a"]),
    r"a a^\top")  # fmt: skip
add("lin-aT-XT-a", ("72",), r"a^\top X^\top a", {"a": ("n",), "X": ("n", "n")}, "X",
    lambda v: outer(v["a"], v["a"]),
    r"a a^\top")  # fmt: skip
add("sum-of-entries-squared", ("76",), r"(\mathbf{1}^\top X \mathbf{1})^2", X_MN, "X",
    lambda v: 2 * np.sum(v["X"]) * np.ones_like(v["X"]),
    r"2 (\mathbf{1}^\top X \mathbf{1}) \mathbf{1} \mathbf{1}^\top", compare="ops")  # fmt: skip
add("quad-bT-XTX-c", ("77",), r"b^\top X^\top X c", {"b": ("n",), "X": ("m", "n"), "c": ("n",)},
    "X",
    lambda v: v["X"] @ (outer(v["b"], v["c"]) + outer(v["c"], v["b"])),
    r"X (b c^\top + c b^\top)")  # fmt: skip
add("quad-affine-affine", ("78",), r"(B x + b)^\top C (D x + d)",
    {"B": ("m", "n"), "x": ("n",), "b": ("m",), "C": ("m", "k"), "D": ("k", "n"), "d": ("k",)},
    "x",
    lambda v: v["B"].T @ v["C"] @ (v["D"] @ v["x"] + v["d"])
    + v["D"].T @ v["C"].T @ (v["B"] @ v["x"] + v["b"]),
    r"B^\top C (D x + d) + D^\top C^\top (B x + b)")  # fmt: skip
add("quad-xT-B-x", ("81",), r"x^\top B x", {"x": ("n",), "B": ("n", "n")}, "x",
    lambda v: (v["B"] + v["B"].T) @ v["x"],
    r"(B + B^\top) x")  # fmt: skip
add("quad-bT-XT-D-X-c", ("82",), r"b^\top X^\top D X c",
    {"b": ("n",), "X": ("m", "n"), "D": ("m", "m"), "c": ("n",)}, "X",
    lambda v: v["D"].T @ v["X"] @ outer(v["b"], v["c"]) + v["D"] @ v["X"] @ outer(v["c"], v["b"]),
    r"D^\top X b c^\top + D X c b^\top")  # fmt: skip
add("quad-Xb-plus-c", ("83",), r"(X b + c)^\top D (X b + c)",
    {"X": ("m", "n"), "b": ("n",), "c": ("m",), "D": ("m", "m")}, "X",
    lambda v: outer((v["D"] + v["D"].T) @ (v["X"] @ v["b"] + v["c"]), v["b"]),
    r"(D + D^\top)(X b + c) b^\top")  # fmt: skip
WLS = {"x": ("m",), "A": ("m", "n"), "s": ("n",), "W": ("m", "m")}
add("wls-wrt-s", ("84",), r"(x - A s)^\top W (x - A s)", WLS, "s",
    lambda v: -2 * v["A"].T @ v["W"] @ (v["x"] - v["A"] @ v["s"]),
    r"-2 A^\top W (x - A s)", assume={"W": "symmetric"})  # fmt: skip
add("wls-shift-wrt-x", ("85",), r"(x - s)^\top W (x - s)",
    {"x": ("n",), "s": ("n",), "W": ("n", "n")}, "x",
    lambda v: 2 * v["W"] @ (v["x"] - v["s"]),
    r"2 W (x - s)", assume={"W": "symmetric"})  # fmt: skip
add("wls-shift-wrt-s", ("86",), r"(x - s)^\top W (x - s)",
    {"x": ("n",), "s": ("n",), "W": ("n", "n")}, "s",
    lambda v: -2 * v["W"] @ (v["x"] - v["s"]),
    r"-2 W (x - s)", assume={"W": "symmetric"})  # fmt: skip
add("wls-wrt-x", ("87",), r"(x - A s)^\top W (x - A s)", WLS, "x",
    lambda v: 2 * v["W"] @ (v["x"] - v["A"] @ v["s"]),
    r"2 W (x - A s)", assume={"W": "symmetric"})  # fmt: skip
add("wls-wrt-A", ("88",), r"(x - A s)^\top W (x - A s)", WLS, "A",
    lambda v: -2 * v["W"] @ outer(v["x"] - v["A"] @ v["s"], v["s"]),
    r"-2 W (x - A s) s^\top", assume={"W": "symmetric"})  # fmt: skip
POW = {"a": ("n",), "X": ("n", "n"), "b": ("n",)}
add("pow-aT-X2-b", ("91",), r"a^\top X X b", POW, "X",
    lambda v: outer(v["a"], v["b"]) @ v["X"].T + v["X"].T @ outer(v["a"], v["b"]),
    r"a b^\top X^\top + X^\top a b^\top")  # fmt: skip
add("pow-aT-X3-b", ("91",), r"a^\top X X X b", POW, "X",
    lambda v: outer(v["a"], v["b"]) @ _pow(v["X"], 2).T
    + v["X"].T @ outer(v["a"], v["b"]) @ v["X"].T
    + _pow(v["X"], 2).T @ outer(v["a"], v["b"]),
    r"a b^\top (X^2)^\top + X^\top a b^\top X^\top + (X^2)^\top a b^\top")  # fmt: skip
add("pow-aT-X2T-X2-b", ("92",), r"a^\top (X X)^\top X X b", POW, "X",
    lambda v: _pow(v["X"], 2) @ outer(v["b"], v["a"]) @ v["X"].T
    + _pow(v["X"], 2) @ outer(v["a"], v["b"]) @ v["X"].T
    + v["X"].T @ _pow(v["X"], 2) @ outer(v["b"], v["a"])
    + v["X"].T @ _pow(v["X"], 2) @ outer(v["a"], v["b"]),
    r"X^2 b a^\top X^\top + X^2 a b^\top X^\top"
    r" + X^\top X^2 b a^\top + X^\top X^2 a b^\top")  # fmt: skip
add("chain-sT-A-r", ("93",), r"\tanh(x)^\top A \exp(x)", {"x": ("n",), "A": ("n", "n")}, "x",
    lambda v: (1 - np.tanh(v["x"]) ** 2) * (v["A"] @ np.exp(v["x"]))
    + np.exp(v["x"]) * (v["A"].T @ np.tanh(v["x"])),
    r"\operatorname{diag}(\mathbf{1} - \tanh(x) \odot \tanh(x)) A \exp(x)"
    r" + \operatorname{diag}(\exp(x)) A^\top \tanh(x)", compare="ops")  # fmt: skip
add("hess-quadratic-linear", ("98",), r"x^\top A x + b^\top x",
    {"x": ("n",), "A": ("n", "n"), "b": ("n",)}, "x",
    lambda v: v["A"] + v["A"].T,
    r"A + A^\top", kind="hessian")  # fmt: skip

# === 2.5 Traces: (99)-(127) ===================================================================
add("tr-XA", ("100",), r"\operatorname{tr}(X A)", {"X": ("m", "n"), "A": ("n", "m")}, "X",
    lambda v: v["A"].T,
    r"A^\top")  # fmt: skip
add("tr-AXB", ("101",), r"\operatorname{tr}(A X B)",
    {"A": ("k", "m"), "X": ("m", "n"), "B": ("n", "k")}, "X",
    lambda v: v["A"].T @ v["B"].T,
    r"A^\top B^\top")  # fmt: skip
add("tr-AXTB", ("102",), r"\operatorname{tr}(A X^\top B)",
    {"A": ("k", "n"), "X": ("m", "n"), "B": ("m", "k")}, "X",
    lambda v: v["B"] @ v["A"],
    r"B A")  # fmt: skip
add("tr-XTA", ("103",), r"\operatorname{tr}(X^\top A)", {"X": ("m", "n"), "A": ("m", "n")}, "X",
    lambda v: v["A"],
    r"A")  # fmt: skip
add("tr-AXT", ("104",), r"\mathrm{tr}(A X^{T})", {"X": ("m", "n"), "A": ("m", "n")}, "X",
    lambda v: v["A"],
    r"A")  # fmt: skip
add("tr-A-kron-X", ("105",), r"\operatorname{tr}(A \otimes X)", {"A": ("k", "k"), "X": ("n", "n")},
    "X",
    lambda v: tr(v["A"]) * _eye(v, "X"),
    r"\operatorname{tr}(A) I")  # fmt: skip
add("tr-X-squared", ("106",), r"\operatorname{tr}(X^2)", SQ, "X",
    lambda v: 2 * v["X"].T,
    r"2 X^\top")  # fmt: skip
add("tr-XX", ("106",), r"\operatorname{Tr}(X X)", SQ, "X",
    lambda v: 2 * v["X"].T,
    r"2 X^\top")  # fmt: skip
add("tr-X2B", ("107",), r"\operatorname{tr}(X X B)", {"X": ("n", "n"), "B": ("n", "n")}, "X",
    lambda v: (v["X"] @ v["B"] + v["B"] @ v["X"]).T,
    r"(X B + B X)^\top")  # fmt: skip
XB_M = {"X": ("m", "n"), "B": ("m", "m")}
add("tr-XTBX", ("108",), r"\operatorname{tr}(X^\top B X)", XB_M, "X",
    lambda v: v["B"] @ v["X"] + v["B"].T @ v["X"],
    r"B X + B^\top X")  # fmt: skip
add("tr-BXXT", ("109",), r"\operatorname{tr}(B X X^\top)", XB_M, "X",
    lambda v: v["B"] @ v["X"] + v["B"].T @ v["X"],
    r"B X + B^\top X")  # fmt: skip
add("tr-XXTB", ("110",), r"\operatorname{tr}(X X^\top B)", XB_M, "X",
    lambda v: v["B"] @ v["X"] + v["B"].T @ v["X"],
    r"B X + B^\top X")  # fmt: skip
XB_N = {"X": ("m", "n"), "B": ("n", "n")}
add("tr-XBXT", ("111",), r"\operatorname{tr}(X B X^\top)", XB_N, "X",
    lambda v: v["X"] @ v["B"].T + v["X"] @ v["B"],
    r"X B^\top + X B")  # fmt: skip
add("tr-BXTX", ("112",), r"\operatorname{tr}(B X^\top X)", XB_N, "X",
    lambda v: v["X"] @ v["B"].T + v["X"] @ v["B"],
    r"X B^\top + X B")  # fmt: skip
add("tr-XTXB", ("113",), r"\operatorname{tr}(X^\top X B)", XB_N, "X",
    lambda v: v["X"] @ v["B"].T + v["X"] @ v["B"],
    r"X B^\top + X B")  # fmt: skip
add("tr-AXBX", ("114",), r"\operatorname{tr}(A X B X)",
    {"A": ("n", "m"), "X": ("m", "n"), "B": ("n", "m")}, "X",
    lambda v: v["A"].T @ v["X"].T @ v["B"].T + v["B"].T @ v["X"].T @ v["A"].T,
    r"A^\top X^\top B^\top + B^\top X^\top A^\top")  # fmt: skip
add("tr-XTX", ("115",), r"\operatorname{trace}(X^\top X)", X_MN, "X",
    lambda v: 2 * v["X"],
    r"2 X")  # fmt: skip
add("tr-XXT", ("115",), r"\operatorname{tr}(X X^\top)", X_MN, "X",
    lambda v: 2 * v["X"],
    r"2 X")  # fmt: skip
add("tr-BT-XT-C-X-B", ("116",), r"\operatorname{tr}(B^\top X^\top C X B)",
    {"B": ("n", "k"), "X": ("m", "n"), "C": ("m", "m")}, "X",
    lambda v: v["C"].T @ v["X"] @ v["B"] @ v["B"].T + v["C"] @ v["X"] @ v["B"] @ v["B"].T,
    r"C^\top X B B^\top + C X B B^\top")  # fmt: skip
add("tr-XT-B-X-C", ("117",), r"\operatorname{tr}(X^\top B X C)",
    {"X": ("m", "n"), "B": ("m", "m"), "C": ("n", "n")}, "X",
    lambda v: v["B"] @ v["X"] @ v["C"] + v["B"].T @ v["X"] @ v["C"].T,
    r"B X C + B^\top X C^\top")  # fmt: skip
add("tr-A-X-B-XT-C", ("118",), r"\operatorname{tr}(A X B X^\top C)",
    {"A": ("k", "m"), "X": ("m", "n"), "B": ("n", "n"), "C": ("m", "k")}, "X",
    lambda v: v["A"].T @ v["C"].T @ v["X"] @ v["B"].T + v["C"] @ v["A"] @ v["X"] @ v["B"],
    r"A^\top C^\top X B^\top + C A X B")  # fmt: skip
add("tr-affine-gram", ("119",), r"\operatorname{tr}\left[(A X B + C)(A X B + C)^\top\right]",
    {"A": ("k", "m"), "X": ("m", "n"), "B": ("n", "p"), "C": ("k", "p")}, "X",
    lambda v: 2 * v["A"].T @ (v["A"] @ v["X"] @ v["B"] + v["C"]) @ v["B"].T,
    r"2 A^\top (A X B + C) B^\top")  # fmt: skip
add("tr-X-kron-X", ("120",), r"\operatorname{tr}(X \otimes X)", SQ, "X",
    lambda v: 2 * tr(v["X"]) * _eye(v, "X"),
    r"2 \operatorname{tr}(X) I")  # fmt: skip
add("tr-X-times-tr-X", ("120",), r"\operatorname{tr}(X)\operatorname{tr}(X)", SQ, "X",
    lambda v: 2 * tr(v["X"]) * _eye(v, "X"),
    r"2 \operatorname{tr}(X) I")  # fmt: skip
add("tr-X-cubed", ("121",), r"\operatorname{tr}(X X X)", SQ, "X",
    lambda v: 3 * _pow(v["X"], 2).T,
    r"3 (X^2)^\top")  # fmt: skip
add("tr-X-fourth", ("121",), r"\operatorname{tr}(X X X X)", SQ, "X",
    lambda v: 4 * _pow(v["X"], 3).T,
    r"4 (X^3)^\top")  # fmt: skip
add("tr-A-X2", ("122",), r"\operatorname{tr}(A X X)", {"A": ("n", "n"), "X": ("n", "n")}, "X",
    lambda v: (v["A"] @ v["X"]).T + (v["X"] @ v["A"]).T,
    r"(A X)^\top + (X A)^\top")  # fmt: skip
add("tr-A-X3", ("122",), r"\operatorname{tr}(A X X X)", {"A": ("n", "n"), "X": ("n", "n")}, "X",
    lambda v: (v["A"] @ _pow(v["X"], 2)).T + (v["X"] @ v["A"] @ v["X"]).T
    + (_pow(v["X"], 2) @ v["A"]).T,
    r"(A X^2)^\top + (X A X)^\top + (X^2 A)^\top")  # fmt: skip


def _eq123(v: Values) -> Any:
    X, C, B = v["X"], v["C"], v["B"]
    BB = B @ B.T
    return (
        C @ X @ X.T @ C @ X @ BB
        + C.T @ X @ BB @ X.T @ C.T @ X
        + C @ X @ BB @ X.T @ C @ X
        + C.T @ X @ X.T @ C.T @ X @ BB
    )


add("tr-quartic", ("123",), r"\operatorname{tr}(B^\top X^\top C X X^\top C X B)",
    {"B": ("n", "k"), "X": ("m", "n"), "C": ("m", "m")}, "X", _eq123,
    r"C X X^\top C X B B^\top + C^\top X B B^\top X^\top C^\top X"
    r" + C X B B^\top X^\top C X + C^\top X X^\top C^\top X B B^\top")  # fmt: skip


def _xtcx(v: Values) -> Any:
    return v["X"].T @ v["C"] @ v["X"]


add("tr-XTCX-inv-A", ("125",), r"\operatorname{tr}\left[(X^\top C X)^{-1} A\right]",
    {"X": ("m", "n"), "C": ("m", "m"), "A": ("n", "n")}, "X",
    lambda v: -(v["C"] @ v["X"] @ inv(_xtcx(v))) @ (v["A"] + v["A"].T) @ inv(_xtcx(v)),
    r"-C X (X^\top C X)^{-1} (A + A^\top) (X^\top C X)^{-1}",
    assume={"C": "symmetric"})  # fmt: skip
add("tr-generalized-rayleigh", ("126",),
    r"\operatorname{tr}\left[(X^\top C X)^{-1} (X^\top B X)\right]",
    {"X": ("m", "n"), "C": ("m", "m"), "B": ("m", "m")}, "X",
    lambda v: -2 * v["C"] @ v["X"] @ inv(_xtcx(v)) @ v["X"].T @ v["B"] @ v["X"] @ inv(_xtcx(v))
    + 2 * v["B"] @ v["X"] @ inv(_xtcx(v)),
    r"-2 C X (X^\top C X)^{-1} X^\top B X (X^\top C X)^{-1} + 2 B X (X^\top C X)^{-1}",
    assume={"B": "symmetric", "C": "symmetric"})  # fmt: skip
add("tr-generalized-rayleigh-tall", ("126",),
    r"\operatorname{tr}\left[(X^\top C X)^{-1} (X^\top B X)\right]",
    {"X": (4, 3), "C": (4, 4), "B": (4, 4)}, "X",
    lambda v: -2 * v["C"] @ v["X"] @ inv(_xtcx(v)) @ v["X"].T @ v["B"] @ v["X"] @ inv(_xtcx(v))
    + 2 * v["B"] @ v["X"] @ inv(_xtcx(v)),
    r"-2 C X (X^\top C X)^{-1} X^\top B X (X^\top C X)^{-1} + 2 B X (X^\top C X)^{-1}",
    assume={"B": "symmetric", "C": "symmetric"})  # fmt: skip


def _eq127(v: Values) -> Any:
    X, A, B, C = v["X"], v["A"], v["B"], v["C"]
    Mi = inv(A + X.T @ C @ X)
    return -2 * C @ X @ Mi @ X.T @ B @ X @ Mi + 2 * B @ X @ Mi


add("tr-regularized-rayleigh", ("127",),
    r"\operatorname{tr}\left[(A + X^\top C X)^{-1} (X^\top B X)\right]",
    {"X": ("m", "n"), "A": ("n", "n"), "C": ("m", "m"), "B": ("m", "m")}, "X", _eq127,
    r"-2 C X (A + X^\top C X)^{-1} X^\top B X (A + X^\top C X)^{-1} + 2 B X (A + X^\top C X)^{-1}",
    assume={"A": "symmetric", "B": "symmetric", "C": "symmetric"})  # fmt: skip

# (128) with the matrix sine: \operatorname{sinm}; \sin X would be the entrywise sine.
add("tr-sin-X", ("128",), r"\operatorname{tr}(\operatorname{sinm}(X))", SQ, "X",
    lambda v: scipy.linalg.cosm(v["X"]).T,
    r"\operatorname{cosm}(X)^\top")  # fmt: skip
add("tr-expm-X", None, r"\operatorname{tr}(\operatorname{expm}(X))", SQ, "X",
    lambda v: scipy.linalg.expm(v["X"]).T,
    r"\operatorname{expm}(X)^\top")  # fmt: skip
add("tr-coshm-XTX", None, r"\operatorname{tr}(\operatorname{coshm}(X^\top X))", X_MN, "X",
    lambda v: 2 * v["X"] @ scipy.linalg.sinhm(v["X"].T @ v["X"]),
    r"2 X \operatorname{sinhm}(X^\top X)")  # fmt: skip
add("logdet-expm-X", None, r"\log\det(\operatorname{expm}(X))", SQ, "X",
    lambda v: np.eye(_n(v, "X")),
    r"I")  # fmt: skip

# === 2.6 Vector norms: (129)-(131); 2.7 Matrix norms: (132) ====================================
NORM = {"x": ("n",), "a": ("n",)}


def _unit(v: Values) -> Any:
    r = v["x"] - v["a"]
    return r / np.linalg.norm(r)


def _eq130(v: Values) -> Any:
    r = v["x"] - v["a"]
    nr = np.linalg.norm(r)
    return np.eye(r.size) / nr - outer(r, r) / nr**3


add("norm-x-minus-a", ("129",), r"\|x - a\|_2", NORM, "x", _unit,
    r"\frac{x - a}{\|x - a\|_2}")  # fmt: skip
add("jac-normalized-difference", ("130",), r"\frac{x - a}{\|x - a\|_2}", NORM, "x", _eq130,
    r"\frac{1}{\|x - a\|_2} I - \frac{1}{\|x - a\|_2^3} (x - a)(x - a)^\top",
    kind="jacobian")  # fmt: skip
add("hess-norm-x-minus-a", ("130",), r"\|x - a\|_2", NORM, "x", _eq130,
    r"\frac{1}{\|x - a\|_2} I - \frac{1}{\|x - a\|_2^3} (x - a)(x - a)^\top",
    kind="hessian")  # fmt: skip
add("norm-squared", ("131",), r"\|x\|_2^2", {"x": ("n",)}, "x",
    lambda v: 2 * v["x"],
    r"2 x")  # fmt: skip
add("norm-xTx", ("131",), r"x^\top x", {"x": ("n",)}, "x",
    lambda v: 2 * v["x"],
    r"2 x")  # fmt: skip
add("frobenius-squared", ("132",), r"\|X\|_F^2", X_MN, "X",
    lambda v: 2 * v["X"],
    r"2 X")  # fmt: skip


# (94)-(95): the ratio of two quadratic forms; (96)-(97): the gradient of xᵀAx + bᵀx.
def _eq95(v: Values) -> Any:
    A, B, x = v["A"], v["B"], v["x"]
    den = x @ B.T @ B @ x
    return 2 * A.T @ A @ x / den - 2 * (x @ A.T @ A @ x) * B.T @ B @ x / den**2


add("ratio-of-quadratic-forms", ("94-95",), r"\frac{(Ax)^\top (Ax)}{(Bx)^\top (Bx)}",
    {"A": ("m", "n"), "B": ("k", "n"), "x": ("n",)}, "x", _eq95,
    # (95) with 2/(xᵀBᵀBx) taken out, as the engine writes it
    r"\frac{2}{x^\top B^\top B x}\left(A^\top A"
    r" - \frac{x^\top A^\top A x}{x^\top B^\top B x} B^\top B\right) x")  # fmt: skip
add("quadratic-plus-linear", ("96-97",), r"x^\top A x + b^\top x",
    {"A": ("n", "n"), "x": ("n",), "b": ("n",)}, "x",
    lambda v: (v["A"] + v["A"].T) @ v["x"] + v["b"],
    r"(A + A^\top) x + b")  # fmt: skip

# === Component forms: (32), (60), (73)-(75), (79)-(80), (41) ===================================
# ∂F_kl/∂X_ij for a matrix F(X) is the gradient of the scalar e_kᵀ F e_l: u, v one-hot pick the
# entry, and the gradient's entry (i, j) is the book's right side.
ONEHOT = "onehot"
add("entry-of-X", ("32", "73"), r"u^\top X v", {"X": ("m", "n"), "u": ("m",), "v": ("n",)}, "X",
    lambda v: outer(v["u"], v["v"]),
    r"u v^\top", assume={"u": ONEHOT, "v": ONEHOT})  # fmt: skip
add("entry-of-inverse", ("60",), r"u^\top X^{-1} v", {"X": ("n", "n"), "u": ("n",), "v": ("n",)},
    "X", lambda v: -outer(inv(v["X"]).T @ v["u"], inv(v["X"]) @ v["v"]),
    r"-X^{-\top} u v^\top X^{-\top}", assume={"u": ONEHOT, "v": ONEHOT})  # fmt: skip
add("entry-of-XA", ("74",), r"u^\top X A w",
    {"X": ("m", "n"), "u": ("m",), "A": ("n", "k"), "w": ("k",)}, "X",
    lambda v: outer(v["u"], v["A"] @ v["w"]),
    r"u w^\top A^\top", assume={"u": ONEHOT, "w": ONEHOT})  # fmt: skip
add("entry-of-XTA", ("75",), r"v^\top X^\top C w",
    {"X": ("m", "n"), "v": ("n",), "C": ("m", "k"), "w": ("k",)}, "X",
    lambda v: outer(v["C"] @ v["w"], v["v"]),
    r"C w v^\top", assume={"v": ONEHOT, "w": ONEHOT})  # fmt: skip
add("entry-of-XTBX", ("79", "80"), r"u^\top X^\top B X v",
    {"X": ("m", "n"), "u": ("n",), "v": ("n",), "B": ("m", "m")}, "X",
    lambda v: v["B"] @ v["X"] @ outer(v["v"], v["u"]) + v["B"].T @ v["X"] @ outer(v["u"], v["v"]),
    r"B X v u^\top + B^\top X u v^\top", assume={"u": ONEHOT, "v": ONEHOT})  # fmt: skip


def _adjugate(x: Any) -> Any:
    """adj(X): the transposed cofactor matrix, from minors (no inverse involved)."""
    size = x.shape[0]
    cof = np.empty_like(x)
    for i in range(size):
        for j in range(size):
            minor = np.delete(np.delete(x, i, axis=0), j, axis=1)
            cof[i, j] = (-1) ** (i + j) * det(minor)
    return cof.T


add("det-X-adjugate", ("41",), r"\det X", SQ, "X",
    lambda v: _adjugate(v["X"]).T,
    r"\det(X) X^{-\top}")  # fmt: skip

# === Section 2's differential rules, each through a gradient: (34), (35), (38), (39) ===========
add("rule-scalar-factor", ("34", "99"), r"\operatorname{tr}(\alpha X)", {"alpha": (), **SQ}, "X",
    lambda v: v["alpha"] * _eye(v, "X"),
    r"\alpha I")  # fmt: skip
add("rule-sum", ("35", "100", "104"), r"\operatorname{tr}(X A + B X^\top)",
    {"X": ("m", "n"), "A": ("n", "m"), "B": ("m", "n")}, "X",
    lambda v: v["A"].T + v["B"],
    r"A^\top + B")  # fmt: skip
add("rule-hadamard-vector", ("38",), r"a^\top (x \odot y)",
    {"a": ("n",), "x": ("n",), "y": ("n",)}, "x",
    lambda v: v["a"] * v["y"],
    r"a \odot y")  # fmt: skip
add("rule-hadamard-matrix", ("38",), r"a^\top (X \odot Y) b",
    {"a": ("m",), "X": ("m", "n"), "Y": ("m", "n"), "b": ("n",)}, "X",
    lambda v: outer(v["a"], v["b"]) * v["Y"],
    r"(a b^\top) \odot Y")  # fmt: skip
add("rule-kronecker", ("39",), r"\operatorname{tr}(X \otimes Y)",
    {"X": ("n", "n"), "Y": ("k", "k")}, "X",
    lambda v: tr(v["Y"]) * _eye(v, "X"),
    r"\operatorname{tr}(Y) I")  # fmt: skip

# === Compositions (machine-learning losses) ====================================================
MLP = {"W_1": ("p", "n"), "W_2": ("m", "p"), "x": ("n",), "y": ("m",)}


def _mlp_tanh_w1(v: Values) -> Any:
    h = np.tanh(v["W_1"] @ v["x"])
    back = v["W_2"].T @ (v["W_2"] @ h - v["y"])
    return outer(back * (1 - h**2), v["x"])


def _mlp_sigmoid_w1(v: Values) -> Any:
    s = sig(v["W_1"] @ v["x"])
    back = v["W_2"].T @ (v["W_2"] @ s - v["y"])
    return outer(back * s * (1 - s), v["x"])


add("mlp-tanh-W1", None, r"\frac{1}{2}\|W_2 \tanh(W_1 x) - y\|_2^2", MLP, "W_1", _mlp_tanh_w1,
    r"\left(\left(W_2^\top (W_2 \tanh(W_1 x) - y)\right) \odot"
    r" (\mathbf{1} - \tanh(W_1 x) \odot \tanh(W_1 x))\right) x^\top", compare="ops")  # fmt: skip
add("mlp-tanh-W2", None, r"\frac{1}{2}\|W_2 \tanh(W_1 x) - y\|_2^2", MLP, "W_2",
    lambda v: outer(v["W_2"] @ np.tanh(v["W_1"] @ v["x"]) - v["y"], np.tanh(v["W_1"] @ v["x"])),
    r"(W_2 \tanh(W_1 x) - y) \tanh(W_1 x)^\top")  # fmt: skip
add("mlp-sigmoid-W1", None, r"\frac{1}{2}\|W_2 \sigma(W_1 x) - y\|_2^2", MLP, "W_1",
    _mlp_sigmoid_w1,
    r"\left(\left(W_2^\top (W_2 \sigma(W_1 x) - y)\right) \odot \sigma(W_1 x) \odot"
    r" (\mathbf{1} - \sigma(W_1 x))\right) x^\top", compare="ops")  # fmt: skip
LOGREG = {"X": ("m", "n"), "w": ("n",), "y": ("m",)}
add("logistic-nll", None,
    r"-y^\top \log\sigma(X w) - (\mathbf{1} - y)^\top \log(\mathbf{1} - \sigma(X w))", LOGREG, "w",
    lambda v: v["X"].T @ (sig(v["X"] @ v["w"]) - v["y"]),
    r"X^\top (\sigma(X w) - y)", assume={"y": "binary"})  # fmt: skip
add("logistic-softplus", None, r"\mathbf{1}^\top \operatorname{softplus}(X w) - y^\top X w",
    LOGREG, "w",
    lambda v: v["X"].T @ (sig(v["X"] @ v["w"]) - v["y"]),
    r"X^\top (\sigma(X w) - y)", assume={"y": "binary"})  # fmt: skip
add("softmax-ce-logits", None, r"-y^\top \log\operatorname{softmax}(z)", {"y": ("n",), "z": ("n",)},
    "z",
    lambda v: softmax(v["z"]) - v["y"],
    r"\operatorname{softmax}(z) - y", assume={"y": "prob"})  # fmt: skip
add("softmax-ce-weights", None, r"-y^\top \log\operatorname{softmax}(W x)",
    {"y": ("m",), "W": ("m", "n"), "x": ("n",)}, "W",
    lambda v: outer(softmax(v["W"] @ v["x"]) - v["y"], v["x"]),
    r"(\operatorname{softmax}(W x) - y) x^\top", assume={"y": "onehot"})  # fmt: skip
add("lse", None, r"\operatorname{lse}(z)", {"z": ("n",)}, "z",
    lambda v: softmax(v["z"]),
    r"\operatorname{softmax}(z)")  # fmt: skip
add("log-sum-exp-written-out", None, r"\log(\mathbf{1}^\top \exp(z))", {"z": ("n",)}, "z",
    lambda v: softmax(v["z"]),
    r"\operatorname{softmax}(z)")  # fmt: skip
add("softmax-ce-written-out", None, r"\log\sum_i \exp(z_i) - y^\top z",
    {"z": ("n",), "y": ("n",)}, "z",
    lambda v: softmax(v["z"]) - v["y"],
    r"\operatorname{softmax}(z) - y")  # fmt: skip
add("softmax-ce-written-out-weights", None, r"\log \mathbf{1}^\top \exp(W x) - y^\top W x",
    {"y": ("m",), "W": ("m", "n"), "x": ("n",)}, "W",
    lambda v: outer(softmax(v["W"] @ v["x"]) - v["y"], v["x"]),
    r"(\operatorname{softmax}(W x) - y) x^\top")  # fmt: skip
add("softmax-weighted-written-out", None, r"y^\top \frac{\exp(z)}{\mathbf{1}^\top \exp(z)}",
    {"z": ("n",), "y": ("n",)}, "z",
    lambda v: v["y"] * softmax(v["z"]) - (v["y"] @ softmax(v["z"])) * softmax(v["z"]),
    r"y \odot \operatorname{softmax}(z)"
    r" - (y^\top \operatorname{softmax}(z)) \operatorname{softmax}(z)")  # fmt: skip
RIDGE = {"X": ("m", "n"), "w": ("n",), "y": ("m",), "lambda": ()}
add("ridge", None, r"\|X w - y\|_2^2 + \lambda \|w\|_2^2", RIDGE, "w",
    lambda v: 2 * v["X"].T @ (v["X"] @ v["w"] - v["y"]) + 2 * v["lambda"] * v["w"],
    r"2 X^\top (X w - y) + 2 \lambda w", assume={"lambda": "positive"})  # fmt: skip
GAUSS = {"Sigma": ("n", "n"), "x": ("n",), "mu": ("n",)}
GAUSS_NLL = r"\log\det\Sigma + (x - \mu)^\top \Sigma^{-1} (x - \mu)"
add("gaussian-nll-mu", None, GAUSS_NLL, GAUSS, "mu",
    lambda v: -2 * inv(v["Sigma"]) @ (v["x"] - v["mu"]),
    r"-2 \Sigma^{-1} (x - \mu)", assume={"Sigma": "spd"})  # fmt: skip
add("gaussian-nll-Sigma", None, GAUSS_NLL, GAUSS, "Sigma",
    lambda v: inv(v["Sigma"])
    - inv(v["Sigma"]) @ outer(v["x"] - v["mu"], v["x"] - v["mu"]) @ inv(v["Sigma"]),
    r"\Sigma^{-1} - \Sigma^{-1} (x - \mu)(x - \mu)^\top \Sigma^{-1}",
    assume={"Sigma": "spd"})  # fmt: skip
add("hadamard-least-squares", None, r"\|x \odot y - b\|_2^2",
    {"x": ("n",), "y": ("n",), "b": ("n",)}, "x",
    lambda v: 2 * v["y"] * (v["x"] * v["y"] - v["b"]),
    r"2 y \odot (x \odot y - b)", compare="ops")  # fmt: skip
add("hadamard-quotient", None, r"\mathbf{1}^\top (a \odot x^{\circ -1})",
    {"a": ("n",), "x": ("n",)}, "x",
    lambda v: -v["a"] / v["x"] ** 2,
    r"-a \odot x^{\circ -2}", domain={"x": "positive"}, compare="ops")  # fmt: skip
add("sqrt-sum", None, r"\mathbf{1}^\top \sqrt{x}", {"x": ("n",)}, "x",
    lambda v: 0.5 / np.sqrt(v["x"]),
    r"\frac{1}{2} x^{\circ -\frac{1}{2}}", assume={"x": "positive"}, compare="ops")  # fmt: skip
add("softplus-affine", None, r"\mathbf{1}^\top \operatorname{softplus}(A x)",
    {"A": ("m", "n"), "x": ("n",)}, "x",
    lambda v: v["A"].T @ sig(v["A"] @ v["x"]),
    r"A^\top \sigma(A x)")  # fmt: skip
add("tanh-layer", None, r"\mathbf{1}^\top \tanh(W x)", {"W": ("m", "n"), "x": ("n",)}, "W",
    lambda v: outer(1 - np.tanh(v["W"] @ v["x"]) ** 2, v["x"]),
    r"(\mathbf{1} - \tanh(W x) \odot \tanh(W x)) x^\top", compare="ops")  # fmt: skip
add("diag-quadratic", None, r"x^\top \operatorname{diag}(a) x", {"x": ("n",), "a": ("n",)}, "x",
    lambda v: 2 * v["a"] * v["x"],
    r"2 a \odot x", compare="ops")  # fmt: skip
add("diag-of-matrix", None, r"a^\top \operatorname{diag}(X)", {"a": ("n",), "X": ("n", "n")}, "X",
    lambda v: np.diag(v["a"]),
    r"\operatorname{diag}(a)")  # fmt: skip
add("l1-norm", None, r"\|x\|_1", {"x": ("n",)}, "x",
    lambda v: np.sign(v["x"]),
    r"\operatorname{sign}(x)")  # fmt: skip
add("l1-residual", None, r"\|A x - b\|_1", {"A": ("m", "n"), "x": ("n",), "b": ("m",)}, "x",
    lambda v: v["A"].T @ np.sign(v["A"] @ v["x"] - v["b"]),
    r"A^\top \operatorname{sign}(A x - b)")  # fmt: skip
add("poisson-regression", None, r"\mathbf{1}^\top \exp(X w) - y^\top X w", LOGREG, "w",
    lambda v: v["X"].T @ (np.exp(v["X"] @ v["w"]) - v["y"]),
    r"X^\top (\exp(X w) - y)")  # fmt: skip
add("cosine-to-a", None, r"\frac{a^\top x}{\|x\|_2}", {"a": ("n",), "x": ("n",)}, "x",
    lambda v: v["a"] / np.linalg.norm(v["x"])
    - (v["a"] @ v["x"]) * v["x"] / np.linalg.norm(v["x"]) ** 3,
    r"\frac{1}{\|x\|_2} a - \frac{a^\top x}{\|x\|_2^3} x", compare="ops")  # fmt: skip
add("rayleigh-quotient", None, r"\frac{x^\top A x}{x^\top x}", {"x": ("n",), "A": ("n", "n")}, "x",
    lambda v: (v["A"] + v["A"].T) @ v["x"] / (v["x"] @ v["x"])
    - 2 * (v["x"] @ v["A"] @ v["x"]) * v["x"] / (v["x"] @ v["x"]) ** 2,
    r"\frac{1}{x^\top x} (A + A^\top) x - \frac{2 x^\top A x}{(x^\top x)^2} x")  # fmt: skip
add("frobenius-norm", None, r"\|X\|_F", X_MN, "X",
    lambda v: v["X"] / np.linalg.norm(v["X"]),
    r"\frac{X}{\|X\|_F}")  # fmt: skip
add("sum-over-samples-lsq", None, r"\sum_i (y_i - w^\top x_i)^2",
    {"y": ("m",), "w": ("n",), "x": ("m", "n")}, "w",
    lambda v: -2 * v["x"].T @ (v["y"] - v["x"] @ v["w"]),
    r"-2 x^\top (y - x w)", compare="ops")  # fmt: skip
add("product-of-entries", None, r"\prod_i x_i", {"x": ("n",)}, "x",
    lambda v: np.prod(v["x"]) / v["x"],
    r"\left(\prod_i x_i\right) x^{\circ -1}", assume={"x": "positive"}, compare="ops")  # fmt: skip
add("gaussian-nll-scale", None, r"\frac{1}{2\sigma^2}\|x - \mu\|_2^2 + n \log\sigma",
    {"x": ("n",), "mu": ("n",), "sigma": ()}, "sigma",
    lambda v: -np.sum((v["x"] - v["mu"]) ** 2) / v["sigma"] ** 3 + v["x"].size / v["sigma"],
    r"\frac{n}{\sigma} - \frac{1}{\sigma^3}\|x - \mu\|_2^2", assume={"sigma": "positive"},
    compare="ops")  # fmt: skip

# === Hessians ================================================================================
add("hess-quadratic", ("98",), r"x^\top A x", {"x": ("n",), "A": ("n", "n")}, "x",
    lambda v: v["A"] + v["A"].T,
    r"A + A^\top", kind="hessian")  # fmt: skip
add("hess-least-squares", None, r"\frac{1}{2}\|A x - b\|_2^2",
    {"A": ("m", "n"), "x": ("n",), "b": ("m",)}, "x",
    lambda v: v["A"].T @ v["A"],
    r"A^\top A", kind="hessian")  # fmt: skip
add("hess-logistic", None, r"\mathbf{1}^\top \operatorname{softplus}(X w) - y^\top X w",
    LOGREG, "w",
    lambda v: v["X"].T @ np.diag(sig(v["X"] @ v["w"]) * (1 - sig(v["X"] @ v["w"]))) @ v["X"],
    r"X^\top \operatorname{diag}(\sigma(X w) \odot (\mathbf{1} - \sigma(X w))) X",
    kind="hessian", assume={"y": "binary"}, compare="ops")  # fmt: skip
add("hess-lse-written-out", None, r"\log \mathbf{1}^\top \exp(z)", {"z": ("n",)}, "z",
    lambda v: np.diag(softmax(v["z"])) - outer(softmax(v["z"]), softmax(v["z"])),
    r"\operatorname{diag}(\operatorname{softmax}(z))"
    r" - \operatorname{softmax}(z)\operatorname{softmax}(z)^\top",
    kind="hessian")  # fmt: skip
add("hess-lse", None, r"\operatorname{lse}(z)", {"z": ("n",)}, "z",
    lambda v: np.diag(softmax(v["z"])) - outer(softmax(v["z"]), softmax(v["z"])),
    r"\operatorname{diag}(\operatorname{softmax}(z))"
    r" - \operatorname{softmax}(z)\operatorname{softmax}(z)^\top",
    kind="hessian")  # fmt: skip
add("hess-ridge", None, r"\|X w - y\|_2^2 + \lambda \|w\|_2^2", RIDGE, "w",
    lambda v: 2 * v["X"].T @ v["X"] + 2 * v["lambda"] * np.eye(v["w"].size),
    r"2 X^\top X + 2 \lambda I", kind="hessian", assume={"lambda": "positive"})  # fmt: skip
add("hess-sum-exp", None, r"\mathbf{1}^\top \exp(x)", {"x": ("n",)}, "x",
    lambda v: np.diag(np.exp(v["x"])),
    r"\operatorname{diag}(\exp(x))", kind="hessian")  # fmt: skip
add("hess-gaussian-mu", None, r"(x - \mu)^\top \Sigma^{-1} (x - \mu)", GAUSS, "mu",
    lambda v: inv(v["Sigma"]) + inv(v["Sigma"]).T,
    r"\Sigma^{-1} + \Sigma^{-\top}", kind="hessian")  # fmt: skip
add("hess-log-barrier", None, r"-\mathbf{1}^\top \log(x)", {"x": ("n",)}, "x",
    lambda v: np.diag(1 / v["x"] ** 2),
    r"\operatorname{diag}(x^{\circ -2})", kind="hessian", assume={"x": "positive"},
    compare="ops")  # fmt: skip
add("hess-softplus-sum", None, r"\mathbf{1}^\top \operatorname{softplus}(x)", {"x": ("n",)}, "x",
    lambda v: np.diag(sig(v["x"]) * (1 - sig(v["x"]))),
    r"\operatorname{diag}(\sigma(x) \odot (\mathbf{1} - \sigma(x)))", kind="hessian",
    compare="ops")  # fmt: skip

# === Jacobians ===============================================================================
VEC = {"x": ("n",)}
add("jac-softmax", None, r"\operatorname{softmax}(z)", {"z": ("n",)}, "z",
    lambda v: np.diag(softmax(v["z"])) - outer(softmax(v["z"]), softmax(v["z"])),
    r"\operatorname{diag}(\operatorname{softmax}(z))"
    r" - \operatorname{softmax}(z)\operatorname{softmax}(z)^\top",
    kind="jacobian")  # fmt: skip
add("jac-softmax-written-out", None, r"\frac{\exp(z)}{\mathbf{1}^\top \exp(z)}", {"z": ("n",)},
    "z",
    lambda v: np.diag(softmax(v["z"])) - outer(softmax(v["z"]), softmax(v["z"])),
    r"\operatorname{diag}(\operatorname{softmax}(z))"
    r" - \operatorname{softmax}(z)\operatorname{softmax}(z)^\top",
    kind="jacobian")  # fmt: skip
add("jac-tanh", None, r"\tanh(x)", VEC, "x",
    lambda v: np.diag(1 - np.tanh(v["x"]) ** 2),
    r"\operatorname{diag}(\mathbf{1} - \tanh(x) \odot \tanh(x))", kind="jacobian",
    compare="ops")  # fmt: skip
add("jac-sigmoid", None, r"\sigma(x)", VEC, "x",
    lambda v: np.diag(sig(v["x"]) * (1 - sig(v["x"]))),
    r"\operatorname{diag}(\sigma(x) \odot (\mathbf{1} - \sigma(x)))", kind="jacobian",
    compare="ops")  # fmt: skip
add("jac-linear", None, r"A x", {"A": ("m", "n"), "x": ("n",)}, "x",
    lambda v: v["A"],
    r"A", kind="jacobian")  # fmt: skip
add("jac-exp-affine", None, r"\exp(A x)", {"A": ("m", "n"), "x": ("n",)}, "x",
    lambda v: np.diag(np.exp(v["A"] @ v["x"])) @ v["A"],
    r"\operatorname{diag}(\exp(A x)) A", kind="jacobian")  # fmt: skip
add("jac-hadamard", ("38",), r"x \odot y", {"x": ("n",), "y": ("n",)}, "x",
    lambda v: np.diag(v["y"]),
    r"\operatorname{diag}(y)", kind="jacobian")  # fmt: skip
add("jac-square-entries", None, r"x \odot x", VEC, "x",
    lambda v: np.diag(2 * v["x"]),
    r"2 \operatorname{diag}(x)", kind="jacobian")  # fmt: skip
add("jac-tanh-layer", None, r"W \tanh(x)", {"W": ("m", "n"), "x": ("n",)}, "x",
    lambda v: v["W"] @ np.diag(1 - np.tanh(v["x"]) ** 2),
    r"W \operatorname{diag}(\mathbf{1} - \tanh(x) \odot \tanh(x))", kind="jacobian",
    compare="ops")  # fmt: skip
add("jac-inverse-map", None, r"A^{-1} x", {"A": ("n", "n"), "x": ("n",)}, "x",
    lambda v: inv(v["A"]),
    r"A^{-1}", kind="jacobian")  # fmt: skip
add("jac-normalize", ("130",), r"\frac{x}{\|x\|_2}", VEC, "x",
    lambda v: np.eye(v["x"].size) / np.linalg.norm(v["x"])
    - outer(v["x"], v["x"]) / np.linalg.norm(v["x"]) ** 3,
    r"\frac{1}{\|x\|_2} I - \frac{1}{\|x\|_2^3} x x^\top", kind="jacobian")  # fmt: skip
