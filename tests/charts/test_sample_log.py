"""``sampleLog``: each model-server variant writes its sampled inputs to one file on the
claim, where the drift monitor reads them; nothing is mounted when it is off."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.charts.helm import APP_CHART, ROOT, find
from tests.charts.scenarios import container, pod

pytestmark = pytest.mark.slow  # runs a real helm


MODEL_SERVERS = ("churn-stable", "churn-canary", "churn-shadow")


def test_without_sample_log_no_model_server_logs_or_mounts_a_claim(
    rendered: dict[str, Any],
) -> None:
    for name in MODEL_SERVERS:
        deployment = find(rendered["shadow"], "Deployment", name)
        model = container(deployment, "model")
        assert not [e for e in model["env"] if e["name"].startswith("CANARIA_SAMPLE")]
        assert "sample-logs" not in {m["name"] for m in model["volumeMounts"]}
        assert all("persistentVolumeClaim" not in v for v in pod(deployment)["volumes"])


def test_sample_log_writes_one_file_per_variant_on_the_claim(rendered: dict[str, Any]) -> None:
    docs = rendered["sample-log"]
    for name in MODEL_SERVERS:
        variant = name.removeprefix("churn-")
        deployment = find(docs, "Deployment", name)
        model = container(deployment, "model")
        env = {e["name"]: e["value"] for e in model["env"]}
        assert env["CANARIA_SAMPLE_LOG"] == f"/var/log/canaria/{variant}.jsonl"
        assert env["CANARIA_SAMPLE_RATE"] == "0.25"
        (mount,) = [m for m in model["volumeMounts"] if m["name"] == "sample-logs"]
        assert mount == {"name": "sample-logs", "mountPath": "/var/log/canaria"}  # writable
        assert model["securityContext"]["readOnlyRootFilesystem"] is True  # the rest is not
        (volume,) = [v for v in pod(deployment)["volumes"] if v["name"] == "sample-logs"]
        assert volume["persistentVolumeClaim"] == {"claimName": "drift-inputs"}
    # The router reads no sample log: only the model servers mount the claim.
    router = find(docs, "Deployment", "churn-router")
    assert all(v["name"] != "sample-logs" for v in pod(router)["volumes"])


def test_sample_log_paths_are_the_ones_the_drift_monitor_reads(rendered: dict[str, Any]) -> None:
    """k8s/drift/monitor.yaml reads --log VARIANT=PATH from the claim the chart writes to."""
    text = (ROOT / "k8s" / "drift" / "monitor.yaml").read_text()
    monitor = next(d for d in yaml.safe_load_all(text) if d["kind"] == "Deployment")
    reader = container(monitor, "monitor")
    (mount,) = [m for m in reader["volumeMounts"] if m["name"] == "sample-logs"]
    (claim,) = [v for v in pod(monitor)["volumes"] if v["name"] == "sample-logs"]
    args = reader["args"]
    read = {args[i + 1] for i, arg in enumerate(args) if arg == "--log"}
    written = set()
    for variant in ("stable", "canary"):
        server = find(rendered["sample-log"], "Deployment", f"churn-{variant}")
        env = {e["name"]: e["value"] for e in container(server, "model")["env"]}
        written.add(f"{variant}={env['CANARIA_SAMPLE_LOG']}")
    assert read == written
    assert mount["mountPath"] == "/var/log/canaria" and mount["readOnly"] is True
    defaults = yaml.safe_load((APP_CHART / "values.yaml").read_text())["sampleLog"]
    assert claim["persistentVolumeClaim"]["claimName"] == defaults["claimName"]
    assert defaults["enabled"] is False
