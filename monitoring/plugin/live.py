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

from monitoring.api.status import Phase, RolloutStatus, Verdict, format_time
from monitoring.plugin.render import (
    check_row,
    history_row,
    phase_text,
    rollout_status,
    step_text,
    variant_models,
)

HISTORY_SHOWN = 8
_VERDICT_STYLE = {Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.INCONCLUSIVE: "yellow"}
_PHASE_STYLE = {
    Phase.SUCCEEDED: "bold green",
    Phase.FAILED: "bold red",
    Phase.ROLLED_BACK: "bold red",
    Phase.ABORTED: "bold red",
    Phase.PAUSED: "yellow",
    Phase.PROMOTING: "cyan",
    Phase.PROGRESSING: "cyan",
}


def _weights(models: tuple[str, str], status: RolloutStatus) -> Table:
    weight = status.canary_weight
    table = Table.grid(padding=(0, 2))
    stable, canary = models
    for variant, model, share in (("stable", stable, 100 - weight), ("canary", canary, weight)):
        table.add_row(variant, model, f"{share:>3}%", Bar(size=100, begin=0, end=share, width=40))
    return table


def _checks(status: RolloutStatus) -> RenderableType:
    analysis = status.last_analysis
    if not analysis:
        return Text("no analysis yet", style="dim")
    table = Table(
        title=f"last analysis {format_time(analysis.time)}: {analysis.verdict.value}",
        title_justify="left",
        expand=False,
    )
    for header in ("CHECK", "VERDICT", "CANARY", "STABLE", "LIMIT"):
        table.add_column(header)
    for check in analysis.checks:
        name, verdict, canary, stable, limit, _ = check_row(check)
        style = _VERDICT_STYLE.get(check.verdict, "")
        table.add_row(name, Text(verdict, style=style), canary, stable, limit)
    return table


def _history(status: RolloutStatus) -> RenderableType:
    table = Table(title="decisions", title_justify="left", expand=False)
    for header in ("TIME", "DECISION", "PHASE", "WEIGHT", "MESSAGE"):
        table.add_column(header, overflow="fold" if header == "MESSAGE" else "ellipsis")
    for entry in status.history[-HISTORY_SHOWN:]:
        table.add_row(*history_row(entry, width=90))
    return table


def rollout_view(obj: Mapping[str, Any], *, footer: str = "") -> RenderableType:
    """One rollout as a rich renderable (pure)."""
    meta = obj.get("metadata") or {}
    status = rollout_status(obj)
    typed = status or RolloutStatus()
    style = _PHASE_STYLE.get(typed.phase, "") if status else ""
    title = Text.assemble(
        (f"{meta.get('namespace', 'default')}/{meta.get('name', '?')}  ", "bold"),
        (phase_text(status), style),
        f"  step {step_text(obj, typed)}",
        f"  failed {typed.failed_checks}",
    )
    parts: list[RenderableType] = [
        title,
        _weights(variant_models(obj, status), typed),
        Text(typed.message, style="italic"),
        _checks(typed),
        _history(typed),
    ]
    if footer:
        parts.append(Text(footer, style="dim"))
    return Group(*parts)


def change_line(obj: Mapping[str, Any]) -> str:
    """One line for a log: phase, weight, step and the status message (pure)."""
    meta = obj.get("metadata") or {}
    status = rollout_status(obj)
    typed = status or RolloutStatus()
    return (
        f"{meta.get('name', '?')}: {phase_text(status)} "
        f"canary {typed.canary_weight}% "
        f"step {step_text(obj, typed)}: "
        f"{typed.message}"
    )


def changed_fields(obj: Mapping[str, Any]) -> Sequence[Any]:
    """What a line-per-change watch compares between two reads (pure)."""
    status = rollout_status(obj)
    if status is None:
        return (None, None, None, None)
    return (status.phase, status.canary_weight, status.current_step, status.message)
