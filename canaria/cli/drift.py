"""``canaria drift``: compare current data with a reference; ``canaria drift monitor``.

Exit codes: 0 no drift, 1 drift, 2 bad input (one line on stderr naming the file and the
problem; argparse's own usage errors are 2 as well), 3 no data (fewer current rows than
``min_rows``: nothing was tested, so nothing is claimed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_NO_DRIFT = 0
EXIT_DRIFT = 1
EXIT_BAD_INPUT = 2
EXIT_NO_DATA = 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "drift",
        help="drift report and exit code (0 none, 1 drift, 2 bad input, 3 no data)",
        description=(
            "Compare current data (CSV, Parquet or a CANARIA_SAMPLE_LOG JSONL file) with a "
            "reference (a file, or --model's saved reference sample), column by column with "
            "Evidently. Exit 0 no drift, 1 drift, 2 bad input, 3 too few current rows."
        ),
    )
    parser.add_argument("--reference", type=Path, help="reference data file")
    parser.add_argument("--current", type=Path, help="current data file")
    _add_model_and_config(parser)
    parser.add_argument("--report", type=Path, help="write Evidently's HTML report here")
    parser.add_argument("--json", type=Path, dest="json_path", help="write the JSON summary here")
    parser.set_defaults(handler=_drift)
    commands = parser.add_subparsers(dest="drift_command", metavar="COMMAND")
    monitor = commands.add_parser(
        "monitor",
        help="re-evaluate rolling windows of sample logs and export Prometheus gauges",
        description="Re-evaluate each variant's rolling window on a schedule; serve /metrics.",
    )
    _add_model_and_config(monitor)
    monitor.add_argument(
        "--log",
        action="append",
        default=[],
        metavar="VARIANT=PATH",
        help="a variant's sample log (repeatable), e.g. stable=/var/log/stable.jsonl",
    )
    monitor.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="VARIANT=BASELINE",
        help="also test a variant's window against another's, e.g. canary=stable (repeatable)",
    )
    monitor.add_argument("--interval", type=float, default=30.0, help="seconds between runs")
    monitor.add_argument("--window", type=float, default=600.0, help="window length, seconds")
    monitor.add_argument("--host", default="127.0.0.1", help="metrics listen address")
    monitor.add_argument("--port", type=int, default=9109, help="metrics port (0: any free)")
    monitor.add_argument("--once", action="store_true", help="run one evaluation and exit")
    monitor.set_defaults(handler=_monitor)
    llm = commands.add_parser(
        "llm",
        help="prompt drift: embeddings (MMD), length and token count (needs the llm extra)",
        description="Compare current prompts with reference prompts; files are .txt (one "
        "prompt a line) or .jsonl (objects with a 'prompt' field). Same exit codes.",
    )
    llm.add_argument("--reference", type=Path, required=True, help="reference prompts")
    llm.add_argument("--current", type=Path, required=True, help="current prompts")
    llm.add_argument("--config", type=Path, help="YAML/JSON drift settings (min_rows, seed)")
    llm.add_argument("--json", type=Path, dest="json_path", help="write the JSON summary here")
    llm.set_defaults(handler=_llm)


def _add_model_and_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        help="model tag (e.g. churn-classifier:latest): its feature schema and, without "
        "--reference, its reference sample",
    )
    parser.add_argument("--config", type=Path, help="YAML/JSON drift settings (tests, shares)")


def _fail(message: str) -> int:
    print(f"canaria drift: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _drift(args: argparse.Namespace) -> int:
    from monitoring.drift.config import DriftConfigError, load_config
    from monitoring.drift.engine import analyse
    from monitoring.drift.summary import DriftStatus, one_line
    from monitoring.drift.tables import DriftInputError, read_table

    if args.current is None or (args.reference is None and args.model is None):
        return _fail("give --current and --reference (or --model for its reference sample)")
    try:
        config = load_config(args.config)
        reference, schema, context = _reference_side(args.reference, args.model)
        current = read_table(args.current)
        context["current"] = str(args.current)
        result = analyse(
            reference,
            current,
            config=config,
            schema=schema,
            context=context,
            report=args.report is not None,
        )
    except (DriftInputError, DriftConfigError) as error:
        return _fail(str(error))
    summary = result.summary
    if args.report is not None:
        result.save_html(args.report)
    if args.json_path is not None:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        args.json_path.write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    print(one_line(summary))
    if summary.status is DriftStatus.NO_DATA:
        return EXIT_NO_DATA
    return EXIT_DRIFT if summary.drifted else EXIT_NO_DRIFT


def _reference_side(path: Path | None, model: str | None) -> tuple[Any, Any, dict[str, Any]]:
    from monitoring.drift.reference import load_model_reference
    from monitoring.drift.tables import read_table

    context: dict[str, Any] = {}
    schema = None
    frame = None
    if model is not None:
        loaded = load_model_reference(model)
        schema, frame = loaded.schema, loaded.frame
        context.update(loaded.context)
    if path is not None:
        frame = read_table(path)
        context["reference"] = str(path)
    return frame, schema, context


def read_prompts(path: Path) -> list[str]:
    """Prompts from a ``.txt`` (one per non-empty line) or ``.jsonl`` (``prompt`` fields)."""
    from monitoring.drift.tables import DriftInputError

    if not path.is_file():
        raise DriftInputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".txt", ".jsonl"):
        raise DriftInputError(f"{path}: prompts must be a .txt or .jsonl file")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise DriftInputError(f"{path}: empty file")
    if suffix == ".txt":
        return lines
    prompts = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DriftInputError(f"{path}: line {number} is not JSON ({error.msg})") from error
        if not isinstance(record, dict) or not isinstance(record.get("prompt"), str):
            raise DriftInputError(f"{path}: line {number} has no string 'prompt'")
        prompts.append(record["prompt"])
    return prompts


def _llm(args: argparse.Namespace) -> int:
    from monitoring.drift.config import DriftConfigError, load_config
    from monitoring.drift.tables import DriftInputError

    try:
        config = load_config(args.config)
        reference, current = read_prompts(args.reference), read_prompts(args.current)
        if len(reference) < 2 or len(current) < 2:
            raise DriftInputError("each side needs at least 2 prompts")
        from monitoring.drift.llm import PromptEmbedder, prompt_drift
    except (DriftInputError, DriftConfigError) as error:
        return _fail(str(error))
    except ImportError as error:
        return _fail(f"LLM drift needs the llm extra ({error.name} is not installed)")
    result = prompt_drift(reference, current, embedder=PromptEmbedder(), config=config)
    if args.json_path is not None:
        args.json_path.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    embedding = result.embedding
    verdict = "drift" if result.drifted else "no drift"
    if len(current) < config.min_rows:
        print(f"no data: {len(current)} current prompts, at least {config.min_rows} needed")
        return EXIT_NO_DATA
    print(
        f"{verdict}: embeddings MMD p={embedding.p_value:.3f}"
        f" ({'drifted' if result.embedding_drifted else 'same'}); length/token columns "
        f"drifted: {', '.join(result.lengths.drifted_columns) or 'none'}"
    )
    return EXIT_DRIFT if result.drifted else EXIT_NO_DRIFT


def _monitor(args: argparse.Namespace) -> int:
    from monitoring.drift.monitor import run_monitor_command

    return run_monitor_command(args)
