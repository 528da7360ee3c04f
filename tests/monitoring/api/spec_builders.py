"""Spec dicts for the parser's tests: the smallest valid ModelRollout spec and edits of it."""

from __future__ import annotations

import copy
from typing import Any


def minimal() -> dict[str, Any]:
    """The smallest valid spec: bento tags, the noop provider, one latency check."""
    return {
        "target": {"stable": {"bentoTag": "churn:v1"}, "canary": {"bentoTag": "churn:v2"}},
        "trafficProvider": {"name": "noop"},
        "analysis": {
            "stepWeight": 10,
            "checks": [{"name": "latency", "builtin": "latencyP99", "max": 0.5}],
        },
    }


def with_(edits: dict[str, Any]) -> dict[str, Any]:
    """``minimal()`` with ``{"analysis.stepWeight": 5}``-style edits (None deletes)."""
    spec = copy.deepcopy(minimal())
    for path, value in edits.items():
        *parents, last = path.split(".")
        node: Any = spec
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        index: Any = int(last) if isinstance(node, list) else last
        if value is None:
            del node[index]
        else:
            node[index] = value
    return spec
