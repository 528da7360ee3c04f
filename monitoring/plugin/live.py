"""The ``--watch`` view of one rollout, drawn with rich: weights, every check's last value
against its limit, and the decision history.

``rollout_view`` builds the renderable (pure); ``watch`` redraws it in place with
``rich.live.Live`` on a terminal. Off a terminal (CI logs, pipes) the plugin prints one
line per change instead (``change_line``), never control codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.bar import Bar
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from monitoring.api.status import Verdict
from monitoring.plugin.render import (
    format_number,
    format_threshold,
    model_name,
    short,
    total_steps,
)

HISTORY_SHOWN = 8
_VERDICT_STYLE: dict[str, str] = {
    Verdict.PASS: "green",
    Verdict.FAIL: "bold red",
    Verdict.INCONCLUSIVE: "yellow",
}
_PHASE_STYLE = {
    "Succeeded": "bold green",
    "Failed": "bold red",
    "RolledBack": "bold red",
    "Aborted": "bold red",
    "Paused": "yellow",
    "Promoting": "cyan",
    "Progressing": "cyan",
}


def _weights(status: Mapping[str, Any], target: Mapping[str, Any]) -> Table:
    weight = int(status.get("canaryWeight", 0) or 0)
    table = Table.grid(padding=(0, 2))
    for variant, model, share in (
        ("stable", model_name(status.get("stableModel") or target.get("stable")), 100 - weight),
        ("canary", model_name(status.get("canaryModel") or target.get("canary")), weight),
    ):
        table.add_row(variant, model, f"{share:>3}%", Bar(size=100, begin=0, end=share, width=40))
    return table


def _checks(status: Mapping[str, Any]) -> RenderableType:
    analysis = status.get("lastAnalysis") or {}
    if not analysis:
        return Text("no analysis yet", style="dim")
    table = Table(
        title=f"last analysis {analysis.get('time')}: {analysis.get('verdict')}",
        title_justify="left",
        expand=False,
    )
    for header in ("CHECK", "VERDICT", "CANARY", "STABLE", "LIMIT"):
        table.add_column(header)
    for check in analysis.get("checks") or []:
        unit = str(check.get("unit") or "")
        verdict = str(check.get("verdict"))
        table.add_row(
            str(check.get("name")),
            Text(verdict, style=_VERDICT_STYLE.get(verdict, "")),
            format_number(check.get("value"), unit),
            format_number(check.get("stableValue"), unit),
            format_threshold(check),
        )
    return table


def _history(status: Mapping[str, Any]) -> RenderableType:
    history = status.get("history") or []
    table = Table(title="decisions", title_justify="left", expand=False)
    for header in ("TIME", "DECISION", "PHASE", "WEIGHT", "MESSAGE"):
        table.add_column(header, overflow="fold" if header == "MESSAGE" else "ellipsis")
    for entry in history[-HISTORY_SHOWN:]:
        table.add_row(
            str(entry.get("time")),
            str(entry.get("decision")),
            str(entry.get("phase")),
            f"{entry.get('canaryWeight', 0)}%",
            short(str(entry.get("message", "")), 90),
        )
    return table


def rollout_view(obj: Mapping[str, Any], *, footer: str = "") -> RenderableType:
    """One rollout as a rich renderable (pure)."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    target = (obj.get("spec") or {}).get("target") or {}
    phase = str(status.get("phase", "-"))
    total = total_steps(obj)
    title = Text.assemble(
        (f"{meta.get('namespace', 'default')}/{meta.get('name', '?')}  ", "bold"),
        (phase, _PHASE_STYLE.get(phase, "")),
        f"  step {status.get('currentStep', 0)}/{total if total is not None else '?'}",
        f"  failed {status.get('failedChecks', 0)}",
    )
    parts: list[RenderableType] = [
        title,
        _weights(status, target),
        Text(str(status.get("message", "")), style="italic"),
        _checks(status),
        _history(status),
    ]
    if footer:
        parts.append(Text(footer, style="dim"))
    return Group(*parts)


def change_line(obj: Mapping[str, Any]) -> str:
    """One line for a log: phase, weight, step and the status message (pure)."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    total = total_steps(obj)
    return (
        f"{meta.get('name', '?')}: {status.get('phase', '-')} "
        f"canary {status.get('canaryWeight', 0)}% "
        f"step {status.get('currentStep', 0)}/{total if total is not None else '?'}: "
        f"{status.get('message', '')}"
    )


def changed_fields(obj: Mapping[str, Any]) -> Sequence[Any]:
    """What a line-per-change watch compares between two reads (pure)."""
    status = obj.get("status") or {}
    return (
        status.get("phase"),
        status.get("canaryWeight"),
        status.get("currentStep"),
        status.get("message"),
    )
