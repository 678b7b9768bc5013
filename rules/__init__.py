"""The rulebook: identities with citations and the machine forms the engine applies.

Shipped as ``derive.rules``. Importing it registers every rule; look one up with `get`.
"""

# The registration order is the order `derive rules` lists them in: the algebra of matrix
# calculus first (transposes, rewrites before differentiating, textbook form, read-off).
from derive.rules import transpose, prepare, textbook, identify  # noqa: I001, F401
from derive.rules import (  # noqa: F401  (register rules)
    conjugacy,
    constrained,
    differential,
    entrywise,
    expectation,
    index_notation,
    kronecker,
    loglik,
    matrix_function,
    optimum,
    probability,
    pseudo_inverse,
    regression,
    stationary,
)
from derive.rules.registry import all_rules, get, register, search

__all__ = ["all_rules", "get", "register", "search"]
