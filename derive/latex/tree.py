"""The syntax tree the parser builds: plain frozen records, no meaning attached yet
(derive/latex/build.py gives them one)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Num:
    text: str


@dataclass(frozen=True)
class Name:
    name: str
    bold: bool = False


@dataclass(frozen=True)
class Ones:
    pass


@dataclass(frozen=True)
class Indexed:  # x_i, or with a second index A_{ij} (in a sum over both)
    base: str
    index: str
    second: str | None = None


@dataclass(frozen=True)
class Subscripted:  # (Wx)_i, \operatorname{softmax}(z)_k: an entry of an expression
    arg: object
    indices: tuple


@dataclass(frozen=True)
class Neg:
    arg: object


@dataclass(frozen=True)
class Add:
    terms: tuple


@dataclass(frozen=True)
class Mul:
    factors: tuple


@dataclass(frozen=True)
class Elementwise:  # Hadamard "odot" or Kronecker "otimes"
    op: str
    factors: tuple


@dataclass(frozen=True)
class Frac:
    num: object
    den: object


@dataclass(frozen=True)
class Power:
    base: object
    exp: object


@dataclass(frozen=True)
class HadamardPower:  # x^{\circ k}: every entry to the power k
    base: object
    exp: object


@dataclass(frozen=True)
class Transpose:
    arg: object
    letter: bool = False  # written with the letter T (^T, ^{T}, ^{-T}), not \top


@dataclass(frozen=True)
class Prime:  # x': the transpose of a vector or matrix; refused on a plain scalar name
    arg: object


@dataclass(frozen=True)
class Inverse:
    arg: object


@dataclass(frozen=True)
class PseudoInverse:
    arg: object


@dataclass(frozen=True)
class Call:
    fn: str
    arg: object
    base: object = None  # \log_b
    order: int = 0  # \sigma'(t): the derivative of the function, applied to arg


@dataclass(frozen=True)
class Inner:  # \langle a, b \rangle
    left: object
    right: object


@dataclass(frozen=True)
class Apply:  # f(x), g(x), h(x): a function nobody defined, unless f is a declared factor
    name: str
    arg: object


@dataclass(frozen=True)
class Norm:
    arg: object
    p: str  # "2", "1", "F"


@dataclass(frozen=True)
class Bars:
    arg: object


@dataclass(frozen=True)
class Reduce:  # \sum_i body or \prod_i body
    op: str
    index: str
    lower: object
    upper: object
    body: object
    joint: bool = False  # written with the enclosing sum's index: the j of \sum_{i,j}
