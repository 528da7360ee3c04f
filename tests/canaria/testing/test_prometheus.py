"""The kit's Prometheus (canaria/testing/prometheus.py), as the tests and the demo use it:
targets from URLs, job names, a config reload by SIGHUP, PromQL answers and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from canaria.testing.prometheus import (
    PrometheusApi,
    PrometheusError,
    ScrapeTarget,
    running_prometheus,
    scrape_config,
)


def test_targets_from_urls_keep_their_path_labels_and_job() -> None:
    plain = ScrapeTarget.from_url("http://127.0.0.1:8000")
    named = ScrapeTarget.from_url(
        "http://127.0.0.1:9000/admin/metrics", labels={"rollout": "churn"}, job="router-churn"
    )
    assert plain == ScrapeTarget("127.0.0.1:8000")
    jobs = scrape_config([plain, named])["scrape_configs"]
    assert [(j["job_name"], j["metrics_path"]) for j in jobs] == [
        ("target-0", "/metrics"),
        ("router-churn", "/admin/metrics"),
    ]
    assert jobs[1]["static_configs"] == [
        {"targets": ["127.0.0.1:9000"], "labels": {"rollout": "churn"}}
    ]


@pytest.mark.slow
def test_new_targets_by_sighup_and_promql_answers(tmp_path: Path) -> None:
    with running_prometheus([], workdir=tmp_path) as process:
        api = PrometheusApi(process.base_url, tmp_path, process.pid)
        assert api.targets_up() == 0
        # Prometheus scrapes its own /metrics: a target that needs no other process.
        url = f"{process.base_url}/metrics"
        api.set_targets([ScrapeTarget.from_url(url, labels={"role": "kit"}, job="kit")])
        assert api.wait_for_targets(1, timeout=30) == 1
        result = api.vector('up{job="kit"}')
        assert [(s["metric"]["role"], s["value"][1]) for s in result] == [("kit", "1")]
        with pytest.raises(PrometheusError, match="refused"):
            api.vector("sum(")
    with pytest.raises(PrometheusError, match="query failed"):
        api.vector("up", timeout=1)
