"""The chart tests' values scenarios (``SCENARIOS``: name -> (chart, values)) and small
readers of rendered Deployments; rendered once per session by ``rendered`` in conftest."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.charts.helm import APP_CHART, OPERATOR_CHART

FIXTURES = Path(__file__).parent / "fixtures"
CANARY = {"canary": {"bentoTag": "churn-classifier:v2"}}
SHADOW = {"shadow": {"enabled": True, "bentoTag": "churn-classifier:v0"}}
GATEWAY = {"traffic": {"provider": "gatewayapi"}}
SCENARIOS: dict[str, tuple[Path, dict[str, Any]]] = {
    "defaults": (APP_CHART, {}),
    "canary-25": (APP_CHART, {"canary": {"bentoTag": "churn-classifier:v2", "weight": 25}}),
    "shadow": (APP_CHART, SHADOW),
    "gatewayapi": (APP_CHART, {**GATEWAY, **CANARY}),
    "gatewayapi-shadow-sidecar": (APP_CHART, {**GATEWAY, **SHADOW}),
    "router-3-replicas": (
        APP_CHART,
        {
            "traffic": {
                "router": {
                    "replicas": 3,
                    "sticky": {"header": "x-user-id"},
                    "rateLimit": {"enabled": True, "requestsPerSecond": 20, "burst": 40},
                }
            }
        },
    ),
    "gpu-llm": (
        APP_CHART,
        {
            "model": {"kind": "llm", "bentoTag": "support-lm:v1"},
            "canary": {"bentoTag": "support-lm:v2"},
            "shadow": {
                "enabled": True,
                "bentoTag": "support-lm:v0",
                "comparator": "text",
                "textMethod": "token_overlap",
            },
            "gpu": {"enabled": True},
            "rollout": {
                "strategy": "blueGreen",
                "checks": [
                    {"name": "ttft-p95", "builtin": "llmTtftP95", "max": 1.0},
                    {"name": "tokens-per-second", "builtin": "llmTokensPerSecond", "min": 10},
                ],
            },
        },
    ),
    "monitoring": (
        APP_CHART,
        {
            **CANARY,
            "monitoring": {
                "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
                "dashboards": {"enabled": True},
                "rules": {"enabled": True},
            },
        },
    ),
    "pinned-autoscaled-abtesting": (
        APP_CHART,
        {
            "model": {"image": {"digest": "sha256:" + "a" * 64}},
            "canary": {"image": {"tag": "v2", "digest": "sha256:" + "b" * 64}},
            "autoscaling": {"enabled": True},
            "rollout": {
                "strategy": "abTesting",
                "match": [{"type": "header", "name": "x-cohort", "value": "b"}],
            },
        },
    ),
    "sample-log": (
        APP_CHART,
        {**SHADOW, "sampleLog": {"enabled": True, "claimName": "drift-inputs", "rate": 0.25}},
    ),
    "operator": (OPERATOR_CHART, {}),
    "operator-namespaced": (OPERATOR_CHART, {"watchNamespaces": ["ml", "ml-staging"]}),
}


def chart_for(name: str, chart: Path, tmp_path: Path) -> Path:
    """The monitoring scenario renders a copy of the chart with one example dashboard and
    one rule file (test fixtures: the real ones are generated elsewhere)."""
    if name != "monitoring":
        return chart
    copy = tmp_path / "canaria"
    shutil.copytree(chart, copy)
    for kind in ("dashboards", "rules"):
        target = copy / "files" / kind
        target.mkdir(parents=True, exist_ok=True)
        for file in (FIXTURES / kind).iterdir():
            shutil.copy(file, target / file.name)
    return copy


def pod(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def container(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [c for c in pod(deployment)["containers"] if c["name"] == name]
    return found
