"""Prometheus with canaria's rules and an Alertmanager, on loopback, for tests and the
picture run: started by PID, stopped by PID."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from canaria.testing.prometheus import running_prometheus
from canaria.testing.running import RunningProcess, free_port, running


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
    *,
    rules: Path,
    alertmanager: RunningProcess | None,
    router: RunningProcess,
    operator_port: int,
    operator_job: str,
) -> dict[str, Any]:
    """Scrape the router (as rollout ``churn`` in ``default``) and the operator every
    second, evaluate ``rules`` every second, send alerts to ``alertmanager`` if given."""

    def job(name: str, address: str, labels: dict[str, str]) -> dict[str, Any]:
        return {
            "job_name": name,
            "static_configs": [{"targets": [address], "labels": labels}],
        }

    router_address = router.base_url.removeprefix("http://")
    alerting = {}
    if alertmanager is not None:
        target = alertmanager.base_url.removeprefix("http://")
        alerting = {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]}
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(rules)],
        "alerting": alerting,
        "scrape_configs": [
            job("router", router_address, {"namespace": "default", "rollout": "churn"}),
            job(operator_job, f"127.0.0.1:{operator_port}", {}),
        ],
    }


@contextlib.contextmanager
def running_prometheus_with_rules(
    config: dict[str, Any], workdir: Path
) -> Iterator[RunningProcess]:
    """The kit's Prometheus serving ``config`` (``prometheus_config``) from ``workdir``."""
    with running_prometheus((), workdir=workdir, config=config) as process:
        yield process
