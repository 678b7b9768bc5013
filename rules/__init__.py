"""The rulebook: identities with citations and the machine forms the engine applies.

Shipped as ``derive.rules``. Importing it registers every rule; look one up with `get`.
"""

from derive.rules import (  # noqa: F401  (register rules)
    algebra,
    constrained,
    differential,
    entrywise,
    expectation,
    matrix_function,
    probability,
    pseudo_inverse,
    regression,
)
from derive.rules.registry import all_rules, get, register, search

__all__ = ["all_rules", "get", "register", "search"]
