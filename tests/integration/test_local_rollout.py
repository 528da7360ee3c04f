"""Local mode end to end: router + two real model servers + ``canaria operator --local``.

The model servers are small ASGI apps (``canaria.testing.fake_model``) whose errors and
latency the test sets; the router and the operator are the real commands, and the
operator's metrics come from scraping the router's ``/metrics``, as in ``make demo``.
Timing assertions carry a slack for this shared 2-core machine; the benchmark
(``bench/bench_rollback.py``) measures the real numbers.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from canaria.testing import fake_model
from canaria.testing.fake_model import behaviour, set_behaviour
from canaria.testing.local_loop import local_operator, router_checks, steady_traffic
from canaria.testing.router import TOKEN_ENV, running_router
from canaria.testing.running import (
    RunningProcess,
    free_port,
    running,
    start_process,
    stop_process,
    wait_http,
)
from canaria.testing.wait import wait_until
from monitoring.operator.local_rollout import local_rollout
from monitoring.operator.state import state_path_for
from tests.services.classic.cases import record

pytestmark = pytest.mark.slow

TOKEN = "integration-admin-token"
STICKY_HEADER = "x-user"
INTERVAL = 1.0
SLACK = 1.0  # seconds of scheduling noise allowed on a busy 2-core machine


@dataclass
class Loop:
    router: RunningProcess
    stable: RunningProcess
    canary: RunningProcess
    rollout_path: Path
    tmp: Path

    def admin(self, method: str, path: str) -> Any:
        response = httpx.request(
            method,
            f"{self.router.base_url}{path}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()

    def canary_weight(self) -> int:
        return int(self.admin("GET", "/admin/routes")["canary_weight"])

    def state(self) -> dict[str, Any]:
        path = state_path_for(self.rollout_path)
        if not path.exists():
            return {}
        with contextlib.suppress(ValueError):
            return dict(json.loads(path.read_text()))
        return {}

    def status(self) -> dict[str, Any]:
        return dict(self.state().get("status") or {})

    def wait_for(self, what: str, condition: Any, timeout: float = 30.0) -> float:
        return wait_until(
            what, condition, timeout=timeout, detail=lambda: f"status: {self.status()}"
        )


def write_rollout(path: Path, router_url: str, **analysis: Any) -> Path:
    doc = local_rollout(
        name="churn-local",
        stable_tag="churn-classifier:v1",
        canary_tag="churn-classifier:v2",
        router_url=router_url,
        token_env=TOKEN_ENV,
        analysis={
            "interval": f"{INTERVAL:g}s",
            "failureLimit": 1,
            "inconclusiveLimit": 3,
            "checks": router_checks(window="800ms", max_latency_p99=0.4),
            **analysis,
        },
    )
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@contextlib.contextmanager
def fake_loop(tmp: Path, **analysis: Any) -> Iterator[Loop]:
    """The loop with two fake model servers."""
    with (
        fake_model.serving("stable", workdir=tmp) as stable,
        fake_model.serving("canary", workdir=tmp) as canary,
        local_loop(tmp, stable, canary, body={"x": 1}, **analysis) as loop,
    ):
        yield loop


@contextlib.contextmanager
def local_loop(
    tmp: Path,
    stable: RunningProcess,
    canary: RunningProcess,
    *,
    body: dict[str, Any],
    **analysis: Any,
) -> Iterator[Loop]:
    """The router in front of ``stable`` and ``canary``, traffic, and the rollout file."""
    config = {
        "upstreams": {"stable": {"url": stable.base_url}, "canary": {"url": canary.base_url}},
        "canary_weight": 0,
        # Split by a sticky key the traffic cycles through (``spread_keys``): every five
        # requests give the canary its weight's share, so no analysis window of a busy
        # machine has no canary request by chance.
        "sticky": {"header": STICKY_HEADER},
    }
    with running_router(config, workdir=tmp, token=TOKEN) as router:
        path = write_rollout(tmp / "churn.yaml", router.base_url, **analysis)
        loop = Loop(router=router, stable=stable, canary=canary, rollout_path=path, tmp=tmp)
        with steady_traffic(
            router.base_url, body, workers=3, pause=0.01, sticky_header=STICKY_HEADER
        ):
            yield loop


def operator(
    loop: Loop, name: str = "operator"
) -> contextlib.AbstractContextManager[RunningProcess]:
    return local_operator(loop.rollout_path, log_path=loop.tmp / f"{name}.log", token=TOKEN)


def decisions(loop: Loop) -> list[tuple[str, int]]:
    return [(h["decision"], h["canaryWeight"]) for h in loop.status().get("history", [])]


def test_healthy_canary_is_promoted_step_by_step_across_a_restart(tmp_path: Path) -> None:
    with fake_loop(tmp_path, stepWeights=[20, 50, 80]) as loop:
        seen: set[int] = set()
        with operator(loop, "operator-1"):
            loop.wait_for("step 2", lambda: loop.status().get("canaryWeight") == 50)
        # The operator is gone (stopped by PID) in the middle of the analysis at 50%.
        with operator(loop, "operator-2"):
            loop.wait_for(
                "promotion",
                lambda: seen.add(loop.canary_weight()) or loop.status().get("phase") == "Succeeded",
            )
        # The restarted operator had no samples of its own: it scrapes once and analyses
        # a full window later, so no analysis without data (no hold), and no step lost
        # or repeated.
        assert decisions(loop) == [
            ("start", 20),
            ("advance", 50),
            ("advance", 80),
            ("promote", 100),
            ("complete", 0),
        ]
        assert {80, 100} <= seen
        status = loop.status()
        assert status["stableModel"] == {"bentoTag": "churn-classifier:v2"}
        # The router made its canary upstream the stable one: all traffic goes there now.
        config = loop.admin("GET", "/admin/config")
        assert config["upstreams"]["stable"]["url"] == loop.canary.base_url
        assert loop.canary_weight() == 0
        reasons = [e["reason"] for e in loop.state()["events"]]
        assert reasons == [
            "AnalysisStarted",
            "StepAdvanced",
            "StepAdvanced",
            "Promoting",
            "Promoted",
        ]


@pytest.mark.parametrize(
    ("bad", "failing_check"),
    [({"error_rate": 1.0}, "success-rate"), ({"delay_seconds": 0.6}, "latency-p99")],
    ids=["errors", "slow"],
)
def test_bad_canary_is_rolled_back_within_the_bound(
    tmp_path: Path, bad: dict[str, float], failing_check: str
) -> None:
    failure_limit = 1
    bound = INTERVAL * (failure_limit + 1)
    with fake_loop(tmp_path, stepWeights=[10, 20, 30, 40, 50, 60, 70, 80, 90]) as loop:
        with operator(loop):
            loop.wait_for("step 2", lambda: loop.status().get("canaryWeight", 0) >= 20)
            set_behaviour(loop.canary.base_url, **bad)
            rolled_back_at = loop.wait_for("rollback", lambda: loop.canary_weight() == 0)
            first_bad = behaviour(loop.canary.base_url)["first_bad_at"]
        assert first_bad is not None
        print(f"rollback took {rolled_back_at - first_bad:.2f}s (bound {bound}s)")
        assert rolled_back_at - first_bad <= bound + SLACK
        status = loop.status()
        assert status["phase"] == "Failed"
        assert f"failed (2) > failureLimit ({failure_limit})" in status["message"]
        assert failing_check in status["message"]
        assert status["history"][-1]["decision"] == "rollback"
        assert [e["reason"] for e in loop.state()["events"]][-1] == "RolledBack"


def test_manual_rollback_through_the_cli_takes_effect_within_one_interval(
    tmp_path: Path,
) -> None:
    with fake_loop(tmp_path, interval="2s", stepWeights=[10, 20, 30, 40, 50]) as loop:
        with operator(loop):
            loop.wait_for("step 1", lambda: loop.canary_weight() == 10)
            command = ["canaria", "rollout", "rollback", "--local", str(loop.rollout_path)]
            with running(command, log_path=tmp_path / "cli.log", ready_path=None) as cli:
                assert cli.popen.wait(timeout=60) == 0
            requested = time.time()
            applied = loop.wait_for("rollback", lambda: loop.canary_weight() == 0)
        assert applied - requested <= 2.0  # one interval
        assert loop.status()["phase"] == "RolledBack"
        assert loop.state()["action"] is None
        status = subprocess_output(
            ["canaria", "rollout", "status", "--local", str(loop.rollout_path)], code=1
        )
        assert "RolledBack" in status and "manual rollback" in status


def subprocess_output(args: list[str], *, code: int = 0) -> str:
    """The output of a command that exits with ``code`` (status: 1 when rolled back)."""
    import subprocess

    from canaria.testing.running import VENV_BIN

    command = [str(VENV_BIN / args[0]), *args[1:]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == code, done.stderr
    return done.stdout


@contextlib.contextmanager
def classic_servers(tmp: Path, model_tag: str) -> Iterator[tuple[RunningProcess, RunningProcess]]:
    """Two ``bentoml serve`` of the real classic service, started side by side."""
    servers = []
    try:
        for name in ("stable", "canary"):
            port = free_port()
            args = ["bentoml", "serve", "services.classic.service:ClassicService"]
            servers.append(
                start_process(
                    [*args, "--port", str(port)],
                    log_path=tmp / f"classic-{name}.log",
                    port=port,
                    env={"CANARIA_CLASSIC_MODEL_TAG": model_tag},
                )
            )
        for server in servers:
            wait_http(server, "/readyz", timeout=180)
        yield servers[0], servers[1]
    finally:
        for server in servers:
            stop_process(server)


def test_real_classic_service_canary_is_promoted(tmp_path: Path, classic_model_tag: str) -> None:
    with (
        classic_servers(tmp_path, classic_model_tag) as (stable, canary),
        local_loop(
            tmp_path,
            stable,
            canary,
            body=record(),
            interval="2s",
            stepWeights=[50],
            checks=[
                {"name": "success-rate", "builtin": "requestSuccessRate", "min": 0.99},
                {"name": "latency-p99", "builtin": "latencyP99", "max": 2.0},
            ],
        ) as loop,
        operator(loop),
    ):
        loop.wait_for(
            "promotion", lambda: loop.status().get("phase") in ("Succeeded", "Failed"), 60
        )
        assert loop.status()["phase"] == "Succeeded", loop.status().get("message")
        assert [d for d, _ in decisions(loop) if d != "hold"] == [
            "start",
            "promote",
            "complete",
        ]
        assert loop.admin("GET", "/admin/config")["upstreams"]["stable"]["url"] == canary.base_url
