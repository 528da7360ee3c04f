"""Watching a local-mode rollout: poll its state file, print a live line per change, keep
the timeline for the report.

The state file is what ``canaria operator --local`` writes and ``canaria rollout status
--local`` reads; reading it never blocks the operator (it takes the same short lock).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from canaria.demo.console import say
from canaria.demo.results import CheckSample, DecisionRecord, TimelinePoint
from canaria.demo.stack import ComponentError, Process
from monitoring.api.observe import read_status
from monitoring.api.status import RolloutStatus, Verdict, format_time

POLL_SECONDS = 0.3
VERDICT_MARK: dict[str, str] = {
    Verdict.PASS: "ok",
    Verdict.FAIL: "FAIL",
    Verdict.INCONCLUSIVE: "no data",
}
UNITS = {"latency-p99": " s"}


def check_samples(status: RolloutStatus) -> tuple[CheckSample, ...]:
    """The last analysis's checks as ``CheckSample``s (pure)."""
    checks = status.last_analysis.checks if status.last_analysis else ()
    return tuple(
        CheckSample(
            name=check.name, value=check.value, verdict=check.verdict.value, message=check.message
        )
        for check in checks
    )


def decisions(status: RolloutStatus) -> tuple[DecisionRecord, ...]:
    """The status history as ``DecisionRecord``s, oldest first (pure)."""
    return tuple(
        DecisionRecord(
            time=format_time(entry.time),
            decision=entry.decision.value,
            phase=entry.phase.value,
            weight=entry.canary_weight,
            message=entry.message,
        )
        for entry in status.history
    )


def format_check(sample: CheckSample) -> str:
    """``shadow-agreement 0.962 ok`` (pure)."""
    value = "-" if sample.value is None else f"{sample.value:.3f}{UNITS.get(sample.name, '')}"
    return f"{sample.name} {value} {VERDICT_MARK.get(sample.verdict, sample.verdict)}"


def format_live_line(*, seconds: float, status: RolloutStatus, new_analysis: bool) -> str:
    """One line per change: time, phase, weight, each check when a new analysis came,
    and the latest decision (pure)."""
    parts = [f"+{seconds:5.1f}s  {status.phase.value:<11} canary {status.canary_weight:>3}%"]
    if new_analysis:
        parts.append(" | ".join(format_check(sample) for sample in check_samples(status)))
    if status.history:
        parts.append(f"-> {status.history[-1].decision.value}")
    return "  ".join(parts)


class RolloutWatcher:
    """Follows one rollout's state file; ``wait_until`` returns the status it waited for."""

    def __init__(self, *, rollout_path: Path, operator: Process) -> None:
        self.rollout_path = rollout_path
        self.operator = operator
        self.started = time.monotonic()
        self.timeline: list[TimelinePoint] = []
        self.status: RolloutStatus | None = None
        self._seen: tuple[Any, ...] = ()
        self._analysis_time: datetime | None = None

    def read_status(self) -> RolloutStatus | None:
        """The status the operator wrote, parsed (``None``: none yet); ``ComponentError``
        for an unreadable state file or status."""
        from monitoring.operator.local import read_local
        from monitoring.operator.state import RolloutFileError

        try:
            return read_status(
                read_local(self.rollout_path, self.rollout_path.parent).get("status")
            )
        except (RolloutFileError, ValueError) as error:
            raise ComponentError(self.operator.name, f"unreadable rollout state: {error}") from None

    def poll(self) -> RolloutStatus | None:
        """Read the status once; print and record a line if anything changed."""
        status = self.status = self.read_status()
        if status is None:
            return None
        analysis_time = status.last_analysis.time if status.last_analysis else None
        key = (status.phase, status.canary_weight, analysis_time, len(status.history))
        if key != self._seen:
            self._seen = key
            new_analysis = analysis_time is not None and analysis_time != self._analysis_time
            self._analysis_time = analysis_time
            seconds = time.monotonic() - self.started
            say(format_live_line(seconds=seconds, status=status, new_analysis=new_analysis))
            self.timeline.append(
                TimelinePoint(
                    seconds=round(seconds, 2),
                    phase=status.phase.value,
                    weight=status.canary_weight,
                    checks=check_samples(status) if new_analysis else (),
                )
            )
        return status

    def wait_until(
        self, done: Callable[[RolloutStatus], bool], *, timeout: float, waiting_for: str
    ) -> RolloutStatus:
        """Poll until ``done(status)`` (never before the operator wrote a status);
        ``ComponentError`` if the operator exits or the time runs out (with the last
        status message and the operator's log)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.poll()
            if status is not None and done(status):
                return status
            if not self.operator.running():
                raise ComponentError(
                    self.operator.name,
                    f"exited with code {self.operator.popen.returncode} while the demo "
                    f"waited for {waiting_for}",
                    self.operator.log_tail(),
                )
            if time.monotonic() >= deadline:
                last = (status.message if status else "") or "no status written yet"
                raise ComponentError(
                    self.operator.name,
                    f"waited {timeout:.0f}s for {waiting_for} (last status: {last})",
                    self.operator.log_tail(),
                )
            time.sleep(POLL_SECONDS)
