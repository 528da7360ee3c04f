"""``canaria drift``: exit codes 0/1/2/3, the JSON summary, the HTML report, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from canaria.cli import main
from tests.monitoring.drift.frames import customers


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("drift-cli")
    frames = {
        "reference.csv": customers(800, seed=1),
        "same.parquet": customers(800, seed=2),
        "shifted.csv": customers(800, seed=3, scenario="covariate-shift", strength=1.0),
        "few.csv": customers(20, seed=4),
        "no_age.csv": customers(200, seed=5).drop(columns=["age"]),
        "extra.csv": customers(200, seed=5).assign(customer_id="c-1"),
    }
    paths = {}
    for name, frame in frames.items():
        paths[name] = root / name
        if name.endswith(".parquet"):
            frame.to_parquet(paths[name])
        else:
            frame.to_csv(paths[name], index=False)
    for name, content in {
        "empty.csv": "",
        "data.xlsx": "a\n1\n",
        "bad.yaml": "numeric: 3\n",
    }.items():
        paths[name] = root / name
        paths[name].write_text(content)
    return paths


def _run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main(["drift", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_same_population_exits_0_and_writes_the_json_summary(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "summary.json"
    code, stdout, _ = _run(
        capsys, "--reference", files["reference.csv"], "--current", files["same.parquet"],
        "--json", out,
    )  # fmt: skip
    assert code == 0, stdout
    assert stdout.startswith("no drift: ")
    summary = json.loads(out.read_text())
    assert summary["status"] == "no_drift"
    assert len(summary["columns"]) == 12 and summary["rows"]["current"] == 800


def test_shifted_data_exits_1_with_report_and_json(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, out = tmp_path / "drift.html", tmp_path / "drift.json"
    code, stdout, _ = _run(
        capsys, "--reference", files["reference.csv"], "--current", files["shifted.csv"],
        "--report", report, "--json", out,
    )  # fmt: skip
    assert code == 1
    assert stdout.startswith("drift: ")
    assert json.loads(out.read_text())["status"] == "drift"
    assert report.read_text().lstrip().lower().startswith("<!doctype html")


def test_too_few_current_rows_exit_3_no_data(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, _ = _run(
        capsys, "--reference", files["reference.csv"], "--current", files["few.csv"]
    )
    assert code == 3 and stdout.startswith("no data: 20 current rows")


@pytest.mark.parametrize(
    ("current", "extra", "message"),
    [
        ("absent.csv", (), "absent.csv: no such file"),
        ("empty.csv", (), "empty.csv: empty file"),
        ("data.xlsx", (), "data.xlsx: not a CSV, Parquet or JSONL file"),
        ("no_age.csv", (), "current data is missing column(s): age"),
        ("extra.csv", (), "mismatched columns: current data has column(s) not in the "
         "reference: customer_id"),
        ("same.parquet", ("--config", "bad.yaml"), "bad.yaml: numeric must be a mapping"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_clear_line(
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    current: str,
    extra: tuple[str, ...],
    message: str,
) -> None:
    current_path = files.get(current, tmp_path / current)
    options = [files.get(item, item) for item in extra]
    code, stdout, stderr = _run(
        capsys, "--reference", files["reference.csv"], "--current", current_path, *options
    )
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("canaria drift: error: ")
    assert message in stderr


@pytest.mark.slow
def test_a_sample_log_against_the_models_reference_sample(
    classic_model_tag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Current data as the service logs it; the reference and schema from the saved model."""
    log = tmp_path / "samples.jsonl"
    rows = customers(300, seed=9, scenario="bad-batch", strength=1.0)
    with log.open("w") as handle:
        for record in rows.drop(columns=["churned"]).to_dict("records"):
            features = {key: value for key, value in record.items() if pd.notna(value)}
            line = {
                "ts": "2026-01-01T00:00:00.000Z",
                "model_tag": classic_model_tag,
                "features": features,
                "prediction": {"predicted_class": "stay", "probability": 0.9,
                               "probabilities": {"churn": 0.1, "stay": 0.9}},
            }  # fmt: skip
            handle.write(json.dumps(line) + "\n")
    out = tmp_path / "summary.json"
    code, stdout, stderr = _run(
        capsys, "--model", classic_model_tag, "--current", log, "--json", out
    )
    assert stderr == ""
    summary = json.loads(out.read_text())
    assert code == 1, stdout
    assert summary["prediction_drift"] is True  # always "stay" at 0.1: far from the reference
    assert summary["data_quality"]["region"]["new_categories"] == ["atlantis"]
    assert summary["context"]["model_tag"] == classic_model_tag
    assert sum(item["out_of_range"] for item in summary["data_quality"].values()) > 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("absent.txt", None, "absent.txt: no such file"),
        ("prompts.csv", "a\n", "must be a .txt or .jsonl file"),
        ("blank.txt", "\n\n", "blank.txt: empty file"),
        ("bad.jsonl", '{"text": "hi"}\n', "line 1 has no string 'prompt'"),
    ],
)
def test_llm_drift_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | None,
    message: str,
) -> None:  # fmt: skip
    good = tmp_path / "good.txt"
    good.write_text("how do I pay\nwhat is my plan\n")
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    code, stdout, stderr = _run(capsys, "llm", "--reference", good, "--current", path)
    assert code == 2 and stdout == "" and stderr.count("\n") == 1
    assert message in stderr
