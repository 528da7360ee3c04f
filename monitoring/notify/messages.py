"""Notifications and the HTTP requests that carry them (pure: no I/O, no clock).

A ``Notification`` says what happened to a rollout (the event), the engine's decision and
its evidence (the checks of the analysis, as the status records them). ``render`` turns it
into one provider's request: URL, headers and body bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitoring.notify.endpoints import Endpoint
from monitoring.notify.events import Event, event_for

SIGNATURE_HEADER = "X-Canaria-Signature"
EVENT_HEADER = "X-Canaria-Event"


@dataclass(frozen=True)
class Notification:
    """One message. ``rollout``: ``namespace/name``; ``time``: RFC 3339; ``checks``: the
    analysis's check results as the status has them (name, value, min/max, verdict, ...)."""

    event: Event
    rollout: str
    decision: str
    phase: str
    canary_weight: int
    message: str
    time: str
    checks: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event.value,
            "severity": self.event.severity,
            "rollout": self.rollout,
            "decision": self.decision,
            "phase": self.phase,
            "canaryWeight": self.canary_weight,
            "message": self.message,
            "time": self.time,
            "checks": [dict(check) for check in self.checks],
        }

    @property
    def headline(self) -> str:
        where = f"{self.phase}, canary {self.canary_weight}%"
        return f"canaria: {self.rollout} {self.event.value} ({where})"


def notification_for(
    *,
    rollout: str,
    decision: str,
    phase: str,
    canary_weight: int,
    message: str,
    time: str,
    checks: Sequence[Mapping[str, Any]] = (),
    manual: bool = False,
) -> Notification | None:
    """The notification for one engine decision, or None when nobody is told about it
    (see ``event_for``). Arguments are plain values, as the operator has them after a
    reconcile: ``decision.kind.value``, ``decision.status.phase.value``, ``[c.to_dict() for
    c in decision.analysis.checks]``, ``manual=action is not None``."""
    event = event_for(decision, phase=phase, manual=manual)
    if event is None:
        return None
    return Notification(
        event=event,
        rollout=rollout,
        decision=decision,
        phase=phase,
        canary_weight=canary_weight,
        message=message,
        time=time,
        checks=tuple(checks),
    )


def evidence_lines(checks: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per check: ``name verdict: message`` (or value and limits)."""
    lines = []
    for check in checks:
        detail = check.get("message") or f"value {check.get('value')}"
        lines.append(f"{check.get('name', '?')} {check.get('verdict', '')}: {detail}".strip())
    return lines


def generic_body(notification: Notification) -> dict[str, Any]:
    return notification.to_dict()


def slack_body(notification: Notification) -> dict[str, Any]:
    """Slack incoming-webhook payload: ``text`` (fallback) and Block Kit blocks."""
    evidence = "\n".join(f"• {line}" for line in evidence_lines(notification.checks))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notification.headline[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": notification.message or " "}},
    ]
    if evidence:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": evidence}})
    return {"text": f"{notification.headline}: {notification.message}", "blocks": blocks}


def teams_body(notification: Notification) -> dict[str, Any]:
    """Teams Workflows webhook payload: a message with one Adaptive Card."""
    facts = [
        {"title": "Rollout", "value": notification.rollout},
        {"title": "Decision", "value": notification.decision},
        {"title": "Phase", "value": notification.phase},
        {"title": "Canary weight", "value": f"{notification.canary_weight}%"},
    ]
    facts += [{"title": "Check", "value": line} for line in evidence_lines(notification.checks)]
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "size": "Medium",
                "weight": "Bolder",
                "text": notification.headline,
            },
            {"type": "TextBlock", "wrap": True, "text": notification.message},
            {"type": "FactSet", "facts": facts},
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def signature(body: bytes, *, key: bytes, timestamp: int) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>`` (Stripe-style:
    the timestamp inside the MAC lets a receiver refuse replays)."""
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(body: bytes, header: str, *, key: bytes) -> bool:
    """Whether ``header`` (the ``X-Canaria-Signature`` value) signs ``body`` with ``key``."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        expected = signature(body, key=key, timestamp=int(parts["t"]))
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(expected, header)


@dataclass(frozen=True)
class Request:
    url: str
    headers: Mapping[str, str]
    body: bytes


def render(endpoint: Endpoint, notification: Notification, *, now: int) -> Request:
    """The request telling ``endpoint`` about ``notification`` (``now``: unix seconds)."""
    builders = {"webhook": generic_body, "slack": slack_body, "teams": teams_body}
    payload = builders[endpoint.provider](notification)
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {"Content-Type": "application/json", EVENT_HEADER: notification.event.value}
    if endpoint.signing_key is not None:
        headers[SIGNATURE_HEADER] = signature(body, key=endpoint.signing_key, timestamp=now)
    return Request(url=endpoint.url, headers=headers, body=body)
