"""The sidecar mode: the documented sidecar config, run as it is in a stable pod.

Only the model server's and the shadow's URLs (and the sample rate, for an exact count)
are changed from ``services/router/sidecar-config.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from canaria.contracts import metrics as catalog
from canaria.contracts.metrics import Variant
from canaria.testing.wait import wait_until
from services.router.config import load_config

from .conftest import Router, admin_headers

pytestmark = pytest.mark.slow  # starts real processes or trains a model

SIDECAR = Path(__file__).resolve().parents[3] / "services" / "router" / "sidecar-config.yaml"
PREDICT = {"features": {"tenure": 3, "plan": "basic"}}


def test_the_documented_sidecar_config_is_valid_and_has_no_split() -> None:
    config = load_config(SIDECAR)
    assert config.upstreams.canary is None and config.canary_weight == 0
    assert config.upstreams.stable.url.startswith("http://127.0.0.1:")
    shadow = config.upstream(Variant.SHADOW)
    assert shadow is not None and shadow.url == "http://churn-shadow:3000"


@pytest.fixture(scope="module")
def sidecar(upstreams: dict[str, str], start_routers: Callable[..., dict[str, Router]]) -> Router:
    config = yaml.safe_load(SIDECAR.read_text())
    config["upstreams"]["stable"]["url"] = upstreams["stable"]
    config["upstreams"]["shadow"]["url"] = upstreams["different"]
    config["shadow"]["sample_rate"] = 1.0
    return start_routers({"sidecar": config})["sidecar"]


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as session:
        yield session


def test_the_sidecar_serves_the_stable_pod_and_compares_the_shadow(
    client: httpx.Client, sidecar: Router
) -> None:
    for _ in range(10):
        response = client.post(f"{sidecar.url}/predict", json=PREDICT)
        assert response.status_code == 200
        assert response.json()["served_by"] == "stable"
        assert response.headers["x-canaria-variant"] == "stable"
    comparisons = catalog.SHADOW_COMPARISONS_TOTAL
    wait_until(
        "the expected counters and log lines",
        lambda: sidecar.metric(comparisons, comparator="classic", outcome="disagree") == 10,
        poll=0.1,
    )
    assert sidecar.series(catalog.ROUTER_WEIGHT, variant="canary") == 0


def test_the_split_belongs_to_the_httproute(client: httpx.Client, sidecar: Router) -> None:
    routes = f"{sidecar.admin_url}/admin/routes"
    response = client.put(routes, json={"canary_weight": 10}, headers=admin_headers())
    assert response.status_code == 400
    assert "upstreams.canary" in response.json()["error"]
    assert client.get(routes, headers=admin_headers()).json()["canary_weight"] == 0
    # The override header is off (the default): a client cannot pick a variant here.
    forced = client.post(
        f"{sidecar.url}/predict", json=PREDICT, headers={"x-canaria-variant": "canary"}
    )
    assert forced.status_code == 200 and forced.json()["served_by"] == "stable"
