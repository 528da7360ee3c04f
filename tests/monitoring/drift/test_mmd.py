"""The MMD permutation test on seeded Gaussian clouds."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.drift.mmd import mmd_test


def test_same_distribution_is_not_flagged_and_a_shift_is() -> None:
    rng = np.random.default_rng(0)
    reference = rng.standard_normal((120, 8))
    same = mmd_test(reference, rng.standard_normal((100, 8)), permutations=100)
    moved = mmd_test(reference, rng.standard_normal((100, 8)) + 0.5, permutations=100)
    assert same.p_value > 0.05
    assert moved.p_value < 0.02 and moved.mmd2 > same.mmd2


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="same number of columns"):
        mmd_test(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        mmd_test(np.zeros((1, 2)), np.zeros((5, 2)))
