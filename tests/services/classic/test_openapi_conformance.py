"""The served classic service answers as its own ``/docs.json`` says, for every status.

A bounded, derandomized schemathesis run against ``bentoml serve``: for each operation of
the document, valid (positive) and invalid (negative) requests, checked for no server
error, a documented status code, and a body and headers that match the schema of that
status. Issue 8 §6: the 400 body used to contradict the document.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from canaria.testing.running import RunningProcess, free_port, running
from tests.hypothesis_budget import examples
from tests.services.classic.cases import MAX_BATCH, record

pytestmark = pytest.mark.slow

# Examples per operation and generation mode: a few hundred per scoring operation in all.
EXAMPLES = examples(150)
SCORING = ("POST /predict", "POST /predict_batch")
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


@pytest.fixture(scope="module")
def server(
    classic_model_tag: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProcess]:
    port = free_port()
    env = {"CANARIA_CLASSIC_MODEL_TAG": classic_model_tag, "CANARIA_MAX_BATCH": str(MAX_BATCH)}
    args = ["bentoml", "serve", "services.classic.service:ClassicService", "--port", str(port)]
    log_path = tmp_path_factory.mktemp("logs") / "classic.log"
    with running(
        args, log_path=log_path, port=port, ready_path="/readyz", env=env, timeout=120
    ) as process:
        yield process


@pytest.fixture(scope="module")
def document(server: RunningProcess) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/docs.json", timeout=30)
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


def _operation(document: dict[str, Any], label: str) -> Any:
    schema = schemathesis.openapi.from_dict(document)
    operation = schema.find_operation_by_label(label)
    assert operation is not None, sorted(schema.get_all_operations())
    return operation


def test_every_status_a_scoring_api_answers_is_documented_with_its_body(
    document: dict[str, Any],
) -> None:
    for path in ("/predict", "/predict_batch"):
        responses = document["paths"][path]["post"]["responses"]
        assert set(responses) == {"200", "400", "413", "415", "422", "500", "503", "504"}
        for status in ("400", "413", "422"):
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema["properties"]["detail"]["type"] == "array", (path, status)
        assert "Retry-After" in responses["503"]["headers"]


def test_the_issue_example_body_answers_as_documented(
    server: RunningProcess, document: dict[str, Any]
) -> None:
    """``[null, null]`` once answered a 400 whose ``detail`` contradicted the document."""
    operation = _operation(document, "POST /predict")
    case = operation.Case(body=[None, None], media_type="application/json")
    response = case.call_and_validate(base_url=server.base_url, checks=CHECKS)
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "body"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("label", SCORING)
def test_scoring_answers_conform_to_the_document(
    server: RunningProcess, document: dict[str, Any], label: str, mode: GenerationMode
) -> None:
    operation = _operation(document, label)
    statuses: set[int] = set()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: Any) -> None:
        response = case.call_and_validate(base_url=server.base_url, checks=CHECKS, timeout=30)
        statuses.add(response.status_code)

    conforms()
    # The run reached the statuses its mode is about, so it tested their bodies.
    expected = {200} if mode is GenerationMode.POSITIVE else {400}
    assert expected <= statuses, statuses
    assert all(status < 500 for status in statuses), statuses


@pytest.mark.parametrize("label", ["GET /livez", "GET /readyz", "GET /healthz", "GET /metrics"])
def test_infrastructure_answers_conform_to_the_document(
    server: RunningProcess, document: dict[str, Any], label: str
) -> None:
    response = (
        _operation(document, label)
        .Case()
        .call_and_validate(base_url=server.base_url, checks=CHECKS)
    )
    assert response.status_code == 200


def test_a_valid_record_scores_as_documented(
    server: RunningProcess, document: dict[str, Any]
) -> None:
    case = _operation(document, "POST /predict").Case(
        body={**record(), "customer_id": 7}, media_type="application/json"
    )
    response = case.call_and_validate(base_url=server.base_url, checks=CHECKS)
    assert response.status_code == 200
    assert json.loads(response.text)["customer_id"] == 7
