"""The alert path end to end: a rollout that fails fires canaria's alerts in a real
Prometheus, and a real Alertmanager delivers them to a webhook receiver.

Real processes on loopback: two fake model servers (``canaria.testing.fake_model``), the
canaria router in front of them, ``canaria operator --local`` with its metrics port,
Debian's ``prometheus`` scraping the router and the operator every second with the rules
generated for the test (every ``for:`` 1s), and Debian's ``prometheus-alertmanager``
(group_wait 1s) posting to a receiver in this process.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from canaria.testing import fake_model
from canaria.testing.fake_model import set_behaviour
from canaria.testing.local_loop import router_checks, steady_traffic
from canaria.testing.router import TOKEN_ENV, running_router
from canaria.testing.running import RunningProcess, free_port, running
from canaria.testing.wait import wait_until
from monitoring.dashboards.pictures import render_all
from monitoring.operator.local_rollout import local_rollout
from monitoring.rules.build import RuleSettings
from monitoring.rules.files import write
from tests.monitoring.notify.receiver import Receiver, receiving
from tests.monitoring.rules.stack import (
    prometheus_config,
    running_alertmanager,
    running_prometheus_with_rules,
)

pytestmark = pytest.mark.slow

TOKEN = "alert-path-token"
OPERATOR_JOB = "canaria-operator"


def delivered(receiver: Receiver) -> list[dict[str, Any]]:
    """Every alert Alertmanager posted, as its webhook payload lists them."""
    return [alert for r in receiver.requests for alert in json.loads(r.body)["alerts"]]


def firing_names(prometheus: RunningProcess) -> set[str]:
    alerts = httpx.get(f"{prometheus.base_url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return {a["labels"]["alertname"] for a in alerts if a["state"] == "firing"}


def write_rollout(path: Path, router_url: str) -> Path:
    doc = local_rollout(
        name="churn",
        stable_tag="churn-classifier:v1",
        canary_tag="churn-classifier:v2",
        router_url=router_url,
        token_env=TOKEN_ENV,
        analysis={
            "interval": "1s",
            "stepWeights": [50],
            "failureLimit": 1,
            "checks": router_checks(window="800ms", max_latency_p99=1.0),
        },
    )
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_a_failed_rollout_fires_and_alertmanager_delivers_it(tmp_path: Path) -> None:
    rules = write(tmp_path / "rules", RuleSettings(for_override="1s", operator_job=OPERATOR_JOB))
    operator_port = free_port()
    with (
        receiving(lambda n: (200, 0.0)) as receiver,
        running_alertmanager(receiver.url, tmp_path) as alertmanager,
        fake_model.serving("stable", workdir=tmp_path) as stable,
        fake_model.serving("canary", workdir=tmp_path) as canary,
    ):
        upstreams = {"stable": {"url": stable.base_url}, "canary": {"url": canary.base_url}}
        config = {"upstreams": upstreams, "canary_weight": 0}
        with running_router(config, workdir=tmp_path, token=TOKEN) as router:
            set_behaviour(canary.base_url, error_rate=1.0)
            rollout = write_rollout(tmp_path / "churn.yaml", router.base_url)
            settings = prometheus_config(
                rules=rules,
                alertmanager=alertmanager,
                router=router,
                operator_port=operator_port,
                operator_job=OPERATOR_JOB,
            )
            args = ["canaria", "operator", "--local", str(rollout)]
            args += ["--metrics-port", str(operator_port), "--metrics-host", "127.0.0.1"]
            started = time.time()
            with (
                running_prometheus_with_rules(settings, tmp_path) as prometheus,
                steady_traffic(router.base_url, {"x": 1}, workers=2, pause=0.01),
                running(
                    args,
                    log_path=tmp_path / "operator.log",
                    port=operator_port,
                    ready_path="/metrics",
                    env={TOKEN_ENV: TOKEN},
                ),
            ):
                wait_until(
                    "CanariaRolloutFailed delivered by Alertmanager",
                    lambda: any(
                        a["labels"]["alertname"] == "CanariaRolloutFailed"
                        for a in delivered(receiver)
                    ),
                    timeout=60,
                    poll=0.25,
                    detail=lambda: (
                        f"firing in Prometheus: {firing_names(prometheus)}; "
                        f"delivered: {[a['labels'] for a in delivered(receiver)]}"
                    ),
                )
                firing = firing_names(prometheus)
                print(f"alert delivered {time.time() - started:.1f}s after Prometheus started")
                filled = render_all(
                    prometheus.base_url,
                    tmp_path / "pictures",
                    start=started,
                    end=time.time(),
                    scrape_interval=1,
                    uids=["canaria-rollout", "canaria-model-quality"],
                )
    (failed,) = [
        a for a in delivered(receiver) if a["labels"]["alertname"] == "CanariaRolloutFailed"
    ]
    assert failed["status"] == "firing"
    assert failed["labels"]["rollout"] == "default/churn"
    assert failed["labels"]["severity"] == "critical"
    assert "kubectl canaria status" in failed["annotations"]["runbook"]
    assert failed["annotations"]["summary"] == "Rollout default/churn failed and was rolled back"
    assert "CanariaRolloutFailed" in firing
    assert "CanariaOperatorDown" not in firing  # the operator was up and scraped
    # The pictures command drew the dashboards from this run's Prometheus: every rollout
    # panel but the two check panels (the operator does not export check metrics yet), and
    # the router's requests, errors and latency.
    for uid in filled:
        assert (tmp_path / "pictures" / f"{uid}.png").stat().st_size > 10_000, uid
    assert filled["canaria-rollout"] >= 6  # of 8 (short windows: a rate may be missing)
    assert filled["canaria-model-quality"] >= 3
