"""Manual actions from the command line: refuse what cannot apply, ask, wait, say what changed.

An action is checked first with the engine's own ``action_refusal`` (a promote on a
Succeeded rollout is refused here, with the reason, and nothing is sent: exit 5). Then the
request is sent (annotation, or the local state file) and, unless ``--no-wait``, the
command polls until the operator took it: it prints what changed (``phase Progressing ->
RolledBack, canary 20% -> 0%``) and exits 0; an operator that did not apply it within the
wait exits 3, the request left pending. ``--dry-run`` sends nothing: it validates the
rollout (``lint``) and prints what the action would do now.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from monitoring.analysis import action_refusal, decide
from monitoring.api.observe import StatusError, status_of
from monitoring.api.spec import Action, RolloutSpec, SpecError, parse_spec
from monitoring.api.status import RolloutStatus
from monitoring.plugin.exitcodes import CliError, ExitCode
from monitoring.plugin.lint import lint_object
from monitoring.plugin.render import rollout_status
from monitoring.plugin.sources import Source, pending_action


@dataclass(frozen=True)
class ActionRequest:
    """One action from the command line: wait up to ``timeout`` seconds (polling every
    ``poll``) unless ``wait`` is false; ``dry_run`` sends nothing."""

    action: Action
    name: str | None
    wait: bool = True
    timeout: float = 60.0
    poll: float = 0.5
    dry_run: bool = False


def _parsed(obj: Mapping[str, Any]) -> tuple[RolloutSpec, RolloutStatus] | None:
    try:
        return parse_spec(obj.get("spec") or {}), status_of(obj) or RolloutStatus()
    except (SpecError, StatusError, ValueError, KeyError, TypeError):
        return None  # the operator refuses such a rollout itself, with an Event


def refusal_for(obj: Mapping[str, Any], action: Action) -> str | None:
    """Why ``action`` cannot apply to ``obj`` now, by the engine's rules (pure)."""
    parsed = _parsed(obj)
    if parsed is None:
        return None
    spec, status = parsed
    return action_refusal(spec=spec, status=status, action=action)


def _shown(status: RolloutStatus | None) -> tuple[str, str, str]:
    """Phase, weight and step as ``describe_change`` shows them (``-`` before a status)."""
    if status is None:
        return "-", "0%", "-"
    return status.phase.value, f"{status.canary_weight}%", str(status.current_step)


def describe_change(before: RolloutStatus | None, after: RolloutStatus | None) -> str:
    """``phase Progressing -> RolledBack, canary 20% -> 0%: <message>`` (pure)."""
    parts = [
        f"{label} {old} -> {new}"
        for label, old, new in zip(
            ("phase", "canary", "step"), _shown(before), _shown(after), strict=True
        )
        if old != new
    ]
    changes = ", ".join(parts) or "no field changed"
    return f"{changes}: {after.message if after else ''}"


def _history_mark(obj: Mapping[str, Any]) -> Any:
    history = (rollout_status(obj) or RolloutStatus()).history
    return (len(history), history[-1] if history else None)


def preview(obj: Mapping[str, Any], action: Action, now: datetime) -> str:
    """What ``action`` would do to ``obj`` at ``now``, by the engine (pure)."""
    parsed = _parsed(obj)
    if parsed is None:
        return "unknown: the operator cannot read this rollout's spec or status"
    spec, status = parsed
    decision = decide(spec=spec, status=status, measurements={}, now=now, action=action)
    return describe_change(status, decision.status)


def run_action(
    source: Source,
    request: ActionRequest,
    *,
    out: TextIO,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ExitCode:
    obj = source.get(request.name)
    name = str((obj.get("metadata") or {}).get("name"))
    action = request.action
    refusal = refusal_for(obj, action)
    if refusal is not None:
        raise CliError(f"cannot {action.value} {name}: {refusal}", ExitCode.REFUSED)
    if request.dry_run:
        problems = lint_object(obj)
        for problem in problems:
            print(f"{name}: {problem}", file=out)
        print(
            f"dry run: {action.value} {name} would change {preview(obj, action, _now())}", file=out
        )
        return ExitCode.DEGRADED if problems else ExitCode.OK
    before = _history_mark(obj)
    replaced = source.request(name, action)
    note = f" (replacing pending {replaced})" if replaced and replaced != action.value else ""
    print(f"{action.value} requested for {name} ({source.where}){note}", file=out)
    if not request.wait:
        print("the operator applies it at its next tick", file=out)
        return ExitCode.OK
    deadline = clock() + request.timeout
    while clock() < deadline:
        sleep(request.poll)
        now_obj = source.get(name)
        if pending_action(now_obj) is not None:
            continue
        if _history_mark(now_obj) == before:
            reason = _ignored_reason(source, name)
            raise CliError(f"the operator did not apply {action.value}: {reason}", ExitCode.REFUSED)
        change = describe_change(rollout_status(obj), rollout_status(now_obj))
        print(f"applied: {change}", file=out)
        return ExitCode.OK
    raise CliError(
        f"the operator has not applied {action.value} to {name} within {request.timeout:g}s "
        "(is it running?); the request stays pending",
        ExitCode.TIMEOUT,
    )


def _ignored_reason(source: Source, name: str) -> str:
    ignored = [e for e in source.events(name) if e.get("reason") == "ActionIgnored"]
    return str(ignored[-1].get("message")) if ignored else "it changed nothing (see status)"


def _now() -> datetime:
    return datetime.now(UTC)
