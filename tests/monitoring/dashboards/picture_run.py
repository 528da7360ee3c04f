"""Make the README's dashboard pictures from a real run (about 90 s):

    PYTHONPATH=. .venv/bin/python -m tests.monitoring.dashboards.picture_run \\
        --out monitoring/dashboards/pictures

Two fake model servers behind the real router (with a shadow), ``canaria operator --local``
and a real Prometheus with canaria's rules: a canary starts failing a third of its requests
at 40 % and is rolled back; the fixed canary is then promoted step by step. Then every
dashboard is drawn from that Prometheus by ``monitoring.dashboards.pictures``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from canaria.testing import fake_model
from canaria.testing.fake_model import set_behaviour
from canaria.testing.local_loop import router_checks, steady_traffic
from canaria.testing.router import TOKEN_ENV, running_router
from canaria.testing.running import free_port, running
from canaria.testing.wait import wait_until
from monitoring.dashboards.pictures import render_all
from monitoring.operator.local_rollout import local_rollout
from monitoring.operator.state import STATE_DIR_ENV, state_path_for
from monitoring.rules.build import RuleSettings
from monitoring.rules.files import write
from tests.monitoring.rules.stack import prometheus_config, running_prometheus_with_rules

TOKEN = "picture-run-token"
OPERATOR = ["canaria", "operator", "--metrics-host", "127.0.0.1", "--local"]


def rollout_doc(router_url: str, canary_tag: str) -> dict[str, Any]:
    return local_rollout(
        name="churn",
        stable_tag="churn-classifier:v1",
        canary_tag=canary_tag,
        router_url=router_url,
        token_env=TOKEN_ENV,
        analysis={
            "interval": "3s",
            "stepWeights": [20, 40, 60, 80],
            "failureLimit": 1,
            "checks": router_checks(window="3s", max_latency_p99=0.2),
        },
    )


def state(path: Path) -> dict[str, Any]:
    """The rollout's status from the local operator's state file ({} until written)."""
    with contextlib.suppress(OSError, ValueError):
        return dict(json.loads(state_path_for(path).read_text()).get("status") or {})
    return {}


def run(out: Path, workdir: Path) -> dict[str, int]:
    rules = write(workdir / "rules", RuleSettings(for_override="2s"))
    with (
        fake_model.serving("stable", workdir=workdir) as stable,
        fake_model.serving("canary", workdir=workdir) as canary,
    ):
        set_behaviour(stable.base_url, delay_seconds=0.01)
        set_behaviour(canary.base_url, delay_seconds=0.02)
        upstreams = {
            "stable": {"url": stable.base_url},
            "canary": {"url": canary.base_url},
            "shadow": {"url": canary.base_url},
        }
        config = {"upstreams": upstreams, "canary_weight": 0, "shadow": {"sample_rate": 0.2}}
        with running_router(config, workdir=workdir, token=TOKEN) as router:
            path = workdir / "churn.yaml"
            path.write_text(yaml.safe_dump(rollout_doc(router.base_url, "churn-classifier:v2")))
            operator_port = free_port()
            settings = prometheus_config(
                rules=rules,
                alertmanager=None,
                router=router,
                operator_port=operator_port,
                operator_job="canaria-operator",
            )
            started = time.time()
            with (
                running_prometheus_with_rules(settings, workdir) as prometheus,
                steady_traffic(router.base_url, {"x": 1}, workers=3, pause=0.02),
                running(
                    [*OPERATOR, str(path), "--metrics-port", str(operator_port)],
                    log_path=workdir / "operator.log",
                    port=operator_port,
                    ready_path="/metrics",
                    env={TOKEN_ENV: TOKEN},
                ),
            ):
                wait_until("step 2", lambda: state(path).get("canaryWeight") == 40, timeout=60)
                set_behaviour(canary.base_url, error_rate=0.3)
                wait_until("rollback", lambda: state(path).get("phase") == "Failed", timeout=60)
                time.sleep(5)
                set_behaviour(canary.base_url, error_rate=0.0)
                path.write_text(yaml.safe_dump(rollout_doc(router.base_url, "churn-classifier:v3")))
                wait_until("promotion", lambda: state(path).get("phase") == "Succeeded", timeout=90)
                time.sleep(8)
                return render_all(
                    prometheus.base_url, out, start=started, end=time.time(), scrape_interval=1
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="canaria-pictures-") as workdir:
        # The operator's state files stay in the run's folder (it inherits this variable).
        os.environ[STATE_DIR_ENV] = str(Path(workdir) / "state")
        for uid, count in run(args.out, Path(workdir)).items():
            print(f"{uid}: {count} panels with data")


if __name__ == "__main__":
    main()
