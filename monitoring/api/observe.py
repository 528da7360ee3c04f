"""Reading a ModelRollout's status as a client sees it (the kubectl plugin, the demo, the
bench): parsed once into ``RolloutStatus``, never read as raw keys (pure).

``read_status(obj["status"])`` is ``None`` while the operator has written nothing (a new
object has no ``status``); a partially written status (only some fields, e.g. just
``workload`` or ``retrain``) reads with the defaults ``RolloutStatus.from_dict`` uses
(phase Idle, weight 0). A value this version cannot read raises ``StatusError`` naming
the field, e.g. ``status.history[2]: missing 'time'`` or
``status.phase='Verifying': not one of Idle, Progressing, ...``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from monitoring.api.status import DecisionKind, PauseReason, Phase, RolloutStatus, Verdict

_PARSE_ERRORS = (KeyError, ValueError, TypeError, AttributeError)
_ENUMS: dict[str, type[StrEnum]] = {
    "phase": Phase,
    "pauseReason": PauseReason,
    "decision": DecisionKind,
    "verdict": Verdict,
}


class StatusError(ValueError):
    """A stored status this version cannot read; the message names the field."""


def read_status(data: Mapping[str, Any] | None) -> RolloutStatus | None:
    """``data`` (a ModelRollout's ``.status``) as a ``RolloutStatus``; ``None`` when it is
    absent or empty. ``StatusError`` naming the first unreadable field otherwise."""
    if not data:
        return None
    if not isinstance(data, Mapping):
        raise StatusError(f"status: expected an object, got {type(data).__name__}")
    try:
        return RolloutStatus.from_dict(data)
    except _PARSE_ERRORS as error:
        raise StatusError(_culprit(data, error)) from None


def status_of(obj: Mapping[str, Any]) -> RolloutStatus | None:
    """``read_status`` of a whole ModelRollout object (``None``: no status yet)."""
    return read_status(obj.get("status"))


def _culprit(data: Mapping[str, Any], error: Exception) -> str:
    """Which field of ``data`` fails to read, found by reading each field (and each list
    item) on its own; falls back to the whole status's ``error``."""
    for key, value in data.items():
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            try:
                RolloutStatus.from_dict({key: item if index is None else [item]})
            except _PARSE_ERRORS as field_error:
                where = f"status.{key}" if index is None else f"status.{key}[{index}]"
                return f"{where}{_reason(item, field_error)}"
    return f"status{_reason(data, error)}"


def _reason(value: Any, error: Exception) -> str:
    """``: missing 'time'`` for a missing key, ``='x': not one of A, B`` for an unknown
    enum value, ``=<value>: <error>`` otherwise."""
    if isinstance(error, KeyError):
        return f": missing {error.args[0]!r}"
    for key, enum in _ENUMS.items():
        bad = value if not isinstance(value, Mapping) else value.get(key)
        if f"{bad!r} is not a valid {enum.__name__}" in str(error):
            known = ", ".join(member.value for member in enum)
            where = "" if not isinstance(value, Mapping) else f".{key}"
            return f"{where}={bad!r}: not one of {known}"
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    return f"={shown}: {error}"
