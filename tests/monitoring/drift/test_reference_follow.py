"""The drift reference follows the model that scored the window (after a promotion)."""

from __future__ import annotations

from pathlib import Path

from monitoring.drift.config import DriftConfig
from monitoring.drift.monitor import DriftMonitor
from monitoring.drift.reference import Loaded
from monitoring.drift.summary import DriftStatus
from monitoring.drift.tables import DriftInputError
from tests.monitoring.drift.frames import customers
from tests.monitoring.drift.logs import write_sample_log
from training import churn_data

CONFIG = DriftConfig()
OLD, NEW = "churn-classifier:old", "churn-classifier:new"


def _monitor(log: Path, loads: list[str]) -> DriftMonitor:
    """A monitor whose reference is OLD's (the training population); NEW's reference is
    the shifted population it was retrained on."""

    def load(tag: str) -> Loaded:
        loads.append(tag)
        if tag != NEW:
            raise DriftInputError(f"model {tag}: not in the BentoML store")
        shifted = customers(500, seed=4, scenario="covariate-shift", strength=1.0)
        return NEW, shifted, churn_data.FEATURE_SCHEMA

    return DriftMonitor(
        model="churn-classifier", reference=customers(500, seed=3),
        schema=churn_data.FEATURE_SCHEMA, config=CONFIG, logs={"stable": log},
        window_seconds=3600, follow=load, reference_tag=OLD,
    )  # fmt: skip


def _status(monitor: DriftMonitor) -> tuple[DriftStatus | None, int]:
    result = monitor.evaluate()[("stable", "reference")]
    return (result.summary.status if result.summary else None), result.rows


def test_a_promoted_model_is_compared_with_its_own_reference(tmp_path: Path) -> None:
    log = tmp_path / "stable.jsonl"
    shifted = customers(300, seed=5, scenario="covariate-shift", strength=1.0)
    write_sample_log(log, shifted, model_tag=OLD)  # the old model sees the drift
    loads: list[str] = []
    monitor = _monitor(log, loads)
    assert _status(monitor) == (DriftStatus.DRIFT, 300)
    # Promoted: the retrained model now scores the same population; only its records count.
    write_sample_log(log, customers(150, seed=6, scenario="covariate-shift", strength=1.0),
                     model_tag=NEW)  # fmt: skip
    assert _status(monitor) == (DriftStatus.NO_DRIFT, 150)
    assert loads == [NEW] and monitor.followers["stable"].tag == NEW


def test_an_unknown_model_keeps_the_reference_and_is_tried_once(tmp_path: Path) -> None:
    log = write_sample_log(tmp_path / "stable.jsonl", customers(200, seed=7),
                           model_tag="churn-classifier:elsewhere")  # fmt: skip
    loads: list[str] = []
    monitor = _monitor(log, loads)
    assert _status(monitor) == (DriftStatus.NO_DRIFT, 200)
    assert _status(monitor) == (DriftStatus.NO_DRIFT, 200)
    assert loads == ["churn-classifier:elsewhere"]
    assert monitor.followers["stable"].tag == OLD
