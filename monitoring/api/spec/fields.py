"""Reading one field of a spec dict, with a ``SpecError`` that names its path (pure)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from monitoring.api.spec.model import SpecError

DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
"""Go-style durations: ``30s``, ``1m``, ``1m30s``, ``500ms``, ``1.5s``."""
DURATION_RE = re.compile(DURATION_PATTERN)
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
CHECK_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
CHECK_NAME_RE = re.compile(CHECK_NAME_PATTERN)


def parse_duration(text: str, *, path: str = "duration") -> float:
    """``"1m30s"`` -> 90.0 seconds; ``SpecError`` naming ``path`` when malformed or zero."""
    if not isinstance(text, str) or not DURATION_RE.match(text):
        raise SpecError(path, f"must be a duration like 30s, 1m or 500ms, got {text!r}")
    seconds = sum(float(n) * UNIT_SECONDS[u] for n, u in DURATION_PART.findall(text))
    if seconds <= 0:
        raise SpecError(path, f"must be longer than 0, got {text!r}")
    return seconds


T = TypeVar("T")
REQUIRED: Any = object()
"""Pass as ``default`` to make a field required."""
KIND_NAMES = {float: "a number", int: "an integer", bool: "true or false", str: "a string"}


def field_value(
    data: Mapping[str, Any], key: str, parent: str, kind: type[T], *, default: Any
) -> T:
    """``data[key]`` as ``kind`` (ints accepted as floats, whole floats as ints, bools only
    as bools), ``default`` when absent or null; the path is ``parent.key``."""
    path = f"{parent}.{key}"
    if key not in data or data[key] is None:
        if default is REQUIRED:
            raise SpecError(path, "is required")
        return default
    value = data[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise SpecError(path, f"must be {KIND_NAMES.get(kind, kind.__name__)}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(path, f"must be a finite number, got {value!r}")
    return value


def sub_object(data: Mapping[str, Any], key: str, parent: str, *, required: bool = False) -> Any:
    """``data[key]``, which must be an object; ``{}`` when absent and not required."""
    value = data.get(key)
    if value is None:
        if required:
            raise SpecError(f"{parent}.{key}", "is required")
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"{parent}.{key}", f"must be an object, got {value!r}")
    return value


def enum_value(
    data: Mapping[str, Any], key: str, parent: str, enum: type[Any], default: Any
) -> Any:
    """``data[key]`` as a member of ``enum``; the error lists the allowed values."""
    raw = field_value(data, key, parent, str, default=default if default is REQUIRED else None)
    if raw is None:
        return default
    try:
        return enum(raw)
    except ValueError:
        known = ", ".join(m.value for m in enum)
        raise SpecError(f"{parent}.{key}", f"must be one of {known}, got {raw!r}") from None


def int_in_range(
    data: Mapping[str, Any], key: str, parent: str, lo: int, hi: int, default: Any
) -> Any:
    """``data[key]`` as an integer within ``lo``..``hi`` (inclusive)."""
    value = field_value(data, key, parent, int, default=default)
    if value is not None and not lo <= value <= hi:
        raise SpecError(f"{parent}.{key}", f"must be between {lo} and {hi}, got {value}")
    return value


def non_empty(data: Mapping[str, Any], key: str, parent: str) -> str:
    """A required string that is not blank."""
    value = field_value(data, key, parent, str, default=REQUIRED)
    if not value.strip():
        raise SpecError(f"{parent}.{key}", "must not be empty")
    return value
