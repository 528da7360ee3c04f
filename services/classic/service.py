"""The churn classifier as a BentoML service: ``services.classic.service:ClassicService``.

Serve it from the repository root::

    bentoml serve services.classic.service:ClassicService --port 3000

It serves the ``churn-classifier`` tagged ``CANARIA_CLASSIC_MODEL_TAG``; without it, the
version a built bento was built with, or the latest in the BentoML store. Requests and
answers are described in ``io_descriptors.py``; settings (batch limits, the sample sink,
never-logged fields) in ``settings.py``. Besides
BentoML's own endpoints (``/metrics``, ``/livez``, ``/readyz``) it exports the canaria
metrics of ``metrics.py`` and writes one JSON log line per answer. The fields the model's
metadata declares as personal data (``personal_data_fields``) are redacted, with
``CANARIA_NEVER_LOG``'s and the built-in list, from every log line and the sample log.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import cast

import bentoml

from canaria.contracts.bento import bento_info_file, recorded_model_tag
from canaria.contracts.logs import configure_canaria_loggers, get_logger
from canaria.contracts.model_metadata import CLASSIC_MODEL_NAME
from services.classic.errors import ErrorAnswers, quiet_expected_errors
from services.classic.io_descriptors import (
    BatchInput,
    BatchOutput,
    SingleRecordInput,
    SingleRecordOutput,
)
from services.classic.jobs import Accepted, Job, Refused, Result, Scored
from services.classic.openapi import DocumentedService
from services.classic.settings import (
    ENV_MODEL_TAG,
    ClassicSettings,
    ServingSettings,
)
from services.classic.validation import primary_reason

# A built bento keeps its source in <bento>/src, next to <bento>/bento.yaml.
BENTO_INFO_FILE = bento_info_file(__file__)


def _model_tag() -> str:
    """CANARIA_CLASSIC_MODEL_TAG; else, in a built bento, the version it was built with
    (``bentoml serve <bento>`` reads the shared store, where "latest" may be newer); else
    the latest churn-classifier."""
    if os.environ.get(ENV_MODEL_TAG, "").strip():
        return ClassicSettings.from_env(os.environ).model_tag
    recorded = recorded_model_tag(BENTO_INFO_FILE, CLASSIC_MODEL_NAME)
    return recorded or ClassicSettings.from_env(os.environ).model_tag


# Read at import: the decorators below and the class-scope model take them.
SERVING = ServingSettings.from_env(os.environ)
# Each worker predicts with this many OpenMP threads (see ChurnScorer).
CPUS_PER_WORKER = 1
MODEL_TAG = _model_tag()

logger = get_logger("classic.service")


@bentoml.service(
    resources={"cpu": str(CPUS_PER_WORKER), "memory": "1Gi"},
    workers=SERVING.workers,
    traffic={"timeout": 30},
    # io_descriptors logs one JSON line per answer, with the request id; BentoML's text line
    # would only repeat it.
    logging={"access": {"enabled": False}},
    # /docs.json states every status the APIs answer, with its real body (openapi.py).
    service_class=DocumentedService,
)
class ClassicService:
    """Validates churn records against the model's feature schema and scores them."""

    model = bentoml.models.BentoModel(MODEL_TAG)

    def __init__(self) -> None:
        from canaria.contracts.model_metadata import ModelMetadata
        from services.classic.metrics import ClassicMetrics
        from services.classic.samples import SampleSink
        from services.classic.scoring import ChurnScorer
        from services.classic.validation import RecordValidator

        configure_canaria_loggers()
        quiet_expected_errors()
        settings = ClassicSettings.from_env(os.environ)
        stored = self.model
        metadata = ModelMetadata.from_bentoml(stored.info.metadata)
        if metadata.feature_schema is None:
            raise ValueError(f"model {stored.tag} has no feature_schema in its metadata")
        # The model's declared personal-data fields join CANARIA_NEVER_LOG in every log
        # line of this process and in the sample log.
        never_log = settings.never_log | frozenset(metadata.personal_data_fields)
        configure_canaria_loggers(never_log=never_log)
        self.model_tag = str(stored.tag)
        self.max_batch = settings.max_batch
        self.max_body_bytes = settings.max_body_bytes
        self.validator = RecordValidator(metadata.feature_schema)
        self.scorer = ChurnScorer(
            pipeline=bentoml.sklearn.load_model(stored),
            schema=metadata.feature_schema,
            threads=CPUS_PER_WORKER,
        )
        self.metrics = ClassicMetrics(
            model=stored.tag.name,
            version=stored.tag.version or "",
            info={
                "kind": metadata.kind,
                "code_version": metadata.code_version,
                "data_fingerprint": metadata.data_fingerprint,
            },
        )
        self.sink = (
            SampleSink(path=settings.sample_log, rate=settings.sample_rate, never_log=never_log)
            if settings.sample_log is not None
            else None
        )
        logger.info(
            "classic service ready",
            extra={
                "model_tag": self.model_tag,
                "max_batch": self.max_batch,
                "max_body_bytes": self.max_body_bytes,
                "sample_log": str(settings.sample_log) if settings.sample_log else None,
                "sample_rate": settings.sample_rate,
                "never_logged": sorted(never_log),
            },
        )

    @bentoml.api(
        route="/predict",
        input_spec=SingleRecordInput,
        output_spec=SingleRecordOutput,
        batchable=True,
        max_batch_size=SERVING.batch_size,
        max_latency_ms=SERVING.batch_latency_ms,
    )
    def predict(self, jobs: list[Job]) -> list[Result]:
        """Score one record (BentoML merges concurrent requests into one model call)."""
        return self.score(jobs)

    @bentoml.api(
        route="/predict_batch",
        input_spec=BatchInput,
        output_spec=BatchOutput,
        batchable=True,
        max_batch_size=SERVING.batch_size,
        max_latency_ms=SERVING.batch_latency_ms,
    )
    def predict_batch(self, jobs: list[Job]) -> list[Result]:
        """Score a list of records, all or none."""
        return self.score(jobs)

    def score(self, jobs: Sequence[Job]) -> list[Result]:
        """One result per job, in order: accepted records scored in one pipeline call,
        refused requests counted and passed through."""
        accepted = [job for job in jobs if isinstance(job, Accepted)]
        predictions = iter(self.scorer.predict([job.record.features for job in accepted]))
        results: list[Result] = []
        for job in jobs:
            if isinstance(job, Refused):
                self.metrics.count_invalid(primary_reason(job.problems).value)
                results.append(job)
                continue
            prediction = next(predictions)
            results.append(
                Scored(
                    request_id=job.request_id,
                    prediction=prediction,
                    model_tag=self.model_tag,
                    customer_id=job.record.customer_id,
                    received_at=job.received_at,
                )
            )
            if self.sink is not None:
                self.sink.offer(
                    features=job.record.features,
                    prediction=prediction,
                    model_tag=self.model_tag,
                    request_id=job.request_id,
                )
        self.metrics.observe_predictions(
            (result.prediction.predicted_class, result.prediction.probability)
            for result in results
            if isinstance(result, Scored)
        )
        return results


# BentoML's own error answers (503 when its batching queue sheds a request, 500, 415) in
# the documented shape, with Retry-After on 503 (errors.py).
cast("bentoml.Service[ClassicService]", ClassicService).add_asgi_middleware(ErrorAnswers)
