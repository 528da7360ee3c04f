"""The ModelRollout CRD: structural, accepts the examples, rejects broken specs, and its
status schema and printer columns match what the engine writes."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from canaria.contracts.checks import BuiltinCheck
from monitoring.analysis import Measurement, decide
from monitoring.api.spec import (
    CHECK_NAME_PATTERN,
    DEFAULT_FAILURE_LIMIT,
    DEFAULT_INCONCLUSIVE_LIMIT,
    DEFAULT_INTERVAL,
    GROUP,
    KIND,
    PLURAL,
    VERSION,
    MatchType,
    MetricsProviderName,
    SpecError,
    StrategyType,
    ThresholdMode,
    TrafficProviderName,
    parse_spec,
    retrain,
)
from monitoring.api.spec.bounds import DURATION_SCHEMA_PATTERN
from monitoring.api.status import HISTORY_LIMIT, PauseReason, Phase, RolloutStatus, Verdict
from monitoring.api.workload import DeploymentState, WorkloadObservation

ROOT = Path(__file__).resolve().parents[2]
CRD_PATH = ROOT / "k8s" / "crds" / "modelrollout.yaml"
EXAMPLES = sorted((ROOT / "k8s" / "examples").glob("*.yaml"))
JUNCTORS = ("allOf", "anyOf", "oneOf", "not")


def load_crd() -> dict[str, Any]:
    return yaml.safe_load(CRD_PATH.read_text())


def crd_schema() -> dict[str, Any]:
    (version,) = load_crd()["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


def to_json_schema(node: Any) -> Any:
    """The structural schema as plain JSON Schema: ``x-kubernetes-*`` keys dropped, and
    unknown fields refused (what ``kubectl apply --validate=strict`` does)."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    preserve = node.get("x-kubernetes-preserve-unknown-fields")
    if node.get("type") == "object" and "properties" in node and not preserve:
        out.setdefault("additionalProperties", False)
    if "properties" in node and "metadata" in node["properties"]:
        out["properties"]["metadata"] = {"type": "object"}
    return out


VALIDATOR = jsonschema.Draft4Validator(to_json_schema(crd_schema()))


def errors_for(obj: dict[str, Any]) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(obj)]


def example(name: str = "churn-canary.yaml") -> dict[str, Any]:
    return yaml.safe_load((ROOT / "k8s" / "examples" / name).read_text())


def test_crd_identity_matches_the_code() -> None:
    crd = load_crd()
    assert crd["metadata"]["name"] == f"{PLURAL}.{GROUP}"
    assert crd["spec"]["group"] == GROUP
    assert crd["spec"]["names"]["kind"] == KIND
    assert crd["spec"]["names"]["shortNames"] == ["mr"]
    (version,) = crd["spec"]["versions"]
    assert version["name"] == VERSION
    assert version["subresources"] == {"status": {}}


def walk(
    node: Any, path: str, outer: dict[str, Any] | None = None
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """Every schema node, with the nearest enclosing non-junctor node when inside a
    junctor (``None`` outside one)."""
    if not isinstance(node, dict):
        return
    yield path, node, outer
    for key, child in node.get("properties", {}).items():
        inner = None if outer is None else outer.get("properties", {}).get(key, {})
        yield from walk(child, f"{path}.{key}", inner)
    if "items" in node:
        yield from walk(
            node["items"], f"{path}[]", None if outer is None else outer.get("items", {})
        )
    for junctor in JUNCTORS:
        branches = node.get(junctor)
        for i, branch in enumerate(branches if isinstance(branches, list) else [branches]):
            yield from walk(branch, f"{path}.{junctor}[{i}]", node if outer is None else outer)


def test_crd_schema_is_structural() -> None:
    """The rules the API server enforces for apiextensions.k8s.io/v1 (no server here):
    no $ref; a type everywhere; inside allOf/anyOf/oneOf/not no type, description,
    default, additionalProperties or nullable, and only fields that exist outside."""
    problems = []
    for path, node, outer in walk(crd_schema(), ""):
        if "$ref" in node or "definitions" in node:
            problems.append(f"{path}: $ref/definitions are not allowed")
        if outer is not None:
            for key in ("type", "description", "default", "additionalProperties", "nullable"):
                if key in node:
                    problems.append(f"{path}: {key} inside a junctor")
            for key in node.get("properties", {}):
                if key not in outer.get("properties", {}):
                    problems.append(f"{path}: {key} is not a property outside the junctor")
        elif path and "type" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
            problems.append(f"{path}: missing type")
    assert problems == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_valid_for_the_crd_and_the_parser(path: Path) -> None:
    obj = yaml.safe_load(path.read_text())
    assert obj["apiVersion"] == f"{GROUP}/{VERSION}"
    assert obj["kind"] == KIND
    assert errors_for(obj) == []
    parse_spec(obj["spec"])


def test_there_is_an_example_of_each_strategy_and_traffic_provider() -> None:
    specs = [parse_spec(yaml.safe_load(p.read_text())["spec"]) for p in EXAMPLES]
    assert {s.strategy.type.value for s in specs} == {"canary", "blueGreen", "abTesting"}
    assert {s.traffic_provider.name.value for s in specs} >= {"gatewayapi", "router"}


def broken(edit: str) -> dict[str, Any]:
    """The churn example with one mistake; ``edit`` is ``path=value`` (``~`` deletes)."""
    obj = copy.deepcopy(example())
    path, raw = edit.split("=", 1)
    *parents, last = path.split(".")
    node: Any = obj
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if raw == "~":
        del node[int(last) if isinstance(node, list) else last]
    else:
        value = yaml.safe_load(raw)
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return obj


# (edit, the spec path SpecError names)
BROKEN = [
    ("spec.target=~", "spec.target"),
    ("spec.target.canary={}", "spec.target.canary"),
    ("spec.trafficProvider.name=istio", "spec.trafficProvider.name"),
    ("spec.trafficProvider={name: gatewayapi}", "spec.trafficProvider.httpRoute"),
    ("spec.trafficProvider.router={adminTokenSecretRef: {name: x}}", "spec.trafficProvider.router"),
    ("spec.strategy.type=shadow", "spec.strategy.type"),
    ("spec.strategy={type: abTesting}", "spec.strategy.match"),
    ("spec.strategy.match=[{type: query, name: a, value: b}]", "spec.strategy.match[0].type"),
    ("spec.analysis.stepWeight=0", "spec.analysis.stepWeight"),
    ("spec.analysis.stepWeight=101", "spec.analysis.stepWeight"),
    ("spec.analysis.stepWeight=~", "spec.analysis.stepWeight"),
    ("spec.analysis.stepWeights=[10, 20]", "spec.analysis.stepWeights"),
    ("spec.analysis.maxWeight=0", "spec.analysis.maxWeight"),
    ("spec.analysis.maxWeight=150", "spec.analysis.maxWeight"),
    ("spec.analysis.failureLimit=-1", "spec.analysis.failureLimit"),
    ("spec.analysis.interval=30", "spec.analysis.interval"),
    ("spec.analysis.interval=1d", "spec.analysis.interval"),
    ("spec.analysis.checks=[]", "spec.analysis.checks"),
    ("spec.analysis.checks.1.max=~", "spec.analysis.checks[1]"),
    ("spec.analysis.checks.1.max=fast", "spec.analysis.checks[1].max"),
    ("spec.analysis.checks.0.builtin=errorRate", "spec.analysis.checks[0].builtin"),
    ("spec.analysis.checks.0.builtin=~", "spec.analysis.checks[0]"),
    ("spec.analysis.checks.0.query=up", "spec.analysis.checks[0]"),
    ("spec.analysis.checks.0.comparison=ratio", "spec.analysis.checks[0].comparison"),
    ("spec.analysis.checks.0.name=Success_Rate", "spec.analysis.checks[0].name"),
    ("spec.analysis.checks.0.window=soon", "spec.analysis.checks[0].window"),
    ("spec.analysis.stepwieght=10", None),  # a typo: refused by strict validation only
    ("spec.retrain={launcher: local, triggers: {}}", "spec.retrain"),
    ("spec.retrain={launcher: cron, triggers: {scheduleSeconds: 3600}}", "spec.retrain"),
    ("spec.retrain={launcher: local, triggers: {driftShare: {above: -1}}}", "spec.retrain"),
    ("spec.retrain={launcher: local, triggers: {scheduleSeconds: 9}}", "spec.retrain"),
    (
        "spec.retrain={launcher: local, triggers: {scheduleSeconds: 60}, job: {args: [1]}}",
        "spec.retrain",
    ),
    (
        "spec.retrain={launcher: local, triggers: {scheduleSeconds: 60}, job: {imag: x}}",
        "spec.retrain",
    ),
    (
        "spec.retrain={triggers: {scheduleSeconds: 60}, job: {image: i, samplesClaim: logs, "
        "samplesFile: ../stable.jsonl}}",
        "spec.retrain",
    ),
    (
        "spec.retrain={triggers: {scheduleSeconds: 60}, job: {image: i, samplesClaim: Logs_1}}",
        "spec.retrain",
    ),
]


@pytest.mark.parametrize(("edit", "field"), BROKEN, ids=[e for e, _ in BROKEN])
def test_broken_specs_are_rejected_by_the_crd_and_the_parser(edit: str, field: str | None) -> None:
    obj = broken(edit)
    assert errors_for(obj), f"the CRD accepted {edit}"
    if field is not None:
        with pytest.raises(SpecError) as caught:
            parse_spec(obj["spec"])
        assert caught.value.path == field
        assert str(caught.value).startswith(f"{field}: ")


def test_printer_columns_point_at_schema_fields() -> None:
    (version,) = load_crd()["spec"]["versions"]
    columns = {c["name"]: c for c in version["additionalPrinterColumns"]}
    assert list(columns) == ["Phase", "Weight", "Stable", "Canary", "Failed", "Message", "Age"]
    schema = crd_schema()
    json_types = {"integer": "integer", "string": "string", "date": "string"}
    for column in columns.values():
        if column["jsonPath"] == ".metadata.creationTimestamp":
            continue
        node = schema
        for key in column["jsonPath"].lstrip(".").split("."):
            assert key in node.get("properties", {}), column["jsonPath"]
            node = node["properties"][key]
        assert node["type"] == json_types[column["type"]], column["name"]


def rollout_statuses() -> Iterator[RolloutStatus]:
    """Statuses the engine writes along a rollout that advances, fails and rolls back."""
    spec = parse_spec(example()["spec"])
    now = datetime(2025, 1, 1, tzinfo=UTC)
    good = {c.name: Measurement(canary=0.1, stable=0.1) for c in spec.analysis.checks}
    good["success-rate"] = Measurement(canary=1.0, stable=1.0)
    good["shadow-agreement"] = Measurement(canary=0.99)
    bad = {**good, "latency-p99": Measurement(canary=1e6, stable=0.1)}
    assert spec.workload is not None  # the example's Deployments, both rolled out
    ready = {
        name: DeploymentState(
            name=name,
            image=f"churn:{name}",
            replicas=2,
            updated_replicas=2,
            ready_replicas=2,
            available_replicas=2,
            total_replicas=2,
        )
        for name in (spec.workload.stable, spec.workload.canary)
    }
    observed = WorkloadObservation(
        stable=ready[spec.workload.stable], canary=ready[spec.workload.canary]
    )
    status = RolloutStatus()
    for measurements in [{}, {}, good, good, {}, bad, bad, bad, {}]:
        status = decide(
            spec=spec, status=status, measurements=measurements, now=now, workload=observed
        ).status
        now += timedelta(seconds=spec.analysis.interval_seconds)
        yield status


def test_statuses_the_engine_writes_match_the_status_schema() -> None:
    phases = []
    for status in rollout_statuses():
        phases.append(status.phase.value)
        obj = {**example(), "status": status.to_dict()}
        assert errors_for(obj) == []
    assert phases[-1] == "Failed"


def schema_at(path: str) -> dict[str, Any]:
    node = crd_schema()
    for key in path.split("."):
        node = node["items"] if key == "[]" else node["properties"][key]
    return node


@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("spec.analysis.checks.[].builtin", [c.value for c in BuiltinCheck]),
        ("spec.analysis.checks.[].comparison", [c.value for c in ThresholdMode]),
        ("spec.strategy.type", [s.value for s in StrategyType]),
        ("spec.strategy.match.[].type", [m.value for m in MatchType]),
        ("spec.trafficProvider.name", [t.value for t in TrafficProviderName]),
        ("spec.metricsProvider.name", [m.value for m in MetricsProviderName]),
        ("status.phase", [p.value for p in Phase]),
        ("status.pauseReason", [r.value for r in PauseReason]),
        ("status.lastAnalysis.verdict", [v.value for v in Verdict]),
    ],
)
def test_crd_enums_are_the_code_enums(path: str, values: list[str]) -> None:
    assert schema_at(path)["enum"] == values


def test_crd_patterns_and_limits_are_the_code_ones() -> None:
    assert schema_at("spec.analysis.interval")["pattern"] == DURATION_SCHEMA_PATTERN
    assert schema_at("spec.analysis.checks.[].window")["pattern"] == DURATION_SCHEMA_PATTERN
    assert schema_at("spec.analysis.checks.[].name")["pattern"] == CHECK_NAME_PATTERN
    assert schema_at("status.history")["maxItems"] == HISTORY_LIMIT
    analysis = schema_at("spec.analysis")["properties"]
    assert analysis["failureLimit"]["default"] == DEFAULT_FAILURE_LIMIT
    assert analysis["inconclusiveLimit"]["default"] == DEFAULT_INCONCLUSIVE_LIMIT
    assert analysis["interval"]["default"] == DEFAULT_INTERVAL
    job = schema_at("spec.retrain.job")["properties"]
    assert job["samplesClaim"]["pattern"] == retrain.CLAIM_NAME_PATTERN
    assert job["samplesClaim"]["maxLength"] == retrain.MAX_CLAIM_NAME_LENGTH
    assert job["samplesFile"]["pattern"] == retrain.SAMPLES_FILE_PATTERN
    assert job["samplesFile"]["maxLength"] == retrain.MAX_FILE_NAME_LENGTH
    assert "default" not in job["samplesFile"]  # the API server would add it without a claim
