"""Champion/challenger retraining: a better challenger is registered, a worse one is not."""

from __future__ import annotations

import json
from pathlib import Path

import bentoml
import pytest

from canaria.cli import main
from canaria.contracts.model_metadata import CLASSIC_MODEL_NAME
from tests.monitoring.drift.frames import customers
from tests.monitoring.drift.logs import write_sample_log
from training.classic import train_and_save
from training.retrain import RetrainConfig, RetrainError, better_by, retrain


def _versions() -> set[str]:
    return {str(model.tag) for model in bentoml.models.list(CLASSIC_MODEL_NAME)}


@pytest.fixture(scope="module")
def champion(bentoml_home: Path) -> str:
    """Trained before the concept drift, on the training population."""
    return str(train_and_save(seed=21, n_rows=3000))


def test_better_by_knows_which_way_is_better() -> None:
    assert better_by("roc_auc", 0.8, 0.7) == pytest.approx(0.1)
    assert better_by("log_loss", 0.3, 0.5) == pytest.approx(0.2)


@pytest.mark.slow
def test_after_a_concept_drift_the_challenger_wins_and_is_registered(champion: str) -> None:
    before = _versions()
    result = retrain(
        RetrainConfig(
            champion=champion, generate_rows=3000, scenario="concept-drift", strength=1.0,
            seed=5, trigger="drift:driftShare=0.45",
        )
    )  # fmt: skip
    assert result.status == "registered", result.reason
    assert result.new_tag is not None and result.new_tag not in before
    assert _versions() == before | {result.new_tag}
    assert result.challenger_metrics["roc_auc"] >= result.champion_metrics["roc_auc"] + 0.01
    metadata = bentoml.models.get(result.new_tag).info.metadata
    assert metadata["extra"]["retrain"]["trigger"] == "drift:driftShare=0.45"
    assert metadata["extra"]["retrain"]["champion"] == champion
    assert metadata["extra"]["retrain"]["data"]["sources"][0]["scenario"] == "concept-drift"
    assert bentoml.models.get(champion).info.metadata["metrics"]  # the champion is untouched


@pytest.mark.slow
def test_a_worse_challenger_is_refused_and_nothing_is_registered(champion: str) -> None:
    before = _versions()
    # 300 rows of the same population: a challenger fitted on 210 rows cannot beat a
    # champion fitted on 2250.
    result = retrain(RetrainConfig(champion=champion, generate_rows=300, seed=6, margin=0.0))
    assert result.status == "refused"
    assert result.new_tag is None and "nothing registered" in result.reason
    assert result.challenger_metrics["roc_auc"] < result.champion_metrics["roc_auc"]
    assert _versions() == before


@pytest.mark.slow
def test_the_command_retrains_on_logged_inputs_labelled_by_the_generator(
    champion: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_sample_log(tmp_path / "samples.jsonl", customers(3000, seed=8))
    out = tmp_path / "result.json"
    argv = [
        "retrain", "--champion", champion, "--samples", str(log), "--concept-drift", "1",
        "--trigger", "schedule", "--output", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == result
    assert result["status"] == "registered"
    source = result["data"]["sources"][0]
    assert source["kind"] == "logged-inputs" and source["usable_rows"] == 3000


def test_bad_input_exits_2_and_registers_nothing(
    bentoml_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["retrain", "--champion", "churn-classifier:nope", "--generate", "500"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "failed"
    assert "not in the BentoML store" in captured.err
    with pytest.raises(RetrainError, match="no such file"):
        from training.retrain import read_logged_features

        read_logged_features(tmp_path / "absent.jsonl")


@pytest.mark.slow
def test_a_crash_mid_job_exits_1_and_leaves_the_store_untouched(
    champion: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from training import retrain as retrain_module

    def broken(*args: object, **kwargs: object) -> None:
        raise MemoryError("simulated crash while scoring")

    monkeypatch.setattr(retrain_module.classic, "predict", broken)
    before = _versions()
    assert main(["retrain", "--champion", champion, "--generate", "1000"]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "failed"
    assert _versions() == before
