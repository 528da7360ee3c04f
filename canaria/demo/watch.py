"""Watching a local-mode rollout: poll its state file, print a live line per change, keep
the timeline for the report.

The state file is what ``canaria operator --local`` writes and ``canaria rollout status
--local`` reads; reading it never blocks the operator (it takes the same short lock).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from canaria.demo.console import say
from canaria.demo.results import CheckSample, DecisionRecord, TimelinePoint
from canaria.demo.stack import ComponentError, Process
from monitoring.api.status import Verdict

POLL_SECONDS = 0.3
VERDICT_MARK: dict[str, str] = {
    Verdict.PASS: "ok",
    Verdict.FAIL: "FAIL",
    Verdict.INCONCLUSIVE: "no data",
}
UNITS = {"latency-p99": " s"}

Status = Mapping[str, Any]


def check_samples(status: Status) -> tuple[CheckSample, ...]:
    """The last analysis's checks as ``CheckSample``s (pure)."""
    checks = (status.get("lastAnalysis") or {}).get("checks") or []
    return tuple(
        CheckSample(
            name=str(check.get("name", "?")),
            value=float(check["value"]) if check.get("value") is not None else None,
            verdict=str(check.get("verdict", "?")),
            message=str(check.get("message", "")),
        )
        for check in checks
    )


def decisions(status: Status) -> tuple[DecisionRecord, ...]:
    """The status history as ``DecisionRecord``s, oldest first (pure)."""
    return tuple(
        DecisionRecord(
            time=str(entry.get("time", "")),
            decision=str(entry.get("decision", "")),
            phase=str(entry.get("phase", "")),
            weight=int(entry.get("canaryWeight", 0)),
            message=str(entry.get("message", "")),
        )
        for entry in status.get("history") or []
    )


def format_check(sample: CheckSample) -> str:
    """``shadow-agreement 0.962 ok`` (pure)."""
    value = "-" if sample.value is None else f"{sample.value:.3f}{UNITS.get(sample.name, '')}"
    return f"{sample.name} {value} {VERDICT_MARK.get(sample.verdict, sample.verdict)}"


def format_live_line(*, seconds: float, status: Status, new_analysis: bool) -> str:
    """One line per change: time, phase, weight, each check when a new analysis came,
    and the latest decision (pure)."""
    phase = str(status.get("phase", "-"))
    weight = int(status.get("canaryWeight", 0))
    parts = [f"+{seconds:5.1f}s  {phase:<11} canary {weight:>3}%"]
    if new_analysis:
        parts.append(" | ".join(format_check(sample) for sample in check_samples(status)))
    history = status.get("history") or []
    if history:
        parts.append(f"-> {history[-1].get('decision', '?')}")
    return "  ".join(parts)


class RolloutWatcher:
    """Follows one rollout's state file; ``wait_until`` returns the status it waited for."""

    def __init__(self, *, rollout_path: Path, operator: Process) -> None:
        self.rollout_path = rollout_path
        self.operator = operator
        self.started = time.monotonic()
        self.timeline: list[TimelinePoint] = []
        self.status: dict[str, Any] = {}
        self._seen: tuple[Any, ...] = ()
        self._analysis_time: str | None = None

    def read_status(self) -> dict[str, Any]:
        from monitoring.operator.local import read_local
        from monitoring.operator.state import RolloutFileError

        try:
            status: dict[str, Any] = (
                read_local(self.rollout_path, self.rollout_path.parent).get("status") or {}
            )
        except (RolloutFileError, ValueError) as error:
            raise ComponentError(self.operator.name, f"unreadable rollout state: {error}") from None
        return status

    def poll(self) -> dict[str, Any]:
        """Read the status once; print and record a line if anything changed."""
        status = self.read_status()
        self.status = status
        analysis_time = (status.get("lastAnalysis") or {}).get("time")
        key = (
            status.get("phase"),
            status.get("canaryWeight"),
            analysis_time,
            len(status.get("history") or []),
        )
        if status and key != self._seen:
            self._seen = key
            new_analysis = analysis_time is not None and analysis_time != self._analysis_time
            self._analysis_time = analysis_time
            seconds = time.monotonic() - self.started
            say(format_live_line(seconds=seconds, status=status, new_analysis=new_analysis))
            self.timeline.append(
                TimelinePoint(
                    seconds=round(seconds, 2),
                    phase=str(status.get("phase", "")),
                    weight=int(status.get("canaryWeight", 0)),
                    checks=check_samples(status) if new_analysis else (),
                )
            )
        return status

    def wait_until(
        self, done: Callable[[Status], bool], *, timeout: float, waiting_for: str
    ) -> dict[str, Any]:
        """Poll until ``done(status)``; ``ComponentError`` if the operator exits or the
        time runs out (with the last status message and the operator's log)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.poll()
            if done(status):
                return status
            if not self.operator.running():
                raise ComponentError(
                    self.operator.name,
                    f"exited with code {self.operator.popen.returncode} while the demo "
                    f"waited for {waiting_for}",
                    self.operator.log_tail(),
                )
            if time.monotonic() >= deadline:
                last = status.get("message") or "no status written yet"
                raise ComponentError(
                    self.operator.name,
                    f"waited {timeout:.0f}s for {waiting_for} (last status: {last})",
                    self.operator.log_tail(),
                )
            time.sleep(POLL_SECONDS)
