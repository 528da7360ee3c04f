"""Settings from environment variables, with one error style for every service.

Each helper reads one variable from ``environ`` (a mapping, so parsing stays pure), returns
``default`` when it is unset or blank, and otherwise raises ``EnvError`` (a ``ValueError``)
worded ``NAME='value': must be ...``, so a bad setting names its variable and what it takes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class EnvError(ValueError):
    """An environment variable holds a value its setting cannot take."""

    def __init__(self, name: str, raw: str, expected: str) -> None:
        super().__init__(f"{name}={raw!r}: must be {expected}")
        self.name = name


def _raw(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def env_str(environ: Mapping[str, str], name: str, default: str) -> str:
    """The variable's text, stripped; ``default`` when unset or blank."""
    return _raw(environ, name) or default


def env_int(environ: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    """An integer of at least ``minimum``."""
    raw = _raw(environ, name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise EnvError(name, raw, f"an integer >= {minimum}") from None
    if value < minimum:
        raise EnvError(name, raw, f"an integer >= {minimum}")
    return value


def env_share(environ: Mapping[str, str], name: str, default: float) -> float:
    """A number between 0 and 1 (a share, not a percentage)."""
    raw = _raw(environ, name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise EnvError(name, raw, "a number between 0 and 1") from None
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise EnvError(name, raw, "a number between 0 and 1")
    return value


def env_flag(environ: Mapping[str, str], name: str, default: bool = False) -> bool:
    """A boolean: 1/true/yes/on or 0/false/no/off (any case)."""
    raw = _raw(environ, name).lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise EnvError(name, raw, "a boolean (1 or 0)")


def env_choice(kind: type[E], environ: Mapping[str, str], name: str, default: E) -> E:
    """One of ``kind``'s values (any case)."""
    raw = _raw(environ, name).lower()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise EnvError(name, raw, f"one of: {allowed}") from None


def env_names(environ: Mapping[str, str], name: str, default: Iterable[str]) -> frozenset[str]:
    """A comma-separated list of names; ``default`` only when the variable is unset (an
    empty value means no names)."""
    raw = environ.get(name)
    if raw is None:
        return frozenset(default)
    return frozenset(part.strip() for part in raw.split(",") if part.strip())
