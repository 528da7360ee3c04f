"""Held-out metrics and calibration error, and the provenance recorded with a model."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from training.evaluation import classification_metrics, expected_calibration_error
from training.provenance import code_version, data_fingerprint


def test_calibrated_probabilities_have_near_zero_ece_and_overconfident_ones_do_not() -> None:
    rng = np.random.default_rng(0)
    probability = rng.random(50_000)
    calibrated = rng.random(50_000) < probability
    assert expected_calibration_error(is_positive=calibrated, probability=probability) < 0.01
    overconfident = np.where(probability > 0.5, 0.99, 0.01)
    ece = expected_calibration_error(is_positive=calibrated, probability=overconfident)
    assert ece == pytest.approx(0.24, abs=0.01)


def test_ece_of_a_hand_computed_example() -> None:
    # Bin [0.2, 0.3): mean prediction 0.2, rate 0.5 -> 0.3; bin [0.9, 1]: 1.0 vs 1.0 -> 0.
    ece = expected_calibration_error(
        is_positive=np.array([True, False, True, True]),
        probability=np.array([0.2, 0.2, 1.0, 1.0]),
    )
    assert ece == pytest.approx(0.5 * 0.3)


def test_metrics_of_a_perfect_and_of_a_constant_classifier() -> None:
    truth = np.array([True, False, False, False])
    perfect = classification_metrics(is_positive=truth, probability=truth.astype(float))
    assert perfect["accuracy"] == perfect["f1"] == perfect["roc_auc"] == 1.0
    assert perfect["brier_score"] == perfect["ece"] == 0.0
    assert perfect["log_loss"] < 1e-6
    constant = classification_metrics(is_positive=truth, probability=np.full(4, 0.25))
    assert constant["accuracy"] == constant["baseline_accuracy"] == 0.75
    assert constant["positive_rate"] == 0.25
    assert constant["f1"] == 0.0
    assert constant["roc_auc"] == 0.5
    assert constant["ece"] == pytest.approx(0.0)


def test_fingerprint_is_stable_and_sensitive_to_any_change() -> None:
    frame = pd.DataFrame({"x": [0.1, 0.2, 1 / 3], "c": ["a", "b", "c"]})
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", data_fingerprint(frame))
    assert data_fingerprint(frame) == data_fingerprint(frame.copy())
    nudged = frame.assign(x=[0.1, 0.2, 1 / 3 + 1e-12])
    assert data_fingerprint(nudged) != data_fingerprint(frame)
    assert data_fingerprint(frame.iloc[::-1]) != data_fingerprint(frame)


def test_code_version_names_the_git_checkout() -> None:
    # The tests run from the repository, so git answers (a bento would get the package version).
    assert re.fullmatch(r"git:[0-9A-Za-z._-]+", code_version())
