"""The JSONL sample sink: what it writes, what it never writes, and that it never fails."""

from __future__ import annotations

import json
import random
from pathlib import Path

from services.classic.samples import SampleSink
from services.classic.scoring import Prediction
from tests.services.classic.cases import record

PREDICTION = Prediction("churn", 0.8, {"churn": 0.8, "stay": 0.2})


def _offer(sink: SampleSink, **features: object) -> bool:
    return sink.offer(
        features={**record(), **features},
        prediction=PREDICTION,
        model_tag="churn-classifier:v1",
        request_id="r1",
    )


def test_writes_one_json_line_per_record(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "samples.jsonl"
    sink = SampleSink(path=path, rate=1.0, never_log={"customer_id"})
    assert _offer(sink) and _offer(sink, age=30)
    sink.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 2
    assert lines[0]["features"] == record()
    assert lines[1]["features"]["age"] == 30
    assert lines[0]["prediction"] == PREDICTION.to_dict()
    assert lines[0]["model_tag"] == "churn-classifier:v1"
    assert lines[0]["request_id"] == "r1"
    assert lines[0]["ts"].endswith("Z")


def test_never_log_fields_are_not_written(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    sink = SampleSink(path=path, rate=1.0, never_log={"customer_id", "age"})
    _offer(sink, customer_id="C-secret")
    text = path.read_text()
    assert "C-secret" not in text and "customer_id" not in text
    assert "age" not in json.loads(text)["features"]


def test_the_rate_samples_records(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    sink = SampleSink(path=path, rate=0.3, never_log=(), rng=random.Random(1))
    written = sum(_offer(sink) for _ in range(1000))
    assert 230 < written < 370
    assert len(path.read_text().splitlines()) == written
    nothing = SampleSink(path=tmp_path / "none.jsonl", rate=0.0, never_log=())
    assert not _offer(nothing)
    assert not (tmp_path / "none.jsonl").exists()


def test_a_failing_sink_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    sink = SampleSink(path=blocker / "samples.jsonl", rate=1.0, never_log=())
    assert _offer(sink) is False
    assert _offer(sink) is False
