"""Step 1: train the demo's models into its BentoML store and say what each one is.

BENTOML_HOME must be set before this module's callers import bentoml; ``__main__`` does it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from canaria.demo.console import format_metrics, say
from canaria.demo.results import ModelRole, ModelSummary
from canaria.demo.settings import DemoSettings

CLASSIC_METRICS = ("accuracy", "roc_auc", "f1", "ece", "positive_rate")
LLM_METRICS = ("perplexity", "untrained_perplexity")
SEEDS = {ModelRole.STABLE: 1, ModelRole.CANDIDATE: 2, ModelRole.DRIFTED: 3, ModelRole.LLM: 0}


@dataclass(frozen=True)
class TrainedModels:
    stable: ModelSummary
    candidate: ModelSummary
    drifted: ModelSummary
    llm: ModelSummary

    def all(self) -> tuple[ModelSummary, ...]:
        return (self.stable, self.candidate, self.drifted, self.llm)


def _stored_metrics(tag: str) -> dict[str, float]:
    import bentoml

    metadata: dict[str, Any] = dict(bentoml.models.get(tag).info.metadata)
    return {str(key): float(value) for key, value in (metadata.get("metrics") or {}).items()}


def _timed(
    role: ModelRole, trained_on: str, names: tuple[str, ...], train: Callable[[], object]
) -> ModelSummary:
    from canaria.cli.progress import stages

    started = time.monotonic()
    with stages() as stage:  # a spinner on stderr while it trains
        stage(f"training {role.value} ({trained_on})")
        tag = str(train())
    summary = ModelSummary(
        role=role,
        tag=tag,
        trained_on=trained_on,
        metrics=_stored_metrics(tag),
        seconds=time.monotonic() - started,
    )
    say(f"{role.value:<18} {tag}  ({summary.seconds:.1f}s) {trained_on}")
    say(format_metrics(summary.metrics, names), indent=2)
    return summary


def train_classic(settings: DemoSettings) -> tuple[ModelSummary, ModelSummary, ModelSummary]:
    """The stable classifier, a healthy candidate (another seed, more rows) and a candidate
    trained after a concept drift (same customers, changed reasons to churn)."""
    from training.classic import train_and_save
    from training.drift_scenarios import DriftScenario

    def classic(role: ModelRole, rows: int, scenario: DriftScenario | None = None) -> ModelSummary:
        seed = SEEDS[role]
        described = f"seed {seed}, {rows} rows" + (f", {scenario.value} 1.0" if scenario else "")
        return _timed(
            role,
            described,
            CLASSIC_METRICS,
            lambda: train_and_save(
                seed=seed,
                n_rows=rows,
                scenario=scenario,
                strength=1.0 if scenario else 0.0,
                labels={"role": role.name.lower(), "source": "demo"},
            ),
        )

    return (
        classic(ModelRole.STABLE, settings.stable_rows),
        classic(ModelRole.CANDIDATE, settings.candidate_rows),
        classic(ModelRole.DRIFTED, settings.stable_rows, DriftScenario.CONCEPT_DRIFT),
    )


def train_llm(settings: DemoSettings) -> ModelSummary:
    """The tiny GPT-2-style support model, with few steps (it is for serving, not quality)."""
    from canaria.cli.progress import step_bar
    from training.llm import train_and_save

    steps = settings.llm_steps

    def train() -> object:
        with step_bar("training the support LLM", total=steps) as advance:
            return train_and_save(seed=SEEDS[ModelRole.LLM], max_steps=steps, on_step=advance)

    return _timed(ModelRole.LLM, f"seed {SEEDS[ModelRole.LLM]}, {steps} steps", LLM_METRICS, train)


def train_models(settings: DemoSettings) -> TrainedModels:
    stable, candidate, drifted = train_classic(settings)
    return TrainedModels(
        stable=stable, candidate=candidate, drifted=drifted, llm=train_llm(settings)
    )
