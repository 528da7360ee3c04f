"""Deployment patch bodies and readings (pure), and the providers by name."""

from __future__ import annotations

import pytest

from monitoring.providers.registry import workload_providers
from monitoring.providers.workload import KubernetesWorkloads, NoopWorkloads
from monitoring.providers.workload.deployments import (
    container_image,
    image_patch,
    read_deployment,
    scale_patch,
)
from tests.monitoring.operator.workload_cluster import V1, deployment


def test_patches_touch_one_field_each() -> None:
    assert scale_patch(0) == {"spec": {"replicas": 0}}
    assert image_patch("model", V1) == {
        "spec": {"template": {"spec": {"containers": [{"name": "model", "image": V1}]}}}
    }
    with pytest.raises(ValueError, match="replicas must be >= 0, got -1"):
        scale_patch(-1)
    with pytest.raises(ValueError, match="container and image must be set"):
        image_patch("model", "")


def test_a_deployment_is_read_into_its_rollout_state() -> None:
    obj = deployment("churn-stable", V1, 3)
    obj["metadata"]["generation"] = 4
    obj["status"].update(observedGeneration=3, readyReplicas=2)
    state = read_deployment(obj, "model")
    assert (state.name, state.image, state.replicas) == ("churn-stable", V1, 3)
    assert (state.generation, state.observed_generation, state.ready_replicas) == (4, 3, 2)
    assert not state.rolled_out()
    assert container_image(obj, "shadow-sidecar") == "ghcr.io/canaria/router:0.1.0"
    assert container_image(obj, "missing") is None


def test_a_new_deployment_without_status_or_replicas_is_not_rolled_out() -> None:
    obj = deployment("churn-canary", V1, 1)
    del obj["spec"]["replicas"], obj["status"]
    state = read_deployment(obj, "model")
    assert state.replicas == 1  # Kubernetes' default
    assert not state.rolled_out()


def test_providers_by_name() -> None:
    assert isinstance(workload_providers.create("noop"), NoopWorkloads)
    assert isinstance(workload_providers.create("local"), NoopWorkloads)
    assert isinstance(workload_providers.create("kubernetes"), KubernetesWorkloads)
    with pytest.raises(ValueError, match=r"unknown workload provider 'argo' \(known: .*kubernetes"):
        workload_providers.create("argo")


def test_noop_remembers_and_reports_everything_rolled_out() -> None:
    noop = NoopWorkloads()
    assert noop.read("ml", "churn-canary", "model").replicas == 0
    noop.scale("ml", "churn-canary", 2)
    noop.set_image("ml", "churn-canary", "model", V1)
    state = noop.read("ml", "churn-canary", "model")
    assert (state.replicas, state.image) == (2, V1) and state.rolled_out(2)
