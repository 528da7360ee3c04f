"""How many examples a property test tries, and the seeded profile every test runs under.

Every Hypothesis test is seeded: the ``canaria`` profile (loaded by ``tests/conftest.py``)
sets ``derandomize=True`` and no example database, so a run tries the same examples each
time and a failure reproduces.

``examples(count)``: a test's own example count, scaled by the environment variable
``CANARIA_EXAMPLES_SCALE`` (a number in (0, 1]; unset: 1, the count as written), never
below ``MIN_EXAMPLES``. ``make mutate`` lowers it for the spec parser, every mutant of
which runs all the property tests (``bench/mutation.py --examples-scale``); ``make test``
leaves it unset. A value that is not a number in (0, 1] raises ``ValueError`` naming it.
While a scale below 1 is set, Hypothesis does not shrink a failing example (nor explain
it): under mutation testing any failure kills the mutant, and shrinking one took longer
than mutmut's time limit, which judged the mutant "timeout" instead of "killed".
"""

from __future__ import annotations

import math
import os

from hypothesis import Phase, settings

SCALE_ENV = "CANARIA_EXAMPLES_SCALE"
MIN_EXAMPLES = 5
DEFAULT_EXAMPLES = 100  # Hypothesis' own default for a test that names no count


def examples_scale() -> float:
    """``CANARIA_EXAMPLES_SCALE`` as a float in (0, 1]; 1.0 when unset.

    Raises ``ValueError`` naming the variable for anything else ("0", "2", "many").
    """
    raw = os.environ.get(SCALE_ENV)
    if raw is None or raw == "":
        return 1.0
    try:
        scale = float(raw)
    except ValueError:
        raise ValueError(f"{SCALE_ENV}: must be a number in (0, 1], got {raw!r}") from None
    if not (math.isfinite(scale) and 0 < scale <= 1):
        raise ValueError(f"{SCALE_ENV}: must be a number in (0, 1], got {raw!r}")
    return scale


def examples(count: int) -> int:
    """``count`` scaled by ``examples_scale()``, rounded, at least ``MIN_EXAMPLES``
    (a count already below it is kept)."""
    return max(min(count, MIN_EXAMPLES), round(count * examples_scale()))


def phases() -> tuple[Phase, ...]:
    """Hypothesis' phases: all of them, or, while a scale below 1 is set, all but
    ``shrink`` and ``explain``."""
    if examples_scale() < 1:
        return (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
    return tuple(Phase)


def load_profile() -> None:
    """Register and load the ``canaria`` profile: seeded, no database, the default
    example count scaled like ``examples`` and the phases of ``phases()``."""
    settings.register_profile(
        "canaria",
        derandomize=True,
        database=None,
        max_examples=examples(DEFAULT_EXAMPLES),
        phases=phases(),
    )
    settings.load_profile("canaria")
