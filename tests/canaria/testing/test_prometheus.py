"""The kit's Prometheus (canaria/testing/prometheus.py), as the tests and the demo use it:
targets from URLs, job names, a config reload by SIGHUP, PromQL answers and refusals."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


@pytest.fixture
def exporter() -> Iterator[str]:
    """A loopback ``/metrics`` with one gauge; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"# TYPE kit_gauge gauge\nkit_gauge 7\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.slow
def test_new_targets_by_sighup_and_promql_answers(exporter: str, tmp_path: Path) -> None:
    with running_prometheus([], workdir=tmp_path) as process:
        api = PrometheusApi(process.base_url, tmp_path, process.pid)
        assert api.targets_up() == 0
        api.set_targets([ScrapeTarget.from_url(exporter, labels={"role": "kit"}, job="kit")])
        assert api.wait_for_targets(1, timeout=30) == 1
        result = api.vector('kit_gauge{job="kit"}')
        assert [(s["metric"]["role"], s["value"][1]) for s in result] == [("kit", "7")]
        with pytest.raises(PrometheusError, match="refused"):
            api.vector("sum(")
    with pytest.raises(PrometheusError, match="query failed"):
        api.vector("up", timeout=1)
