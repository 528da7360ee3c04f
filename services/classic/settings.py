"""The classic service's settings, read from the environment (pure parsing).

Two groups: ``ServingSettings`` shape the BentoML service itself (workers, batching) and
are read when the module defining the service is imported, because the decorators take
them; ``ClassicSettings`` are read when a worker starts the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from canaria.contracts.env import env_int, env_names, env_share, env_str
from canaria.contracts.model_metadata import CLASSIC_MODEL_NAME

ENV_MODEL_TAG = "CANARIA_CLASSIC_MODEL_TAG"
ENV_MAX_BATCH = "CANARIA_MAX_BATCH"
ENV_SAMPLE_LOG = "CANARIA_SAMPLE_LOG"
ENV_SAMPLE_RATE = "CANARIA_SAMPLE_RATE"
ENV_NEVER_LOG = "CANARIA_NEVER_LOG"
ENV_WORKERS = "CANARIA_CLASSIC_WORKERS"
ENV_BATCH_SIZE = "CANARIA_CLASSIC_BATCH_SIZE"
ENV_BATCH_LATENCY_MS = "CANARIA_CLASSIC_BATCH_LATENCY_MS"

DEFAULT_MODEL_TAG = f"{CLASSIC_MODEL_NAME}:latest"
DEFAULT_MAX_BATCH = 1000
DEFAULT_SAMPLE_RATE = 1.0
# customer_id identifies a person (training/churn_data.PERSONAL_DATA_FIELDS).
DEFAULT_NEVER_LOG = ("customer_id",)
DEFAULT_WORKERS = 1
DEFAULT_BATCH_SIZE = 64
DEFAULT_BATCH_LATENCY_MS = 2000


@dataclass(frozen=True)
class ServingSettings:
    """How BentoML runs the service: worker processes and adaptive batching limits.

    ``batch_size`` is the most records one model call takes (requests are merged or split
    to fit); ``batch_latency_ms`` is how long a request may wait in the batching queue
    before BentoML answers 503 instead.
    """

    workers: int = DEFAULT_WORKERS
    batch_size: int = DEFAULT_BATCH_SIZE
    batch_latency_ms: int = DEFAULT_BATCH_LATENCY_MS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ServingSettings:
        """Parse the ``CANARIA_CLASSIC_*`` serving variables; a bad value names its variable."""
        return cls(
            workers=env_int(environ, ENV_WORKERS, DEFAULT_WORKERS, minimum=1),
            # BentoML requires a batchable API's max_batch_size to be above 1.
            batch_size=env_int(environ, ENV_BATCH_SIZE, DEFAULT_BATCH_SIZE, minimum=2),
            batch_latency_ms=env_int(
                environ, ENV_BATCH_LATENCY_MS, DEFAULT_BATCH_LATENCY_MS, minimum=1
            ),
        )


@dataclass(frozen=True)
class ClassicSettings:
    """What the service loads and what it keeps.

    ``max_batch`` bounds the records of one ``/predict_batch`` request. ``sample_log`` is
    the JSONL file that receives a ``sample_rate`` share of scored records for drift
    analysis and retraining (none when unset); fields named in ``never_log`` are written
    neither there nor to the logs.
    """

    model_tag: str = DEFAULT_MODEL_TAG
    max_batch: int = DEFAULT_MAX_BATCH
    sample_log: Path | None = None
    sample_rate: float = DEFAULT_SAMPLE_RATE
    never_log: frozenset[str] = frozenset(DEFAULT_NEVER_LOG)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ClassicSettings:
        """Parse the ``CANARIA_*`` variables (pure); a bad value names its variable."""
        sample_log = env_str(environ, ENV_SAMPLE_LOG, "")
        return cls(
            model_tag=env_str(environ, ENV_MODEL_TAG, DEFAULT_MODEL_TAG),
            max_batch=env_int(environ, ENV_MAX_BATCH, DEFAULT_MAX_BATCH, minimum=1),
            sample_log=Path(sample_log) if sample_log else None,
            sample_rate=env_share(environ, ENV_SAMPLE_RATE, DEFAULT_SAMPLE_RATE),
            never_log=env_names(environ, ENV_NEVER_LOG, DEFAULT_NEVER_LOG),
        )
