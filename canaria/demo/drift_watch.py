"""Rollout 4's view of the drift monitor: its ``/metrics`` read every second, in a thread.

``canaria drift monitor`` re-evaluates the stable's sample-log window on its own schedule
and exports gauges (``canaria.contracts.metrics``: share, per-column score and verdict,
window rows, last run). ``DriftRecorder`` keeps one ``DriftPoint`` per evaluation (a new
``last run``) for the report's drift-over-time plots; the operator reads the same gauges
through its scrape provider, and Prometheus scrapes them too. A failed read is skipped
(the monitor may be busy); the next one catches up.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from canaria.contracts.metrics import (
    DRIFT_COLUMN_DRIFTED,
    DRIFT_COLUMN_SCORE,
    DRIFT_LAST_RUN,
    DRIFT_SHARE,
    DRIFT_WINDOW_ROWS,
)
from canaria.demo.results import ColumnDrift, DriftPoint

POLL_SECONDS = 1.0
REFERENCE = "reference"


def drift_point(
    text: str, *, seconds: float, variant: str = "stable"
) -> tuple[float, DriftPoint] | None:
    """(last run, point) for ``variant`` against its reference from a ``/metrics`` page
    (pure); ``None`` before the monitor's first evaluation."""
    values: dict[str, float] = {}
    scores: dict[str, tuple[float, str]] = {}
    drifted: dict[str, bool] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if labels.get("variant") != variant or labels.get("baseline") != REFERENCE:
                continue
            if sample.name == DRIFT_COLUMN_SCORE:
                scores[labels["column"]] = (sample.value, labels.get("method", ""))
            elif sample.name == DRIFT_COLUMN_DRIFTED:
                drifted[labels["column"]] = sample.value >= 0.5
            else:
                values[sample.name] = sample.value
    if DRIFT_LAST_RUN not in values:
        return None
    columns = tuple(
        ColumnDrift(
            column=name,
            score=scores[name][0] if name in scores else None,
            method=scores[name][1] if name in scores else "",
            drifted=flag,
        )
        for name, flag in sorted(drifted.items())
    )
    point = DriftPoint(
        seconds=round(seconds, 2),
        share=values.get(DRIFT_SHARE),
        rows=int(values.get(DRIFT_WINDOW_ROWS, 0)),
        columns=columns,
    )
    return values[DRIFT_LAST_RUN], point


def describe(point: DriftPoint) -> str:
    """``share 0.45 over 180 rows; drifted: contract_type, age`` (pure)."""
    if point.share is None:
        return f"no data yet ({point.rows} rows in the window)"
    names = [column.column for column in point.columns if column.drifted]
    drifted = f"; drifted: {', '.join(names)}" if names else "; no column drifted"
    return f"share {point.share:.2f} over {point.rows} rows{drifted}"


class DriftRecorder:
    """Reads ``url`` (the monitor's ``/metrics``) every second until ``stop``."""

    def __init__(self, url: str, *, started: float) -> None:
        self.url = url
        self.started = started
        self._points: list[DriftPoint] = []
        self._last_run: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-drift", daemon=True)

    def start(self) -> DriftRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def points(self) -> list[DriftPoint]:
        with self._lock:
            return list(self._points)

    def latest(self) -> DriftPoint | None:
        with self._lock:
            return self._points[-1] if self._points else None

    def read_once(self, client: httpx.Client) -> None:
        try:
            text = client.get(self.url).text
        except httpx.HTTPError:
            return
        found = drift_point(text, seconds=time.monotonic() - self.started)
        if found is None:
            return
        last_run, point = found
        with self._lock:
            if last_run != self._last_run:
                self._last_run = last_run
                self._points.append(point)

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while not self._stop.is_set():
                self.read_once(client)
                self._stop.wait(POLL_SECONDS)


def changed(previous: DriftPoint | None, point: DriftPoint) -> bool:
    """Whether ``point`` is news worth a line: data appeared, the share moved by 0.05 or
    more, or another set of columns drifted (pure)."""
    if previous is None or (previous.share is None) != (point.share is None):
        return True
    if point.share is None or previous.share is None:
        return False
    return abs(point.share - previous.share) >= 0.05 or _drifted(previous) != _drifted(point)


def _drifted(point: DriftPoint) -> set[str]:
    return {column.column for column in point.columns if column.drifted}


def column_names(points: Iterable[DriftPoint]) -> list[str]:
    """Every column seen, in first-seen order (pure)."""
    names: list[str] = []
    for point in points:
        names.extend(column.column for column in point.columns if column.column not in names)
    return names


def window_since(log: Path, since: float, out: Path) -> Path:
    """The records of sample log ``log`` stamped at or after ``since`` (Unix seconds),
    written to ``out`` as JSONL for ``canaria drift --current``; returns ``out``."""
    from monitoring.drift.window import parse_ts

    kept = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        ts = parse_ts(record.get("ts")) if isinstance(record, dict) else None
        if ts is not None and ts >= since:
            kept.append(line)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    return out
