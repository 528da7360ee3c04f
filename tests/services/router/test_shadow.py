"""The shadow sidecar: copies after the primary answered, compares, never hurts the primary."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from canaria.contracts import metrics as catalog
from canaria.testing.wait import wait_until

from .conftest import CLIENTS, Router

pytestmark = pytest.mark.slow  # starts real processes or trains a model

PREDICT = {"features": {"tenure": 3, "plan": "basic"}}
COMPARISONS = catalog.SHADOW_COMPARISONS_TOTAL
FAILURES = catalog.SHADOW_FAILURES_TOTAL
DIFFERENCE = catalog.SHADOW_DIFFERENCE


def _config(
    upstreams: dict[str, str], shadow: str, *, timeout: float = 5.0, **settings: Any
) -> dict[str, Any]:
    return {
        "upstreams": {
            "stable": {"url": upstreams["stable"], "timeout_seconds": 5},
            "shadow": {"url": upstreams[shadow], "timeout_seconds": timeout},
        },
        "shadow": {"sample_rate": 1.0, "disagreement_log_rate": 1.0, **settings},
        "never_log": ["email", "customer_name"],
    }


@pytest.fixture(scope="module", params=CLIENTS)
def routers(
    request: pytest.FixtureRequest,
    upstreams: dict[str, str],
    start_routers: Callable[..., dict[str, Router]],
) -> dict[str, Router]:
    """The routers, once with each upstream client (every test here runs with both)."""
    mirror = {
        "upstreams": {
            "stable": {"url": upstreams["stable"]},
            "canary": {"url": upstreams["canary"]},
        },
        "mirror": True,
        "shadow": {"sample_rate": 0.5},
        "override_header": "x-canaria-variant",
    }
    return start_routers(
        {
            "agree": _config(upstreams, "canary"),
            "disagree": _config(upstreams, "different"),
            "slow": _config(upstreams, "slow", timeout=1.0, max_in_flight=3),
            "failing": _config(upstreams, "failing"),
            "down": _config(upstreams, "dead"),
            "text": _config(upstreams, "canary", comparator="text"),
            "mirror": mirror,
            "no_shadow": {"upstreams": {"stable": {"url": upstreams["stable"]}}},
        },
        client=request.param,
    )


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as session:
        yield session


def settled(read: Callable[[], float], *, quiet: float = 1.0, timeout: float = 30.0) -> float:
    """A metric's value once it has stopped changing for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last = read()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = read()
        if now == last:
            return now
        last = now
    raise AssertionError(f"metric still moving after {timeout}s")


def direct_answer(client: httpx.Client, url: str) -> dict[str, Any]:
    answer = client.post(f"{url}/predict", json=PREDICT).json()
    answer.pop("request_id")
    return dict(answer)


def test_classic_answers_that_agree_are_counted(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["agree"]
    for _ in range(20):
        assert client.post(f"{router.url}/predict", json=PREDICT).status_code == 200
    wait_until(
        "the expected counters and log lines",
        lambda: router.metric(COMPARISONS, comparator="classic", outcome="agree") == 20,
        poll=0.1,
    )
    assert router.declared(COMPARISONS, outcome="disagree") == 0
    assert router.series(DIFFERENCE + "_count", comparator="classic") == 20
    # |0.9 - 0.88| for each of the 20 comparisons.
    assert router.series(DIFFERENCE + "_sum") == pytest.approx(20 * 0.02, abs=1e-6)


def test_disagreements_are_counted_and_logged_without_personal_data(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["disagree"]
    body = {
        **PREDICT,
        "email": "alice@example.com",
        "Email": "ann@example.com",
        "EMAIL": "amy@example.com",
        "Customer_ID": "cust-4711",
        "customer_id": "cust-4712",
        "email ": "abe@example.com",  # a key with a trailing space
        "note": "please reply to al@example.com soon",  # free text
        "ada@example.com": {"plan": "pro"},  # an e-mail as a key
        "customer_name": "Alice Example",
        "history": [[{"email": "bob@example.com", "plan": "pro"}]],  # a list in a list
    }
    for index in range(10):
        headers = {"x-request-id": f"disagree-{index}"}
        response = client.post(f"{router.url}/predict", json=body, headers=headers)
        assert response.json()["predicted_class"] == "yes"  # the primary's answer
    # A client's request id holding an e-mail is replaced, never logged.
    client.post(f"{router.url}/predict", json=body, headers={"x-request-id": "id@example.com"})
    wait_until(
        "the expected counters and log lines",
        lambda: router.metric(COMPARISONS, comparator="classic", outcome="disagree") == 11,
        poll=0.1,
    )
    assert router.declared(COMPARISONS, outcome="agree") == 0
    # A changed class is the largest difference.
    assert router.series(DIFFERENCE + "_sum", comparator="classic") == pytest.approx(11.0)
    wait_until(
        "the expected counters and log lines",
        lambda: router.log().count("shadow disagreement") == 11,
        poll=0.1,
    )
    records = [
        json.loads(line) for line in router.log().splitlines() if "shadow disagreement" in line
    ]
    ids = {record["request_id"] for record in records}
    assert {f"disagree-{i}" for i in range(10)} < ids
    # Only the allowlist: ids, variant, comparator, difference, what differed, results, digest.
    assert set(records[0]) - {"ts", "level", "logger", "msg"} == {
        "request_id", "comparator", "difference", "primary_variant", "differed",
        "primary", "shadow", "request",
    }  # fmt: skip
    assert records[0]["primary"] == [{"predicted_class": "yes", "probability": 0.9}]
    assert records[0]["shadow"] == [{"predicted_class": "no", "probability": 0.7}]
    assert records[0]["differed"] == ["predicted_class", "probability"]
    assert set(records[0]["request"]) == {"bytes", "sha256"}
    for personal in ("@example.com", "Alice Example", "cust-471", "id@"):
        assert personal not in router.log()


@pytest.mark.parametrize(
    ("name", "reason"), [("slow", "timeout"), ("failing", "status"), ("down", "connect")]
)
def test_a_broken_shadow_leaves_the_primary_answer_alone(
    client: httpx.Client,
    routers: dict[str, Router],
    upstreams: dict[str, str],
    name: str,
    reason: str,
) -> None:
    router, baseline = routers[name], routers["no_shadow"]
    expected = direct_answer(client, upstreams["stable"])

    def timed(url: str) -> tuple[float, httpx.Response]:
        started = time.monotonic()
        response = client.post(f"{url}/predict", json=PREDICT)
        return time.monotonic() - started, response

    with_shadow, without = [], []
    for _ in range(8):  # alternating, so both see the same machine load
        seconds, response = timed(router.url)
        with_shadow.append(seconds)
        without.append(timed(baseline.url)[0])
        # The slow shadow takes 1.5 s; a primary that waited for it could not be this fast.
        assert seconds < 1.0
        assert response.status_code == 200
        answer = response.json()
        answer.pop("request_id")
        assert answer == expected
    # The same latency as with no shadow at all (a generous margin for a shared machine).
    assert statistics.median(with_shadow) <= statistics.median(without) + 0.1

    def failed() -> float:
        return router.metric(FAILURES, reason=reason)

    if name == "slow":
        # max_in_flight 3: copies past the third running one are dropped, not queued.
        def accounted() -> bool:
            return failed() + router.metric(catalog.SHADOW_DROPPED_TOTAL) == 8

        wait_until("every copy timed out or dropped", accounted, poll=0.1)
        assert failed() >= 3 and router.metric(catalog.SHADOW_DROPPED_TOTAL) >= 1
    else:
        wait_until(f"8 {reason} failures", lambda: failed() == 8, poll=0.1)
    assert router.declared(COMPARISONS) == 0


def test_text_answers_are_compared_by_embedding(
    client: httpx.Client, routers: dict[str, Router], upstreams: dict[str, str]
) -> None:
    router = routers["text"]
    url = f"{router.url}/v1/completions"
    for _ in range(3):
        assert client.post(url, json={"prompt": "Where is the cat?"}).status_code == 200
    for _ in range(2):
        with client.stream("POST", url, json={"prompt": "Where?", "stream": True}) as response:
            assert b"[DONE]" in response.read()
    # "The cat sits on the mat." / "A cat is sitting on a mat.": token overlap is 3/8, so
    # only the embedding comparator calls these the same answer.
    wait_until(
        "5 text agreements",
        lambda: router.metric(COMPARISONS, comparator="text", outcome="agree") == 5,
        timeout=90,
        poll=0.1,
    )
    # Hot reload to a shadow that talks about something else: the same comparator says no.
    config = _config(upstreams, "different", comparator="text")
    router.write_config(config)
    wait_until(
        "the expected counters and log lines",
        lambda: router.metric(catalog.ROUTER_CONFIG_RELOADS_TOTAL, result="success") == 1,
        poll=0.1,
    )
    for _ in range(3):
        assert client.post(url, json={"prompt": "Where is the cat?"}).status_code == 200
    secret = {"prompt": "my name is Zed Quux", "messages": [{"content": "Zed Quux here"}]}
    assert client.post(url, json=secret).status_code == 200
    wait_until(
        "the expected counters and log lines",
        lambda: router.metric(COMPARISONS, comparator="text", outcome="disagree") == 4,
        poll=0.1,
    )
    assert router.series(DIFFERENCE + "_count", comparator="text") == 9
    # Prompts and answers are never written: lengths and digests only.
    wait_until(
        "the expected counters and log lines",
        lambda: router.log().count("shadow disagreement") == 4,
        poll=0.1,
    )
    for text in ("Zed Quux", "Where is the cat", "Stock markets", "cat sits"):
        assert text not in router.log()
    line = next(line for line in router.log().splitlines() if "shadow disagreement" in line)
    assert set(json.loads(line)["shadow"]) == {"chars", "sha256"}


def test_mirror_copies_a_sample_of_stable_traffic_to_the_canary(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["mirror"]
    served = {
        client.post(f"{router.url}/predict", json=PREDICT).json()["served_by"] for _ in range(200)
    }
    assert served == {"stable"}
    compared = settled(lambda: router.metric(COMPARISONS, comparator="classic", outcome="agree"))
    assert 100 - 32 <= compared <= 100 + 32  # sample_rate 0.5, within 4.5 sigma
    forced = {"x-canaria-variant": "canary"}
    for _ in range(10):
        client.post(f"{router.url}/predict", json=PREDICT, headers=forced)
    assert settled(lambda: router.metric(COMPARISONS)) == compared  # canary answers: no copy
