"""A model that declares ``national_id`` personal data: its value reaches no log line.

The in-process classic service serves ``personal_data_model``'s classifier with a sample
log; every request carries a national id. Neither the service's JSON log lines (captured
from the handler the service configured) nor the sample log may hold it, under any
spelling of the field name.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from canaria.contracts.logs import JsonFormatter, get_logger
from tests.services.asgi import asgi_client
from tests.services.classic.cases import record
from tests.services.classic.personal_data_model import (
    NATIONAL_ID,
    SECRET_ID,
    save_national_id_model,
)

pytestmark = pytest.mark.slow  # starts real processes or trains a model


@pytest.fixture(scope="module")
def served(
    bentoml_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, Path]]:
    """``ClassicService`` imported with the national-id model, and its sample log (rate 1)."""
    tag = save_national_id_model()
    sample_log = tmp_path_factory.mktemp("samples") / "samples.jsonl"
    env = {
        "CANARIA_CLASSIC_MODEL_TAG": tag,
        "CANARIA_SAMPLE_LOG": str(sample_log),
        "CANARIA_SAMPLE_RATE": "1",
        "CANARIA_NEVER_LOG": "customer_id",  # the model's list must come on top of it
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        module = importlib.import_module("services.classic.service")
        if tag != module.MODEL_TAG:
            module = importlib.reload(module)
        yield module.ClassicService, sample_log


@pytest.fixture
def captured(served: tuple[Any, Path]) -> Iterator[tuple[TestClient, io.StringIO]]:
    """A client of the started service, and the lines its canaria log handler writes."""
    buffer = io.StringIO()
    with asgi_client(served[0]) as client:
        handlers = [
            handler
            for handler in logging.getLogger("canaria").handlers
            if isinstance(handler, logging.StreamHandler)
            and isinstance(handler.formatter, JsonFormatter)
        ]
        assert handlers, "the service configured no JSON handler on the canaria logger"
        previous = [handler.setStream(buffer) for handler in handlers]
        try:
            yield client, buffer
        finally:
            for handler, stream in zip(handlers, previous, strict=True):
                handler.setStream(stream)


def test_a_declared_personal_data_field_reaches_no_log_line(
    served: tuple[Any, Path], captured: tuple[TestClient, io.StringIO]
) -> None:
    client, logs = captured
    one = {**record(), NATIONAL_ID: SECRET_ID, "customer_id": "C-1"}
    assert client.post("/predict", json=one).status_code == 200
    batch = {"records": [one, {**record(tenure_months=40), NATIONAL_ID: SECRET_ID}]}
    assert client.post("/predict_batch", json=batch).status_code == 200
    refused = {**record(), NATIONAL_ID: SECRET_ID, "tenure_months": "soon"}
    assert client.post("/predict", json=refused).status_code == 422
    # Any line of this process, with the field spelt otherwise: the formatter knows it.
    for key in ("national_id", "National_ID", "NATIONAL-ID", "national id "):
        get_logger("classic.test").warning("probe", extra={key: SECRET_ID, "kept": 1})

    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert sum(line["msg"] == "request scored" for line in lines) == 2
    assert sum(line["msg"] == "request refused" for line in lines) == 1
    probes = [line for line in lines if line["msg"] == "probe"]
    assert len(probes) == 4 and all(line["kept"] == 1 for line in probes)
    assert SECRET_ID not in logs.getvalue()

    samples = served[1].read_text()
    rows = [json.loads(line) for line in samples.splitlines()]
    assert len(rows) == 3  # every scored record, none of them with its national id
    assert all(NATIONAL_ID not in row["features"] for row in rows)
    assert all(row["features"]["tenure_months"] in (15, 40) for row in rows)
    assert SECRET_ID not in samples
