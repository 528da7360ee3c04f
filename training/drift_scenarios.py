"""The named ways a batch of customers can differ from the training population.

Kept apart from the generator (no numpy import) so that the CLI can offer the names
without loading the data stack.
"""

from __future__ import annotations

from enum import StrEnum


class DriftScenario(StrEnum):
    """How a batch of customers differs from the training population."""

    # P(x) moves, P(y|x) stays: more month-to-month, pricier plans, younger, newer customers.
    COVARIATE_SHIFT = "covariate-shift"
    # P(x) stays, P(y|x) moves: a competitor poaches loyal heavy users, support stops mattering.
    CONCEPT_DRIFT = "concept-drift"
    # A broken upstream job: missing values, out-of-range numbers, unknown categories.
    BAD_BATCH = "bad-batch"
