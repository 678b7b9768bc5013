"""Verify derivations and rule examples numerically, against JAX autodiff.

`check_derivation` checks every step of a derivation by its relation, every claim by its
kind and every link of a displayed chain, on random draws; `check_rule_example` checks a
rule's example; `given_of` reads the random inputs off expressions. The modules, each
importing only those before it: `measure` (error measures, tolerances), `trial` (one random
draw), `relations` (what a step's relation checks), `claims` (against jax.grad, jax.hessian,
jax.jacobian), `chain` (a step starts where the step above ended), `running` (the trials;
`check_derivation`), `rule_examples`. JAX is imported when a check runs, not on import.
"""

from derive.check.measure import FLOOR, MC_TOLERANCE, TOLERANCE
from derive.check.relations import STANDARD_ERRORS
from derive.check.rule_examples import check_rule_example, given_of
from derive.check.running import check_derivation

__all__ = [
    "FLOOR",
    "MC_TOLERANCE",
    "STANDARD_ERRORS",
    "TOLERANCE",
    "check_derivation",
    "check_rule_example",
    "given_of",
]
