"""The ``retrain`` section's types and parser; they live with the ModelRollout spec in
``monitoring.api.spec.retrain`` (re-exported here for the launchers and the policy)."""

from monitoring.api.spec.retrain import (
    LAUNCHERS,
    DriftTrigger,
    JobTemplate,
    RetrainSpec,
    RetrainSpecError,
    parse_retrain,
)

__all__ = [
    "LAUNCHERS",
    "DriftTrigger",
    "JobTemplate",
    "RetrainSpec",
    "RetrainSpecError",
    "parse_retrain",
]
