"""A ModelRollout in the Kubernetes stub, or in a local file, with a real reconciler
ticking in a thread on a fake clock: the operator the plugin's commands talk to."""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from canaria.testing.kube_stub import KubeStub, StubResponse
from monitoring.operator.events import RolloutRef
from monitoring.operator.local import FileEventRecorder, FileRolloutStore
from monitoring.operator.measure import ProviderCache
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.reconcile import Reconciler
from monitoring.providers.metrics.static import StaticProvider
from tests.monitoring.operator.conftest import (
    HEALTHY,
    ROLLOUT_PATH,
    Cluster,
    FakeClock,
    make_reconciler,
    rollout_object,
)

LIST_PATH = "/apis/canaria.dev/v1alpha1/namespaces/ml/modelrollouts"
ALL_PATH = "/apis/canaria.dev/v1alpha1/modelrollouts"
REF = RolloutRef(namespace="ml", name="churn", uid="uid-1")
LOCAL_REF = RolloutRef(namespace="default", name="churn-local")


@dataclass
class Operator:
    """Reconciles ``ref`` every ``period`` seconds, the fake clock moving ``step`` seconds
    each time (0: time stands still, only actions and new specs move the rollout)."""

    reconciler: Reconciler
    clock: FakeClock
    ref: RolloutRef
    step: float = 0.0
    period: float = 0.02

    @contextlib.contextmanager
    def running(self) -> Iterator[Operator]:
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                self.reconciler.reconcile(self.ref)
                self.clock.advance(self.step)
                stop.wait(self.period)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=5)


def noop_rollout(**analysis: Any) -> dict[str, Any]:
    """The stub's churn rollout (ml, steps 10/50, 30 s) through the noop traffic provider,
    so that a promotion completes by itself."""
    obj = rollout_object(**analysis)
    obj["spec"]["trafficProvider"] = {"name": "noop"}
    return obj


@contextlib.contextmanager
def stub_cluster(
    tmp_path: Path, *, values: dict[str, float] | None = None, **analysis: Any
) -> Iterator[tuple[Cluster, str]]:
    """The stub serving one rollout (GET, PATCH, list) and a kubeconfig for it whose
    context namespace is ``default`` (so ``-n ml`` is needed)."""
    with KubeStub() as kube:
        clock = FakeClock()
        provider = StaticProvider(values=values or HEALTHY)
        cluster = Cluster(
            kube=kube, clock=clock, metrics_values=provider,
            reconciler=make_reconciler(kube, clock, provider),
            rollout=noop_rollout(**analysis),
        )  # fmt: skip
        cluster.serve()
        listing = lambda request: StubResponse(body={"items": [copy.deepcopy(cluster.rollout)]})  # noqa: E731
        kube.on("GET", LIST_PATH, listing)
        kube.on("GET", ALL_PATH, listing)
        config = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace="default")
        yield cluster, str(config)


def cluster_operator(cluster: Cluster, *, step: float = 0.0, period: float = 0.02) -> Operator:
    return Operator(cluster.reconciler, cluster.clock, REF, step=step, period=period)


def write_local_rollout(path: Path, **analysis: Any) -> Path:
    """A local-mode rollout (noop traffic, steps 20/40/60, 1 s) in ``path``."""
    doc = {
        "apiVersion": "canaria.dev/v1alpha1",
        "kind": "ModelRollout",
        "metadata": {"name": "churn-local"},
        "spec": {
            "target": {
                "stable": {"bentoTag": "churn-classifier:v1"},
                "canary": {"bentoTag": "churn-classifier:v2"},
            },
            "trafficProvider": {"name": "noop"},
            "metricsProvider": {
                "name": "scrape",
                "targets": {"router": ["http://127.0.0.1:9/metrics"]},
            },
            "analysis": {
                "interval": "1s",
                "stepWeights": [20, 40, 60],
                "failureLimit": 1,
                "checks": [{"name": "success-rate", "builtin": "requestSuccessRate", "min": 0.99}],
                **analysis,
            },
        },
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def local_operator(
    path: Path, *, values: dict[str, float] | None = None, step: float = 0.0
) -> Operator:
    """A reconciler on the local file (state in ``$CANARIA_STATE_DIR``)."""
    clock = FakeClock()
    provider = StaticProvider(values=values or HEALTHY)
    store = FileRolloutStore([path])
    reconciler = Reconciler(
        store=store,
        events=FileEventRecorder(store),
        providers=ProviderCache(metrics_factory=lambda name, settings: provider),
        metrics=OperatorMetrics(),
        clock=clock,
    )
    return Operator(reconciler, clock, LOCAL_REF, step=step)


@contextlib.contextmanager
def serving_metrics() -> Iterator[str]:
    """A loopback ``/metrics`` whose canary served ten more healthy requests at each
    scrape; yields its URL."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from canaria.contracts.metrics import ROUTER_REQUESTS_TOTAL

    scrapes = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            scrapes[0] += 1
            body = (
                f"# TYPE {ROUTER_REQUESTS_TOTAL} counter\n"
                f'{ROUTER_REQUESTS_TOTAL}{{variant="canary",status="200"}} {10 * scrapes[0]}\n'
            ).encode()
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


__all__ = ["ROLLOUT_PATH"]
