"""The notifier against a real HTTP receiver on loopback: delivery, signature, retries,
and a down or slow receiver never holding up the caller."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from canaria.testing.wait import wait_until
from monitoring.notify.endpoints import Endpoint
from monitoring.notify.events import Event
from monitoring.notify.messages import SIGNATURE_HEADER, Notification, verify
from monitoring.notify.sender import Notifier, SendPolicy
from tests.monitoring.notify.receiver import receiving

KEY = b"webhook-key"
CALLER_BOUND_S = 0.25  # what notify() may cost the caller (a busy 2-core machine: slack)
FAILED = Notification(
    event=Event.FAILED,
    rollout="ml/churn",
    decision="rollback",
    phase="Failed",
    canary_weight=0,
    message="success-rate 0.62 < min 0.99; rolled back",
    time="2026-11-29T21:00:00Z",
    checks=({"name": "success-rate", "verdict": "fail", "value": 0.62, "min": 0.99},),
)
FAST = SendPolicy(timeout_s=0.5, attempts=3, backoff_s=0.05)


@pytest.fixture
def notifier() -> Iterator[Notifier]:
    sender = Notifier(policy=FAST)
    yield sender
    sender.close(timeout=2)


def outcome(notifier: Notifier, provider: str, result: str) -> float:
    value = notifier.registry.get_sample_value(
        "canaria_notifications_total", {"provider": provider, "result": result}
    )
    return value or 0.0


def timed_notify(notifier: Notifier, endpoints: list[Endpoint]) -> float:
    started = time.perf_counter()
    notifier.notify(endpoints, FAILED)
    return time.perf_counter() - started


def test_webhook_receives_the_json_with_a_valid_signature(notifier: Notifier) -> None:
    with receiving(lambda n: (200, 0.0)) as receiver:
        endpoint = Endpoint("webhook", receiver.url, signing_key=KEY)
        assert notifier.notify([endpoint], FAILED) == 1
        wait_until("delivery", lambda: outcome(notifier, "webhook", "sent") == 1, timeout=5)
    (request,) = receiver.requests
    assert verify(request.body, request.headers[SIGNATURE_HEADER], key=KEY)
    body = json.loads(request.body)
    assert body["rollout"] == "ml/churn" and body["event"] == "failed"
    assert body["checks"][0]["name"] == "success-rate"
    assert request.headers["Content-Type"] == "application/json"


def test_slack_and_teams_receive_their_shapes_and_unsubscribed_get_nothing(
    notifier: Notifier,
) -> None:
    with receiving(lambda n: (200, 0.0)) as receiver:
        endpoints = [
            Endpoint("slack", receiver.url + "/slack"),
            Endpoint("teams", receiver.url + "/teams"),
            Endpoint("webhook", receiver.url + "/quiet", events=frozenset({Event.PROMOTED})),
        ]
        assert notifier.notify(endpoints, FAILED) == 2
        wait_until("two deliveries", lambda: len(receiver.requests) == 2, timeout=5)
        time.sleep(0.2)
    bodies = {r.path: json.loads(r.body) for r in receiver.requests}
    assert set(bodies) == {"/hook/slack", "/hook/teams"}
    assert "blocks" in bodies["/hook/slack"]
    assert bodies["/hook/teams"]["attachments"][0]["content"]["type"] == "AdaptiveCard"


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(notifier: Notifier) -> None:
    with receiving(lambda n: (503, 0.0) if n < 2 else (200, 0.0)) as receiver:
        assert timed_notify(notifier, [Endpoint("webhook", receiver.url)]) < CALLER_BOUND_S
        wait_until("delivery", lambda: outcome(notifier, "webhook", "sent") == 1, timeout=5)
    first, second, third = (r.at for r in receiver.requests)
    assert second - first >= FAST.backoff_s * 0.9
    assert third - second >= 2 * FAST.backoff_s * 0.9  # doubled
    assert outcome(notifier, "webhook", "failed") == 0


def test_a_client_error_is_not_retried(notifier: Notifier) -> None:
    with receiving(lambda n: (400, 0.0)) as receiver:
        notifier.notify([Endpoint("webhook", receiver.url)], FAILED)
        wait_until("failure", lambda: outcome(notifier, "webhook", "failed") == 1, timeout=5)
    assert len(receiver.requests) == 1


def test_a_down_receiver_costs_the_caller_nothing_and_is_counted(notifier: Notifier) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    assert timed_notify(notifier, [Endpoint("slack", url)]) < CALLER_BOUND_S
    wait_until("failure counted", lambda: outcome(notifier, "slack", "failed") == 1, timeout=5)


def test_a_slow_receiver_never_delays_the_caller_and_times_out(notifier: Notifier) -> None:
    with receiving(lambda n: (200, 3.0)) as receiver:
        endpoint = Endpoint("teams", receiver.url)
        costs = [timed_notify(notifier, [endpoint]) for _ in range(5)]
        assert max(costs) < CALLER_BOUND_S, costs
        # 3 attempts x 0.5 s timeout + backoff: the first message fails within ~1.7 s.
        wait_until("timeout", lambda: outcome(notifier, "teams", "failed") >= 1, timeout=5)
    assert outcome(notifier, "teams", "sent") == 0


def test_a_full_queue_drops_and_counts_instead_of_blocking() -> None:
    sender = Notifier(policy=SendPolicy(timeout_s=0.5, attempts=1, backoff_s=0, queue_size=2))
    try:
        with receiving(lambda n: (200, 1.0)) as receiver:
            endpoint = Endpoint("webhook", receiver.url)
            costs = [timed_notify(sender, [endpoint]) for _ in range(6)]
            assert max(costs) < CALLER_BOUND_S, costs
            assert outcome(sender, "webhook", "dropped") >= 3
    finally:
        started = time.monotonic()
        sender.close(timeout=0.5)
        assert time.monotonic() - started < 0.5 + 0.5 + 1.0  # close is bounded too
