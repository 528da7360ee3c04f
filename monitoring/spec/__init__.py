"""The ModelRollout spec as typed dataclasses, parsed and validated from the CR's dict.

``parse_spec(obj["spec"])`` turns the camelCase dict Kubernetes stores into a frozen
``RolloutSpec`` or raises ``SpecError`` naming the offending field with its full path
(``spec.analysis.checks[1].max: ...``), so a handler can refuse a bad spec with a clear
message and keep running the last good one. The CRD's openAPIV3Schema
(``k8s/crds/modelrollout.yaml``) rejects most of the same mistakes at ``kubectl apply``;
this module also checks what a schema cannot (duplicate check names, increasing steps).

The status dataclasses live in ``monitoring.status``; the engine in ``monitoring.analysis``.

Manual control by plain kubectl (the kubectl plugin does the same):

* ``spec.paused: true`` pauses the rollout (traffic frozen) until set back to ``false``;
* the annotation ``canaria.dev/action`` with a value of ``Action`` (``promote``,
  ``rollback``, ``pause``, ``resume``) is a one-shot request: the operator hands it to the
  engine at the next reconcile and then removes the annotation.
"""

from monitoring.spec.fields import CHECK_NAME_PATTERN, DURATION_PATTERN, parse_duration
from monitoring.spec.model import (
    ACTION_ANNOTATION,
    DEFAULT_CUSTOM_WINDOW_SECONDS,
    DEFAULT_FAILURE_LIMIT,
    DEFAULT_INCONCLUSIVE_LIMIT,
    DEFAULT_INTERVAL,
    DEFAULT_ITERATIONS,
    DEFAULT_MAX_WEIGHT,
    GROUP,
    KIND,
    PLURAL,
    VERSION,
    Action,
    Analysis,
    Check,
    Comparison,
    MatchRule,
    MatchType,
    MetricsProviderName,
    MetricsProviderSpec,
    ModelRef,
    RolloutSpec,
    SpecError,
    Strategy,
    StrategyType,
    Target,
    TrafficProviderName,
    TrafficProviderSpec,
)
from monitoring.spec.parse import parse_spec

__all__ = [
    "ACTION_ANNOTATION",
    "CHECK_NAME_PATTERN",
    "DEFAULT_CUSTOM_WINDOW_SECONDS",
    "DEFAULT_FAILURE_LIMIT",
    "DEFAULT_INCONCLUSIVE_LIMIT",
    "DEFAULT_INTERVAL",
    "DEFAULT_ITERATIONS",
    "DEFAULT_MAX_WEIGHT",
    "DURATION_PATTERN",
    "GROUP",
    "KIND",
    "PLURAL",
    "VERSION",
    "Action",
    "Analysis",
    "Check",
    "Comparison",
    "MatchRule",
    "MatchType",
    "MetricsProviderName",
    "MetricsProviderSpec",
    "ModelRef",
    "RolloutSpec",
    "SpecError",
    "Strategy",
    "StrategyType",
    "Target",
    "TrafficProviderName",
    "TrafficProviderSpec",
    "parse_duration",
    "parse_spec",
]
