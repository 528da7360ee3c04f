"""Held-out evaluation of a binary classifier's probabilities (pure functions)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, log_loss, roc_auc_score

# Equal-width probability bins for the expected calibration error.
CALIBRATION_BINS = 10


def expected_calibration_error(
    *, is_positive: np.ndarray, probability: np.ndarray, n_bins: int = CALIBRATION_BINS
) -> float:
    """Mean |predicted probability - observed positive rate| over equal-width bins (pure).

    Each bin is weighted by its share of the rows, so 0 means perfectly calibrated.
    """
    truth = np.asarray(is_positive, dtype=float)
    prob = np.asarray(probability, dtype=float)
    # Bin i holds [i/n, (i+1)/n); probability 1.0 belongs to the last bin.
    bins = np.minimum((prob * n_bins).astype(int), n_bins - 1)
    error = 0.0
    for index in range(n_bins):
        in_bin = bins == index
        if in_bin.any():
            error += in_bin.mean() * abs(prob[in_bin].mean() - truth[in_bin].mean())
    return float(error)


def classification_metrics(
    *, is_positive: np.ndarray, probability: np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """Accuracy, F1, ROC AUC, log loss, Brier score and ECE of P(positive) (pure).

    ``baseline_accuracy`` is what always predicting the majority class would score, so a
    reader sees at once whether the model learned anything.
    """
    truth = np.asarray(is_positive, dtype=bool)
    prob = np.clip(np.asarray(probability, dtype=float), 0.0, 1.0)
    predicted = prob >= threshold
    positive_rate = float(truth.mean())
    both_classes = 0 < truth.sum() < truth.size
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "f1": float(f1_score(truth, predicted, zero_division=0.0)),
        "roc_auc": float(roc_auc_score(truth, prob)) if both_classes else float("nan"),
        "log_loss": float(log_loss(truth, prob, labels=[False, True])),
        "brier_score": float(brier_score_loss(truth, prob, pos_label=True)),
        "ece": expected_calibration_error(is_positive=truth, probability=prob),
        "positive_rate": positive_rate,
        "baseline_accuracy": max(positive_rate, 1.0 - positive_rate),
    }
