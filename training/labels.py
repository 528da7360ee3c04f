"""Labels for logged inputs, from the churn generator's own label model (documented stand-in).

A real retraining job joins logged inputs with outcomes that arrive later (did the customer
leave?). The generated churn data has no such feed, so the generator labels them: the same
log-odds it draws labels from (``stable_logit``, blended towards ``drifted_logit`` by the
concept-drift ``strength``), plus its latent noise, and a seeded draw. Rows whose features
the label model cannot read (missing or unknown values) are dropped before labelling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training import churn_data


def label_with_generator(
    features: pd.DataFrame, *, concept_drift: float, seed: int
) -> pd.DataFrame:
    """``features`` (complete, valid rows only) with a ``churned`` column drawn as generated.

    ``concept_drift`` in [0, 1] is the ``concept-drift`` scenario's strength the labels
    follow (0: the training population's P(churn | x)). Raises ``ValueError`` for a strength
    outside [0, 1].
    """
    if not 0.0 <= concept_drift <= 1.0:
        raise ValueError(f"concept_drift must be in [0, 1], got {concept_drift}")
    rows = valid_rows(features)
    logit = (1 - concept_drift) * churn_data.stable_logit(rows)
    if concept_drift:
        logit = logit + concept_drift * churn_data.drifted_logit(rows)
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 0.35, len(rows))
    probability = 1 / (1 + np.exp(-(logit + noise)))
    labels = np.where(
        rng.random(len(rows)) < probability, churn_data.POSITIVE_CLASS, churn_data.NEGATIVE_CLASS
    )
    return rows.assign(**{churn_data.TARGET_COLUMN: labels.astype(object)})


def valid_rows(features: pd.DataFrame) -> pd.DataFrame:
    """The feature columns of the rows ``valid_mask`` keeps, numbers as numbers."""
    frame = features[list(churn_data.FEATURE_NAMES)]
    kept = frame[valid_mask(frame)].reset_index(drop=True)
    for name in churn_data.NUMERIC_FEATURES:
        kept[name] = pd.to_numeric(kept[name])
    return kept


def valid_mask(features: pd.DataFrame) -> pd.Series:
    """True for rows whose every feature is present and allowed by the feature schema."""
    frame = features[list(churn_data.FEATURE_NAMES)]
    keep = frame.notna().all(axis=1)
    for feature in churn_data.FEATURE_SCHEMA.features:
        column = frame[feature.name]
        if feature.categories:
            keep &= column.isin(feature.categories)
        else:
            numbers = pd.to_numeric(column, errors="coerce")
            low = -np.inf if feature.minimum is None else feature.minimum
            high = np.inf if feature.maximum is None else feature.maximum
            keep &= numbers.between(low, high)
    return keep
