"""A bounded traffic generator: churn records POSTed to the router at a steady rate.

Bounded three ways, so it can never outlive the demo: ``stop()``, ``max_seconds`` and
``max_requests``. A few worker threads share one schedule (request ``i`` is sent no
earlier than ``start + i / rate``), so a slow answer delays one worker, not the rate.
Failures are counted by kind, never raised: the rollout's checks judge them.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from canaria.demo.results import TrafficStats

VARIANT_HEADER = "x-canaria-variant"
JOIN_TIMEOUT = 15.0


def churn_records(
    *, n_rows: int, seed: int, scenario: str | None = None, strength: float = 0.0
) -> list[dict[str, Any]]:
    """Fresh customers from the generator, as the JSON records ``/predict`` takes;
    ``scenario`` (a ``training.drift_scenarios.DriftScenario`` value) at ``strength`` in
    [0, 1] shifts them (``covariate-shift``: another population).

    The label (``churned``) is dropped: callers do not know it. JSON round trip, so every
    value is a plain JSON type.
    """
    import json

    from training import churn_data

    generated = churn_data.generate(n_rows=n_rows, seed=seed, scenario=scenario, strength=strength)
    frame = generated.drop(columns=[churn_data.TARGET_COLUMN])
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    return records


class TrafficGenerator:
    def __init__(
        self,
        *,
        url: str,
        records: Sequence[Mapping[str, Any]],
        rate: float,
        workers: int,
        max_seconds: float,
        max_requests: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not records:
            raise ValueError("records: need at least one record to send")
        if rate <= 0:
            raise ValueError(f"rate: must be above 0, got {rate}")
        self.url = url
        self._records = list(records)
        self._rate = rate
        self._workers = max(1, workers)
        self._max_seconds = max_seconds
        self._max_requests = max_requests if max_requests is not None else int(rate * max_seconds)
        self._timeout = timeout
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._next = itertools.count()
        self._status: Counter[str] = Counter()
        self._variant: Counter[str] = Counter()
        self._threads: list[threading.Thread] = []
        self._started = 0.0
        self._stopped: float | None = None

    def start(self) -> TrafficGenerator:
        self._started = time.monotonic()
        for index in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"demo-traffic-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> TrafficStats:
        """Stop sending (waits for requests in flight, bounded) and return the counts."""
        self._stop.set()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if self._stopped is None:
            self._stopped = time.monotonic()
        return self.stats()

    def switch_records(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Send ``records`` from now on (the traffic drifts); the schedule goes on."""
        if not records:
            raise ValueError("records: need at least one record to send")
        with self._lock:
            self._records = list(records)

    def finished(self) -> bool:
        """Whether every worker has stopped (its budget spent, or ``stop()``)."""
        return all(not thread.is_alive() for thread in self._threads)

    def __enter__(self) -> TrafficGenerator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stats(self) -> TrafficStats:
        with self._lock:
            end = self._stopped if self._stopped is not None else time.monotonic()
            return TrafficStats(
                sent=sum(self._status.values()),
                by_status=dict(sorted(self._status.items())),
                by_variant=dict(sorted(self._variant.items())),
                seconds=end - self._started if self._started else 0.0,
            )

    def _claim(self) -> tuple[int, float] | None:
        """The next request's number and send time; ``None`` when the budget is spent."""
        index = next(self._next)
        offset = index / self._rate
        if index >= self._max_requests or offset > self._max_seconds:
            return None
        return index, self._started + offset

    def _work(self) -> None:
        with httpx.Client(timeout=self._timeout) as client:
            while not self._stop.is_set():
                claimed = self._claim()
                if claimed is None:
                    break
                index, due = claimed
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    break
                with self._lock:
                    record = self._records[index % len(self._records)]
                self._send(client, record)

    def _send(self, client: httpx.Client, record: Mapping[str, Any]) -> None:
        try:
            response = client.post(f"{self.url}/predict", json=dict(record))
            status, variant = str(response.status_code), response.headers.get(VARIANT_HEADER)
        except httpx.TimeoutException:
            status, variant = "timeout", None
        except httpx.HTTPError:
            status, variant = "error", None
        with self._lock:
            self._status[status] += 1
            if variant:
                self._variant[variant] += 1
