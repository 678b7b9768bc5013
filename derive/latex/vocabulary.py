"""The LaTeX commands and names the reader knows: functions, fonts, accents, transposes,
and what it refuses by name with the reason."""

from __future__ import annotations

#: functions a reader may write that the engine knows and refuses, with the reason
_EIGEN = (
    "all the eigenvalues, eig(A)",
    "write \\lambda_{\\max}(A) or \\lambda_{\\min}(A) of a symmetric A (Cookbook (67)), "
    "or tr(A) = Σλᵢ, det(A) = ∏λᵢ",
)
KNOWN_UNSUPPORTED: dict[str, tuple[str, str]] = {
    "eig": _EIGEN,
    "eigmax": _EIGEN,
    "eigmin": _EIGEN,
    "rank": ("the rank of a matrix", "it is integer-valued, so not differentiable"),
}

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
    "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}  # fmt: skip
FONTS = {r"\mathbf", r"\boldsymbol", r"\bm", r"\mathrm", r"\mathit", r"\vec", r"\mathsf"}
ACCENTS = {r"\hat": "hat", r"\widehat": "hat", r"\bar": "bar", r"\overline": "bar",
           r"\tilde": "tilde", r"\widetilde": "tilde"}  # fmt: skip
NAMED_FUNCTIONS = {
    r"\log": "log", r"\ln": "log", r"\exp": "exp", r"\tanh": "tanh", r"\sin": "sin",
    r"\cos": "cos", r"\det": "det", r"\tr": "tr", r"\sqrt": "sqrt", r"\cosh": "cosh",
    r"\sinh": "sinh",
}  # fmt: skip
OPERATOR_NAMES = {
    "tr": "tr", "Tr": "tr", "trace": "tr", "softmax": "softmax", "softplus": "softplus",
    "diag": "diag", "sigmoid": "sigma", "lse": "lse", "logsumexp": "lse", "det": "det",
    "log": "log", "exp": "exp", "tanh": "tanh", "sign": "sign", "sgn": "sign",
    "expm": "expm", "sinm": "sinm", "cosm": "cosm", "sinhm": "sinhm", "coshm": "coshm",
    "cosh": "cosh", "sinh": "sinh", "ReLU": "relu", "relu": "relu", "abs": "abs",
}  # fmt: skip
#: commands that begin a function or an operator: an unparenthesised argument stops before one
_FUNCTION_COMMANDS = {*NAMED_FUNCTIONS, r"\operatorname", r"\sum", r"\prod", r"\max", r"\min"}
#: what ``\mathbb{E}``-like notation means, and what to write instead
_BLACKBOARD = {
    "E": (
        "the expectation \\mathbb{E}[\\cdot] inside a formula",
        "write the function whose "
        "expectation you want; `derive mle FAMILY` derives expectations for the families",
    ),
    "R": ("a set \\mathbb{R} inside a formula", "declare shapes with --shape instead"),
    "P": ("a probability \\mathbb{P}(\\cdot) inside a formula", "write the density"),
}
TRANSPOSE_MARKS = {"T", r"\top", r"\intercal", r"\mathsf"}
UNDEFINED_FUNCTIONS = {"f", "g", "h"}  # f(x) is a function call in any paper, not f times x
