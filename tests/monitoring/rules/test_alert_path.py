"""The alert path end to end: a rollout that fails fires canaria's alerts in a real
Prometheus, and a real Alertmanager delivers them to a webhook receiver.

Real processes on loopback: two fake model servers (``tests.support.fake_model``), the
canaria router in front of them, ``canaria operator --local`` with its metrics port,
Debian's ``prometheus`` scraping the router and the operator every second with the rules
generated for the test (every ``for:`` 1s), and Debian's ``prometheus-alertmanager``
(group_wait 1s) posting to a receiver in this process.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from monitoring.operator.local_rollout import local_rollout
from monitoring.rules.build import RuleSettings
from monitoring.rules.files import write
from tests.monitoring.notify.receiver import Receiver, receiving
from tests.support import fake_model
from tests.support.fake_model import set_behaviour
from tests.support.local_loop import router_checks, steady_traffic, wait_until
from tests.support.processes import RunningProcess, free_port, running
from tests.support.prometheus import prometheus_binary
from tests.support.router import TOKEN_ENV, running_router

pytestmark = pytest.mark.slow

TOKEN = "alert-path-token"
OPERATOR_JOB = "canaria-operator"


def alertmanager_binary() -> str:
    path = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if path is None:
        raise RuntimeError("alertmanager not found: run `make system-deps` (Debian package)")
    return path


@contextlib.contextmanager
def running_alertmanager(webhook_url: str, workdir: Path) -> Iterator[RunningProcess]:
    config = {
        "route": {
            "receiver": "test",
            "group_by": ["alertname", "rollout"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "test", "webhook_configs": [{"url": webhook_url}]}],
    }
    path = workdir / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    args = [
        alertmanager_binary(),
        f"--config.file={path}",
        f"--storage.path={workdir / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no gossip: a single instance on loopback
        "--log.level=warn",
    ]
    with running(
        args, log_path=workdir / "alertmanager.log", port=port, ready_path="/-/ready"
    ) as am:
        yield am


def prometheus_config(
    *, rules: Path, alertmanager: RunningProcess, router: RunningProcess, operator_port: int
) -> dict[str, Any]:
    def job(name: str, address: str, labels: dict[str, str]) -> dict[str, Any]:
        return {
            "job_name": name,
            "static_configs": [{"targets": [address], "labels": labels}],
        }

    router_address = router.base_url.removeprefix("http://")
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(rules)],
        "alerting": {
            "alertmanagers": [
                {"static_configs": [{"targets": [alertmanager.base_url.removeprefix("http://")]}]}
            ]
        },
        "scrape_configs": [
            job("router", router_address, {"namespace": "default", "rollout": "churn"}),
            job(OPERATOR_JOB, f"127.0.0.1:{operator_port}", {}),
        ],
    }


@contextlib.contextmanager
def running_prometheus_with_rules(
    config: dict[str, Any], workdir: Path
) -> Iterator[RunningProcess]:
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    args = [
        prometheus_binary(),
        f"--config.file={path}",
        f"--storage.tsdb.path={workdir / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    with running(args, log_path=workdir / "prometheus.log", port=port, ready_path="/-/ready") as p:
        yield p


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
                rules=rules, alertmanager=alertmanager, router=router, operator_port=operator_port
            )
            args = ["canaria", "operator", "--local", str(rollout)]
            args += ["--metrics-port", str(operator_port), "--metrics-host", "127.0.0.1"]
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
