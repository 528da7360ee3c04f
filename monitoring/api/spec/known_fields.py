"""The known keys of every ModelRollout ``spec`` object no other parser checks (pure).

In a cluster the API server prunes unknown fields (the CRD is structural); in local mode
(``canaria`` reading YAML) ``parse_spec`` is the only gate, so a misspelt key
(``adminURL``) must be refused, never silently ignored. ``KNOWN_FIELDS`` mirrors the CRD's
``properties`` (a test compares them). Checked elsewhere, so not listed here:
``metricsProvider`` (``parse._parse_metrics``), ``analysis.fastAbort``
(``extras.parse_fast_abort``), ``retrain`` (``retrain.parse_retrain``) and
``notifications`` (``monitoring.notify.endpoints``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from monitoring.api.spec.model import SpecError, TrafficProviderName

KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "spec": frozenset(
        {
            "analysis",
            "metricsProvider",
            "notifications",
            "paused",
            "retrain",
            "revertOnDeletion",
            "strategy",
            "target",
            "trafficProvider",
            "workload",
        }
    ),
    "spec.target": frozenset({"stable", "canary"}),
    "spec.target.stable": frozenset({"bentoTag", "image"}),
    "spec.target.canary": frozenset({"bentoTag", "image"}),
    "spec.workload": frozenset(
        {"stable", "canary", "container", "canaryReplicas", "readinessTimeout"}
    ),
    "spec.trafficProvider": frozenset({"name", "httpRoute", "router"}),
    "spec.trafficProvider.httpRoute": frozenset(
        {"name", "namespace", "port", "stableBackend", "canaryBackend"}
    ),
    "spec.trafficProvider.router": frozenset(
        {
            "adminTokenSecretRef",
            "adminUrl",
            "adminUrls",
            "configMap",
            "configMapKey",
            "port",
            "service",
            "tokenEnv",
        }
    ),
    "spec.trafficProvider.router.adminTokenSecretRef": frozenset({"name", "key"}),
    "spec.strategy": frozenset({"type", "match"}),
    "spec.strategy.match[]": frozenset({"type", "name", "value"}),
    "spec.analysis": frozenset(
        {
            "checks",
            "failureLimit",
            "fastAbort",
            "inconclusiveLimit",
            "interval",
            "iterations",
            "manualGate",
            "maxWeight",
            "stepWeight",
            "stepWeights",
        }
    ),
    "spec.analysis.checks[]": frozenset(
        {"name", "builtin", "query", "min", "max", "comparison", "window"}
    ),
}
"""Object path (``[]``: each item of a list) -> its keys, as in the CRD."""

PROVIDER_SETTINGS = {"httpRoute": "gatewayapi", "router": "router"}
"""``spec.trafficProvider`` settings key -> the only provider ``name`` that reads it."""

_PROVIDER_NAMES = frozenset(member.value for member in TrafficProviderName)


def _children(path: str) -> list[str]:
    """The table's paths one level below ``path`` (``spec.target`` -> its stable, canary)."""
    depth = path.count(".") + 1
    return [p for p in KNOWN_FIELDS if p.startswith(f"{path}.") and p.count(".") == depth]


def _check(data: Mapping[Any, Any], path: str, where: str) -> None:
    """Refuse the first unknown key (sorted) of the object at table ``path``, shown as
    ``where`` (``spec.analysis.checks[0]``), then recurse into known sub-objects."""
    known = KNOWN_FIELDS[path]
    odd = [k for k in data if not isinstance(k, str)]
    if odd:
        raise SpecError(where, f"field names must be strings, got {odd[0]!r}")
    unknown = sorted(set(data) - known)
    if unknown:
        listed = ", ".join(sorted(known))
        raise SpecError(f"{where}.{unknown[0]}", f"unknown field (known: {listed})")
    for child in _children(path):
        key = child.rsplit(".", 1)[1]
        if key.endswith("[]"):
            items = data.get(key[:-2])
            if isinstance(items, Sequence) and not isinstance(items, str):
                for i, item in enumerate(items):
                    if isinstance(item, Mapping):
                        _check(item, child, f"{where}.{key[:-2]}[{i}]")
        elif isinstance(data.get(key), Mapping):
            _check(data[key], child, f"{where}.{key}")


def check_known_fields(spec: Mapping[str, Any]) -> None:
    """Raise ``SpecError("spec.target.stable.bogus", "unknown field (known: bentoTag,
    image)")`` for the first unknown key, or for settings of a traffic provider that is
    not the chosen one (``spec.trafficProvider.router: only with name router, not noop``).
    Only objects that are Mappings are looked into: wrong types stay the parsers' errors."""
    _check(spec, "spec", "spec")
    traffic = spec.get("trafficProvider")
    if not isinstance(traffic, Mapping):
        return
    name = traffic.get("name")
    if name not in _PROVIDER_NAMES:  # missing or unknown: the parser's own error
        return
    for key, owner in sorted(PROVIDER_SETTINGS.items()):
        if traffic.get(key) is not None and name != owner:
            raise SpecError(
                f"spec.trafficProvider.{key}",
                f"only with name {owner}, not {name} (the {name} provider would ignore it)",
            )
