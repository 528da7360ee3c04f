"""``canaria drift monitor``: re-evaluate each variant's rolling window, export gauges.

Every ``interval`` seconds, for each ``--log VARIANT=PATH``, the records of the last
``window`` seconds are compared with the model's reference sample (Evidently stattests,
no HTML) and the results replace that variant's gauges on ``/metrics``. A window with
fewer than ``min_rows`` rows is "no data" (see ``monitoring.drift.exporter``). An analysis
that fails (say, the log's columns do not match the model) is logged and exported as no
data; the monitor keeps running. SIGTERM/SIGINT stop it after the current evaluation.

In a cluster this runs as a Deployment next to the model servers (sharing the sample-log
volume, or reading logs shipped to it), scraped by Prometheus like any exporter; a
CronJob + Pushgateway would lose the rolling state and the "last run" gauge semantics.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from canaria.logs import configure, get_logger
from monitoring.drift.config import DriftConfig, DriftConfigError
from monitoring.drift.engine import analyse
from monitoring.drift.exporter import DriftCollector, VariantResult
from monitoring.drift.tables import DriftInputError, sample_records_to_frame
from monitoring.drift.window import LogWindow
from training.metadata import FeatureSchema

logger = get_logger("drift.monitor")


class DriftMonitor:
    """Evaluates each variant's window against one reference; feeds a ``DriftCollector``."""

    def __init__(
        self,
        *,
        model: str,
        reference: Any,
        schema: FeatureSchema | None,
        config: DriftConfig,
        logs: Mapping[str, Path],
        window_seconds: float,
    ) -> None:
        self.reference = reference
        self.schema = schema
        self.config = config
        self.collector = DriftCollector(model)
        self.windows = {
            variant: LogWindow(path, window_seconds=window_seconds)
            for variant, path in logs.items()
        }

    def evaluate(self, now: float | None = None) -> dict[str, VariantResult]:
        """One pass over every variant; returns (and exports) the new results."""
        now = time.time() if now is None else now
        for variant, window in self.windows.items():
            self.collector.update(self._evaluate_one(variant, window, now))
        return self.collector.results()

    def _evaluate_one(self, variant: str, window: LogWindow, now: float) -> VariantResult:
        records = window.poll(now)
        if len(records) < self.config.min_rows:
            return VariantResult(variant, now, len(records), None)
        try:
            summary = analyse(
                self.reference,
                sample_records_to_frame(records),
                config=self.config,
                schema=self.schema,
                context={"variant": variant, "window_seconds": window.window_seconds},
                report=False,
            ).summary
        except DriftInputError as error:
            logger.warning("drift window not analysable", extra={"variant": variant})
            return VariantResult(variant, now, len(records), None, error=str(error))
        return VariantResult(variant, now, len(records), summary)


def parse_logs(items: list[str]) -> dict[str, Path]:
    """``["stable=/a.jsonl", ...]`` -> ``{"stable": Path("/a.jsonl")}``; ValueError if bad."""
    logs: dict[str, Path] = {}
    for item in items:
        variant, sep, path = item.partition("=")
        if not sep or not variant or not path:
            raise ValueError(f"--log {item!r}: expected VARIANT=PATH")
        if variant in logs:
            raise ValueError(f"--log: variant {variant!r} given twice")
        logs[variant] = Path(path)
    if not logs:
        raise ValueError("give at least one --log VARIANT=PATH")
    return logs


def run_monitor_command(args: argparse.Namespace) -> int:
    """The ``canaria drift monitor`` handler: exit 2 on bad arguments, else 0 when stopped."""
    from canaria.commands.drift import load_config
    from monitoring.drift.reference import load_model_reference

    configure()
    try:
        if args.model is None:
            raise ValueError("--model is required (its reference sample and feature schema)")
        if args.interval <= 0 or args.window <= 0:
            raise ValueError("--interval and --window must be positive")
        logs = parse_logs(args.log)
        config = load_config(args.config)
        loaded = load_model_reference(args.model)
    except (ValueError, DriftInputError, DriftConfigError) as error:
        print(f"canaria drift monitor: error: {error}", file=sys.stderr)
        return 2
    monitor = DriftMonitor(
        model=loaded.tag.split(":")[0],
        reference=loaded.frame,
        schema=loaded.metadata.feature_schema,
        config=config,
        logs=logs,
        window_seconds=args.window,
    )
    if args.once:
        results = monitor.evaluate()
        print(json.dumps({variant: _result_dict(r) for variant, r in results.items()}))
        return 0
    return _serve(monitor, host=args.host, port=args.port, interval=args.interval)


def _result_dict(result: VariantResult) -> dict[str, Any]:
    return {
        "rows": result.rows,
        "last_run": result.last_run,
        "error": result.error,
        "summary": result.summary.to_dict() if result.summary else None,
    }


def _serve(monitor: DriftMonitor, *, host: str, port: int, interval: float) -> int:
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    registry.register(monitor.collector)
    server, _ = start_http_server(port, addr=host, registry=registry)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    logger.info("drift monitor listening", extra={"host": host, "port": server.server_port})
    try:
        while not stop.is_set():
            started = time.monotonic()
            monitor.evaluate()
            stop.wait(max(0.0, interval - (time.monotonic() - started)))
    finally:
        server.shutdown()
    return 0
