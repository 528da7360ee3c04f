"""Where notifications go: the ``spec.notifications`` entries of a ModelRollout (pure).

The CRD field (each entry one provider; the URL, a credential, lives in a Secret)::

    notifications:
      - provider: webhook            # webhook | slack | teams
        secretRef: {name: churn-alerts}   # keys: url (or `key`), and hmacKey for signing
        events: [started, promoted, failed, manual]   # default: all but step
      - provider: webhook            # local mode: the URL (and HMAC key) from the
        urlEnv: ALERTS_URL           # operator's environment instead of a Secret
        hmacKeyEnv: ALERTS_HMAC_KEY

``parse_notifications`` validates the entries; the operator reads each Secret (or the
environment) and calls ``Endpoint`` with the URL and key, so this module never touches the
API server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from monitoring.notify.events import DEFAULT_EVENTS, Event

Provider = Literal["webhook", "slack", "teams"]
PROVIDERS: tuple[Provider, ...] = ("webhook", "slack", "teams")


MAX_ENTRIES = 8
MAX_NAME_LENGTH = 253
DEFAULT_URL_KEY = "url"
HMAC_KEY = "hmacKey"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELDS = {"provider", "secretRef", "urlEnv", "hmacKeyEnv", "events"}


class NotificationSpecError(ValueError):
    """A ``spec.notifications`` entry is invalid; the message names the field."""


@dataclass(frozen=True)
class NotificationSpec:
    """One validated entry: provider, where its URL comes from (the Secret ``secret_name``
    under ``secret_key``, its HMAC key under ``hmacKey``; or the environment variables
    ``url_env`` and ``hmac_key_env``), the events it wants. Exactly one source is set."""

    provider: Provider
    secret_name: str | None
    events: frozenset[Event]
    secret_key: str = DEFAULT_URL_KEY
    url_env: str | None = None
    hmac_key_env: str | None = None


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


def parse_notifications(raw: Any, *, where: str = "spec.notifications") -> list[NotificationSpec]:
    """Validate a list of entries (``spec.notifications``, or a namespace's defaults: then
    ``where`` names that key); errors name the field, e.g. ``spec.notifications[1].provider``."""
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise NotificationSpecError(f"{where}: must be a list")
    if len(raw) > MAX_ENTRIES:
        raise NotificationSpecError(
            f"{where}: must have at most {MAX_ENTRIES} items, got {len(raw)}"
        )
    return [_parse_entry(entry, f"{where}[{i}]") for i, entry in enumerate(raw)]


def _parse_entry(entry: Any, where: str) -> NotificationSpec:
    if not isinstance(entry, Mapping):
        raise NotificationSpecError(f"{where}: must be a mapping")
    unknown = set(entry) - _FIELDS
    if unknown:
        raise NotificationSpecError(f"{where}.{sorted(unknown)[0]}: unknown field")
    provider = entry.get("provider")
    if provider not in PROVIDERS:
        raise NotificationSpecError(f"{where}.provider: must be one of {', '.join(PROVIDERS)}")
    secret = entry.get("secretRef")
    url_env = _env_name(entry.get("urlEnv"), f"{where}.urlEnv")
    hmac_env = _env_name(entry.get("hmacKeyEnv"), f"{where}.hmacKeyEnv")
    if secret is None and url_env is None:
        raise NotificationSpecError(
            f"{where}.secretRef.name: required (the Secret with the url), or urlEnv"
        )
    if secret is not None and url_env is not None:
        raise NotificationSpecError(f"{where}.urlEnv: give secretRef or urlEnv, not both")
    if hmac_env is not None and url_env is None:
        raise NotificationSpecError(f"{where}.hmacKeyEnv: only with urlEnv (else hmacKey)")
    name, key = None, DEFAULT_URL_KEY
    if secret is not None:
        if not isinstance(secret, Mapping) or set(secret) - {"name", "key"}:
            raise NotificationSpecError(f"{where}.secretRef: must be {{name, key?}}")
        name = _name(secret.get("name"), f"{where}.secretRef.name")
        if secret.get("key") is not None:
            key = _name(secret.get("key"), f"{where}.secretRef.key")
    events = entry.get("events")
    if events is None:
        chosen = DEFAULT_EVENTS
    elif isinstance(events, list) and len(events) > len(Event):
        raise NotificationSpecError(f"{where}.events: at most {len(Event)} events")
    elif isinstance(events, list) and events:
        try:
            chosen = frozenset(Event(event) for event in events)
        except (ValueError, TypeError):
            known = ", ".join(e.value for e in Event)
            raise NotificationSpecError(f"{where}.events: each must be one of {known}") from None
    else:
        raise NotificationSpecError(f"{where}.events: must be a non-empty list")
    return NotificationSpec(
        cast(Provider, provider),
        name,
        chosen,
        secret_key=key,
        url_env=url_env,
        hmac_key_env=hmac_env,
    )


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise NotificationSpecError(f"{where}: required, a non-empty string")
    if len(value) > MAX_NAME_LENGTH:
        raise NotificationSpecError(f"{where}: must be at most {MAX_NAME_LENGTH} characters")
    return value


def _env_name(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _ENV_NAME.match(value) or len(value) > MAX_NAME_LENGTH:
        raise NotificationSpecError(f"{where}: must be an environment variable name")
    return value
