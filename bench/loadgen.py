"""Load generation with ``wrk`` (Debian's package): one tool for every server we compare.

``wrk`` is C and uses little CPU, which matters on a 2-core machine where the load
generator shares the cores with the server under test. A Lua script rotates over a list
of POST bodies and counts the answers by status code. Latency percentiles are wrk's (not
corrected for coordinated omission).

The rule for every benchmark (issue 8 §8): only 2xx answers count as throughput
(``LoadResult.ok_per_s``), and a point with any other answer or a socket error fails its
goal (``goal_met``) and records which status codes came back (``LoadResult.statuses``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_STATUS = re.compile(r"^canaria-status (\d{3}) (\d+)$", re.MULTILINE)
# Appended to every wrk script: each thread counts statuses, done() prints the totals.
_STATUS_LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  for status, count in pairs(totals) do
    io.write(string.format("canaria-status %d %d\\n", status, count))
  end
end
"""


@dataclass(frozen=True)
class LoadResult:
    """One load point: throughput, latency percentiles and failures."""

    concurrency: int
    duration_s: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    # Answers by status code ("200": n, "503": m); the socket errors are not answers.
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        """2xx answers."""
        return sum(count for status, count in self.statuses.items() if status.startswith("2"))

    @property
    def errors(self) -> int:
        """Requests that did not get a 2xx answer: other statuses and socket errors."""
        return sum(self.statuses.values()) - self.ok + self.socket_errors

    @property
    def ok_per_s(self) -> float:
        """Throughput: 2xx answers per second (``requests_per_s`` counts every answer)."""
        answered = sum(self.statuses.values())
        return self.requests_per_s * self.ok / answered if answered else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "errors": self.errors, "ok_per_s": self.ok_per_s}


def goal_met(met: bool, *points: LoadResult) -> bool:
    """A goal is met only if its numbers meet it and none of its points had an error."""
    return met and all(point.errors == 0 for point in points)


def error_statuses(*points: LoadResult) -> dict[str, int]:
    """The non-2xx status codes (and socket errors) of ``points``, summed (pure)."""
    found: dict[str, int] = {}
    for point in points:
        for status, count in point.statuses.items():
            if not status.startswith("2"):
                found[status] = found.get(status, 0) + count
        if point.socket_errors:
            found["socket_error"] = found.get("socket_error", 0) + point.socket_errors
    return dict(sorted(found.items()))


def churn_bodies(n: int, *, seed: int = 123) -> list[str]:
    """``n`` JSON bodies for ``POST /predict`` of the classic service: synthetic churn
    records with their customer id, the same for every benchmark that loads it."""
    from training import churn_data

    frame = churn_data.generate(n_rows=n, seed=seed)
    columns = [churn_data.ID_COLUMN, *churn_data.FEATURE_NAMES]
    return [json.dumps(record) for record in frame[columns].to_dict("records")]


def lua_script(*, bodies: Sequence[str], path: str, headers: dict[str, str]) -> str:
    """A wrk script that POSTs ``bodies`` to ``path`` in turn (pure)."""
    lines = [
        'wrk.method = "POST"',
        *(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()),
        "local bodies = {",
        # A Lua long bracket takes the JSON verbatim (no escaping), unless it holds "]==]".
        *(f"  [==[{body}]==]," for body in bodies),
        "}",
        "local i = 0",
        "request = function()",
        "  i = i % #bodies + 1",
        f"  return wrk.format(nil, {json.dumps(path)}, nil, bodies[i])",
        "end",
    ]
    if any("]==]" in body for body in bodies):
        raise ValueError("a body contains ']==]', which the Lua script cannot quote")
    return "\n".join(lines) + "\n" + _STATUS_LUA


def parse_wrk_output(text: str, *, concurrency: int, duration_s: float) -> LoadResult:
    """The numbers of one ``wrk --latency`` run (pure)."""
    percentiles = {
        float(match.group(1)): float(match.group(2)) * _UNITS_MS[match.group(3)]
        for match in _PERCENTILE.finditer(text)
    }
    rate = _RATE.search(text)
    total = _TOTAL.search(text)
    if rate is None or total is None or 50.0 not in percentiles:
        raise ValueError(f"unexpected wrk output:\n{text}")
    non_2xx = _NON_2XX.search(text)
    socket_errors = _SOCKET_ERRORS.search(text)
    statuses = {match.group(1): int(match.group(2)) for match in _STATUS.finditer(text)}
    return LoadResult(
        concurrency=concurrency,
        duration_s=duration_s,
        requests=int(total.group(1)),
        requests_per_s=float(rate.group(1)),
        p50_ms=percentiles[50.0],
        p90_ms=percentiles.get(90.0, float("nan")),
        p99_ms=percentiles.get(99.0, float("nan")),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
        statuses=dict(sorted(statuses.items())),
    )


def run_wrk(
    url: str,
    *,
    path: str,
    bodies: Sequence[str],
    concurrency: int,
    duration_s: float,
    headers: dict[str, str] | None = None,
    threads: int | None = None,
    timeout_s: float = 10.0,
    delay_ms: int = 0,
) -> LoadResult:
    """POST ``bodies`` to ``url + path`` with ``concurrency`` connections for ``duration_s``;
    with ``delay_ms`` each connection pauses after every answer (a paced load)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: run 'make system-deps'")
    script = lua_script(
        bodies=bodies, path=path, headers={"Content-Type": "application/json", **(headers or {})}
    )
    if delay_ms:
        script += f"delay = function() return {delay_ms} end\n"
    with tempfile.TemporaryDirectory(prefix="canaria-wrk-") as tmp:
        script_path = Path(tmp) / "post.lua"
        script_path.write_text(script)
        args = [
            wrk,
            f"-t{threads or min(concurrency, 2)}",
            f"-c{concurrency}",
            f"-d{duration_s:g}s",
            f"--timeout={timeout_s:g}s",
            "--latency",
            "-s",
            str(script_path),
            url,
        ]
        completed = subprocess.run(
            args, capture_output=True, text=True, timeout=duration_s + 60, check=False
        )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    return parse_wrk_output(completed.stdout, concurrency=concurrency, duration_s=duration_s)
