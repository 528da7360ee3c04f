"""Every numeric and duration field is bounded in the CRD and the parser, and no spec the
CRD accepts can raise in the engine: specs generated from the CRD's own openAPIV3Schema
(``hypothesis-jsonschema``) are either refused with a field-named ``SpecError`` or run an
analysis step."""

from __future__ import annotations

import contextlib
import copy
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from canaria.contracts.routes import validate_routes
from monitoring.analysis import Measurement, decide, desired_routes
from monitoring.api.spec import SpecError, parse_spec
from monitoring.api.spec import bounds as b
from monitoring.api.status import RolloutStatus
from monitoring.operator.measure import ProviderCache, queries_for
from monitoring.providers.interfaces import ProviderError
from monitoring.providers.metrics.promql import promql_for
from tests.hypothesis_budget import examples
from tests.k8s.test_crd import crd_schema, errors_for, example, to_json_schema
from tests.monitoring.api.crd_strategy import structural_strategy

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SCHEMA = to_json_schema(crd_schema())
SPEC_SCHEMA = SCHEMA["properties"]["spec"]
STATUS_VALIDATOR = jsonschema.Draft4Validator(SCHEMA["properties"]["status"])


def at(path: str) -> dict[str, Any]:
    node = SPEC_SCHEMA
    for key in path.split("."):
        node = node["items"] if key == "[]" else node["properties"][key]
    return node


def test_the_crd_states_the_parser_bounds() -> None:
    for path in ("analysis.interval", "analysis.checks.[].window"):
        assert at(path)["pattern"] == b.DURATION_SCHEMA_PATTERN
        assert at(path)["maxLength"] == b.DURATION_MAX_LENGTH
    for path in ("analysis.checks.[].min", "analysis.checks.[].max"):
        assert (at(path)["minimum"], at(path)["maximum"]) == (-b.THRESHOLD_LIMIT, b.THRESHOLD_LIMIT)
    assert at("analysis.checks")["maxItems"] == b.MAX_CHECKS
    assert at("strategy.match")["maxItems"] == b.MAX_MATCH_RULES
    assert at("strategy.match.[].name")["pattern"] == b.TOKEN_PATTERN
    assert at("metricsProvider.labels")["maxProperties"] == b.MAX_LABELS
    assert at("metricsProvider.targets")["maxProperties"] == b.MAX_TARGET_GROUPS
    assert at("metricsProvider.address")["pattern"] == b.URL_PATTERN
    for key in ("port",):
        assert at(f"trafficProvider.httpRoute.{key}")["maximum"] == 65535
    for path in ("analysis.stepWeight", "analysis.maxWeight", "analysis.iterations"):
        assert "minimum" in at(path) and "maximum" in at(path)


def with_interval(interval: str) -> dict[str, Any]:
    obj = copy.deepcopy(example())
    obj["spec"]["analysis"]["interval"] = interval
    return obj


def test_the_reported_interval_is_refused_by_the_crd_and_the_parser() -> None:
    obj = with_interval("99999999999h")
    assert errors_for(obj), "the CRD accepted 99999999999h"
    with pytest.raises(SpecError) as caught:
        parse_spec(obj["spec"])
    assert caught.value.path == "spec.analysis.interval"


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        ({"analysis.interval": "9999999h"}, "spec.analysis.interval"),  # CRD form, too long
        ({"analysis.interval": "1ms"}, "spec.analysis.interval"),
        ({"analysis.interval": "9" * 400 + "h"}, "spec.analysis.interval"),  # float inf
        ({"analysis.checks.0.window": "9999999h"}, "spec.analysis.checks[0].window"),
        ({"analysis.checks.0.max": 1e300}, "spec.analysis.checks[0].max"),
        ({"analysis.checks.0.min": -1e13}, "spec.analysis.checks[0].min"),
        ({"metricsProvider": {"name": "scrape"}}, "spec.metricsProvider.targets"),
        ({"metricsProvider": {"name": "scrape", "targets": {}}}, "spec.metricsProvider.targets"),
        ({"metricsProvider.timeout": 3}, "spec.metricsProvider.timeout"),
        ({"metricsProvider.address": "ftp://x"}, "spec.metricsProvider.address"),
        ({"metricsProvider.labels": {"a-b": "x"}}, "spec.metricsProvider.labels.a-b"),
        (
            {"trafficProvider": {"name": "gatewayapi", "httpRoute": {"name": "r", "port": 70000}}},
            "spec.trafficProvider.httpRoute.port",
        ),
        (
            {
                "strategy": {
                    "type": "abTesting",
                    "match": [{"type": "header", "name": "a b", "value": "x"}],
                }
            },
            "spec.strategy.match[0].name",
        ),
        (
            {
                "strategy": {
                    "type": "abTesting",
                    "match": [{"type": "header", "name": "x", "value": ""}],
                }
            },
            "spec.strategy.match[0].value",
        ),
    ],
)
def test_out_of_bounds_fields_are_refused_with_their_name(edit: dict[str, Any], path: str) -> None:
    spec = copy.deepcopy(example()["spec"])
    for dotted, value in edit.items():
        *parents, last = dotted.split(".")
        node: Any = spec
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
    if "strategy" in edit:
        spec["analysis"].pop("stepWeight", None)
        spec["analysis"].pop("stepWeights", None)
    with pytest.raises(SpecError) as caught:
        parse_spec(spec)
    assert caught.value.path == path, str(caught.value)


def run_one_step(raw: dict[str, Any]) -> None:
    """Parse; refused with a field-named error, or: start, measure, analyse, route."""
    try:
        spec = parse_spec(raw)
    except SpecError as error:
        assert error.path.startswith("spec"), str(error)
        assert str(error).startswith(f"{error.path}: ")
        return
    started = decide(spec=spec, status=RolloutStatus(), measurements={}, now=T0)
    measurements = {c.name: Measurement(canary=0.5, stable=0.5) for c in spec.analysis.checks}
    later = T0 + timedelta(seconds=spec.analysis.interval_seconds)
    step = decide(spec=spec, status=started.status, measurements=measurements, now=later)
    for decision in (started, step):
        validate_routes(decision.routes)
        assert desired_routes(spec=spec, status=decision.status) == decision.routes
        problems = [e.message for e in STATUS_VALIDATOR.iter_errors(decision.status.to_dict())]
        assert problems == []
        assert decision.status.next_analysis_time is None or math.isfinite(
            decision.status.next_analysis_time.timestamp()
        )
    cache = ProviderCache()
    try:
        # A provider that cannot be built means no data (inconclusive), never an exception.
        with contextlib.suppress(ProviderError):
            cache.metrics(rollout="ml/fuzz", spec=spec)
    finally:
        cache.close()
    for check in spec.analysis.checks:
        for query in queries_for(check, spec=spec).values():
            with contextlib.suppress(ProviderError):
                promql_for(query)


@settings(
    max_examples=examples(30),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(raw=structural_strategy(SPEC_SCHEMA))
def test_no_spec_the_crd_accepts_raises_in_the_engine(raw: dict[str, Any]) -> None:
    run_one_step(raw)
