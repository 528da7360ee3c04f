"""JSON merge patches (RFC 7386) that turn one stored object into another (pure).

The engine returns the whole next status; Kubernetes merges a patch into what it stores,
so a field the new status no longer has (``pauseReason`` after a resume) must be sent as
``null`` or it would stay. ``merge_patch_between`` sends only what changed, which also
keeps the recorded PATCH bodies short enough to assert exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_patch_between(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The smallest merge patch that makes ``old`` equal to ``new`` (pure).

    Removed keys become ``None``; nested objects are diffed key by key; lists and scalars
    that differ are sent whole (a merge patch cannot edit a list in place).
    """
    patch: dict[str, Any] = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if key in old and before == value:
            continue
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            patch[key] = merge_patch_between(before, value)
        else:
            patch[key] = value
    return patch


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``target`` as an API server would (pure; returns a new object)."""
    if not isinstance(patch, Mapping):
        return patch
    merged = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = apply_merge_patch(merged.get(key), value)
    return merged
