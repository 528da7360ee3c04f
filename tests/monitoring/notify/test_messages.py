"""Notifications, provider bodies, signatures and the spec entries (pure)."""

from __future__ import annotations

import json

import pytest

from monitoring.notify.endpoints import (
    Endpoint,
    NotificationSpecError,
    parse_notifications,
)
from monitoring.notify.events import DEFAULT_EVENTS, Event, event_for
from monitoring.notify.messages import (
    EVENT_HEADER,
    SIGNATURE_HEADER,
    Notification,
    notification_for,
    render,
    signature,
    verify,
)

CHECK = {
    "name": "success-rate",
    "verdict": "fail",
    "value": 0.62,
    "min": 0.99,
    "message": "success-rate 0.62 < min 0.99",
}
FAILED = Notification(
    event=Event.FAILED,
    rollout="ml/churn",
    decision="rollback",
    phase="Failed",
    canary_weight=0,
    message="failed (3) > failureLimit (2); rolled back to churn-classifier:v1",
    time="2026-11-29T21:00:00Z",
    checks=(CHECK,),
)
KEY = b"shared-secret"


@pytest.mark.parametrize(
    ("decision", "phase", "manual", "event"),
    [
        ("start", "Progressing", False, Event.STARTED),
        ("advance", "Progressing", False, Event.STEP),
        ("promote", "Promoting", False, Event.PROMOTING),
        ("complete", "Succeeded", False, Event.PROMOTED),
        ("rollback", "Failed", False, Event.FAILED),
        ("rollback", "RolledBack", True, Event.MANUAL),
        ("promote", "Promoting", True, Event.MANUAL),
        ("pause", "Paused", True, Event.MANUAL),
        ("hold", "Progressing", False, None),
        ("wait", "Progressing", False, None),
    ],
)
def test_event_for_each_decision(decision: str, phase: str, manual: bool, event: Event) -> None:
    assert event_for(decision, phase=phase, manual=manual) == event


def test_notification_for_a_decision_or_none() -> None:
    common = {"rollout": "ml/churn", "canary_weight": 0, "message": "m", "time": "t"}
    failed = notification_for(decision="rollback", phase="Failed", checks=[CHECK], **common)
    assert failed is not None and failed.event is Event.FAILED and failed.checks == (CHECK,)
    manual = notification_for(decision="rollback", phase="RolledBack", manual=True, **common)
    assert manual is not None and manual.event is Event.MANUAL
    assert notification_for(decision="hold", phase="Progressing", **common) is None


def test_generic_webhook_carries_the_decision_and_its_evidence_signed() -> None:
    endpoint = Endpoint("webhook", "http://127.0.0.1:1/hook", signing_key=KEY)
    request = render(endpoint, FAILED, now=1_800_000_000)
    body = json.loads(request.body)
    assert body["rollout"] == "ml/churn" and body["event"] == "failed"
    assert body["severity"] == "error" and body["canaryWeight"] == 0
    assert body["checks"] == [CHECK]
    assert request.headers[EVENT_HEADER] == "failed"
    header = request.headers[SIGNATURE_HEADER]
    assert header.startswith("t=1800000000,v1=")
    assert verify(request.body, header, key=KEY)
    assert not verify(request.body + b" ", header, key=KEY)
    assert not verify(request.body, header, key=b"other")
    assert not verify(request.body, "garbage", key=KEY)


def test_unsigned_webhook_has_no_signature_header() -> None:
    request = render(Endpoint("webhook", "https://example.test/x"), FAILED, now=1)
    assert SIGNATURE_HEADER not in request.headers


def test_slack_body_has_text_and_blocks_with_the_evidence() -> None:
    body = json.loads(render(Endpoint("slack", "https://hooks.test/x"), FAILED, now=1).body)
    assert "ml/churn failed" in body["text"]
    assert any("success-rate 0.62 < min 0.99" in b["text"]["text"] for b in body["blocks"][1:])


def test_teams_body_is_an_adaptive_card_with_facts() -> None:
    body = json.loads(render(Endpoint("teams", "https://teams.test/x"), FAILED, now=1).body)
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    facts = attachment["content"]["body"][2]["facts"]
    assert {"title": "Rollout", "value": "ml/churn"} in facts
    assert any("success-rate" in fact["value"] for fact in facts)


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(KEY, b"5.{}", hashlib.sha256).hexdigest()
    assert signature(b"{}", key=KEY, timestamp=5) == f"t=5,v1={expected}"


def test_endpoint_url_is_never_shown() -> None:
    endpoint = Endpoint("slack", "https://hooks.slack.test/services/T0/B0/secret-token")
    assert "secret-token" not in repr(endpoint)
    with pytest.raises(NotificationSpecError, match="http"):
        Endpoint("slack", "ftp://x")


def test_parse_notifications_accepts_the_proposed_fields() -> None:
    (spec,) = parse_notifications(
        [{"provider": "teams", "secretRef": {"name": "alerts"}, "events": ["failed"]}]
    )
    assert spec.provider == "teams" and spec.secret_name == "alerts"
    assert spec.events == {Event.FAILED}
    (default,) = parse_notifications([{"provider": "webhook", "secretRef": {"name": "a"}}])
    assert default.events == DEFAULT_EVENTS and Event.STEP not in DEFAULT_EVENTS
    assert parse_notifications(None) == []


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"notifications": 1}, "spec.notifications: must be a list"),
        ([{"provider": "discord", "secretRef": {"name": "a"}}], r"\[0\]\.provider"),
        ([{"provider": "slack"}], r"\[0\]\.secretRef\.name"),
        ([{"provider": "slack", "secretRef": {"name": "a"}, "events": ["x"]}], r"\.events"),
        ([{"provider": "slack", "secretRef": {"name": "a"}, "events": []}], r"\.events"),
        ([{"provider": "slack", "secretRef": {"name": "a"}, "url": "x"}], r"\.url: unknown"),
        (["slack"], r"\[0\]: must be a mapping"),
    ],
)
def test_parse_notifications_names_the_bad_field(raw: object, field: str) -> None:
    with pytest.raises(NotificationSpecError, match=field):
        parse_notifications(raw)
