"""RFC 3339 times as the ModelRollout status stores them (UTC, a ``Z`` suffix)."""

from __future__ import annotations

from datetime import UTC, datetime


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``; microseconds only when there are some."""
    if moment.tzinfo is None:
        raise ValueError(f"time {moment!r} has no timezone; pass an aware UTC datetime")
    utc = moment.astimezone(UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def parse_time(text: str) -> datetime:
    """Inverse of ``format_time``; accepts any RFC 3339 offset and returns UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no timezone")
    return moment.astimezone(UTC)
