"""Standalone NumPy or JAX source code for a derived formula, and an operation count.

`generate(expr, given)` lowers a SymPy matrix expression (the nodes of `derive.expr` and the
SymPy matrix algebra that `derive.evaluate` evaluates) to a small array program and prints it
as one Python function that needs NumPy (or JAX) alone:

- common subexpressions are computed once: the program is a DAG built by hash-consing, and a
  node used twice becomes a local variable;
- matrix products stay products (``@``), associated by a matrix-chain search over the
  symbolic sizes; ``diag(v) M`` becomes ``v[:, None] * M`` and ``M diag(v)`` ``M * v[None, :]``;
  ``1ᵀM`` becomes a column sum;
- ``A⁻¹B`` becomes ``solve(A, B)`` (``BA⁻¹`` a solve with Aᵀ); an inverse is formed only where
  it stands alone;
- vectors are 1-D arrays in and out, as in ``Derivation.function``: a column vector result is
  returned 1-D, a 1×1 or scalar result 0-d, a 1×n result as a (1, n) array.

`generate_outputs` does the same for several expressions at once, returning a named tuple;
a `Derivation`'s results become such outputs, named by the rule in `results` (∂f/∂W₂ is
``grad_W_2``, ŵ ``w_hat``). Anything else raises `UnsupportedError` naming the node.
Identifiers in the source come from the given symbol names by one rule (`identifier`:
``\\lambda`` → ``lambda_``, ``sigma^2`` → ``sigma_2``), which are also the keywords of the
callables (`InputError` when that fails); nothing is ever passed to ``eval``/``exec``.
`load_function` imports the source from a file with importlib.

The modules, each importing only those above it: `count` (operation counts), `identifiers`
(symbol names as Python names and keywords), `program` (the hash-consed array program),
`vec` (lowering vec(A), the commutation matrix K and Kronecker products by broadcasting,
for `lower`), `lower` (SymPy to the program), `emit` (the program printed as a module:
`generate`), `load` (importing that source: `load_function`, `compile_function`), `results`
(a derivation's results as named outputs), `derivation` (all of it for a `Derivation`) and
`hvp` (a Hessian's Hessian-vector product, ``Derivation.function(form="hvp")``).
"""

from derive.codegen.count import op_count, tree_size
from derive.codegen.derivation import default_name, derivation_function, derivation_source
from derive.codegen.emit import generate, generate_outputs
from derive.codegen.identifiers import identifier, keyword_arguments
from derive.codegen.load import compile_function, compile_source, load_function
from derive.codegen.program import BACKENDS
from derive.codegen.results import Output, outputs, result_expression, select

__all__ = [
    "BACKENDS",
    "Output",
    "compile_function",
    "compile_source",
    "default_name",
    "derivation_function",
    "derivation_source",
    "generate",
    "generate_outputs",
    "identifier",
    "keyword_arguments",
    "load_function",
    "op_count",
    "outputs",
    "result_expression",
    "select",
    "tree_size",
]
