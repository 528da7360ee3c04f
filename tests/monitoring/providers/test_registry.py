"""Providers are chosen by name; the no-op router and the static metrics provider."""

from __future__ import annotations

import subprocess
import sys

import pytest

from canaria.contracts.metrics import Variant
from canaria.contracts.routes import Routes
from monitoring.providers.interfaces import MetricQuery, RouteTarget
from monitoring.providers.metrics.static import StaticProvider
from monitoring.providers.registry import metrics_providers, snake_case_keys, traffic_routers
from monitoring.providers.traffic.noop import NoopRouter


def test_builtin_providers_are_registered_by_name() -> None:
    metrics_providers.create("static")  # imports the implementations
    traffic_routers.create("noop")
    assert {"prometheus", "scrape", "static"} <= set(metrics_providers)
    assert {"gatewayapi", "router", "noop"} <= set(traffic_routers)


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown traffic provider 'istio' \(known: .*noop"):
        traffic_routers.create("istio")


def test_cr_settings_in_camel_case_become_keyword_arguments() -> None:
    assert snake_case_keys({"adminUrl": 1, "tokenEnv": 2, "port": 3}) == {
        "admin_url": 1,
        "token_env": 2,
        "port": 3,
    }
    with pytest.raises(TypeError, match="no_such_setting"):
        metrics_providers.create("prometheus", address="http://x", noSuchSetting=1)


def test_the_interfaces_and_registry_import_no_client_library() -> None:
    """Importing the interfaces and the registry must stay cheap: no client library."""
    code = (
        "import sys, monitoring.providers.interfaces, monitoring.providers.registry; "
        "print(sorted(m for m in ('httpx', 'kubernetes', 'prometheus_client') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_noop_router_returns_what_was_set() -> None:
    router = traffic_routers.create("noop")
    assert isinstance(router, NoopRouter)
    target = RouteTarget("ml", "churn")
    assert router.get_routes(target) == Routes(canary_weight=0)
    router.set_routes(target, Routes(canary_weight=40, mirror=True))
    assert router.get_routes(target) == Routes(canary_weight=40, mirror=True)
    assert router.get_routes(RouteTarget("ml", "other")) == Routes(canary_weight=0)


def test_static_provider_answers_set_values() -> None:
    provider = metrics_providers.create(
        "static", values={"latencyP99": {"canary": 0.8, "stable": 0.2}, "driftShare": 0.1}
    )
    assert isinstance(provider, StaticProvider)
    assert provider.measure(MetricQuery("latencyP99", Variant.CANARY, 60)) == 0.8
    assert provider.measure(MetricQuery("latencyP99", Variant.STABLE, 60)) == 0.2
    assert provider.measure(MetricQuery("driftShare", Variant.CANARY, 60)) == 0.1
    assert provider.measure(MetricQuery("llmTtftP95", Variant.CANARY, 60)) is None
    provider.set("latencyP99", 2.0, variant=Variant.CANARY)
    assert provider.measure(MetricQuery("latencyP99", Variant.CANARY, 60)) == 2.0
    assert len(provider.queries) == 5
