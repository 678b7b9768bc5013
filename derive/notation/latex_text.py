r"""Plain text as LaTeX: `escape_text` for text mode in documents (pdflatex, T1), `math_text`
for text inside maths that MathJax, KaTeX and LaTeX all render.

Both cut the text into pieces (`_pieces`): characters typeset as themselves, TeX specials,
and maths (Greek letters, maths symbols, styled letters such as 𝒩, letters with a hat, bar or
tilde, runs of super- and subscripts), so that every character has a LaTeX form; only a
character nothing here knows is shown by its code point, ``[U+…]``.
"""

from __future__ import annotations

import unicodedata

_TEXT_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\ensuremath{\sim}",  # in notes, "x ~ N(0, 1)": distributed as
    "^": r"\textasciicircum{}",
}

_GREEK = {
    "α": r"\alpha",
    "β": r"\beta",
    "γ": r"\gamma",
    "δ": r"\delta",
    "ε": r"\varepsilon",
    "ϵ": r"\epsilon",
    "ζ": r"\zeta",
    "η": r"\eta",
    "θ": r"\theta",
    "ϑ": r"\vartheta",
    "ι": r"\iota",
    "κ": r"\kappa",
    "λ": r"\lambda",
    "μ": r"\mu",
    "ν": r"\nu",
    "ξ": r"\xi",
    "ο": "o",
    "π": r"\pi",
    "ρ": r"\rho",
    "σ": r"\sigma",
    "ς": r"\varsigma",
    "τ": r"\tau",
    "υ": r"\upsilon",
    "φ": r"\varphi",
    "ϕ": r"\phi",
    "χ": r"\chi",
    "ψ": r"\psi",
    "ω": r"\omega",
    "Γ": r"\Gamma",
    "Δ": r"\Delta",
    "Θ": r"\Theta",
    "Λ": r"\Lambda",
    "Ξ": r"\Xi",
    "Π": r"\Pi",
    "Σ": r"\Sigma",
    "Υ": r"\Upsilon",
    "Φ": r"\Phi",
    "Ψ": r"\Psi",
    "Ω": r"\Omega",
}
_GREEK.update({u: u_latin for u, u_latin in zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX", strict=True)})

_MATH_SYMBOLS = {
    "−": "-",
    "∘": r"\circ",
    "⊙": r"\odot",
    "⊗": r"\otimes",
    "≥": r"\geq",
    "≤": r"\leq",
    "≠": r"\neq",
    "≈": r"\approx",
    "≐": r"\doteq",
    "≡": r"\equiv",
    "∝": r"\propto",
    "±": r"\pm",
    "∑": r"\sum",
    "∏": r"\prod",
    "∫": r"\int",
    "∂": r"\partial",
    "∇": r"\nabla",
    "·": r"\cdot",
    "×": r"\times",
    "→": r"\to",
    "←": r"\leftarrow",
    "↦": r"\mapsto",
    "⇒": r"\Rightarrow",
    "⇔": r"\Leftrightarrow",
    "∈": r"\in",
    "∉": r"\notin",
    "⊂": r"\subset",
    "∀": r"\forall",
    "∃": r"\exists",
    "∞": r"\infty",
    "√": r"\surd",
    "‖": r"\|",
    "⊤": r"\top",
    "ℝ": r"\mathbb{R}",
    "𝟏": r"\mathbf{1}",
    "∅": r"\emptyset",
    "⋅": r"\cdot",
    "∣": r"\mid",
    "∧": r"\wedge",
    "∨": r"\vee",
    "¬": r"\neg",
    "½": r"\tfrac{1}{2}",
    "¼": r"\tfrac{1}{4}",
    "¾": r"\tfrac{3}{4}",
    "∼": r"\sim",
    "ℓ": r"\ell",
    "′": r"^{\prime}",
    "″": r"^{\prime\prime}",
    "⟨": r"\langle",
    "⟩": r"\rangle",
    "∥": r"\parallel",
    "⊆": r"\subseteq",
    "⊇": r"\supseteq",
    "∪": r"\cup",
    "∩": r"\cap",
    "≪": r"\ll",
    "≫": r"\gg",
    "∓": r"\mp",
    "≔": ":=",
    "÷": r"\div",
    "⋯": r"\cdots",
    "⋮": r"\vdots",
    "⋱": r"\ddots",
}

_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ", "0123456789+-=()niT", strict=True))
_SUPERSCRIPTS["ᵀ"] = r"\top"
_SUPERSCRIPTS.update({"ʲ": "j", "ᵏ": "k"})
_SUBSCRIPTS = dict(
    zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "0123456789+-=()aeoxhklmnpstijruv", strict=True)
)

_TEXT_PUNCTUATION = {
    "—": "---",
    "–": "--",
    "“": "``",
    "”": "''",
    "‘": "`",
    "’": "'",
    "…": r"\ldots{}",
    "\u00a0": "~",
    "\u2009": r"\,",
}

_ACCENTS = {"\u0302": r"\hat", "\u0304": r"\bar", "\u0305": r"\bar", "\u0303": r"\tilde"}


# Styles of the letters of Unicode's mathematical alphanumeric and letterlike blocks (𝒩, ℒ,
# 𝔽), by the words of their names, most specific first.
_LETTER_STYLES = (
    ("DOUBLE-STRUCK", r"\mathbb"),
    ("FRAKTUR", r"\mathfrak"),
    ("BLACK-LETTER", r"\mathfrak"),
    ("SCRIPT", r"\mathcal"),
    ("SANS-SERIF", r"\mathsf"),
    ("MONOSPACE", r"\mathtt"),
    ("BOLD", r"\mathbf"),
    ("ITALIC", ""),
)


def _math_char(c: str) -> str | None:
    r"""c in LaTeX maths, or None: Greek, a maths symbol, an ASCII letter or digit, a styled
    letter (𝒩 → \mathcal{N}), a letter with a hat, bar or tilde (ŵ → \hat{w})."""
    if c in _GREEK:
        return _GREEK[c]
    if c in _MATH_SYMBOLS:
        return _MATH_SYMBOLS[c]
    if c.isascii() and c.isalnum():
        return c
    if ord(c) < 0x100:
        return None  # Latin-1 is text (é, ñ), typeset as itself
    parts = unicodedata.normalize("NFD", c)
    if len(parts) == 2 and parts[1] in _ACCENTS and _math_char(parts[0]) is not None:
        return f"{_ACCENTS[parts[1]]}{{{_math_char(parts[0])}}}"
    base = unicodedata.normalize("NFKC", c)
    name = unicodedata.name(c, "")
    if (
        len(base) == 1
        and base != c
        and not unicodedata.decomposition(c).startswith(("<super>", "<sub>"))
    ):
        inner = _math_char(base)
        if inner is not None:
            style = next((cmd for word, cmd in _LETTER_STYLES if word in name), "")
            return f"{style}{{{inner}}}" if style else inner
    return None


def _script(c: str) -> tuple[str, str] | None:
    """("^", LaTeX) for a superscript character (², ᵀ, ᵈ), ("_", …) for a subscript, or None."""
    if c in _SUPERSCRIPTS:
        return "^", _SUPERSCRIPTS[c]
    if c in _SUBSCRIPTS:
        return "_", _SUBSCRIPTS[c]
    tag, _, code = unicodedata.decomposition(c).partition(" ")
    if tag in ("<super>", "<sub>") and code:
        inner = _math_char(chr(int(code.split()[0], 16)))
        if inner is not None:
            return ("^" if tag == "<super>" else "_"), inner
    return None


def _pieces(s: str) -> list[tuple[str, str]]:
    r"""s cut into ("text", a character typeset as itself), ("special", one of the TeX
    specials ``& % $ # _ { } ~ ^ \``) and ("math", LaTeX maths) pieces, the shared work of
    `escape_text` and `math_text`. A run of superscripts (⁻¹) is one maths piece; an
    unknown character is ("math", ``\texttt{[U+…]}``) rather than a broken build."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if i + 1 < n and s[i + 1] in _ACCENTS and _math_char(c) is not None:
            out.append(("math", f"{_ACCENTS[s[i + 1]]}{{{_math_char(c)}}}"))
            i += 2
            continue
        script = _script(c)
        if script is not None:
            mark, j, inner = script[0], i, []
            while j < n and (_script(s[j]) or ("",))[0] == mark:
                inner.append(_script(s[j])[1])
                j += 1
            out.append(("math", f"{mark}{{{''.join(inner)}}}"))
            i = j
            continue
        if c in _TEXT_SPECIALS:
            out.append(("special", c))
        elif c in _TEXT_PUNCTUATION:
            out.append(("text", c))
        elif c in "\n\t\r":
            out.append(("text", " "))  # a blank line would end the paragraph inside \text{}
        elif _math_char(c) is not None and not (c.isascii() or c in _LATIN1_TEXT):
            out.append(("math", _math_char(c)))
        elif ord(c) < 0x100 and c.isprintable():
            out.append(("text", c))
        elif unicodedata.category(c) == "Mn":
            pass  # a combining mark on a character we could not accent
        else:
            out.append(("math", rf"\texttt{{[U+{ord(c):04X}]}}"))
        i += 1
    return out


# Latin-1 characters that are maths symbols (× ± ·) are set in maths; the rest are text.
_LATIN1_TEXT = {chr(k) for k in range(0xA0, 0x100)} - set(_MATH_SYMBOLS) - set(_GREEK)


def escape_text(s: str) -> str:
    r"""Plain text as LaTeX text-mode source that pdflatex (T1, utf8) compiles.

    The specials ``& % $ # _ { } ~ ^ \`` are escaped; Greek letters, maths symbols (−, ∘, ≥,
    ∑, ∂, ∇, ·, ×, →, ⇒, ∼, ℓ, …), styled letters (𝒩), runs of superscripts (², ᵀ, ⁻¹, ᵈ) and
    subscripts, and letters with a hat, bar or tilde (ŵ, or w and a combining hat) become
    ``\ensuremath{…}``; Latin-1 text passes through; any other character is shown by its
    code point rather than breaking the build.
    """
    out: list[str] = []
    for kind, value in _pieces(s):
        if kind == "math":
            out.append(rf"\ensuremath{{{value}}}")
        elif kind == "special":
            out.append(_TEXT_SPECIALS[value])
        else:
            out.append(_TEXT_PUNCTUATION.get(value, value))
    return "".join(out)


_MATH_TEXT_SPECIALS = {
    "\\": r"\backslash",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\sim",
    "^": r"\hat{\ }",
}


# Text characters KaTeX 0.16 refuses inside \text{} in strict mode (measured over Latin-1 and
# the punctuation above), and how to set those that occur in maths instead.
_KATEX_REFUSES = set("\u00a0¡¢¤¦§¨ª«¬\u00ad¯±²³´µ¶¸¹º»¼½¾¿×÷\u2009")
_KATEX_INSTEAD = {
    "\u00a0": "~",
    "\u2009": r"\,",
    "§": r"\S",
    "¶": r"\P",
    "µ": r"\mu",
    "¬": r"\neg",
    "±": r"\pm",
    "×": r"\times",
    "÷": r"\div",
}


def math_text(s: str) -> str:
    r"""Plain text inside maths, for MathJax, KaTeX and LaTeX alike: runs of text in
    ``\text{…}``, and TeX specials, Greek letters and maths symbols set in maths between them
    (``\text{the score for }\mu``).

    MathJax shows the inside of ``\text`` verbatim, so ``\&`` there would print a backslash;
    KaTeX (strict) refuses a Greek letter or ∂ inside ``\text``; outside it, each means the
    same in all three. Latin-1 letters and typographic punctuation (é, –, ’) stay text.
    """
    parts: list[str] = []
    buf = ""
    for kind, value in _pieces(s):
        if kind == "text" and value in _KATEX_REFUSES:
            kind = "math"
            value = _KATEX_INSTEAD.get(value, rf"\texttt{{[U+{ord(value):04X}]}}")
        if kind == "text":
            buf += value
            continue
        if buf:
            parts.append(rf"\text{{{buf}}}")
            buf = ""
        parts.append(_MATH_TEXT_SPECIALS[value] if kind == "special" else value)
    if buf:
        parts.append(rf"\text{{{buf}}}")
    return "".join(parts) or r"\text{}"
