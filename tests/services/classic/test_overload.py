"""The classic service's overload behaviour, served: shed requests get 503 + Retry-After.

BentoML's batching dispatcher cancels a queued request whose estimated wait passes the
API's ``max_latency_ms`` (CANARIA_CLASSIC_BATCH_LATENCY_MS). With the bound at 1 ms, a
burst of concurrent requests is partly shed; each shed request must get the documented
503 body and ``Retry-After``, and the log one line, no traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import schemathesis

from canaria.testing.running import RunningProcess, free_port, running
from tests.services.classic.cases import record

pytestmark = pytest.mark.slow

BURST = 96
# A 503 is a server error by definition: check it against the document, not that.
DOCUMENT_CHECKS = [
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]
CONCURRENCY = 32


@pytest.fixture(scope="module")
def server(
    classic_model_tag: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProcess]:
    port = free_port()
    env = {
        "CANARIA_CLASSIC_MODEL_TAG": classic_model_tag,
        "CANARIA_CLASSIC_BATCH_LATENCY_MS": "1",
    }
    args = ["bentoml", "serve", "services.classic.service:ClassicService", "--port", str(port)]
    log_path = tmp_path_factory.mktemp("logs") / "classic.log"
    with running(
        args, log_path=log_path, port=port, ready_path="/readyz", env=env, timeout=120
    ) as process:
        yield process


def test_shed_requests_get_503_with_retry_after_as_documented(server: RunningProcess) -> None:
    body = json.dumps(record()).encode()

    def ask(index: int) -> httpx.Response:
        return httpx.post(
            f"{server.base_url}/predict",
            content=body,
            headers={"content-type": "application/json", "x-request-id": f"burst-{index}"},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        responses = list(pool.map(ask, range(BURST)))
    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {200, 503}, statuses
    shed = [(i, r) for i, r in enumerate(responses) if r.status_code == 503]
    assert shed, "a 1 ms latency bound shed nothing"
    document: dict[str, Any] = httpx.get(f"{server.base_url}/docs.json", timeout=30).json()
    operation = schemathesis.openapi.from_dict(document).find_operation_by_label("POST /predict")
    assert operation is not None
    for index, response in shed:
        assert response.headers["retry-after"] == "1"
        assert response.json() == {
            "error": response.json()["error"],
            "request_id": f"burst-{index}",
        }
        assert response.json()["error"].startswith("overloaded")
        case = operation.Case(body=record(), media_type="application/json")
        case.validate_response(response, checks=DOCUMENT_CHECKS)
    log = server.log()
    assert "Traceback" not in log
    failed = [
        json.loads(line)
        for line in log.splitlines()
        if line.startswith("{") and '"request failed"' in line
    ]
    assert sorted(line["request_id"] for line in failed) == sorted(
        f"burst-{index}" for index, _ in shed
    )
    assert {line["status"] for line in failed} == {503}
