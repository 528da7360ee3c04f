"""Parsing a ModelRollout spec into typed dataclasses, and the status round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from canaria.contracts.checks import BUILTIN_CHECKS, CUSTOM_CHECK, BuiltinCheck
from monitoring.api.spec import (
    MatchType,
    MetricsProviderName,
    ModelRef,
    SpecError,
    StrategyType,
    ThresholdMode,
    TrafficProviderName,
    parse_duration,
    parse_spec,
)
from monitoring.api.status import (
    AnalysisRecord,
    CheckResult,
    Condition,
    DecisionKind,
    HistoryEntry,
    PauseReason,
    Phase,
    RolloutStatus,
    Verdict,
    format_time,
    parse_time,
)
from tests.monitoring.api.spec_builders import minimal, with_

EXAMPLES = Path(__file__).resolve().parents[3] / "k8s" / "examples"


def test_builtin_check_names_are_the_crd_names() -> None:
    assert [c.value for c in BuiltinCheck] == [
        "requestSuccessRate",
        "latencyP99",
        "shadowAgreement",
        "driftShare",
        "llmTtftP95",
        "llmTokensPerSecond",
    ]
    assert CUSTOM_CHECK not in {c.value for c in BuiltinCheck}
    for check, info in BUILTIN_CHECKS.items():
        assert info.check is check


def test_minimal_spec_gets_the_documented_defaults() -> None:
    spec = parse_spec(minimal())
    assert spec.target.stable == ModelRef(bento_tag="churn:v1")
    assert spec.traffic_provider.name is TrafficProviderName.NOOP
    assert spec.metrics_provider.name is MetricsProviderName.PROMETHEUS
    assert spec.strategy.type is StrategyType.CANARY
    assert not spec.paused
    analysis = spec.analysis
    assert analysis.interval_seconds == 60
    assert (analysis.max_weight, analysis.failure_limit, analysis.inconclusive_limit) == (50, 2, 2)
    assert analysis.steps == (10, 20, 30, 40, 50)
    assert spec.total_steps == 5
    (check,) = analysis.checks
    assert check.builtin is BuiltinCheck.LATENCY_P99
    assert check.comparison is ThresholdMode.ABSOLUTE
    assert check.window_seconds == BUILTIN_CHECKS[BuiltinCheck.LATENCY_P99].default_window_seconds


def test_the_churn_example_parses_to_what_it_says() -> None:
    spec = parse_spec(yaml.safe_load((EXAMPLES / "churn-canary.yaml").read_text())["spec"])
    assert spec.traffic_provider.settings["service"] == "churn-router"
    assert spec.metrics_provider.settings == {"address": "http://prometheus.monitoring.svc:9090"}
    assert spec.metrics_provider.labels == {"namespace": "ml"}
    assert spec.analysis.interval_seconds == 30
    by_name = {c.name: c for c in spec.analysis.checks}
    assert by_name["latency-vs-stable"].comparison is ThresholdMode.RELATIVE
    assert by_name["latency-vs-stable"].max == 1.2
    assert by_name["shadow-agreement"].window_seconds == 300


def test_ab_testing_match_rules_become_route_keys() -> None:
    spec = parse_spec(yaml.safe_load((EXAMPLES / "churn-abtesting.yaml").read_text())["spec"])
    assert [r.type for r in spec.strategy.match] == [MatchType.HEADER, MatchType.COOKIE]
    assert [r.route_key for r in spec.strategy.match] == [
        "header:x-canaria-cohort",
        "cookie:cohort",
    ]
    assert spec.total_steps == 10


@pytest.mark.parametrize(
    ("edits", "steps"),
    [
        ({"analysis.stepWeight": 20, "analysis.maxWeight": 60}, (20, 40, 60)),
        ({"analysis.stepWeight": 30, "analysis.maxWeight": 50}, (30, 50)),
        ({"analysis.stepWeight": 100, "analysis.maxWeight": 100}, (100,)),
        ({"analysis.stepWeight": None, "analysis.stepWeights": [1, 5, 25]}, (1, 5, 25)),
        (
            {
                "analysis.stepWeight": None,
                "analysis.stepWeights": [5, 10],
                "analysis.maxWeight": 80,
            },
            (5, 10),
        ),
    ],
)
def test_canary_steps(edits: dict[str, Any], steps: tuple[int, ...]) -> None:
    analysis = parse_spec(with_(edits)).analysis
    assert analysis.steps == steps
    assert max(steps) <= analysis.max_weight


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("1m", 60), ("1m30s", 90), ("500ms", 0.5), ("1.5s", 1.5), ("2h", 7200)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "0s", "1d", "s", "-1s", "1 m", 30])
def test_parse_duration_refuses(text: Any) -> None:
    with pytest.raises(SpecError) as caught:
        parse_duration(text, path="spec.analysis.interval")
    assert caught.value.path == "spec.analysis.interval"


# What only the parser can see (or what it words better than the schema), with the field named.
BAD = [
    ("not an object", "spec", "must be an object"),
    (
        with_({"analysis.checks": [{"name": "a", "builtin": "latencyP99", "max": 1}] * 2}),
        "spec.analysis.checks[1].name",
        "duplicate check name 'a'",
    ),
    (
        with_({"analysis.stepWeight": None, "analysis.stepWeights": [10, 10]}),
        "spec.analysis.stepWeights[1]",
        "greater than the previous step 10",
    ),
    (
        with_(
            {
                "analysis.stepWeight": None,
                "analysis.stepWeights": [10, 60],
                "analysis.maxWeight": 50,
            }
        ),
        "spec.analysis.stepWeights[1]",
        "60 > maxWeight (50)",
    ),
    (
        with_({"analysis.stepWeight": None, "analysis.stepWeights": [10, "x"]}),
        "spec.analysis.stepWeights[1]",
        "between 1 and 100",
    ),
    (with_({"analysis.stepWeight": 60}), "spec.analysis.stepWeight", "60 > maxWeight (50)"),
    (with_({"analysis.stepWeight": True}), "spec.analysis.stepWeight", "must be an integer"),
    (with_({"analysis.stepWeight": 2.5}), "spec.analysis.stepWeight", "must be an integer"),
    (with_({"analysis.checks.0.min": 2}), "spec.analysis.checks[0].max", "0.5 < min (2.0)"),
    (with_({"analysis.checks.0.max": float("nan")}), "spec.analysis.checks[0].max", "finite"),
    (with_({"analysis.checks.0.query": " "}), "spec.analysis.checks[0]", "exactly one of"),
    (with_({"analysis.checks.0": "latency"}), "spec.analysis.checks[0]", "must be an object"),
    (with_({"paused": "yes"}), "spec.paused", "must be true or false"),
    (with_({"analysis.manualGate": 1}), "spec.analysis.manualGate", "must be true or false"),
    (
        with_({"strategy.match": [{"type": "header", "name": "x", "value": "1"}]}),
        "spec.strategy.match",
        "only applies to abTesting",
    ),
    (
        with_(
            {
                "strategy.type": "abTesting",
                "strategy.match": [{"type": "header", "name": " ", "value": "1"}],
            }
        ),
        "spec.strategy.match[0].name",
        "must not be empty",
    ),
    (
        with_({"metricsProvider.labels": {"namespace": 3}}),
        "spec.metricsProvider.labels.namespace",
        "string",
    ),
    (with_({"metricsProvider.name": "datadog"}), "spec.metricsProvider.name", "prometheus, scrape"),
    (with_({"target.stable": "churn:v1"}), "spec.target.stable", "must be an object"),
    (
        with_({"trafficProvider.name": "gatewayapi", "trafficProvider.httpRoute": {}}),
        "spec.trafficProvider.httpRoute.name",
        "is required",
    ),
]


@pytest.mark.parametrize(("spec", "path", "reason"), BAD, ids=[p for _, p, _ in BAD])
def test_bad_specs_name_the_field(spec: Any, path: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_spec(spec)
    error = caught.value
    assert isinstance(error, SpecError)
    assert error.path == path
    assert reason in error.reason
    assert str(error) == f"{path}: {error.reason}"


def test_blue_green_needs_no_steps_and_counts_iterations() -> None:
    spec = parse_spec(
        with_({"strategy.type": "blueGreen", "analysis.stepWeight": None, "analysis.iterations": 3})
    )
    assert spec.strategy.type is StrategyType.BLUE_GREEN
    assert spec.total_steps == 3


NOW = datetime(2025, 3, 4, 5, 6, 7, 250000, tzinfo=UTC)


def full_status() -> RolloutStatus:
    check = CheckResult(
        name="latency",
        verdict=Verdict.FAIL,
        value=1.84,
        stable_value=0.4,
        compared=4.6,
        min=None,
        max=1.2,
        comparison=ThresholdMode.RELATIVE,
        unit="s",
        message="latency 1.84 s = 4.60× stable 0.40 s > max 1.20×",
    )
    return RolloutStatus(
        phase=Phase.PAUSED,
        canary_weight=30,
        current_step=2,
        failed_checks=1,
        inconclusive_count=0,
        stable_model=ModelRef(bento_tag="churn:v1", image="img:v1"),
        canary_model=ModelRef(image="img:v2"),
        pause_reason=PauseReason.MANUAL_GATE,
        next_analysis_time=NOW + timedelta(seconds=30),
        last_analysis=AnalysisRecord(
            time=NOW, verdict=Verdict.FAIL, checks=(check,), message=check.message
        ),
        message="held",
        conditions=(Condition("Progressing", "False", "Paused", "held", NOW),),
        history=(HistoryEntry(NOW, DecisionKind.PAUSE, Phase.PAUSED, 30, "held"),),
        observed_generation=4,
    )


def test_status_round_trips_through_its_dict() -> None:
    status = full_status()
    data = status.to_dict()
    assert data["stable"] == "churn:v1"
    assert data["canary"] == "img:v2"
    assert data["nextAnalysisTime"] == "2025-03-04T05:06:37.250000Z"
    assert data["lastAnalysis"]["checks"][0]["stableValue"] == 0.4
    assert RolloutStatus.from_dict(data) == status
    assert RolloutStatus.from_dict(yaml.safe_load(yaml.safe_dump(data))) == status


def test_empty_status_is_a_new_rollout() -> None:
    assert RolloutStatus.from_dict(None) == RolloutStatus()
    assert RolloutStatus.from_dict({}) == RolloutStatus()
    assert RolloutStatus().to_dict()["phase"] == "Idle"


def test_non_finite_values_are_not_written_as_json_numbers() -> None:
    status = full_status()
    assert status.last_analysis is not None
    (check,) = status.last_analysis.checks
    inf = RolloutStatus(
        last_analysis=AnalysisRecord(
            time=NOW,
            verdict=Verdict.FAIL,
            checks=(CheckResult(**{**check.__dict__, "value": float("inf")}),),
            message="",
        )
    )
    written = inf.to_dict()["lastAnalysis"]["checks"][0]
    assert "value" not in written
    assert written["message"] == check.message


def test_times_are_rfc3339_utc() -> None:
    assert format_time(datetime(2025, 1, 1, tzinfo=UTC)) == "2025-01-01T00:00:00Z"
    plus_two = timezone(timedelta(hours=2))
    assert format_time(datetime(2025, 1, 1, 2, tzinfo=plus_two)) == "2025-01-01T00:00:00Z"
    assert parse_time("2025-01-01T02:00:00+02:00") == datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone"):
        format_time(datetime(2025, 1, 1))
