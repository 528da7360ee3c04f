"""Maximum mean discrepancy between two sets of vectors, with a permutation p-value (pure).

Used for prompt-embedding drift: reference prompts' embeddings against current ones. The
kernel is a Gaussian (RBF) whose bandwidth is the median pairwise distance of the pooled
sample (the usual heuristic); the statistic is the unbiased MMD^2; the p-value is the share
of ``permutations`` seeded random relabellings of the pooled sample whose MMD^2 is at least
the observed one (with the +1 correction, so it is never 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MMDResult:
    """``mmd2``: unbiased squared MMD; ``p_value`` in (0, 1]; ``bandwidth``: RBF sigma."""

    mmd2: float
    p_value: float
    bandwidth: float
    permutations: int


def _unbiased_mmd2(kernel: np.ndarray, n_first: int) -> float:
    first = kernel[:n_first, :n_first]
    second = kernel[n_first:, n_first:]
    cross = kernel[:n_first, n_first:]
    m, n = first.shape[0], second.shape[0]
    within_first = (first.sum() - np.trace(first)) / (m * (m - 1))
    within_second = (second.sum() - np.trace(second)) / (n * (n - 1))
    return float(within_first + within_second - 2 * cross.mean())


def mmd_test(
    reference: np.ndarray, current: np.ndarray, *, permutations: int = 200, seed: int = 0
) -> MMDResult:
    """MMD two-sample test of ``reference`` (m x d) against ``current`` (n x d).

    Raises ``ValueError`` when either side has fewer than 2 rows or the widths differ.
    Cost: O((m + n)^2 d) memory and time, so callers sample each side (a few hundred rows).
    """
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    if reference.ndim != 2 or current.ndim != 2 or reference.shape[1] != current.shape[1]:
        raise ValueError("both sides must be 2-D with the same number of columns")
    if len(reference) < 2 or len(current) < 2:
        raise ValueError("each side needs at least 2 rows")
    pooled = np.vstack([reference, current])
    squared = np.sum(pooled**2, axis=1)
    distances = np.maximum(squared[:, None] + squared[None, :] - 2 * pooled @ pooled.T, 0.0)
    upper = distances[np.triu_indices(len(pooled), k=1)]
    bandwidth = float(np.sqrt(np.median(upper))) or 1.0
    kernel = np.exp(-distances / (2 * bandwidth**2))
    m = len(reference)
    observed = _unbiased_mmd2(kernel, m)
    rng = np.random.default_rng(seed)
    at_least = 0
    for _ in range(permutations):
        order = rng.permutation(len(pooled))
        if _unbiased_mmd2(kernel[np.ix_(order, order)], m) >= observed:
            at_least += 1
    return MMDResult(
        mmd2=observed,
        p_value=(at_least + 1) / (permutations + 1),
        bandwidth=bandwidth,
        permutations=permutations,
    )
