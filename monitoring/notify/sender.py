"""Send notifications from a background worker: the caller never waits on a receiver.

``Notifier.notify`` renders one request per subscribed endpoint and queues it; it returns
at once (a full queue drops the message and counts it). A worker thread posts each request
with a bounded timeout and retries failures (connection errors, timeouts, 429 and 5xx)
with exponential backoff; other 4xx are not retried. Every outcome is counted in
``canaria_notifications_total{provider, result}`` (result: sent, failed, dropped).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx
from prometheus_client import CollectorRegistry, Counter

from canaria.contracts.logs import get_logger
from canaria.contracts.metrics import NOTIFICATIONS_TOTAL
from monitoring.notify.endpoints import Endpoint
from monitoring.notify.messages import Notification, Request, render

_log = get_logger("notify.sender")


@dataclass(frozen=True)
class SendPolicy:
    """``timeout_s``: per attempt (connect + answer); ``attempts``: tries per message;
    ``backoff_s``: wait before the second try, doubled for each next one; ``queue_size``:
    messages waiting at most (more are dropped)."""

    timeout_s: float = 5.0
    attempts: int = 3
    backoff_s: float = 1.0
    queue_size: int = 100


@dataclass(frozen=True)
class _Job:
    provider: str
    request: Request


class Notifier:
    """Queue notifications and post them from one daemon thread; ``close`` stops it."""

    def __init__(
        self,
        *,
        policy: SendPolicy | None = None,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy or SendPolicy()
        self.registry = registry or CollectorRegistry()
        self.outcomes = Counter(
            NOTIFICATIONS_TOTAL,
            "Rollout notifications by provider and result (sent, failed, dropped).",
            ["provider", "result"],
            registry=self.registry,
        )
        self._clock = clock
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=self.policy.queue_size)
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=self.policy.timeout_s, follow_redirects=False)
        self._worker = threading.Thread(target=self._run, name="canaria-notify", daemon=True)
        self._worker.start()

    def notify(self, endpoints: Iterable[Endpoint], notification: Notification) -> int:
        """Queue ``notification`` for every endpoint subscribed to its event; returns how
        many were queued. Never blocks and never raises for a receiver's sake."""
        queued = 0
        now = int(self._clock())
        for endpoint in endpoints:
            if notification.event not in endpoint.events:
                continue
            job = _Job(endpoint.provider, render(endpoint, notification, now=now))
            try:
                self._queue.put_nowait(job)
                queued += 1
            except queue.Full:
                self.outcomes.labels(provider=endpoint.provider, result="dropped").inc()
                _log.warning("notification dropped: queue full", extra={"provider": job.provider})
        return queued

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker: messages still queued after ``timeout`` seconds are dropped."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)  # wake the worker
        self._worker.join(max(0.0, deadline - time.monotonic()) + self.policy.timeout_s)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            job = self._queue.get()
            try:
                if job is not None:
                    result = "sent" if self._deliver(job) else "failed"
                    self.outcomes.labels(provider=job.provider, result=result).inc()
            finally:
                self._queue.task_done()

    def _deliver(self, job: _Job) -> bool:
        delay = self.policy.backoff_s
        for attempt in range(1, self.policy.attempts + 1):
            retry, reason = self._attempt(job.request)
            if reason is None:
                return True
            last = attempt == self.policy.attempts
            # The URL is a credential (Slack/Teams put the token in it): log the provider only.
            _log.warning(
                f"notification attempt {attempt} failed: {reason}",
                extra={"provider": job.provider, "will_retry": retry and not last},
            )
            if not retry or last or self._stop.wait(delay):
                return False
            delay *= 2
        return False

    def _attempt(self, request: Request) -> tuple[bool, str | None]:
        """Post once: ``(retry?, None on success or the reason)``."""
        try:
            response = self._client.post(
                request.url, content=request.body, headers=dict(request.headers)
            )
        except httpx.TimeoutException:
            return True, f"no answer within {self.policy.timeout_s:g}s"
        except httpx.HTTPError as error:
            return True, type(error).__name__
        if response.is_success:
            return False, None
        retry = response.status_code == 429 or response.status_code >= 500
        return retry, f"HTTP {response.status_code}"
