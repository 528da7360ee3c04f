"""The classic service as ``bentoml serve`` runs it: one process for the module, over HTTP."""

from __future__ import annotations

import json
import os
import select
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from canaria.testing.metrics import MetricSamples, metric_samples, metric_value, series_value
from canaria.testing.running import RunningProcess, free_port, running
from services.classic.scoring import ChurnScorer
from tests.services.classic.cases import BAD_INPUTS, MAX_BATCH, BadInput, check_refusal, record
from training.classic import load

pytestmark = pytest.mark.slow  # starts real processes or trains a model

SECRET_ID = "C-secret-4711"
# The served limit (the default, 1 MiB) and the attack body of issue 13: 200 MiB chunked.
BODY_LIMIT = 1 << 20
ATTACK_BYTES = 200 << 20


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
    calls = series_value(
        metrics, "bentoml_service_adaptive_batch_size_count", method_name="predict"
    )
    single = series_value(
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
        return series_value(after, name, **labels) - metric_value(before, name, **labels)

    assert delta("canaria_predictions_total", **model, predicted_class=ok["predicted_class"]) == 1
    assert delta("canaria_prediction_confidence_count", **model) == 1
    assert delta("canaria_invalid_requests_total", service="classic", reason="category") == 1
    assert delta("canaria_invalid_requests_total", service="classic", reason="batch_size") == 1
    assert series_value(after, "canaria_model_info", **model, kind="classic") == 1


def test_samples_and_logs_never_hold_never_log_fields(
    server: RunningProcess, sample_log: Path
) -> None:
    """Self-contained: it sends its own requests, by request id, and checks what those
    wrote to the sample file and the log (it passes or fails the same alone)."""
    batch = {"records": [{**record(age=33), "customer_id": SECRET_ID}, record()]}
    ids = {"nl-batch": "/predict_batch", "nl-single": "/predict", "nl-refused": "/predict"}
    bodies = {
        "nl-batch": batch,
        "nl-single": {**record(), "customer_id": SECRET_ID},
        "nl-refused": {**record(age=200), "customer_id": SECRET_ID},
    }
    statuses = {
        request_id: _post(
            server, route, json.dumps(bodies[request_id]).encode(), **{"x-request-id": request_id}
        ).status_code
        for request_id, route in ids.items()
    }
    assert statuses == {"nl-batch": 200, "nl-single": 200, "nl-refused": 422}

    samples = [json.loads(line) for line in sample_log.read_text().splitlines()]
    mine = [line for line in samples if line["request_id"] in ids]
    assert sorted(line["request_id"] for line in mine) == ["nl-batch", "nl-batch", "nl-single"]
    for line in mine:
        assert set(line) == {"ts", "request_id", "model_tag", "features", "prediction"}
        assert "age" not in line["features"] and "tenure_months" in line["features"]
        assert "customer_id" not in line["features"]
    assert SECRET_ID not in sample_log.read_text()

    log = server.log()
    assert SECRET_ID not in log
    assert "Traceback" not in log
    json_lines = {
        line["request_id"]: line
        for line in (json.loads(text) for text in log.splitlines() if text.startswith("{"))
        if line.get("request_id") in ids
    }
    assert set(json_lines) == set(ids)
    assert json_lines["nl-batch"]["msg"] == json_lines["nl-single"]["msg"] == "request scored"
    assert json_lines["nl-batch"]["records"] == 2
    assert json_lines["nl-refused"]["msg"] == "request refused"
    assert json_lines["nl-refused"]["problems"] == ["age:range"]
    assert "200" not in json.dumps(json_lines["nl-refused"]["problems"])  # no values logged


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of process ``root`` and all its descendants (BentoML's workers run
    in sessions of their own, so a process group would miss them)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    tree = {root}
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return sum(rss.get(pid, 0) for pid in tree)


def _stream_until_answered(server: RunningProcess, total: int, root: int) -> tuple[bytes, int, int]:
    """POST ``total`` bytes chunked to /predict until the server answers or stops reading.

    Returns (the answer, the bytes sent, the largest RSS growth of the server's processes).
    """
    assert server.port is not None
    chunk = b"[" * (64 << 10)
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    baseline = _tree_rss_bytes(root)
    growth, sent = 0, 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        while sent < total and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(frame)
            except (TimeoutError, OSError):
                break  # the server stopped reading: it answered, or will
            sent += len(chunk)
            if sent % (8 << 20) == 0:
                growth = max(growth, _tree_rss_bytes(root) - baseline)
        growth = max(growth, _tree_rss_bytes(root) - baseline)
        sock.settimeout(30)
        answer = b""
        deadline = time.monotonic() + 30
        while b"}" not in answer.partition(b"\r\n\r\n")[2] and time.monotonic() < deadline:
            part = sock.recv(65536)
            if not part:
                break
            answer += part
    return answer, sent, growth


def test_a_200_mib_chunked_body_is_refused_while_reading(server: RunningProcess) -> None:
    """Issue 13: the worker once buffered the whole body (260 -> 657 MB) before a 400."""
    answer, sent, growth = _stream_until_answered(server, ATTACK_BYTES, server.popen.pid)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    (problem,) = json.loads(body)["detail"]
    assert problem["reason"] == "body_size"
    assert f"at most {BODY_LIMIT} bytes" in problem["problem"]
    # The server stopped reading soon after the limit and held no more than a few MiB.
    assert sent < ATTACK_BYTES / 4, sent
    assert growth < 64 << 20, growth
    # It still answers afterwards.
    assert _post(server, "/predict", json.dumps(record()).encode()).status_code == 200
