"""The classic service in-process: its methods called directly, and its ASGI app over HTTP.

The sample sink points under a regular file here, so every write fails: answers must not.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import bentoml
import pytest
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from services.classic.jobs import Accepted, Refused, Scored
from services.classic.validation import InvalidReason, Problem, ValidRecord
from tests.services.asgi import asgi_client
from tests.services.classic.cases import BAD_INPUTS, MAX_BATCH, BadInput, check_refusal, record

pytestmark = pytest.mark.slow  # starts real processes or trains a model

# Small, so the body-limit tests stay cheap; every other body here is under it.
BODY_LIMIT = 4096


@pytest.fixture(scope="module")
def service(classic_model_tag: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``ClassicService`` imported with this session's model and a broken sample sink."""
    blocker = tmp_path_factory.mktemp("sink") / "not-a-directory"
    blocker.write_text("")
    env = {
        "CANARIA_CLASSIC_MODEL_TAG": classic_model_tag,
        "CANARIA_MAX_BATCH": str(MAX_BATCH),
        "CANARIA_SAMPLE_LOG": str(blocker / "samples.jsonl"),
        "CANARIA_CLASSIC_MAX_BODY_BYTES": str(BODY_LIMIT),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        module = importlib.import_module("services.classic.service")
        if classic_model_tag != module.MODEL_TAG:  # imported earlier with another model
            module = importlib.reload(module)
        yield module.ClassicService


@pytest.fixture(scope="module")
def client(service: Any) -> Iterator[TestClient]:
    with asgi_client(service) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def instance(service: Any) -> Any:
    """A service object made by calling the class, as BentoML does in a worker."""
    return service()


def _metric(name: str, **labels: str) -> float:
    """A sample's value, 0 when the series does not exist yet: for the "before" of a delta."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _series(name: str, **labels: str) -> float:
    """A sample's value; fails when the series does not exist (a renamed metric is no 0)."""
    value = REGISTRY.get_sample_value(name, labels)
    assert value is not None, f"no series {name}{labels}"
    return value


def test_direct_call_scores_accepted_jobs_in_order_and_passes_refusals(instance: Any) -> None:
    problem = Problem("age", "is required", InvalidReason.MISSING)
    jobs = [
        Accepted("a", ValidRecord(record(contract_type="month-to-month", support_calls=6), "C1")),
        Refused("b", (problem,)),
        Accepted("c", ValidRecord(record(contract_type="two-year", tenure_months=70))),
    ]
    results = instance.predict(jobs)
    assert [type(result) for result in results] == [Scored, Refused, Scored]
    assert [result.request_id for result in results] == ["a", "b", "c"]
    first, _, last = results
    assert first.customer_id == "C1" and last.customer_id is None
    assert first.model_tag == instance.model_tag
    # A risky month-to-month customer with many support calls vs. a loyal two-year one.
    assert first.prediction.probabilities["churn"] > last.prediction.probabilities["churn"]
    for result in (first, last):
        assert result.prediction.probability == max(result.prediction.probabilities.values())
        assert sum(result.prediction.probabilities.values()) == pytest.approx(1.0)


def test_direct_call_moves_the_metrics(instance: Any) -> None:
    version = instance.model_tag.split(":")[1]
    labels = {"model": "churn-classifier", "version": version}
    (scored,) = instance.predict([Accepted("x", ValidRecord(record()))])
    predicted = {**labels, "predicted_class": scored.prediction.predicted_class}
    before = _metric("canaria_predictions_total", **predicted)
    confidence_before = _metric("canaria_prediction_confidence_count", **labels)
    invalid_before = _metric("canaria_invalid_requests_total", service="classic", reason="range")
    instance.predict([Accepted("y", ValidRecord(record()))])
    instance.predict([Refused("z", (Problem("age", "too old", InvalidReason.RANGE),))])
    assert _series("canaria_predictions_total", **predicted) == before + 1
    assert _series("canaria_prediction_confidence_count", **labels) == confidence_before + 1
    assert _series("canaria_invalid_requests_total", service="classic", reason="range") == (
        invalid_before + 1
    )
    (info,) = [
        sample
        for metric in REGISTRY.collect()
        if metric.name == "canaria_model_info"
        for sample in metric.samples
        if sample.labels["version"] == version
    ]
    assert info.value == 1.0
    assert info.labels["model"] == "churn-classifier" and info.labels["kind"] == "classic"


def test_predict_over_http(client: TestClient, classic_model_tag: str) -> None:
    response = client.post(
        "/predict",
        json={**record(), "customer_id": "C-77"},
        headers={"x-request-id": "req-1"},
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert set(payload) == {
        "predicted_class",
        "probability",
        "probabilities",
        "model_tag",
        "request_id",
        "customer_id",
    }
    assert payload["model_tag"] == classic_model_tag
    assert payload["request_id"] == response.headers["x-request-id"] == "req-1"
    assert payload["customer_id"] == "C-77"
    assert payload["probability"] == payload["probabilities"][payload["predicted_class"]]


def test_predict_batch_over_http(client: TestClient) -> None:
    records = [{**record(age=age), "customer_id": f"C{age}"} for age in (20, 40, 60, 80)]
    response = client.post("/predict_batch", json={"records": records})
    assert response.status_code == 200, response.text
    payload = response.json()
    assert [p["customer_id"] for p in payload["predictions"]] == ["C20", "C40", "C60", "C80"]
    assert payload["request_id"] == response.headers["x-request-id"]
    singles = [client.post("/predict", json=r).json() for r in records]
    assert [p["probability"] for p in payload["predictions"]] == pytest.approx(
        [s["probability"] for s in singles]
    )


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda bad: bad.name)
def test_bad_input_gets_its_documented_4xx(client: TestClient, bad: BadInput) -> None:
    response = client.post(
        bad.route, content=bad.body, headers={"content-type": "application/json"}
    )
    check_refusal(bad, response.status_code, response.json(), response.headers)


def test_the_api_docs_describe_the_record(client: TestClient) -> None:
    schema = client.get("/schema.json").json()
    routes = {route["name"]: route for route in schema["routes"]}
    assert "tenure_months" in routes["predict"]["input"]["properties"]
    assert client.get("/docs.json").status_code == 200


def test_a_broken_sample_sink_does_not_fail_requests(client: TestClient) -> None:
    running = bentoml.get_current_service()
    assert running.sink is not None and not running.sink.path.parent.is_dir()
    responses = [client.post("/predict", json=record()) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]


def _padded(size: int) -> bytes:
    """A valid /predict body of exactly ``size`` bytes (JSON padded with trailing spaces)."""
    body = json.dumps(record()).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


def _chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_at_the_limit_is_scored_one_byte_more_is_413(
    client: TestClient, chunked: bool
) -> None:
    for size, status in ((BODY_LIMIT, 200), (BODY_LIMIT + 1, 413)):
        body = _padded(size)
        content = _chunks(body) if chunked else body
        response = client.post(
            "/predict", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == status, (size, response.text)
    payload = response.json()
    (problem,) = payload["detail"]
    assert (problem["field"], problem["reason"]) == ("body", "body_size")
    assert f"at most {BODY_LIMIT} bytes" in problem["problem"]
    assert payload["request_id"] == response.headers["x-request-id"]


def test_a_declared_length_over_the_limit_is_refused_naming_both(client: TestClient) -> None:
    response = client.post(
        "/predict_batch",
        content=_padded(BODY_LIMIT + 500),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    problem = response.json()["detail"][0]["problem"]
    assert problem == f"is {BODY_LIMIT + 500} bytes; at most {BODY_LIMIT} bytes are allowed"


def test_bentomls_own_refusal_is_in_the_documented_shape(client: TestClient) -> None:
    response = client.post(
        "/predict",
        content=b"x",
        headers={"content-type": "application/vnd.bentoml+pickle", "x-request-id": "p-1"},
    )
    assert response.status_code == 415
    assert response.json() == {
        "error": "unsupported content type: send application/json",
        "request_id": "p-1",
    }
