"""Plain-text and machine output of rollouts: kubectl-style tables, details, JSON/YAML (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import yaml

from monitoring.api.constants import ACTION_ANNOTATION
from monitoring.api.observe import StatusError, status_of
from monitoring.api.retrain_status import RetrainStatus
from monitoring.api.spec import ModelRef, SpecError, ThresholdMode, parse_spec
from monitoring.api.status import (
    CheckResult,
    HistoryEntry,
    Phase,
    RolloutStatus,
    Verdict,
    WorkloadStatus,
    format_time,
)
from monitoring.plugin.exitcodes import CliError, ExitCode

_MESSAGE_WIDTH = 70
OUTPUTS = ("json", "yaml", "name")
FINAL_OK = frozenset({Phase.SUCCEEDED, Phase.IDLE})
FINAL_BAD = frozenset({Phase.FAILED, Phase.ROLLED_BACK, Phase.ABORTED})


def rollout_status(obj: Mapping[str, Any]) -> RolloutStatus | None:
    """The object's status, parsed once (``None``: the operator has written none yet);
    ``CliError`` naming the rollout and the field when it cannot be read."""
    try:
        return status_of(obj)
    except StatusError as error:
        name = (obj.get("metadata") or {}).get("name", "?")
        raise CliError(f"ModelRollout {name}: unreadable {error}", ExitCode.ERROR) from None


def phase_text(status: RolloutStatus | None) -> str:
    """The phase, or ``-`` before the operator wrote a status (pure)."""
    return "-" if status is None else status.phase.value


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, two spaces apart, like ``kubectl get`` (pure)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def model_name(ref: ModelRef | Mapping[str, Any] | None) -> str:
    """The bento tag, else the image, else ``-`` (a status ``ModelRef`` or a spec target)."""
    if not ref:
        return "-"
    if isinstance(ref, ModelRef):
        return ref.bento_tag or ref.image or "-"
    return str(ref.get("bentoTag") or ref.get("image") or "-")


def variant_models(obj: Mapping[str, Any], status: RolloutStatus | None) -> tuple[str, str]:
    """The stable's and the canary's model names: the status's, else the spec's target."""
    target = (obj.get("spec") or {}).get("target") or {}
    stable = status.stable_model if status else None
    canary = status.canary_model if status else None
    return model_name(stable or target.get("stable")), model_name(canary or target.get("canary"))


def short(text: str, width: int = _MESSAGE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def failed_checks(status: RolloutStatus | None) -> list[str]:
    """Names of the checks that failed in the last analysis (pure)."""
    if status is None or status.last_analysis is None:
        return []
    return [c.name for c in status.last_analysis.checks if c.verdict is Verdict.FAIL]


def summary_row(obj: Mapping[str, Any], *, with_namespace: bool) -> list[str]:
    """One line of ``status``: name, phase, weight, stable, canary, failed checks, message."""
    meta = obj.get("metadata") or {}
    status = rollout_status(obj)
    typed = status or RolloutStatus()
    failed = str(typed.failed_checks)
    names = failed_checks(status)
    if names:
        failed += f" ({', '.join(names)})"
    row = [
        str(meta.get("name", "?")),
        phase_text(status),
        f"{typed.canary_weight}%",
        *variant_models(obj, status),
        failed,
        short(typed.message),
    ]
    return [str(meta.get("namespace", "default")), *row] if with_namespace else row


SUMMARY_HEADERS = ["NAME", "PHASE", "WEIGHT", "STABLE", "CANARY", "FAILED", "MESSAGE"]


def format_summary(objs: Sequence[Mapping[str, Any]], *, with_namespace: bool = False) -> str:
    if not objs:
        return "No ModelRollouts found."
    headers = (["NAMESPACE"] if with_namespace else []) + SUMMARY_HEADERS
    rows = [summary_row(obj, with_namespace=with_namespace) for obj in objs]
    return format_table(headers, rows)


def format_number(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    from canaria.contracts.checks import Unit
    from monitoring.analysis import format_value

    try:
        return format_value(float(value), Unit(unit))
    except ValueError:
        return f"{value}"


def format_threshold(check: CheckResult) -> str:
    """``>= 0.99``, ``<= 0.50 s``, ``<= 1.20× stable`` for a relative check (pure)."""
    relative = check.comparison is ThresholdMode.RELATIVE
    unit = "" if relative else check.unit
    suffix = "× stable" if relative else ""
    parts = []
    if check.min is not None:
        parts.append(f">= {format_number(check.min, unit)}{suffix}")
    if check.max is not None:
        parts.append(f"<= {format_number(check.max, unit)}{suffix}")
    return ", ".join(parts) or "-"


def check_row(check: CheckResult, *, width: int = 60) -> list[str]:
    """Name, verdict, canary and stable values, the limit and the message (pure)."""
    return [
        check.name,
        check.verdict.value,
        format_number(check.value, check.unit),
        format_number(check.stable_value, check.unit),
        format_threshold(check),
        short(check.message, width),
    ]


def history_row(entry: HistoryEntry, *, width: int = _MESSAGE_WIDTH) -> list[str]:
    """Time, decision, phase, weight and message of one recorded decision (pure)."""
    return [
        format_time(entry.time),
        entry.decision.value,
        entry.phase.value,
        f"{entry.canary_weight}%",
        short(entry.message, width),
    ]


def workload_line(obj: Mapping[str, Any]) -> str | None:
    """``Workload: canary churn-canary ready, stable churn-stable -> reg/m:v2 (since ...)``
    for a rollout with ``spec.workload`` (``None`` without)."""
    spec = (obj.get("spec") or {}).get("workload") or {}
    if not spec:
        return None
    status = rollout_status(obj)
    state = (status.workload if status else None) or WorkloadStatus()
    ready = "ready" if state.canary_ready else "not ready"
    text = f"Workload:       canary {spec.get('canary')} {ready}, stable {spec.get('stable')}"
    if state.stable_image:
        text += f" -> {state.stable_image}"
    if state.waiting_since:
        text += f" (waiting since {format_time(state.waiting_since)})"
    return text


def format_details(obj: Mapping[str, Any], *, events: Sequence[Mapping[str, Any]] = ()) -> str:
    """One rollout: the summary, every check's evidence, recent decisions and Events."""
    meta = obj.get("metadata") or {}
    status = rollout_status(obj)
    typed = status or RolloutStatus()
    pending = (meta.get("annotations") or {}).get(ACTION_ANNOTATION)
    next_time = typed.next_analysis_time
    lines = [
        format_summary([obj]),
        "",
        f"Message:        {typed.message if status else '-'}",
        f"Step:           {typed.current_step}"
        f"   next analysis: {format_time(next_time) if next_time else '-'}",
    ]
    if pending:
        lines.append(f"Pending action: {pending} (applied at the operator's next tick)")
    workload = workload_line(obj)
    if workload:
        lines.append(workload)
    analysis = typed.last_analysis
    if analysis:
        when = format_time(analysis.time)
        lines += ["", f"Last analysis at {when}: {analysis.verdict.value}"]
        headers = ["CHECK", "VERDICT", "CANARY", "STABLE", "THRESHOLD", "MESSAGE"]
        lines.append(format_table(headers, [check_row(c) for c in analysis.checks]))
    if typed.history:
        lines += ["", "History:"]
        rows = [history_row(h) for h in typed.history[-10:]]
        lines.append(format_table(["TIME", "DECISION", "PHASE", "WEIGHT", "MESSAGE"], rows))
    lines += retrain_lines(typed.retrain)
    lines += event_lines(events)
    return "\n".join(lines)


def event_lines(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """The last ten Kubernetes Events as a table (none: no lines)."""
    if not events:
        return []
    rows = [
        [
            str(e.get("time") or e.get("lastTimestamp") or "-"),
            str(e.get("type")),
            str(e.get("reason")),
            short(str(e.get("message", ""))),
        ]
        for e in events[-10:]
    ]
    return ["", "Events:", format_table(["TIME", "TYPE", "REASON", "MESSAGE"], rows)]


LIST_HEADERS = ["NAME", "PHASE", "WEIGHT", "STEP", "STABLE", "CANARY", "FAILED", "AGE"]


def total_steps(obj: Mapping[str, Any]) -> int | None:
    """The rollout's number of steps, or ``None`` when its spec does not parse (pure)."""
    try:
        return parse_spec(obj.get("spec") or {}).total_steps
    except (SpecError, ValueError, TypeError, AttributeError):
        return None


def step_text(obj: Mapping[str, Any], status: RolloutStatus) -> str:
    """``1/3``: the current step of the spec's total (``?`` when the spec does not parse)."""
    total = total_steps(obj)
    return f"{status.current_step}/{total if total is not None else '?'}"


def age(obj: Mapping[str, Any], now: datetime) -> str:
    """``kubectl``-style age (``45s``, ``12m``, ``5h``, ``3d``) from the creation time, or
    the first recorded decision in local mode; ``-`` when neither is known (pure)."""
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    status = rollout_status(obj) if not created else None
    try:
        since = (
            datetime.fromisoformat(str(created))
            if created
            else (status.history[0].time if status and status.history else None)
        )
    except ValueError:
        return "-"
    if since is None:
        return "-"
    seconds = (now - since).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(0, int(seconds))}s"


def list_row(obj: Mapping[str, Any], *, with_namespace: bool, now: datetime) -> list[str]:
    """One ``list`` line: name, phase, weight, step, stable, canary, failed checks, age."""
    meta = obj.get("metadata") or {}
    status = rollout_status(obj)
    typed = status or RolloutStatus()
    row = [
        str(meta.get("name", "?")),
        phase_text(status),
        f"{typed.canary_weight}%",
        step_text(obj, typed),
        *variant_models(obj, status),
        str(typed.failed_checks),
        age(obj, now),
    ]
    return [str(meta.get("namespace", "default")), *row] if with_namespace else row


def format_list(
    objs: Sequence[Mapping[str, Any]], *, with_namespace: bool = False, now: datetime | None = None
) -> str:
    """The ``list`` table, like ``kubectl get`` (pure but for the default ``now``)."""
    if not objs:
        return "No ModelRollouts found."
    moment = now or datetime.now(UTC)
    headers = (["NAMESPACE"] if with_namespace else []) + LIST_HEADERS
    rows = [list_row(obj, with_namespace=with_namespace, now=moment) for obj in objs]
    return format_table(headers, rows)


def format_output(objs: Sequence[Mapping[str, Any]], output: str, *, single: bool) -> str:
    """``-o json|yaml|name``: one object as it is, several as a ``List`` (as kubectl
    prints them); ``name`` prints ``modelrollout/NAME`` lines (pure)."""
    if output == "name":
        return "\n".join(f"modelrollout/{(o.get('metadata') or {}).get('name')}" for o in objs)
    document: Any = (
        dict(objs[0]) if single else {"apiVersion": "v1", "kind": "List", "items": list(objs)}
    )
    if output == "json":
        return json.dumps(document, indent=2, sort_keys=True)
    if output == "yaml":
        return yaml.safe_dump(document, sort_keys=False).rstrip()
    raise ValueError(f"unknown output format {output!r}; one of {', '.join(OUTPUTS)}")


def retrain_lines(retrain: RetrainStatus | None) -> list[str]:
    """``status.retrain`` (the retraining loop): what runs, the last outcome, its steps."""
    if retrain is None:
        return []
    running = retrain.running_key
    lines = ["", f"Retraining:     {f'Job {running} running' if running else 'no Job running'}"]
    if retrain.last_outcome:
        reason = short(retrain.last_reason, 90)
        lines.append(f"Last outcome:   {retrain.last_outcome.value}: {reason}")
    if retrain.wait_reason:
        lines.append(f"Waiting:        {short(retrain.wait_reason, 90)}")
    rows = [
        [format_time(h.time) if h.time else "-", h.step, short(h.message)]
        for h in retrain.history[-10:]
    ]
    if rows:
        lines.append(format_table(["TIME", "STEP", "MESSAGE"], rows))
    return lines
