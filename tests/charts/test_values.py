"""Bad values are refused before anything renders: values.schema.json names the field, and
the cross-field checks in _helpers.tpl say what to do. Every value is documented in place."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.charts.helm import APP_CHART, OPERATOR_CHART, RenderError, render

pytestmark = pytest.mark.slow  # runs a real helm


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"canary": {"weight": 101}}, "/canary/weight"),
        ({"canary": {"weight": -1}}, "/canary/weight"),
        ({"canary": {"wieght": 10}}, "'wieght' not allowed"),
        ({"rollout": {"stepWeights": [0]}}, "/rollout/stepWeights/0"),
        ({"traffic": {"provider": "istio"}}, "/traffic/provider"),
        ({"model": {"image": {"digest": "md5:abc"}}}, "/model/image/digest"),
        ({"shadow": {"sampleRate": 2}}, "/shadow/sampleRate"),
        ({"rollout": {"checks": [{"name": "x", "builtin": "latencyP99"}]}}, "/rollout/checks/0"),
        ({"rollout": {"interval": "soon"}}, "/rollout/interval"),
        ({"gpu": {"count": 0}}, "/gpu/count"),
        ({"sampleLog": {"rate": 1.5}}, "/sampleLog/rate"),
        ({"sampleLog": {"rate": "all"}}, "/sampleLog/rate"),
        ({"sampleLog": {"claimName": "Sample_Logs"}}, "/sampleLog/claimName"),
        ({"sampleLog": {"claimName": ""}}, "/sampleLog/claimName"),
        ({"sampleLog": {"enabled": "yes"}}, "/sampleLog/enabled"),
        ({"sampleLog": {"path": "/data"}}, "'path' not allowed"),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else v,
)
def test_the_schema_refuses_and_names_the_field(
    helm: Path, tmp_path: Path, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(RenderError) as refused:
        render(helm, APP_CHART, values, tmp_path=tmp_path)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"canary": {"weight": 10}},
            "canary.weight is 10 but no canary model is set: give canary.bentoTag or "
            "canary.image.tag",
        ),
        (
            {"gpu": {"enabled": True}},
            "gpu.enabled needs a GPU image: model.kind is classic, whose image "
            "(bentofile.yaml) is CPU-only",
        ),
        (
            {"canary": {"bentoTag": "churn-classifier:v2", "weight": 60}},
            "canary.weight (60) is above rollout.maxWeight (50)",
        ),
        ({"shadow": {"enabled": True}}, "shadow.enabled needs the shadow model"),
        ({"shadow": {"bentoTag": "churn-classifier:v0"}}, "shadow.enabled is false"),
        ({"rollout": {"strategy": "abTesting"}}, "abTesting needs at least one rollout.match"),
        ({"traffic": {"router": {"replicas": 1}}}, "pdb.minAvailable (1) must be below"),
        ({"traffic": {"router": {"sticky": {"header": "a", "cookie": "b"}}}}, "not both"),
        (
            {"model": {"kind": "llm"}, "shadow": {"enabled": True, "bentoTag": "support-lm:v0"}},
            "model.kind=llm answers text: set shadow.comparator=text",
        ),
        (
            {"model": {"kind": "llm", "bentoTag": "support-lm:v1"}, "sampleLog": {"enabled": True}},
            "sampleLog.enabled applies to model.kind=classic: the LLM service (services/llm) "
            "writes no sample log",
        ),
        (
            {
                "sampleLog": {"enabled": True},
                "model": {"env": [{"name": "CANARIA_SAMPLE_RATE", "value": "0.5"}]},
            },
            "model.env sets CANARIA_SAMPLE_RATE, which sampleLog.enabled sets",
        ),
    ],
    ids=[
        "weight-without-canary",
        "gpu-without-gpu-image",
        "weight-over-max",
        "shadow-no-model",
        "shadow-model-disabled",
        "ab-without-match",
        "pdb-blocks-drain",
        "sticky-both",
        "llm-with-classic-comparator",
        "sample-log-llm",
        "sample-log-env-twice",
    ],
)
def test_cross_field_checks_fail_clearly(
    helm4: Path, tmp_path: Path, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(RenderError) as refused:
        render(helm4, APP_CHART, values, tmp_path=tmp_path)
    assert message in str(refused.value)


def test_operator_chart_schema_names_the_field(helm4: Path, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="/watchNamespaces/0"):
        render(helm4, OPERATOR_CHART, {"watchNamespaces": ["Not_A_Namespace"]}, tmp_path=tmp_path)


def leaf_paths(node: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every value; maps that hold free-form entries count as one value."""
    if isinstance(node, dict) and node and prefix.rstrip(".").rsplit(".", 1)[-1] not in FREE_FORM:
        return [p for key, value in node.items() for p in leaf_paths(value, f"{prefix}{key}.")]
    return [prefix.rstrip(".")]


FREE_FORM = {"nodeSelector", "labels", "podAnnotations", "annotations"}


@pytest.mark.parametrize("chart", [APP_CHART, OPERATOR_CHART], ids=lambda c: c.name)
def test_every_value_is_documented_and_in_the_schema(chart: Path) -> None:
    text = (chart / "values.yaml").read_text()
    documented = set(re.findall(r"^\s*## @param (\S+) \S", text, flags=re.MULTILINE))
    values = yaml.safe_load(text)
    schema = json.loads((chart / "values.schema.json").read_text())
    missing = [path for path in leaf_paths(values) if path not in documented]
    assert missing == []
    for path in documented:  # every documented value exists and the schema knows it
        node: Any = schema
        for part in path.split("."):
            assert node.get("additionalProperties") is False, f"{path}: schema not strict"
            node = node["properties"][part]
