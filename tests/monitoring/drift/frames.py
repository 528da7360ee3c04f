"""Seeded frames for the drift tests: churn customers, shifted or not."""

from __future__ import annotations

import pandas as pd

from training import churn_data


def customers(
    n_rows: int, *, seed: int, scenario: str | None = None, strength: float = 0.0
) -> pd.DataFrame:
    """Generated customers without the personal ``customer_id``, with the label."""
    data = churn_data.generate(n_rows=n_rows, seed=seed, scenario=scenario, strength=strength)
    return data.drop(columns=[churn_data.ID_COLUMN])
