"""``python -m canaria.demo [--quick] [--output-dir DIR]`` (what ``make demo`` runs)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from canaria.demo.settings import BENTOML_HOME_ENV, DEFAULT_OUTPUT_DIR, demo_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m canaria.demo",
        description=(
            "Train a stable and two candidate churn models and a tiny LLM, serve them, run a "
            "healthy and a concept-drifted canary through the router and the local operator, "
            "close the loop (drift -> retraining Job -> canary -> promotion), and write an "
            "HTML report. Everything runs on 127.0.0.1 and is stopped at the end."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller models and shorter intervals (tests)"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help=f"logs, configs, report, default BentoML store (default {DEFAULT_OUTPUT_DIR})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = demo_settings(quick=args.quick, output_dir=args.output_dir)
    # Before anything imports bentoml: it reads BENTOML_HOME once, at import.
    os.environ[BENTOML_HOME_ENV] = str(settings.bentoml_home)
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    # transformers' "Writing model shards" bar would break the step's lines.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    from canaria.demo.script import run_demo

    return run_demo(settings)


if __name__ == "__main__":
    sys.exit(main())
