"""A small real process exporting canaria's metrics with known values, for provider tests.

``python -m tests.monitoring.providers.metrics.exporter --role router|stable|canary --port P``

Every scrape of ``/metrics`` first advances the counters and histograms by one fixed "tick"
(in a single-threaded server, so no scrape sees half a tick). Every share, mean and
quantile over any window is then exact whatever the scrape timing, and the expected values
below are what each built-in check must return:

* router: success rate stable 0.99 (97x 200, 2x 404, 1x 500 per tick), canary 0.8
  (8x 200, 1x 503, 1x error); latency p99 stable 0.2485 (0.2 s, bucket 0.1-0.25), canary
  0.9975 (0.8 s, bucket 0.75-1.0); shadow agreement 0.9 (9 agree, 1 disagree); and, as
  the drift monitor serves them (labelled model, variant and baseline by itself, no
  variant target label), drift share gauges stable 0.1 (against the reference), canary
  0.2 against the reference and 0.5 against the stable (the check takes the max: 0.5);
* model servers (variant given as a target label): TTFT p95 stable 0.04875 (0.04 s,
  bucket 0.025-0.05), canary 0.4875 (0.3 s, bucket 0.25-0.5); tokens/s mean stable 50
  (40, 60), canary 25 (20, 30).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from canaria.contracts import metrics as catalog

MODEL = "support-lm"
EXPECTED: dict[str, dict[str, float]] = {
    "requestSuccessRate": {"stable": 0.99, "canary": 0.8},
    "latencyP99": {"stable": 0.2485, "canary": 0.9975},
    "shadowAgreement": {"stable": 0.9, "canary": 0.9},
    "llmTtftP95": {"stable": 0.04875, "canary": 0.4875},
    "llmTokensPerSecond": {"stable": 50.0, "canary": 25.0},
    "driftShare": {"stable": 0.1, "canary": 0.5},
}
# (variant, baseline) -> share, as ``canaria drift monitor`` exports them.
DRIFT_SHARES = {
    ("stable", "reference"): 0.1,
    ("canary", "reference"): 0.2,
    ("canary", "stable"): 0.5,
}
LLM_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
TOKENS_BUCKETS = (5.0, 10.0, 25.0, 50.0, 100.0)


def router_tick(registry: CollectorRegistry) -> Callable[[], None]:
    requests = Counter(
        catalog.ROUTER_REQUESTS_TOTAL, "requests", ["variant", "status"], registry=registry
    )
    duration = Histogram(
        catalog.ROUTER_REQUEST_DURATION, "duration", ["variant"], registry=registry
    )
    comparisons = Counter(
        catalog.SHADOW_COMPARISONS_TOTAL, "shadow", ["comparator", "outcome"], registry=registry
    )
    drift = Gauge(catalog.DRIFT_SHARE, "drift", ["model", "variant", "baseline"], registry=registry)
    for (variant, baseline), share in DRIFT_SHARES.items():
        drift.labels(model=MODEL, variant=variant, baseline=baseline).set(share)
    counts = {("stable", "200"): 97, ("stable", "404"): 2, ("stable", "500"): 1}
    counts.update({("canary", "200"): 8, ("canary", "503"): 1, ("canary", "error"): 1})

    def tick() -> None:
        for (variant, status), count in counts.items():
            requests.labels(variant=variant, status=status).inc(count)
        for _ in range(10):
            duration.labels(variant="stable").observe(0.2)
            duration.labels(variant="canary").observe(0.8)
        comparisons.labels(comparator="classic", outcome="agree").inc(9)
        comparisons.labels(comparator="classic", outcome="disagree").inc(1)

    return tick


def model_tick(registry: CollectorRegistry, variant: str) -> Callable[[], None]:
    ttft = Histogram(
        catalog.LLM_TIME_TO_FIRST_TOKEN, "ttft", ["model"], buckets=LLM_BUCKETS, registry=registry
    )
    speed = Histogram(
        catalog.LLM_TOKENS_PER_SECOND, "tps", ["model"], buckets=TOKENS_BUCKETS, registry=registry
    )
    first_token, speeds = (0.04, (40.0, 60.0)) if variant == "stable" else (0.3, (20.0, 30.0))

    def tick() -> None:
        for _ in range(4):
            ttft.labels(model=MODEL).observe(first_token)
        for value in speeds:
            speed.labels(model=MODEL).observe(value)

    return tick


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["router", "stable", "canary"], required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    registry = CollectorRegistry()
    tick = router_tick(registry) if args.role == "router" else model_tick(registry, args.role)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                tick()
                body = generate_latest(registry)
            else:
                body = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *log_args: Any) -> None:
            """Quiet."""

    HTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
