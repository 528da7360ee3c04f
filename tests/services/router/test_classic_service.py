"""The router in front of the real classic service (``bentoml serve``), shadow included."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from canaria.contracts import metrics as catalog
from canaria.testing.running import RunningProcess, free_port, start_process, wait_http
from canaria.testing.wait import wait_until

from .conftest import Router

pytestmark = pytest.mark.slow  # starts real processes or trains a model

COMPARISONS = catalog.SHADOW_COMPARISONS_TOTAL


@pytest.fixture(scope="module")
def classic_process(
    classic_model_tag: str,
    processes: list[RunningProcess],
    tmp_path_factory: pytest.TempPathFactory,
) -> RunningProcess:
    port = free_port()
    process = start_process(
        ["bentoml", "serve", "services.classic.service:ClassicService", "--port", str(port)],
        log_path=Path(tmp_path_factory.mktemp("classic")) / "classic.log",
        port=port,
        env={"CANARIA_CLASSIC_MODEL_TAG": classic_model_tag, "OMP_NUM_THREADS": "1"},
    )
    processes.append(process)
    wait_http(process, "/readyz", timeout=180)
    return process


@pytest.fixture(scope="module")
def classic_service(classic_process: RunningProcess) -> str:
    return classic_process.base_url


@pytest.fixture(scope="module")
def routers(
    classic_service: str,
    upstreams: dict[str, str],
    start_routers: Callable[..., dict[str, Router]],
) -> dict[str, Router]:
    def config(shadow: str) -> dict[str, Any]:
        return {
            "upstreams": {"stable": {"url": classic_service}, "shadow": {"url": shadow}},
            "shadow": {"sample_rate": 1.0, "disagreement_log_rate": 1.0},
            "never_log": ["customer_id"],
        }

    return start_routers(
        {"same": config(classic_service), "different": config(upstreams["different"])}
    )


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    from training import churn_data

    frame = churn_data.generate(n_rows=8, seed=11)
    columns = [churn_data.ID_COLUMN, *churn_data.FEATURE_NAMES]
    return [json.loads(json.dumps(row)) for row in frame[columns].to_dict("records")]


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as session:
        yield session


def test_answers_through_the_router_equal_direct_ones(
    client: httpx.Client,
    routers: dict[str, Router],
    classic_service: str,
    records: list[dict[str, Any]],
) -> None:
    for index, record in enumerate(records):
        rid = f"classic-{index}"
        direct = client.post(f"{classic_service}/predict", json=record).json()
        routed = client.post(
            f"{routers['same'].url}/predict", json=record, headers={"x-request-id": rid}
        )
        assert routed.status_code == 200
        assert routed.headers["x-request-id"] == rid
        answer = routed.json()
        assert answer["request_id"] == rid  # the service got the router's request id
        for field in ("predicted_class", "probability", "probabilities", "model_tag"):
            assert answer[field] == direct[field]


@pytest.mark.parametrize("given", ["dGVzdA==", "trace/42", "a+b", "bob@example.com"])
def test_the_routers_request_id_reaches_the_model_servers_log_line(
    client: httpx.Client,
    routers: dict[str, Router],
    classic_process: RunningProcess,
    records: list[dict[str, Any]],
    given: str,
) -> None:
    """One id per request on every hop: the id the router keeps is the one the service logs;
    an id holding an ``@`` (maybe an e-mail) is replaced by the router, and the service logs
    the replacement, never the given one."""
    routed = client.post(
        f"{routers['same'].url}/predict", json=records[0], headers={"x-request-id": given}
    )
    assert routed.status_code == 200
    rid = routed.headers["x-request-id"]
    assert (rid == given) is ("@" not in given)
    assert routed.json()["request_id"] == rid

    def logged_ids() -> set[str]:
        lines = (line for line in classic_process.log().splitlines() if line.startswith("{"))
        return {json.loads(line).get("request_id") for line in lines}

    wait_until("the request id in the service's log", lambda: rid in logged_ids(), poll=0.1)
    assert (given in classic_process.log()) is (rid == given)


def test_a_shadow_of_the_same_model_always_agrees(
    client: httpx.Client, routers: dict[str, Router], records: list[dict[str, Any]]
) -> None:
    router = routers["same"]
    before = router.metric(COMPARISONS, comparator="classic", outcome="agree")
    for record in records:
        assert client.post(f"{router.url}/predict", json=record).status_code == 200
    wait_until(
        "the expected counters and log lines",
        lambda: (
            router.metric(COMPARISONS, comparator="classic", outcome="agree")
            == before + len(records)
        ),
        poll=0.1,
    )
    assert router.declared(COMPARISONS, outcome="disagree") == 0
    assert router.series(catalog.SHADOW_DIFFERENCE + "_sum") == 0.0


def test_a_different_shadow_disagrees_and_the_log_keeps_no_customer_id(
    client: httpx.Client, routers: dict[str, Router], records: list[dict[str, Any]]
) -> None:
    router = routers["different"]
    for record in records:
        assert client.post(f"{router.url}/predict", json=record).status_code == 200
    # The test shadow always says "no" with 0.7: never the service's class or probability.
    wait_until(
        "the expected counters and log lines",
        lambda: router.metric(COMPARISONS, outcome="disagree") == len(records),
        poll=0.1,
    )
    wait_until(
        "the expected counters and log lines",
        lambda: router.log().count("shadow disagreement") == len(records),
        poll=0.1,
    )
    for record in records:
        assert record["customer_id"] not in router.log()


def test_refused_requests_pass_through_and_are_not_shadowed(
    client: httpx.Client, routers: dict[str, Router], records: list[dict[str, Any]]
) -> None:
    router = routers["same"]
    compared = router.metric(COMPARISONS)
    bad = {**records[0], "tenure_months": "long"}
    response = client.post(f"{router.url}/predict", json=bad)
    assert response.status_code == 422
    assert "tenure_months" in response.text
    assert router.series(catalog.ROUTER_REQUESTS_TOTAL, variant="stable", status="422") == 1
    assert router.declared(COMPARISONS) == compared  # no change (declared, may have no series)
