"""Level-triggered traffic, end to end in local mode with real routers: a restarted
router, a reloaded router config and one restarted replica of three are put back to what
the rollout's status says within one interval, and a promotion never silently reverts."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from canaria.testing import fake_model
from canaria.testing.local_loop import local_operator, router_checks, steady_traffic
from canaria.testing.router import TOKEN_ENV
from canaria.testing.running import RunningProcess, free_port, running
from canaria.testing.wait import wait_until
from monitoring.operator.local_rollout import local_rollout
from monitoring.operator.state import state_path_for

pytestmark = pytest.mark.slow

TOKEN = "level-triggered-token"
INTERVAL = 4.0
SLACK = 1.5  # a busy 2-core machine


class Router:
    """A real ``canaria router`` on a fixed port that can be restarted on that port."""

    def __init__(self, config: dict[str, Any], workdir: Path, name: str) -> None:
        self.port = free_port()
        self.config_path = workdir / f"{name}.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log = workdir / f"{name}.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self._stack = contextlib.ExitStack()

    def start(self) -> RunningProcess:
        args = ["canaria", "router", "--config", str(self.config_path), "--host", "127.0.0.1"]
        args += ["--port", str(self.port), "--log-level", "WARNING"]
        return self._stack.enter_context(
            running(
                args,
                log_path=self.log,
                port=self.port,
                ready_path="/healthz",
                env={TOKEN_ENV: TOKEN},
                timeout=60,
            )
        )

    def stop(self) -> None:
        self._stack.close()
        self._stack = contextlib.ExitStack()

    def admin(self, path: str) -> Any:
        response = httpx.get(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        )
        response.raise_for_status()
        return response.json()

    def weight(self) -> int:
        return int(self.admin("/admin/routes")["canary_weight"])

    def stable_url(self) -> str:
        return str(self.admin("/admin/config")["upstreams"]["stable"]["url"])


def read_state(path: Path) -> dict[str, Any]:
    state = state_path_for(path)  # in $CANARIA_STATE_DIR (tests/conftest.py)
    with contextlib.suppress(OSError, ValueError):
        return dict(json.loads(state.read_text()))
    return {}


@contextlib.contextmanager
def loop(tmp: Path, replicas: int) -> Iterator[tuple[list[Router], Path, RunningProcess]]:
    with (
        fake_model.serving("stable", workdir=tmp) as stable,
        fake_model.serving("canary", workdir=tmp) as canary,
        contextlib.ExitStack() as stack,
    ):
        config = {
            "upstreams": {"stable": {"url": stable.base_url}, "canary": {"url": canary.base_url}},
            "canary_weight": 0,
            "reload_interval_seconds": 0.2,
            "admin": {"listen": "public"},  # the tests use one URL for traffic and admin
        }
        routers = [Router(config, tmp, f"router-{i}") for i in range(replicas)]
        for router in routers:
            router.start()
            stack.callback(router.stop)
        doc = local_rollout(
            name="churn",
            stable_tag="churn-classifier:v1",
            canary_tag="churn-classifier:v2",
            router_url=routers[0].url,
            token_env=TOKEN_ENV,
            analysis={
                "interval": f"{INTERVAL:g}s",
                "stepWeights": [25, 50, 75],
                "failureLimit": 1,
                "inconclusiveLimit": 1,
                "checks": router_checks(window="3s", max_latency_p99=0.5),
            },
        )
        if replicas > 1:
            settings = doc["spec"]["trafficProvider"]["router"]
            del settings["adminUrl"]
            settings["adminUrls"] = [router.url for router in routers]
        path = tmp / "churn.yaml"
        path.write_text(yaml.safe_dump(doc))
        stack.enter_context(steady_traffic(routers[0].url, {"x": 1}, workers=3, pause=0.01))
        operator = stack.enter_context(
            local_operator(path, log_path=tmp / "operator.log", token=TOKEN)
        )
        yield routers, path, operator


def status(path: Path) -> dict[str, Any]:
    return dict(read_state(path).get("status") or {})


def corrections(path: Path) -> list[str]:
    events = read_state(path).get("events") or []
    return [e["message"] for e in events if e["reason"] == "TrafficCorrected"]


def agreed(router: Router, path: Path) -> bool:
    return router.weight() == status(path).get("canaryWeight")


def test_a_restarted_or_reloaded_router_is_corrected_and_the_canary_promoted(
    tmp_path: Path,
) -> None:
    with loop(tmp_path, replicas=1) as (routers, path, _operator):
        router = routers[0]
        wait_until(
            "first passing analysis", lambda: status(path).get("canaryWeight") == 50, timeout=60
        )
        router.stop()
        router.start()  # the same port, back at its file's canary_weight 0
        wait_until(
            "router and status agree",
            lambda: agreed(router, path),
            timeout=INTERVAL + SLACK,
            ignoring=(httpx.HTTPError,),
        )

        wait_until("step 3", lambda: status(path).get("canaryWeight") == 75, timeout=30)
        text = router.config_path.read_text()
        router.config_path.write_text(text + "\n# edited\n")  # a hot reload: weight 0 again
        edited = time.time()
        corrected_at = wait_until(
            "the reload corrected",
            lambda: any("-> weight 75%" in m for m in corrections(path)),
            timeout=INTERVAL + SLACK + 1.0,  # + the router's reload poll
        )
        assert corrected_at - edited <= INTERVAL + SLACK + 1.0

        wait_until(
            "promotion",
            lambda: status(path).get("phase") == "Succeeded",
            timeout=40,
            detail=lambda: status(path).get("message"),
        )
        canary_url = router.admin("/admin/config")["upstreams"]["canary"]["url"]
        assert router.stable_url() == canary_url

        router.stop()
        router.start()  # the old stable again, from the file
        wait_until(
            "promotion re-asserted",
            lambda: router.stable_url() == canary_url,
            timeout=INTERVAL + SLACK,
        )
        final = status(path)
        assert final["phase"] == "Succeeded"
        assert "rollback" not in [h["decision"] for h in final["history"]]
        reasons = [e["reason"] for e in read_state(path)["events"]]
        assert reasons.count("TrafficCorrected") >= 3, reasons
        corrected = [
            e["message"] for e in read_state(path)["events"] if e["reason"] == "TrafficCorrected"
        ]
        assert any("weight 0% -> weight 50%" in m for m in corrected), corrected
        assert any("weight 0% -> weight 75%" in m for m in corrected), corrected
        assert any(
            f"stable upstream {router.url}" not in m and f"-> {canary_url} (promoted)" in m
            for m in corrected
        ), corrected


def test_three_router_replicas_converge_and_a_restarted_one_is_corrected(
    tmp_path: Path,
) -> None:
    with loop(tmp_path, replicas=3) as (routers, path, _operator):
        wait_until("step 2", lambda: status(path).get("canaryWeight") == 50, timeout=60)
        wait_until(
            "every replica at 50%",
            lambda: all(r.weight() == 50 for r in routers),
            timeout=INTERVAL + SLACK,
        )
        routers[1].stop()
        routers[1].start()
        wait_until(
            "the restarted replica agrees",
            lambda: agreed(routers[1], path),
            timeout=INTERVAL + SLACK,
        )
        wait_until(
            "promotion",
            lambda: status(path).get("phase") == "Succeeded",
            timeout=40,
            detail=lambda: status(path).get("message"),
        )
        canary = routers[0].admin("/admin/config")["upstreams"]["canary"]["url"]
        assert [r.stable_url() for r in routers] == [canary] * 3
        assert [r.weight() for r in routers] == [0, 0, 0]
        corrected = [
            e["message"] for e in read_state(path)["events"] if e["reason"] == "TrafficCorrected"
        ]
        assert any(f"{routers[1].url}: weight 0% -> weight " in m for m in corrected), corrected
