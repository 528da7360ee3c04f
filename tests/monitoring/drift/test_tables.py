"""Reading CSV, Parquet and sample logs; one clear line for every unreadable input."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from monitoring.drift.tables import DriftInputError, read_table, sample_records_to_frame
from services.classic.samples import SampleSink
from services.classic.scoring import to_prediction


def test_a_sample_log_written_by_the_service_sink_reads_as_features_and_predictions(
    tmp_path: Path,
) -> None:
    path = tmp_path / "samples.jsonl"
    sink = SampleSink(path=path, rate=1.0, never_log=["customer_id"], rng=random.Random(0))
    for index in range(3):
        sink.offer(
            features={"age": 30 + index, "region": "north", "customer_id": "c-1"},
            prediction=to_prediction(["churn", "stay"], [0.2 + index / 10, 0.8 - index / 10]),
            model_tag="churn-classifier:v1",
            request_id=f"r{index}",
        )
    sink.close()
    frame = read_table(path)
    assert set(frame.columns) == {
        "age", "region", "prediction", "churn_probability", "stay_probability", "ts", "model_tag",
    }  # fmt: skip
    assert frame["age"].tolist() == [30, 31, 32]
    assert frame["prediction"].tolist() == ["stay", "stay", "stay"]
    assert frame["churn_probability"].iloc[2] == pytest.approx(0.4)


def test_flat_records_are_taken_as_they_are() -> None:
    frame = sample_records_to_frame([{"age": 3, "region": "x"}])
    assert frame.to_dict("records") == [{"age": 3, "region": "x"}]


def test_csv_and_parquet_read_the_same_frame(tmp_path: Path) -> None:
    frame = pd.DataFrame({"age": [1, 2], "region": ["a", "b"]})
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "a.csv"), frame)
    pd.testing.assert_frame_equal(read_table(tmp_path / "a.parquet"), frame)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("absent.csv", None, "no such file"),
        ("empty.csv", b"", "empty file"),
        ("header.csv", b"age,region\n", "empty file"),
        ("blank.jsonl", b"\n\n", "empty file"),
        ("data.txt", b"age\n1\n", "not a CSV, Parquet or JSONL file"),
        ("data", b"age\n1\n", "not a CSV, Parquet or JSONL file"),
        ("bad.parquet", b"age\n1\n", "not a valid PARQUET file"),
        ("bad.jsonl", b'{"age": 1}\nnot json\n', "not a valid JSONL file \\(line 2"),
        ("list.jsonl", b"[1, 2]\n", "line 1 is no object"),
        ("bad.csv", b'\x00\x01"\n"a,b', "not a valid CSV file"),
    ],
)
def test_unreadable_inputs_get_one_line_naming_the_file(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DriftInputError, match=message) as caught:
        read_table(path)
    text = str(caught.value)
    assert "\n" not in text and text.startswith(str(path))


def test_a_jsonl_line_is_one_record(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(json.dumps({"age": n}) for n in range(4)) + "\n")
    assert read_table(path)["age"].tolist() == [0, 1, 2, 3]
