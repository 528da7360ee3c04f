"""A rolling time window over a growing JSONL sample log, read incrementally.

Each ``poll`` reads only the complete lines appended since the last one (a partial last
line waits for its newline), keeps the records whose ``ts`` lies within ``window_seconds``
of ``now``, and forgets older ones. A file that shrank (rotated or truncated) is read again
from its start; a missing file is an empty window. Lines that are not JSON objects with a
parseable ``ts`` are skipped and counted in ``skipped``.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any


def parse_ts(value: Any) -> float | None:
    """Seconds since the epoch from an ISO-8601 ``ts`` such as ``2025-01-01T12:00:00.123Z``."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class LogWindow:
    """The records of one sample log from the last ``window_seconds`` (by their ``ts``)."""

    def __init__(self, path: Path, *, window_seconds: float) -> None:
        if window_seconds <= 0:
            raise ValueError(f"window_seconds must be positive, got {window_seconds}")
        self.path = path
        self.window_seconds = window_seconds
        self.skipped = 0
        self._offset = 0
        self._records: deque[tuple[float, Mapping[str, Any]]] = deque()

    def poll(self, now: float) -> list[Mapping[str, Any]]:
        """Read what was appended, drop what fell out of the window; the records, oldest first."""
        self._read_new()
        start = now - self.window_seconds
        while self._records and self._records[0][0] < start:
            self._records.popleft()
        return [record for ts, record in self._records if ts <= now]

    def _read_new(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size < self._offset:  # rotated or truncated: start again
            self._offset = 0
            self._records.clear()
        if size == self._offset:
            return
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read(size - self._offset)
        complete = data.rfind(b"\n") + 1
        self._offset += complete
        for line in data[:complete].splitlines():
            self._add(line)

    def _add(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            record = json.loads(line)
        except ValueError:
            self.skipped += 1
            return
        ts = parse_ts(record.get("ts")) if isinstance(record, dict) else None
        if ts is None:
            self.skipped += 1
            return
        if self._records and ts < self._records[-1][0]:
            # Workers append concurrently: keep the deque ordered by ts.
            items = sorted([*self._records, (ts, record)], key=lambda item: item[0])
            self._records = deque(items)
        else:
            self._records.append((ts, record))
