"""What the demo measured and decided, as plain frozen dataclasses (the report's input)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ModelRole(StrEnum):
    """Why the demo trained a model."""

    STABLE = "stable"
    CANDIDATE = "healthy candidate"
    DRIFTED = "drifted candidate"
    LLM = "support LLM"
    RETRAINED = "retrained by the loop"


@dataclass(frozen=True)
class ModelSummary:
    """One trained model: its tag in the store, how it was trained, its held-out metrics."""

    role: ModelRole
    tag: str
    trained_on: str
    metrics: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class CheckSample:
    """One check's value in one analysis (``None``: no data) and its verdict."""

    name: str
    value: float | None
    verdict: str
    message: str


@dataclass(frozen=True)
class TimelinePoint:
    """The rollout as the demo saw it at ``seconds`` after the operator started."""

    seconds: float
    phase: str
    weight: int
    checks: tuple[CheckSample, ...] = ()


@dataclass(frozen=True)
class DecisionRecord:
    """One entry of the rollout's status history (what the operator decided and why)."""

    time: str
    decision: str
    phase: str
    weight: int
    message: str


@dataclass(frozen=True)
class TrafficStats:
    """What the traffic generator sent and got back."""

    sent: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_variant: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class RolloutResult:
    """One rollout from start to its final phase, with the evidence."""

    name: str
    title: str
    stable_tag: str
    canary_tag: str
    expected_phase: str
    final_phase: str
    final_weight: int
    message: str
    seconds: float
    timeline: tuple[TimelinePoint, ...]
    decisions: tuple[DecisionRecord, ...]
    traffic: TrafficStats
    check_limits: dict[str, str] = field(default_factory=dict)
    expected_failed_check: str | None = None

    @property
    def expectation(self) -> str:
        """``Failed, shadow-agreement failing``: what should happen, in words."""
        if self.expected_failed_check is None:
            return self.expected_phase
        return f"{self.expected_phase}, {self.expected_failed_check} failing"

    @property
    def last_checks(self) -> tuple[CheckSample, ...]:
        """The checks of the last analysis (empty when none ran)."""
        analysed = [point.checks for point in self.timeline if point.checks]
        return analysed[-1] if analysed else ()

    @property
    def as_expected(self) -> bool:
        """The expected final phase, and, where a check should have caused it, that check
        failed on a measured value (a rollback for missing data is not the point)."""
        if self.final_phase != self.expected_phase:
            return False
        if self.expected_failed_check is None:
            return True
        return any(
            sample.name == self.expected_failed_check and sample.verdict == "fail"
            for sample in self.last_checks
        )


@dataclass(frozen=True)
class PrometheusAnswer:
    """One PromQL query and its answer, or why there is none."""

    query: str
    result: str


@dataclass(frozen=True)
class PrometheusOutcome:
    """Whether Prometheus ran; its answers when it did, the reason when it did not."""

    ran: bool
    detail: str
    answers: tuple[PrometheusAnswer, ...] = ()


@dataclass(frozen=True)
class ColumnDrift:
    """One column in one drift evaluation: its test score (``method``'s units) and verdict."""

    column: str
    score: float | None
    method: str
    drifted: bool


@dataclass(frozen=True)
class DriftPoint:
    """One drift-monitor evaluation of the stable's window, ``seconds`` into rollout 4
    (``share`` ``None``: no data, too few rows)."""

    seconds: float
    share: float | None
    rows: int
    columns: tuple[ColumnDrift, ...] = ()


@dataclass(frozen=True)
class LoopEvent:
    """One Event or ``status.retrain`` step of rollout 4, as the operator recorded it."""

    time: str
    reason: str
    message: str


@dataclass(frozen=True)
class ClosedLoopOutcome:
    """Rollout 4: drift over time, the retraining Job's result, the Evidently report.

    ``retrain_result``: ``canaria retrain``'s JSON as ``status.retrain.lastResult`` keeps it
    (champion, challenger, metric, margin, new tag, trigger, data); ``evidently_report``:
    the HTML report's path relative to the demo report (empty: not written)."""

    drift: tuple[DriftPoint, ...]
    drift_threshold: float
    drift_started: float | None
    retrain_steps: tuple[LoopEvent, ...]
    events: tuple[LoopEvent, ...]
    retrain_result: dict[str, Any]
    evidently_report: str = ""
    evidently_line: str = ""
    prometheus: tuple[PrometheusAnswer, ...] = ()


@dataclass(frozen=True)
class DemoReport:
    """Everything the HTML report shows."""

    started: str
    mode: str
    bentoml_home: str
    models: tuple[ModelSummary, ...]
    rollouts: tuple[RolloutResult, ...]
    prometheus: PrometheusOutcome | None
    showcase: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    closed_loop: ClosedLoopOutcome | None = None
