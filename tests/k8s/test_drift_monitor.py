"""k8s/drift/monitor.yaml: valid, locked down, and runs a command the CLI accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from canaria.cli import build_parser

MANIFEST = Path(__file__).resolve().parents[2] / "k8s" / "drift" / "monitor.yaml"
KUBERNETES_VERSION = "1.31.0"


def _docs() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc]


def test_the_manifests_are_valid_kubernetes() -> None:
    docs = _docs()
    assert [doc["kind"] for doc in docs] == ["Deployment", "Service"]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_monitor_is_locked_down_and_runs_a_valid_command() -> None:
    deployment = _docs()[0]
    assert deployment["spec"]["replicas"] == 1
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert all(mount.get("readOnly") for mount in container["volumeMounts"][:2])
    program, *args = container["args"]
    parsed = build_parser().parse_args(args)
    assert program == "canaria" and parsed.drift_command == "monitor"
    assert parsed.compare == ["canary=stable"] and parsed.port == 9109
    assert parsed.host == "0.0.0.0"
