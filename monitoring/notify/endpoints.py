"""Where notifications go: the ``spec.notifications`` entries of a ModelRollout (pure).

Proposed CRD field (each entry one provider; the URL, a credential, lives in a Secret)::

    notifications:
      - provider: webhook            # webhook | slack | teams
        secretRef: {name: churn-alerts}   # keys: url, and hmacKey for webhook signing
        events: [started, promoted, failed, manual]   # default: all but step

``parse_notifications`` validates the entries; the operator reads each Secret and calls
``Endpoint`` with the URL and key, so this module never touches the API server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from monitoring.notify.events import DEFAULT_EVENTS, Event

Provider = Literal["webhook", "slack", "teams"]
PROVIDERS: tuple[Provider, ...] = ("webhook", "slack", "teams")


class NotificationSpecError(ValueError):
    """A ``spec.notifications`` entry is invalid; the message names the field."""


@dataclass(frozen=True)
class NotificationSpec:
    """One validated entry: provider, the Secret holding its URL, the events it wants."""

    provider: Provider
    secret_name: str
    events: frozenset[Event]


@dataclass(frozen=True)
class Endpoint:
    """A resolved destination. ``signing_key``: HMAC key for the generic webhook."""

    provider: Provider
    url: str
    events: frozenset[Event] = DEFAULT_EVENTS
    signing_key: bytes | None = None

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise NotificationSpecError(
                f"{self.provider} url must be http(s)://, got a {self.url[:8]!r}..."
            )

    def __repr__(self) -> str:  # the URL is a credential (Slack/Teams tokens live in it)
        return f"Endpoint(provider={self.provider!r}, events={sorted(self.events)})"


def parse_notifications(raw: Any) -> list[NotificationSpec]:
    """Validate ``spec.notifications`` (a list of mappings); errors name the field."""
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise NotificationSpecError("spec.notifications: must be a list")
    return [_parse_entry(entry, f"spec.notifications[{i}]") for i, entry in enumerate(raw)]


def _parse_entry(entry: Any, where: str) -> NotificationSpec:
    if not isinstance(entry, Mapping):
        raise NotificationSpecError(f"{where}: must be a mapping")
    unknown = set(entry) - {"provider", "secretRef", "events"}
    if unknown:
        raise NotificationSpecError(f"{where}.{sorted(unknown)[0]}: unknown field")
    provider = entry.get("provider")
    if provider not in PROVIDERS:
        raise NotificationSpecError(f"{where}.provider: must be one of {', '.join(PROVIDERS)}")
    secret = entry.get("secretRef")
    if (
        not isinstance(secret, Mapping)
        or not isinstance(secret.get("name"), str)
        or not secret["name"]
    ):
        raise NotificationSpecError(f"{where}.secretRef.name: required (the Secret with the url)")
    events = entry.get("events")
    if events is None:
        chosen = DEFAULT_EVENTS
    elif isinstance(events, list) and events:
        try:
            chosen = frozenset(Event(event) for event in events)
        except ValueError:
            known = ", ".join(e.value for e in Event)
            raise NotificationSpecError(f"{where}.events: each must be one of {known}") from None
    else:
        raise NotificationSpecError(f"{where}.events: must be a non-empty list")
    return NotificationSpec(cast(Provider, provider), secret["name"], chosen)
