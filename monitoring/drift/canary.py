"""Drift as a canary check: a variant's window against another variant's, same time span.

The canary and the stable serve the same traffic mix (the router splits at random), so
their inputs should match and their predictions differ only as much as the models do. The
canary's logged inputs *and* predictions are tested against the stable's over the same
window; prediction columns count in the drifted share here, because a canary whose
predictions move away from the stable's is suspicious even when its inputs do not.
Either side shorter than ``config.min_rows`` is "no data".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from canaria.contracts.model_metadata import FeatureSchema
from monitoring.drift.config import DriftConfig
from monitoring.drift.engine import analyse
from monitoring.drift.exporter import VariantResult
from monitoring.drift.tables import sample_records_to_frame


def compare_variants(
    current: Sequence[Mapping[str, Any]],
    baseline: Sequence[Mapping[str, Any]],
    *,
    variant: str,
    baseline_variant: str,
    schema: FeatureSchema | None,
    config: DriftConfig,
    now: float,
) -> VariantResult:
    """``variant``'s records tested against ``baseline_variant``'s (sample-log records).

    Raises ``DriftInputError`` when the two logs' columns do not match.
    """
    if len(current) < config.min_rows or len(baseline) < config.min_rows:
        return VariantResult(variant, now, len(current), None, baseline=baseline_variant)
    summary = analyse(
        sample_records_to_frame(baseline),
        sample_records_to_frame(current),
        config=config,
        schema=schema,
        context={"variant": variant, "baseline": baseline_variant},
        report=False,
        predictions_in_share=True,
    ).summary
    return VariantResult(variant, now, len(current), summary, baseline=baseline_variant)
