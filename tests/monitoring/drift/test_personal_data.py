"""Drift skips the features a model declares as personal data.

The sample log drops them (services/classic/samples.py: dropped, not hashed), so the
current side has no values for them: ``ModelReference.schema`` leaves them out, and
``canaria drift --model`` analyses a sample log written by the real sink.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canaria.cli import main
from monitoring.drift.config import DriftConfig
from monitoring.drift.engine import analyse
from monitoring.drift.reference import load_model_reference
from monitoring.drift.tables import DriftInputError, read_table
from services.classic.samples import SampleSink
from services.classic.scoring import Prediction
from tests.services.classic.personal_data_model import NATIONAL_ID, save_national_id_model
from training import churn_data

pytestmark = pytest.mark.slow  # starts real processes or trains a model


def test_declared_personal_data_features_are_not_analysed(
    bentoml_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = save_national_id_model()
    loaded = load_model_reference(tag)
    assert loaded.metadata.personal_data_fields == ("customer_id", NATIONAL_ID)
    assert NATIONAL_ID in loaded.metadata.feature_schema.names  # type: ignore[union-attr]
    assert loaded.schema is not None
    assert loaded.schema.names == list(churn_data.FEATURE_NAMES)
    assert NATIONAL_ID in loaded.frame.columns  # the reference sample has it; drift skips it

    log = tmp_path / "samples.jsonl"
    sink = SampleSink(path=log, rate=1.0, never_log=loaded.metadata.personal_data_fields)
    prediction = Prediction("stay", 0.7, {"churn": 0.3, "stay": 0.7})
    columns = [*churn_data.FEATURE_NAMES, NATIONAL_ID]
    for row in loaded.frame[columns].head(300).to_dict("records"):
        assert sink.offer(features=row, prediction=prediction, model_tag=tag, request_id="r")
    sink.close()
    assert "NID-" not in log.read_text()

    current = read_table(log)
    with pytest.raises(DriftInputError, match=f"current data is missing column.*{NATIONAL_ID}"):
        analyse(loaded.frame, current, config=DriftConfig(), schema=loaded.metadata.feature_schema)

    out = tmp_path / "summary.json"
    code = main(["drift", "--model", tag, "--current", str(log), "--json", str(out)])
    assert code in (0, 1), capsys.readouterr()
    analysed = {column["column"] for column in json.loads(out.read_text())["columns"]}
    assert set(churn_data.FEATURE_NAMES) <= analysed
    assert NATIONAL_ID not in analysed
