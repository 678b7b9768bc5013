"""Maximum likelihood and maximum a posteriori as derivations, one idea a module.

`mle_derivation(family)` for any of `families()` (`mle`: the scalar families through the
i.i.d. `pipeline` and its `second_order` check; `regression`, `mvn` and `categorical` with
matrix parameters, built on `matrix`); `map_derivation` (`map_estimate`). The symbols they are
written in are in `symbols`, the record of steps and claims they share in `steps`, and the
claims that check their remarks (definiteness, values at the estimates) in `side_claims`.
"""

from derive.likelihood.map_estimate import map_derivation
from derive.likelihood.mle import families, mle_derivation
from derive.likelihood.symbols import X_BAR_DEFINITION, hat

__all__ = ["X_BAR_DEFINITION", "families", "hat", "map_derivation", "mle_derivation"]
