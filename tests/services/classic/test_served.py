"""The classic service as ``bentoml serve`` runs it: one process for the module, over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from canaria.testing.metrics import MetricSamples, metric_samples, metric_value
from canaria.testing.running import RunningProcess, free_port, running
from services.classic.scoring import ChurnScorer
from tests.services.classic.cases import BAD_INPUTS, MAX_BATCH, BadInput, check_refusal, record
from training.classic import load

pytestmark = pytest.mark.slow  # starts real processes or trains a model

SECRET_ID = "C-secret-4711"


@pytest.fixture(scope="module")
def sample_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("samples") / "samples.jsonl"


@pytest.fixture(scope="module")
def server(
    classic_model_tag: str, sample_log: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProcess]:
    port = free_port()
    env = {
        "CANARIA_CLASSIC_MODEL_TAG": classic_model_tag,
        "CANARIA_MAX_BATCH": str(MAX_BATCH),
        "CANARIA_SAMPLE_LOG": str(sample_log),
        "CANARIA_SAMPLE_RATE": "1",
        "CANARIA_NEVER_LOG": "customer_id,age",
    }
    args = ["bentoml", "serve", "services.classic.service:ClassicService", "--port", str(port)]
    log_path = tmp_path_factory.mktemp("logs") / "classic.log"
    with running(
        args, log_path=log_path, port=port, ready_path="/readyz", env=env, timeout=120
    ) as process:
        yield process


def _post(server: RunningProcess, route: str, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}{route}",
        content=content,
        headers={"content-type": "application/json", **headers},
        timeout=30,
    )


def _metrics(server: RunningProcess) -> MetricSamples:
    return metric_samples(httpx.get(f"{server.base_url}/metrics", timeout=30).text)


def test_predict_answers_with_the_documented_shape(
    server: RunningProcess, classic_model_tag: str
) -> None:
    response = _post(
        server,
        "/predict",
        json.dumps({**record(), "customer_id": SECRET_ID}).encode(),
        **{"x-request-id": "served-1"},
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["model_tag"] == classic_model_tag
    assert payload["request_id"] == response.headers["x-request-id"] == "served-1"
    assert payload["customer_id"] == SECRET_ID
    assert payload["predicted_class"] in payload["probabilities"]
    assert payload["probability"] == max(payload["probabilities"].values())


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda bad: bad.name)
def test_bad_input_gets_its_documented_4xx(server: RunningProcess, bad: BadInput) -> None:
    response = _post(server, bad.route, bad.body)
    check_refusal(bad, response.status_code, response.json(), response.headers)


def test_concurrent_requests_are_batched_without_mixing_answers(
    server: RunningProcess, classic_model_tag: str
) -> None:
    pipeline, metadata = load(classic_model_tag)
    assert metadata.feature_schema is not None
    scorer = ChurnScorer(pipeline=pipeline, schema=metadata.feature_schema)
    records = [
        record(tenure_months=n % 73, support_calls=n % 16, age=18 + n, contract_type=contract)
        for n, contract in zip(
            range(48), ["month-to-month", "one-year", "two-year"] * 16, strict=True
        )
    ]
    expected = scorer.predict(records)

    def ask(index: int) -> httpx.Response:
        body = json.dumps({**records[index], "customer_id": index}).encode()
        return _post(server, "/predict", body, **{"x-request-id": f"c-{index}"})

    with ThreadPoolExecutor(max_workers=24) as pool:
        responses = list(pool.map(ask, range(len(records))))
    for index, response in enumerate(responses):
        assert response.status_code == 200, response.text
        payload = response.json()
        assert (payload["request_id"], payload["customer_id"]) == (f"c-{index}", index)
        assert payload["predicted_class"] == expected[index].predicted_class
        assert payload["probability"] == pytest.approx(expected[index].probability)
    # BentoML's adaptive batching histogram saw at least one model call with several records.
    metrics = _metrics(server)
    calls = metric_value(
        metrics, "bentoml_service_adaptive_batch_size_count", method_name="predict"
    )
    single = metric_value(
        metrics, "bentoml_service_adaptive_batch_size_bucket", method_name="predict", le="1.0"
    )
    assert calls > single > 0


def test_metrics_move(server: RunningProcess, classic_model_tag: str) -> None:
    version = classic_model_tag.split(":")[1]
    model = {"model": "churn-classifier", "version": version}
    before = _metrics(server)
    ok = _post(server, "/predict", json.dumps(record()).encode()).json()
    _post(server, "/predict", json.dumps(record(region="atlantis")).encode())
    _post(server, "/predict_batch", json.dumps({"records": []}).encode())
    after = _metrics(server)

    def delta(name: str, **labels: str) -> float:
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    assert delta("canaria_predictions_total", **model, predicted_class=ok["predicted_class"]) == 1
    assert delta("canaria_prediction_confidence_count", **model) == 1
    assert delta("canaria_invalid_requests_total", service="classic", reason="category") == 1
    assert delta("canaria_invalid_requests_total", service="classic", reason="batch_size") == 1
    assert metric_value(after, "canaria_model_info", **model, kind="classic") == 1


def test_samples_and_logs_never_hold_never_log_fields(
    server: RunningProcess, sample_log: Path
) -> None:
    batch = {"records": [{**record(age=33), "customer_id": SECRET_ID}, record()]}
    assert _post(server, "/predict_batch", json.dumps(batch).encode()).status_code == 200
    assert _post(server, "/predict", json.dumps({**record(), "customer_id": SECRET_ID}).encode())
    lines = [json.loads(line) for line in sample_log.read_text().splitlines()]
    assert len(lines) >= 3
    for line in lines:
        assert set(line) == {"ts", "request_id", "model_tag", "features", "prediction"}
        assert "age" not in line["features"] and "tenure_months" in line["features"]
        assert "customer_id" not in line["features"]
    assert SECRET_ID not in sample_log.read_text()
    log = server.log()
    assert SECRET_ID not in log
    assert "Traceback" not in log
    json_lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    scored = [line for line in json_lines if line["msg"] == "request scored"]
    assert scored and all(line["request_id"] and line["latency_ms"] >= 0 for line in scored)
    assert any(line.get("problems") for line in json_lines if line["msg"] == "request refused")
