"""Plain-text and machine output of rollouts: kubectl-style tables, details, JSON/YAML (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import yaml

from monitoring.api.constants import ACTION_ANNOTATION
from monitoring.api.spec import SpecError, parse_spec

_MESSAGE_WIDTH = 70
OUTPUTS = ("json", "yaml", "name")
FINAL_OK = frozenset({"Succeeded", "Idle"})
FINAL_BAD = frozenset({"Failed", "RolledBack", "Aborted"})


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


def model_name(ref: Mapping[str, Any] | None) -> str:
    if not ref:
        return "-"
    return str(ref.get("bentoTag") or ref.get("image") or "-")


def short(text: str, width: int = _MESSAGE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def failed_checks(status: Mapping[str, Any]) -> list[str]:
    """Names of the checks that failed in the last analysis (pure)."""
    checks = (status.get("lastAnalysis") or {}).get("checks") or []
    return [str(c.get("name")) for c in checks if c.get("verdict") == "fail"]


def summary_row(obj: Mapping[str, Any], *, with_namespace: bool) -> list[str]:
    """One line of ``status``: name, phase, weight, stable, canary, failed checks, message."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    target = (obj.get("spec") or {}).get("target") or {}
    failed = str(status.get("failedChecks", 0))
    names = failed_checks(status)
    if names:
        failed += f" ({', '.join(names)})"
    row = [
        str(meta.get("name", "?")),
        str(status.get("phase", "-")),
        f"{status.get('canaryWeight', 0)}%",
        model_name(status.get("stableModel") or target.get("stable")),
        model_name(status.get("canaryModel") or target.get("canary")),
        failed,
        short(str(status.get("message", ""))),
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


def format_threshold(check: Mapping[str, Any]) -> str:
    unit = "" if check.get("comparison") == "relative" else str(check.get("unit") or "")
    suffix = "× stable" if check.get("comparison") == "relative" else ""
    parts = []
    if check.get("min") is not None:
        parts.append(f">= {format_number(check['min'], unit)}{suffix}")
    if check.get("max") is not None:
        parts.append(f"<= {format_number(check['max'], unit)}{suffix}")
    return ", ".join(parts) or "-"


def workload_line(obj: Mapping[str, Any]) -> str | None:
    """``Workload: canary churn-canary ready, stable churn-stable -> reg/m:v2 (since ...)``
    for a rollout with ``spec.workload`` (``None`` without)."""
    spec = (obj.get("spec") or {}).get("workload") or {}
    if not spec:
        return None
    state = (obj.get("status") or {}).get("workload") or {}
    ready = "ready" if state.get("canaryReady") else "not ready"
    text = f"Workload:       canary {spec.get('canary')} {ready}, stable {spec.get('stable')}"
    if state.get("stableImage"):
        text += f" -> {state['stableImage']}"
    if state.get("waitingSince"):
        text += f" (waiting since {state['waitingSince']})"
    return text


def format_details(obj: Mapping[str, Any], *, events: Sequence[Mapping[str, Any]] = ()) -> str:
    """One rollout: the summary, every check's evidence, recent decisions and Events."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    pending = (meta.get("annotations") or {}).get(ACTION_ANNOTATION)
    lines = [
        format_summary([obj]),
        "",
        f"Message:        {status.get('message', '-')}",
        f"Step:           {status.get('currentStep', 0)}"
        f"   next analysis: {status.get('nextAnalysisTime', '-')}",
    ]
    if pending:
        lines.append(f"Pending action: {pending} (applied at the operator's next tick)")
    workload = workload_line(obj)
    if workload:
        lines.append(workload)
    analysis = status.get("lastAnalysis")
    if analysis:
        lines += ["", f"Last analysis at {analysis.get('time')}: {analysis.get('verdict')}"]
        rows = [
            [
                str(c.get("name")),
                str(c.get("verdict")),
                format_number(c.get("value"), str(c.get("unit") or "")),
                format_number(c.get("stableValue"), str(c.get("unit") or "")),
                format_threshold(c),
                short(str(c.get("message", "")), 60),
            ]
            for c in analysis.get("checks") or []
        ]
        headers = ["CHECK", "VERDICT", "CANARY", "STABLE", "THRESHOLD", "MESSAGE"]
        lines.append(format_table(headers, rows))
    history = status.get("history") or []
    if history:
        lines += ["", "History:"]
        rows = [
            [
                str(h.get("time")),
                str(h.get("decision")),
                str(h.get("phase")),
                f"{h.get('canaryWeight', 0)}%",
                short(str(h.get("message", ""))),
            ]
            for h in history[-10:]
        ]
        lines.append(format_table(["TIME", "DECISION", "PHASE", "WEIGHT", "MESSAGE"], rows))
    lines += retrain_lines(status.get("retrain") or {})
    if events:
        lines += ["", "Events:"]
        rows = [
            [
                str(e.get("time") or e.get("lastTimestamp") or "-"),
                str(e.get("type")),
                str(e.get("reason")),
                short(str(e.get("message", ""))),
            ]
            for e in events[-10:]
        ]
        lines.append(format_table(["TIME", "TYPE", "REASON", "MESSAGE"], rows))
    return "\n".join(lines)


LIST_HEADERS = ["NAME", "PHASE", "WEIGHT", "STEP", "STABLE", "CANARY", "FAILED", "AGE"]


def total_steps(obj: Mapping[str, Any]) -> int | None:
    """The rollout's number of steps, or ``None`` when its spec does not parse (pure)."""
    try:
        return parse_spec(obj.get("spec") or {}).total_steps
    except (SpecError, ValueError, TypeError, AttributeError):
        return None


def age(obj: Mapping[str, Any], now: datetime) -> str:
    """``kubectl``-style age (``45s``, ``12m``, ``5h``, ``3d``) from the creation time, or
    the first recorded decision in local mode; ``-`` when neither is known (pure)."""
    meta = obj.get("metadata") or {}
    history = (obj.get("status") or {}).get("history") or []
    since = meta.get("creationTimestamp") or (history[0].get("time") if history else None)
    if not since:
        return "-"
    try:
        seconds = (now - datetime.fromisoformat(str(since))).total_seconds()
    except ValueError:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(0, int(seconds))}s"


def list_row(obj: Mapping[str, Any], *, with_namespace: bool, now: datetime) -> list[str]:
    """One ``list`` line: name, phase, weight, step, stable, canary, failed checks, age."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    target = (obj.get("spec") or {}).get("target") or {}
    total = total_steps(obj)
    step = f"{status.get('currentStep', 0)}/{total if total is not None else '?'}"
    row = [
        str(meta.get("name", "?")),
        str(status.get("phase", "-")),
        f"{status.get('canaryWeight', 0)}%",
        step,
        model_name(status.get("stableModel") or target.get("stable")),
        model_name(status.get("canaryModel") or target.get("canary")),
        str(status.get("failedChecks", 0)),
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


def retrain_lines(retrain: Mapping[str, Any]) -> list[str]:
    """``status.retrain`` (the retraining loop): what runs, the last outcome, its steps."""
    if not retrain:
        return []
    running = retrain.get("runningKey")
    lines = ["", f"Retraining:     {f'Job {running} running' if running else 'no Job running'}"]
    if retrain.get("lastOutcome"):
        reason = short(str(retrain.get("lastReason", "")), 90)
        lines.append(f"Last outcome:   {retrain['lastOutcome']}: {reason}")
    if retrain.get("waitReason"):
        lines.append(f"Waiting:        {short(str(retrain['waitReason']), 90)}")
    rows = [
        [str(h.get("time")), str(h.get("step")), short(str(h.get("message", "")))]
        for h in (retrain.get("history") or [])[-10:]
    ]
    if rows:
        lines.append(format_table(["TIME", "STEP", "MESSAGE"], rows))
    return lines
