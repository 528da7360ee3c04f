"""Champion/challenger retraining of the churn classifier: the retraining Job's entry point.

1. Gather new data: logged inputs (``CANARIA_SAMPLE_LOG`` JSONL or CSV/Parquet files of
   feature columns) labelled by the generator's label model (``training.labels``: the
   stand-in for a real outcome feed, documented there), and/or freshly generated customers
   (``generate_rows`` with a drift scenario, labels included).
2. Split it, seeded and stratified, into a training part and a fresh hold-out.
3. Train the challenger on the training part only (the population moved; old data would
   pull it back), with the same pipeline and parameters as ``training.classic``.
4. Score the champion (the model serving now, from the BentoML store) and the challenger on
   the *same* hold-out. The challenger is registered only if its ``metric`` beats the
   champion's by at least ``margin`` (absolute, in the metric's units; ``log_loss`` and
   ``brier`` count lower as better); otherwise the result says why and nothing is saved.
5. A registered challenger is a *new* version (BentoML generates it; an existing tag is
   never written to), whose metadata records the trigger, the data, the champion and both
   scores under ``extra["retrain"]``.

``retrain`` returns a ``RetrainResult`` (JSON-safe via ``to_dict``); it raises
``RetrainError`` for bad input (no data, unknown champion, unreadable file).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from canaria.contracts.model_metadata import CLASSIC_MODEL_NAME, ModelMetadata
from training import churn_data, classic
from training.evaluation import classification_metrics
from training.labels import label_with_generator, valid_mask, valid_rows
from training.provenance import code_version, data_fingerprint

LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece"})
DEFAULT_METRIC = "roc_auc"
DEFAULT_MARGIN = 0.01
HOLDOUT_FRACTION = 0.3
MIN_ROWS = 200


class RetrainError(ValueError):
    """The retraining cannot run: no usable data, unknown champion, bad settings."""


@dataclass(frozen=True)
class RetrainConfig:
    """What to retrain on and how to decide. ``trigger`` is free text, e.g. ``drift:0.45``."""

    champion: str = f"{CLASSIC_MODEL_NAME}:latest"
    sample_files: tuple[Path, ...] = ()
    concept_drift: float = 0.0  # the labels' concept-drift strength for logged inputs
    generate_rows: int = 0
    scenario: str | None = None
    strength: float = 0.0
    metric: str = DEFAULT_METRIC
    margin: float = DEFAULT_MARGIN
    holdout_fraction: float = HOLDOUT_FRACTION
    seed: int = 0
    trigger: str = "manual"
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RetrainResult:
    """``status``: ``registered`` or ``refused`` (both exit 0); the scores and the reason."""

    status: str
    reason: str
    metric: str
    margin: float
    champion: str
    champion_metrics: dict[str, float]
    challenger_metrics: dict[str, float]
    new_tag: str | None
    data: dict[str, Any]
    trigger: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gather(config: RetrainConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Labelled rows (features + ``churned``) and a description of where they came from."""
    parts, sources = [], []
    for index, path in enumerate(config.sample_files):
        logged = read_logged_features(path)
        labelled = label_with_generator(
            logged, concept_drift=config.concept_drift, seed=config.seed + index
        )
        parts.append(labelled)
        sources.append(
            {"kind": "logged-inputs", "path": str(path), "rows": len(logged),
             "usable_rows": len(labelled), "labels": "generator label model",
             "concept_drift": config.concept_drift}
        )  # fmt: skip
    if config.generate_rows:
        generated = churn_data.generate(
            n_rows=config.generate_rows,
            seed=config.seed,
            scenario=config.scenario,
            strength=config.strength,
        )
        kept = generated[valid_mask(generated)].reset_index(drop=True)
        parts.append(valid_rows(kept).assign(churned=kept[churn_data.TARGET_COLUMN].to_numpy()))
        sources.append(
            {"kind": "generated", "rows": config.generate_rows, "seed": config.seed,
             "scenario": config.scenario or "none", "strength": config.strength}
        )  # fmt: skip
    if not parts:
        raise RetrainError("no new data: give sample files and/or generated rows")
    data = pd.concat(parts, ignore_index=True)
    if len(data) < MIN_ROWS:
        raise RetrainError(f"only {len(data)} usable labelled rows; at least {MIN_ROWS} needed")
    return data, {"sources": sources, "rows": len(data), "fingerprint": data_fingerprint(data)}


def read_logged_features(path: Path) -> pd.DataFrame:
    """Feature columns from a sample log (``.jsonl``) or a CSV/Parquet file."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise RetrainError(f"{path}: no such file")
    try:
        if suffix == ".jsonl":
            records = pd.read_json(path, lines=True)
            if "features" not in records:
                raise RetrainError(f"{path}: no 'features' in the sample log")
            frame = pd.json_normalize(records["features"].tolist())
        elif suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            raise RetrainError(f"{path}: not a CSV, Parquet or JSONL file")
    except RetrainError:
        raise
    except Exception as error:
        raise RetrainError(f"{path}: unreadable ({type(error).__name__}: {error})") from error
    missing = [name for name in churn_data.FEATURE_NAMES if name not in frame.columns]
    if missing:
        raise RetrainError(f"{path}: missing feature column(s): {', '.join(missing)}")
    return frame


def better_by(metric: str, challenger: float, champion: float) -> float:
    """How much better the challenger is (positive = better), in the metric's units (pure)."""
    return champion - challenger if metric in LOWER_IS_BETTER else challenger - champion


def retrain(config: RetrainConfig) -> RetrainResult:
    """Gather, train, compare on the same hold-out, register only a better challenger."""
    if not 0.0 < config.holdout_fraction < 1.0:
        raise RetrainError(f"holdout_fraction must be in (0, 1), got {config.holdout_fraction}")
    champion_pipeline, champion_tag = _load_champion(config.champion)
    data, described = gather(config)
    train_rows, holdout = train_test_split(
        data,
        test_size=config.holdout_fraction,
        random_state=config.seed,
        stratify=data[churn_data.TARGET_COLUMN],
    )
    features = list(churn_data.FEATURE_NAMES)
    challenger = classic.build_pipeline(seed=config.seed)
    with threadpool_limits(limits=1, user_api="openmp"):
        challenger.fit(train_rows[features], train_rows[churn_data.TARGET_COLUMN])
        scored = {
            "challenger": classic.predict(challenger, holdout),
            "champion": classic.predict(champion_pipeline, holdout),
        }
    metrics = {name: _metrics(holdout, frame) for name, frame in scored.items()}
    if config.metric not in metrics["champion"]:
        raise RetrainError(f"unknown metric {config.metric!r}; have {sorted(metrics['champion'])}")
    gain = better_by(
        config.metric, metrics["challenger"][config.metric], metrics["champion"][config.metric]
    )
    described.update({"n_train": len(train_rows), "n_holdout": len(holdout)})
    decided = _Decided(config, champion_tag, metrics, described)
    if gain < config.margin:
        reason = (
            f"challenger {config.metric} {metrics['challenger'][config.metric]:.4f} vs champion "
            f"{metrics['champion'][config.metric]:.4f}: better by {gain:+.4f}, needs "
            f"{config.margin:+.4f}; nothing registered"
        )
        return decided.result("refused", reason, None)
    trained = classic.TrainedModel(
        pipeline=challenger,
        metadata=_challenger_metadata(config, metrics, described, champion_tag, data),
        reference_sample=_reference(holdout.join(scored["challenger"]), seed=config.seed),
    )
    new_tag = _register(trained, config, champion_tag)
    reason = f"challenger better by {gain:+.4f} {config.metric} (margin {config.margin:+.4f})"
    return decided.result("registered", reason, new_tag)


@dataclass(frozen=True)
class _Decided:
    config: RetrainConfig
    champion: str
    metrics: dict[str, dict[str, float]]
    data: dict[str, Any]

    def result(self, status: str, reason: str, new_tag: str | None) -> RetrainResult:
        return RetrainResult(
            status=status,
            reason=reason,
            metric=self.config.metric,
            margin=self.config.margin,
            champion=self.champion,
            champion_metrics=self.metrics["champion"],
            challenger_metrics=self.metrics["challenger"],
            new_tag=new_tag,
            data=self.data,
            trigger=self.config.trigger,
        )


def _metrics(holdout: pd.DataFrame, scored: pd.DataFrame) -> dict[str, float]:
    truth = (holdout[churn_data.TARGET_COLUMN] == churn_data.POSITIVE_CLASS).to_numpy()
    return classification_metrics(
        is_positive=truth, probability=scored[classic.PROBABILITY_COLUMN].to_numpy()
    )


def _load_champion(tag: str) -> tuple[Any, str]:
    import bentoml
    from bentoml.exceptions import NotFound

    try:
        model = bentoml.models.get(tag)
    except (NotFound, ValueError) as error:
        raise RetrainError(f"champion {tag}: not in the BentoML store") from error
    pipeline, _ = classic.load(str(model.tag))
    return pipeline, str(model.tag)


def _challenger_metadata(
    config: RetrainConfig,
    metrics: dict[str, dict[str, float]],
    described: dict[str, Any],
    champion_tag: str,
    data: pd.DataFrame,
) -> ModelMetadata:
    return ModelMetadata(
        kind=classic.KIND,
        metrics=metrics["challenger"],
        training_params={
            "seed": config.seed,
            "n_rows": len(data),
            "estimator": "HistGradientBoostingClassifier",
            "estimator_params": dict(classic.ESTIMATOR_PARAMS),
            "holdout_fraction": config.holdout_fraction,
        },
        data_fingerprint=described["fingerprint"],
        code_version=code_version(),
        feature_schema=churn_data.FEATURE_SCHEMA,
        reference_sample_file=classic.REFERENCE_SAMPLE_FILE,
        extra={
            "positive_class": churn_data.POSITIVE_CLASS,
            "personal_data_fields": list(churn_data.PERSONAL_DATA_FIELDS),
            "retrain": {
                "trigger": config.trigger,
                "data": described,
                "champion": champion_tag,
                "champion_metrics": metrics["champion"],
                "metric": config.metric,
                "margin": config.margin,
            },
        },
    )


def _reference(scored: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    size = min(classic.REFERENCE_SAMPLE_ROWS, len(scored))
    return scored.sample(n=size, random_state=seed).reset_index(drop=True)


def _register(trained: classic.TrainedModel, config: RetrainConfig, champion_tag: str) -> str:
    """Save as a new version; refuses (RuntimeError) if the generated tag already existed."""
    import bentoml

    before = {str(model.tag) for model in bentoml.models.list(champion_tag.split(":")[0])}
    labels = {"role": "challenger", **config.labels}
    tag = str(classic.save(trained, labels=labels))
    if tag in before:
        raise RuntimeError(f"{tag} already existed; a version is never overwritten")
    return tag
