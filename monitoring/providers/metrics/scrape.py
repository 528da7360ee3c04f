"""Metrics without Prometheus: scrape ``/metrics`` endpoints directly and keep the history.

For local mode and ``make demo``. Each ``measure`` scrapes the targets (at most once per
``min_scrape_interval``, so the checks of one analysis share a scrape), keeps the scrapes of
the last ``history_seconds`` per target, and evaluates the built-in check's definition from
``canaria.contracts.metrics`` on the increase between the scrape that starts the window and
the latest one. Scrapes come only when someone measures, so they are sparse: the window
starts at the newest scrape at or before its start, provided it is at most
``start_tolerance`` older than that (as Prometheus takes the sample current at a time
within its lookback), else at the oldest scrape inside the window. A window never reaches
further back: a scrape from before a long gap (a pause, an earlier canary) is no start,
and a target with no scrape to start from has no rate (counter checks answer ``None``;
gauges still answer their latest value), never counts since the exporter started.

``targets`` is a list of URLs, or a mapping from a group name to a URL or a list of them
(``{"router": url, "stable": [url], "canary": [url]}``). A group named after a variant
gives its series that ``variant`` label, as a Prometheus target label would; other groups
(the router) label their series themselves. Every series gets its target's URL as
``instance``.

Errors: a custom PromQL check raises ``MetricsQueryError`` (there is no PromQL engine
here). A target that cannot be scraped is left out, as Prometheus lets its series go
stale; when the check then has no data and such a target could have held it (an unlabelled
target, or one of the queried variant), ``measure`` raises ``MetricsUnavailableError``
instead of answering ``None``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

from canaria.contracts.checks import (
    BUILTIN_CHECKS,
    CUSTOM_CHECK,
    Aggregation,
    BuiltinCheck,
    LabelMatch,
    MatchOp,
)
from canaria.contracts.metrics import Variant
from monitoring.providers.interfaces import MetricQuery, MetricsQueryError, MetricsUnavailableError
from monitoring.providers.metrics.evaluate import Sample, evaluate
from monitoring.providers.registry import metrics_providers

Fetch = Callable[[str], str]

DEFAULT_START_TOLERANCE = 0.25
"""Without a ``start_tolerance``, a window may start at a scrape this fraction of the
window older than its start. The operator passes its analysis interval instead: it
scrapes once per analysis, so the scrape current at a window's start is at most that old."""


def parse_exposition(
    text: str, *, target_labels: Mapping[str, str] | None = None
) -> tuple[Sample, ...]:
    """Samples from Prometheus text exposition (pure). ``target_labels`` are added to every
    sample and win over the sample's own, as Prometheus target labels do."""
    samples = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = {**sample.labels, **(target_labels or {})}
            samples.append(Sample(sample.name, labels, float(sample.value)))
    return tuple(samples)


@dataclass
class _Target:
    url: str
    variant: str | None
    scrapes: deque[tuple[float, tuple[Sample, ...]]] = field(default_factory=deque)
    error: str | None = None

    @property
    def labels(self) -> dict[str, str]:
        """Target labels: ``instance`` keeps two replicas' identical series apart."""
        labels = {"instance": self.url}
        if self.variant is not None:
            labels["variant"] = self.variant
        return labels

    def window(
        self, seconds: float, *, tolerance: float
    ) -> tuple[tuple[Sample, ...], tuple[Sample, ...] | None]:
        """(latest, start) samples of a window ending at the latest scrape; start is
        ``None`` when no earlier scrape lies within ``seconds + tolerance`` of it."""
        if not self.scrapes:
            return (), None
        latest_time, latest = self.scrapes[-1]
        return latest, window_start(
            list(self.scrapes)[:-1], start_at=latest_time - seconds, tolerance=tolerance
        )


def window_start(
    earlier: Sequence[tuple[float, tuple[Sample, ...]]], *, start_at: float, tolerance: float
) -> tuple[Sample, ...] | None:
    """The scrape a window starting at ``start_at`` starts from (pure): the newest one at
    or before ``start_at`` if at most ``tolerance`` older, else the oldest one after it;
    ``None`` when there is neither. ``earlier`` is oldest first."""
    start = None
    for scrape_time, samples in reversed(earlier):
        if scrape_time < start_at - tolerance:
            break
        start = samples
        if scrape_time <= start_at:
            break
    return start


@metrics_providers.register("scrape")
class ScrapeProvider:
    """Measures built-in checks from the targets' ``/metrics`` text, no Prometheus needed.

    ``start_tolerance``: seconds a window's starting scrape may be older than the window's
    start (default: ``DEFAULT_START_TOLERANCE`` of the window).
    """

    def __init__(
        self,
        *,
        targets: Sequence[str] | Mapping[str, str | Sequence[str]],
        timeout: float = 2.0,
        min_scrape_interval: float = 1.0,
        start_tolerance: float | None = None,
        history_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        fetch: Fetch | None = None,
    ) -> None:
        groups = targets if isinstance(targets, Mapping) else {"": targets}
        variants = {variant.value for variant in Variant}
        self._targets = [
            _Target(url, group if group in variants else None)
            for group, urls in groups.items()
            for url in ([urls] if isinstance(urls, str) else urls)
        ]
        if not self._targets:
            raise ValueError("scrape provider needs at least one target")
        self._min_scrape_interval = min_scrape_interval
        self._start_tolerance = start_tolerance
        self._history_seconds = history_seconds
        self._clock = clock
        self._client = httpx.Client(timeout=timeout)
        self._fetch = fetch or self._http_get
        self._last_scrape = -float("inf")
        self._lock = threading.Lock()

    def measure(self, query: MetricQuery) -> float | None:
        if query.check == CUSTOM_CHECK:
            raise MetricsQueryError(
                "the scrape provider cannot run custom PromQL; use the prometheus provider"
            )
        try:
            definition = BUILTIN_CHECKS[BuiltinCheck(query.check)].query
        except ValueError:
            raise MetricsQueryError(f"unknown check {query.check!r}") from None
        with self._lock:
            self._refresh()
            needed = [
                target
                for target in self._targets
                if not (definition.per_variant and target.variant not in (None, query.variant))
            ]
            failed = [f"{target.url} ({target.error})" for target in needed if target.error]
            tolerance = self._tolerance(query.window_seconds)
            windows = [
                target.window(query.window_seconds, tolerance=tolerance)
                for target in needed
                if not target.error
            ]
        now, start = _merge(windows, gauge=definition.aggregation is Aggregation.GAUGE_MAX)
        matchers = [
            LabelMatch(name, MatchOp.EQUAL, value) for name, value in query.selector.items()
        ]
        if definition.per_variant:
            matchers.append(LabelMatch("variant", MatchOp.EQUAL, query.variant.value))
        value = evaluate(definition, now, start, matchers)
        if value is None and failed:
            # The missing series may well live on the target that did not answer.
            raise MetricsUnavailableError(f"no data, and cannot scrape {', '.join(failed)}")
        return value

    def scrape(self) -> None:
        """Scrape every target now (tests and warm-up; ``measure`` does it when due)."""
        with self._lock:
            self._scrape_all()

    def _tolerance(self, window_seconds: float) -> float:
        if self._start_tolerance is not None:
            return self._start_tolerance
        return window_seconds * DEFAULT_START_TOLERANCE

    def _refresh(self) -> None:
        if self._clock() - self._last_scrape >= self._min_scrape_interval:
            self._scrape_all()

    def _scrape_all(self) -> None:
        now = self._clock()
        self._last_scrape = now
        for target in self._targets:
            try:
                samples = parse_exposition(self._fetch(target.url), target_labels=target.labels)
            except (httpx.HTTPError, ValueError) as error:
                target.error = repr(error)
                continue
            target.error = None
            target.scrapes.append((now, samples))
            while target.scrapes and target.scrapes[0][0] < now - self._history_seconds:
                target.scrapes.popleft()

    def _http_get(self, url: str) -> str:
        response = self._client.get(url)
        response.raise_for_status()
        return response.text

    def close(self) -> None:
        self._client.close()


def _merge(
    windows: Iterable[tuple[tuple[Sample, ...], tuple[Sample, ...] | None]], *, gauge: bool
) -> tuple[list[Sample], list[Sample]]:
    """All targets' (latest, start) samples. A target without a start has no increases, so
    only a gauge reads its latest samples (an increase from nothing would count since the
    exporter started)."""
    now: list[Sample] = []
    start: list[Sample] = []
    for target_now, target_start in windows:
        if target_start is None and not gauge:
            continue
        now.extend(target_now)
        start.extend(target_start or ())
    return now, start
