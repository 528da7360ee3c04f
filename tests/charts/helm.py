"""Rendering the charts with a real helm, and checking what comes out.

``render`` runs ``helm template`` (Helm 3 or 4, from PATH or the dev extra's wheels, see
``canaria.cli.chart_tools``) and parses the YAML; ``validate`` checks every object: core
Kubernetes kinds with ``kubernetes-validate --strict`` for each version asked, custom
resources with ``jsonschema`` against ``../shared/schemas/crds/`` (HTTPRoute,
ServiceMonitor, PrometheusRule) or our own CRD (ModelRollout), unknown fields refused.
"""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHARTS = ROOT / "charts"
APP_CHART = CHARTS / "canaria"
OPERATOR_CHART = CHARTS / "canaria-operator"
SHARED_SCHEMAS = ROOT.parent / "shared" / "schemas"
CRD_PATH = ROOT / "k8s" / "crds" / "modelrollout.yaml"
OLDEST_KUBERNETES = "1.30.0"
NEWEST_KUBERNETES = kubernetes_validate.latest_version()
CUSTOM_SCHEMAS = {
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "gateway.networking.k8s.io/httproute_v1.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com/servicemonitor_v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring.coreos.com/prometheusrule_v1.json",
}


class RenderError(AssertionError):
    """helm refused to render; the message is helm's stderr."""


def helm_run(
    helm: Path, *args: str | Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helm), *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False
    )


def render_text(
    helm: Path,
    chart: Path = APP_CHART,
    values: dict[str, Any] | None = None,
    *,
    tmp_path: Path,
    release: str = "churn",
    namespace: str = "ml",
    extra: tuple[str, ...] = (),
) -> str:
    """``helm template`` with ``values`` written to a file; raises ``RenderError``."""
    values_file = tmp_path / f"values-{abs(hash(json.dumps(values, sort_keys=True)))}.yaml"
    values_file.write_text(yaml.safe_dump(values or {}))
    result = helm_run(helm, "template", release, chart, "-n", namespace, "-f", values_file, *extra)
    if result.returncode != 0:
        raise RenderError(result.stderr.strip())
    return result.stdout


class StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping (the API server refuses it too)."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    keys = [loader.construct_object(key, deep=deep) for key, _ in node.value]
    twice = sorted({str(key) for key in keys if keys.count(key) > 1})
    if twice:
        raise yaml.constructor.ConstructorError(
            None, None, f"duplicate keys {twice}", node.start_mark
        )
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_all(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.load_all(text, Loader=StrictLoader) if doc]


def render(
    helm: Path, chart: Path = APP_CHART, values: dict[str, Any] | None = None, **kw: Any
) -> list[dict[str, Any]]:
    """The rendered objects, in helm's order (a key given twice is an error)."""
    return load_all(render_text(helm, chart, values, **kw))


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one object of ``kind`` (and ``name``); fails when absent or ambiguous."""
    found = [doc for doc in docs if doc["kind"] == kind and name in (None, doc["metadata"]["name"])]
    assert len(found) == 1, (
        f"{len(found)} {kind} named {name}: {[d['metadata']['name'] for d in found]}"
    )
    return found[0]


def kinds(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(f"{doc['kind']}/{doc['metadata']['name']}" for doc in docs)


def _strict(node: Any) -> Any:
    """A CRD's structural schema as plain JSON Schema, unknown fields refused."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    preserve = node.get("x-kubernetes-preserve-unknown-fields")
    if node.get("type") == "object" and "properties" in node and not preserve:
        out.setdefault("additionalProperties", False)
    if "properties" in node and "metadata" in node["properties"]:
        out["properties"]["metadata"] = {"type": "object"}
    return out


@cache
def modelrollout_validator() -> jsonschema.Draft4Validator:
    (version,) = yaml.safe_load(CRD_PATH.read_text())["spec"]["versions"]
    return jsonschema.Draft4Validator(_strict(version["schema"]["openAPIV3Schema"]))


@cache
def custom_validator(file: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SHARED_SCHEMAS / "crds" / file).read_text())
    return jsonschema.Draft7Validator(schema)


def validate(
    doc: dict[str, Any], versions: tuple[str, ...] = (OLDEST_KUBERNETES, NEWEST_KUBERNETES)
) -> None:
    """Raise when ``doc`` is not a valid object (every Kubernetes version in ``versions``)."""
    key = (doc["apiVersion"], doc["kind"])
    if key == ("canaria.dev/v1alpha1", "ModelRollout"):
        errors = [f"{list(e.path)}: {e.message}" for e in modelrollout_validator().iter_errors(doc)]
        assert errors == [], errors
    elif key in CUSTOM_SCHEMAS:
        validator = custom_validator(CUSTOM_SCHEMAS[key])
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]
        assert errors == [], errors
    else:
        for version in versions:
            kubernetes_validate.validate(doc, version, strict=True)
