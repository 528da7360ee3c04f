"""Every metric the dashboards and rules read is exported by a real canaria process.

Started for real, on loopback: the classic model server and the LLM service under
``bentoml serve``, the router (with a shadow and a canary breaker) in front of the classic
server, the operator in local mode with its metrics port (after an analysis, so its
per-check series exist) and the drift monitor (``canaria drift monitor``). After a little
traffic their ``/metrics`` pages are compared with the names the expressions read. Names
of parts not built yet are on ``NOT_YET_EXPORTED``; an entry there that a process does
export fails the test, so the list shrinks as those parts land.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from canaria.contracts import metrics as m
from canaria.testing.local_loop import router_checks, steady_traffic
from canaria.testing.router import TOKEN_ENV, running_router
from canaria.testing.running import VENV_BIN, RunningProcess, free_port, running
from canaria.testing.wait import wait_until
from monitoring.operator.local_rollout import local_rollout
from tests.monitoring.dashboards.expressions import (
    dashboard_expressions,
    recorded_names,
    rule_expressions,
)
from tests.monitoring.dashboards.promql_names import exported_names, metric_names
from tests.monitoring.drift.frames import customers
from tests.monitoring.drift.logs import write_sample_log
from tests.services.classic.cases import record

pytestmark = pytest.mark.slow

TOKEN = "exported-names-token"
PROMETHEUS_OWN = {"up"}  # synthesised by Prometheus for every target
# Exported by parts that are not built yet (each names its issue); read by dashboards/rules.
NOT_YET_EXPORTED: set[str] = set()


@contextlib.contextmanager
def bentoml_serve(
    service: str, env: dict[str, str], workdir: Path, name: str
) -> Iterator[RunningProcess]:
    port = free_port()
    args = ["bentoml", "serve", service, "--host", "127.0.0.1", "--port", str(port)]
    with running(
        args,
        log_path=workdir / f"{name}.log",
        port=port,
        ready_path="/readyz",
        env=env,
        timeout=180,
    ) as process:
        yield process


@contextlib.contextmanager
def operator(router: RunningProcess, workdir: Path) -> Iterator[RunningProcess]:
    doc = local_rollout(
        name="churn",
        stable_tag="churn-classifier:v1",
        canary_tag="churn-classifier:v2",
        router_url=router.base_url,
        token_env=TOKEN_ENV,
        analysis={
            "interval": "1s",
            "stepWeights": [50],
            "checks": router_checks(window="1s", max_latency_p99=5),
        },
    )
    path = workdir / "churn.yaml"
    path.write_text(yaml.safe_dump(doc))
    port = free_port()
    args = ["canaria", "operator", "--local", str(path), "--metrics-port", str(port)]
    args += ["--metrics-host", "127.0.0.1"]
    with running(
        args,
        log_path=workdir / "operator.log",
        port=port,
        ready_path="/metrics",
        env={TOKEN_ENV: TOKEN},
    ) as process:
        yield process


def metrics_text(process: RunningProcess) -> str:
    response = httpx.get(f"{process.base_url}/metrics", timeout=30)
    response.raise_for_status()
    return response.text


def classic_pages(model_tag: str, workdir: Path) -> list[str]:
    """/metrics of the classic server, the router (with a shadow) and the operator."""
    env = {"CANARIA_CLASSIC_MODEL_TAG": model_tag}
    with bentoml_serve(
        "services.classic.service:ClassicService", env, workdir, "classic"
    ) as classic:
        upstream = {"url": classic.base_url}
        config = {
            "upstreams": {"stable": upstream, "canary": upstream, "shadow": upstream},
            "canary_weight": 50,
            "shadow": {"sample_rate": 1.0, "comparator": "classic"},
            "breaker": {"failures": 5, "window_requests": 20},
        }
        with (
            running_router(config, workdir=workdir, token=TOKEN) as router,
            operator(router, workdir) as op,
        ):
            for _ in range(6):
                answer = httpx.post(f"{router.base_url}/predict", json=record(), timeout=30)
                assert answer.status_code == 200, answer.text
            bad = httpx.post(f"{classic.base_url}/predict", json={"tenure_months": 1}, timeout=30)
            assert bad.status_code == 422, bad.text
            with steady_traffic(router.base_url, record(), workers=1, pause=0.05):
                wait_until(
                    "shadow comparisons and an operator analysis with data",
                    lambda: (
                        m.SHADOW_COMPARISONS_TOTAL + "{" in metrics_text(router)
                        and m.ROLLOUT_CHECK_PASSED + "{" in metrics_text(op)
                        and m.ROLLOUT_CHECK_VALUE + "{" in metrics_text(op)
                    ),
                    timeout=60,
                    poll=0.5,
                    detail=lambda: (workdir / "operator.log").read_text()[-3000:],
                )
            return [metrics_text(p) for p in (router, classic, op)]


def drift_page(model_tag: str, workdir: Path) -> str:
    """/metrics of ``canaria drift monitor`` (as ``tests/monitoring/drift/test_monitor.py``
    starts it) once it has judged the canary against the stable."""
    stable = write_sample_log(workdir / "stable.jsonl", customers(300, seed=21))
    canary = write_sample_log(workdir / "canary.jsonl", customers(300, seed=22))
    port = free_port()
    args = [
        str(VENV_BIN / "canaria"), "drift", "monitor", "--model", model_tag,
        "--log", f"stable={stable}", "--log", f"canary={canary}", "--compare", "canary=stable",
        "--interval", "1", "--window", "3600", "--port", str(port),
    ]  # fmt: skip
    with running(
        args, log_path=workdir / "drift.log", port=port, ready_path="/metrics", timeout=120
    ) as monitor:
        wait_until(
            "a drift run",
            lambda: m.DRIFT_COLUMN_SCORE + "{" in metrics_text(monitor),
            timeout=90,
            poll=0.5,
            detail=lambda: (workdir / "drift.log").read_text()[-3000:],
        )
        return metrics_text(monitor)


def llm_page(model_tag: str, workdir: Path) -> str:
    """/metrics of the LLM service after one completion. (Two ``bentoml serve`` on one
    BENTOML_HOME share its prometheus_multiproc_dir and wipe each other's metrics, so the
    LLM service runs after the classic one.)"""
    env = {"CANARIA_LLM_MODEL": model_tag, "CANARIA_LLM_DEVICE": "cpu"}
    with bentoml_serve("services.llm.service:LLMService", env, workdir, "llm") as llm:
        # Greedy, so every run answers the same tokens: time per output token is observed
        # only for two tokens or more (a sampled answer could end after its first).
        completion = {"prompt": "Customer: Hi\nAgent:", "max_tokens": 8, "temperature": 0}
        answer = httpx.post(f"{llm.base_url}/v1/completions", json=completion, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["usage"]["completion_tokens"] >= 2, answer.text
        return metrics_text(llm)


def test_dashboards_and_rules_read_only_exported_metrics(
    classic_model_tag: str, llm_model_tag: str, tmp_path: Path
) -> None:
    pages = [*classic_pages(classic_model_tag, tmp_path), llm_page(llm_model_tag, tmp_path)]
    pages.append(drift_page(classic_model_tag, tmp_path))
    exported = exported_names(pages)
    assert m.PREDICTIONS_TOTAL in exported and m.LLM_REQUESTS_TOTAL in exported
    assert not NOT_YET_EXPORTED & exported, "exported now: drop from NOT_YET_EXPORTED"
    allowed = exported | NOT_YET_EXPORTED | recorded_names() | PROMETHEUS_OWN
    missing = {
        f"{query.where}: {name}"
        for query in dashboard_expressions() + rule_expressions()
        for name in metric_names(query.expr)
        if name not in allowed
    }
    assert not missing, "read but exported by no process:\n" + "\n".join(sorted(missing))
