"""Fast abort in local mode: a real router, two fake models and ``canaria operator
--local``. The canary answers 503 to everything; the rollout's ``fastAbort`` reaches the
router as its canary breaker with the first routes, the breaker trips after a few
failures, and the operator rolls back at its next pass, long before the first analysis,
with an Event quoting the trip."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from canaria.testing import fake_model
from canaria.testing.local_loop import local_operator, router_checks, steady_traffic
from canaria.testing.router import TOKEN_ENV, admin_get, running_router
from canaria.testing.wait import wait_until
from monitoring.operator.local_rollout import local_rollout
from monitoring.operator.state import state_path_for

pytestmark = pytest.mark.slow

TOKEN = "fast-abort-token"
INTERVAL = 30.0  # the first analysis is far away: only the breaker can roll back in time
FAST_ABORT = {"failures": 3, "windowRequests": 10, "windowSeconds": 10}


def state(path: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        return dict(json.loads(state_path_for(path).read_text()))
    return {}


def test_a_canary_answering_503_is_rolled_back_by_the_breaker(tmp_path: Path) -> None:
    with (
        fake_model.serving("stable", workdir=tmp_path) as stable,
        fake_model.serving("canary", workdir=tmp_path) as canary,
    ):
        fake_model.set_behaviour(canary.base_url, error_rate=1.0, error_status=503)
        config = {
            "upstreams": {"stable": {"url": stable.base_url}, "canary": {"url": canary.base_url}},
            "canary_weight": 0,
        }
        with running_router(config, workdir=tmp_path, token=TOKEN) as router:
            doc = local_rollout(
                name="churn",
                stable_tag="churn-classifier:v1",
                canary_tag="churn-classifier:v2",
                router_url=router.base_url,
                token_env=TOKEN_ENV,
                analysis={
                    "interval": f"{INTERVAL:g}s",
                    "stepWeights": [25, 50],
                    "checks": router_checks(window="10s", max_latency_p99=0.5),
                    "fastAbort": FAST_ABORT,
                },
            )
            path = tmp_path / "churn.yaml"
            path.write_text(yaml.safe_dump(doc))
            with (
                steady_traffic(router.base_url, {"x": 1}, workers=2, pause=0.02),
                local_operator(path, log_path=tmp_path / "operator.log", token=TOKEN),
            ):
                started = time.monotonic()
                wait_until(
                    "rolled back",
                    lambda: state(path).get("status", {}).get("phase") == "Failed",
                    timeout=INTERVAL - 5,
                    detail=lambda: state(path).get("status", {}).get("message"),
                )
                took = time.monotonic() - started
                routes = admin_get(router, "/admin/routes", token=TOKEN)
                reached_canary = fake_model.behaviour(canary.base_url)["requests"]

    assert took < INTERVAL - 5, took  # before the first analysis was even due
    status = state(path)["status"]
    assert status["canaryWeight"] == 0
    assert [h["decision"] for h in status["history"]] == ["start", "rollback"]
    rollback = [e for e in state(path)["events"] if e["reason"] == "RolledBack"]
    assert len(rollback) == 1, state(path)["events"]
    message = rollback[0]["message"]
    assert message.startswith(f"fast abort: router breaker open on {router.base_url} since 20")
    assert "failures in the last" in message and message.endswith(
        "rolled back to churn-classifier:v1"
    )
    # The spec's limits reached the router with the routes; the rollback's routes reset it.
    assert routes["canary_weight"] == 0
    breaker = routes["breaker"]["canary"]
    assert breaker["open"] is False
    assert (breaker["failures"], breaker["window_requests"], breaker["window_seconds"]) == (
        3,
        10,
        10,
    )
    # Few requests ever reached the dead canary: the breaker, not the analysis, stopped them
    # (3 failures trip it; two client threads may each have one more in flight).
    assert 3 <= reached_canary <= 5, reached_canary
