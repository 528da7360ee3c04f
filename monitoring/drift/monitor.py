"""``canaria drift monitor``: re-evaluate each variant's rolling window, export gauges.

Every ``interval`` seconds, for each ``--log VARIANT=PATH``, the records of the last
``window`` seconds are compared with the model's reference sample (Evidently stattests,
no HTML) and the results replace that variant's gauges on ``/metrics``; for each
``--compare VARIANT=BASELINE`` (e.g. ``canary=stable``) the variant's window is also
compared with the baseline variant's window (``monitoring.drift.canary``). A window with
fewer than ``min_rows`` rows is "no data" (see ``monitoring.drift.exporter``). An analysis
that fails (say, the log's columns do not match the model, or anything else goes wrong in
one window) is logged and exported as no data; the monitor keeps running. SIGTERM/SIGINT
stop it after the current evaluation. Each variant's reference follows the model that
scored its window (``monitoring.drift.reference.ReferenceFollower``): after a promotion the
new model's records are tested against the new model's reference sample.

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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from canaria.contracts.logs import configure, get_logger
from canaria.contracts.model_metadata import FeatureSchema
from monitoring.drift.canary import compare_variants
from monitoring.drift.config import DriftConfig, DriftConfigError, load_config
from monitoring.drift.engine import analyse
from monitoring.drift.exporter import DriftCollector, VariantResult
from monitoring.drift.reference import Loaded, ReferenceFollower
from monitoring.drift.tables import DriftInputError, sample_records_to_frame
from monitoring.drift.window import LogWindow

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
        compare: Mapping[str, str] | None = None,
        follow: Callable[[str], Loaded] | None = None,
        reference_tag: str = "",
    ) -> None:
        """``follow`` (with the reference's ``reference_tag``): each variant's reference
        follows the model that scored its window (``ReferenceFollower``)."""
        self.reference = reference
        self.schema = schema
        self.followers: dict[str, ReferenceFollower] = {}
        if follow is not None:
            self.followers = {
                variant: ReferenceFollower((reference_tag, reference, schema), follow)
                for variant in logs
            }
        self.config = config
        self.collector = DriftCollector(model)
        self.windows = {
            variant: LogWindow(path, window_seconds=window_seconds)
            for variant, path in logs.items()
        }
        self.compare = dict(compare or {})
        unknown = sorted({*self.compare, *self.compare.values()} - set(self.windows))
        if unknown:
            raise ValueError(f"--compare names variant(s) without a --log: {unknown}")

    def evaluate(self, now: float | None = None) -> dict[tuple[str, str], VariantResult]:
        """One pass over every variant; returns (and exports) the new results."""
        now = time.time() if now is None else now
        records = {variant: window.poll(now) for variant, window in self.windows.items()}
        for variant, window in self.windows.items():
            self.collector.update(self._evaluate_one(variant, records[variant], window, now))
        for variant, baseline in self.compare.items():
            self.collector.update(self._compare(variant, baseline, records, now))
        return self.collector.results()

    def _compare(
        self, variant: str, baseline: str, records: Mapping[str, list[Any]], now: float
    ) -> VariantResult:
        try:
            return compare_variants(
                records[variant],
                records[baseline],
                variant=variant,
                baseline_variant=baseline,
                schema=self.schema,
                config=self.config,
                now=now,
            )
        except DriftInputError as error:
            logger.warning("variant windows not comparable", extra={"variant": variant})
            return VariantResult(
                variant, now, len(records[variant]), None, error=str(error), baseline=baseline
            )

    def _evaluate_one(
        self, variant: str, records: list[Any], window: LogWindow, now: float
    ) -> VariantResult:
        reference, schema = self.reference, self.schema
        follower = self.followers.get(variant)
        if follower is not None:
            records = follower.select(records)
            reference, schema = follower.frame, follower.schema
        if len(records) < self.config.min_rows:
            return VariantResult(variant, now, len(records), None)
        try:
            summary = analyse(
                reference,
                sample_records_to_frame(records),
                config=self.config,
                schema=schema,
                context={"variant": variant, "window_seconds": window.window_seconds},
                report=False,
            ).summary
        except DriftInputError as error:
            logger.warning("drift window not analysable", extra={"variant": variant})
            return VariantResult(variant, now, len(records), None, error=str(error))
        except Exception as error:  # one bad window must not stop the monitor
            logger.exception("drift evaluation failed", extra={"variant": variant})
            message = f"{type(error).__name__}: {error}"
            return VariantResult(variant, now, len(records), None, error=message)
        return VariantResult(variant, now, len(records), summary)


def parse_logs(items: list[str]) -> dict[str, Path]:
    """``["stable=/a.jsonl", ...]`` -> ``{"stable": Path("/a.jsonl")}``; ValueError if bad."""
    logs = {variant: Path(path) for variant, path in _pairs(items, "--log", "PATH").items()}
    if not logs:
        raise ValueError("give at least one --log VARIANT=PATH")
    return logs


def _pairs(items: list[str], option: str, value_name: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        variant, sep, value = item.partition("=")
        if not sep or not variant or not value:
            raise ValueError(f"{option} {item!r}: expected VARIANT={value_name}")
        if variant in pairs:
            raise ValueError(f"{option}: variant {variant!r} given twice")
        pairs[variant] = value
    return pairs


def run_monitor_command(args: argparse.Namespace) -> int:
    """The ``canaria drift monitor`` handler: exit 2 on bad arguments, else 0 when stopped."""
    from monitoring.drift.reference import load_for_follow, load_model_reference

    configure()
    try:
        if args.model is None:
            raise ValueError("--model is required (its reference sample and feature schema)")
        if args.interval <= 0 or args.window <= 0:
            raise ValueError("--interval and --window must be positive")
        logs = parse_logs(args.log)
        config = load_config(args.config)
        loaded = load_model_reference(args.model)
        monitor = DriftMonitor(
            model=loaded.tag.split(":")[0],
            reference=loaded.frame,
            schema=loaded.schema,
            config=config,
            logs=logs,
            window_seconds=args.window,
            compare=_pairs(args.compare, "--compare", "BASELINE"),
            follow=load_for_follow,
            reference_tag=loaded.tag,
        )
    except (ValueError, DriftInputError, DriftConfigError) as error:
        print(f"canaria drift monitor: error: {error}", file=sys.stderr)
        return 2
    if args.once:
        results = monitor.evaluate()
        print(json.dumps({"/".join(key): _result_dict(r) for key, r in results.items()}))
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
