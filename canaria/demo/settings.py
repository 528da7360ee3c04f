"""How big and how fast a demo run is: the full run (``make demo``) and ``--quick``.

Sizes come from measurements on a 2-core machine: a 20000-row churn classifier trains in
about a second; the tiny LLM costs about 25 s of set-up plus 0.25 s per step; a classic
``bentoml serve`` is ready in about 8 s and answers in about 20 ms. Thresholds were chosen
from the agreement of the trained models on fresh customers (tolerance 0.2): the healthy
candidate agrees with the stable on 0.94 of them, the concept-drifted one on 0.23.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OUTPUT_DIR = Path(".canaria/demo")
BENTOML_HOME_ENV = "BENTOML_HOME"


@dataclass(frozen=True)
class RolloutLimits:
    """The ModelRollout analysis both rollouts use, and the router's shadow comparison."""

    interval_seconds: float
    step_weights: tuple[int, ...] = (20, 50, 100)
    failure_limit: int = 1
    min_success_rate: float = 0.99
    # Generous: the machine is shared, and the point of the demo is the shadow gate.
    max_latency_p99_seconds: float = 1.5
    min_shadow_agreement: float = 0.8
    probability_tolerance: float = 0.2

    @property
    def interval(self) -> str:
        """The interval as a ModelRollout duration (``3s``)."""
        return f"{self.interval_seconds:g}s"


@dataclass(frozen=True)
class DemoSettings:
    """Everything one run needs to know; ``quick`` is the e2e test's smaller run."""

    quick: bool
    output_dir: Path
    bentoml_home: Path
    bentoml_home_from_env: bool
    stable_rows: int
    candidate_rows: int
    llm_steps: int
    limits: RolloutLimits
    traffic_rate: float
    traffic_workers: int
    startup_timeout: float = 120.0
    request_timeout: float = 30.0
    llm_tokens: int = 24

    @property
    def rollout_timeout(self) -> float:
        """The longest a rollout may take before the demo gives up on it: every step,
        the promotion and the failure limit, plus room for a slow machine."""
        limits = self.limits
        intervals = len(limits.step_weights) + limits.failure_limit + 4
        return limits.interval_seconds * intervals * 2 + 30.0

    @property
    def stable_sample_log(self) -> Path:
        """Where the stable server logs what it scores (``CANARIA_SAMPLE_LOG``)."""
        return self.output_dir / "samples" / "stable.jsonl"

    @property
    def traffic_max_seconds(self) -> float:
        """The traffic generator stops by itself after this, whatever happens."""
        return self.rollout_timeout + 15.0


def demo_settings(
    *, quick: bool, output_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> DemoSettings:
    """The settings for a full or quick run (pure apart from resolving paths).

    ``BENTOML_HOME`` from ``environ`` wins; otherwise the store is private to the demo,
    under the output directory, so the demo never touches the user's own models.
    """
    env = os.environ if environ is None else environ
    out = (output_dir or DEFAULT_OUTPUT_DIR).expanduser().resolve()
    given = env.get(BENTOML_HOME_ENV, "").strip()
    home = Path(given).expanduser().resolve() if given else out / "bentoml"
    if quick:
        return DemoSettings(
            quick=True,
            output_dir=out,
            bentoml_home=home,
            bentoml_home_from_env=bool(given),
            stable_rows=12000,
            candidate_rows=18000,
            llm_steps=20,
            limits=RolloutLimits(interval_seconds=2.0),
            traffic_rate=15.0,
            traffic_workers=4,
            llm_tokens=12,
        )
    return DemoSettings(
        quick=False,
        output_dir=out,
        bentoml_home=home,
        bentoml_home_from_env=bool(given),
        stable_rows=20000,
        candidate_rows=30000,
        llm_steps=120,
        limits=RolloutLimits(interval_seconds=3.0),
        traffic_rate=20.0,
        traffic_workers=4,
    )
