"""``canaria retrain``: champion/challenger retraining (the retraining Job's command).

Prints the result as JSON (and writes it to ``--output``). Exit codes: 0 when it ran to a
decision (``registered`` or ``refused``: read ``status``), 2 for bad input (no data, an
unknown champion, unreadable files), 1 when anything else failed (``status: failed``;
nothing is registered then).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from training.drift_scenarios import DriftScenario

EXIT_DECIDED = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "retrain",
        help="retrain the churn classifier; register the challenger only if it is better",
        description=(
            "Gather new data (logged inputs labelled by the generator's label model, and/or "
            "generated customers), train a challenger, score it and the champion on the "
            "same fresh hold-out, and register a new version only if it beats the champion "
            "by --margin."
        ),
    )
    parser.add_argument("--champion", default="churn-classifier:latest", help="model tag")
    parser.add_argument(
        "--samples", action="append", default=[], type=Path, metavar="PATH",
        help="logged inputs: a CANARIA_SAMPLE_LOG JSONL or CSV/Parquet file (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--concept-drift", type=float, default=0.0, metavar="S",
        help="concept-drift strength in [0, 1] the generator labels logged inputs with",
    )  # fmt: skip
    parser.add_argument("--generate", type=int, default=0, metavar="N", help="generated rows")
    parser.add_argument(
        "--scenario", choices=[scenario.value for scenario in DriftScenario],
        help="drift scenario of the generated rows",
    )  # fmt: skip
    parser.add_argument("--strength", type=float, default=0.0, help="scenario strength")
    parser.add_argument("--metric", default="roc_auc", help="decision metric (default roc_auc)")
    parser.add_argument("--margin", type=float, default=0.01, help="required improvement")
    parser.add_argument("--holdout", type=float, default=0.3, help="hold-out fraction")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trigger", default="manual", help="why this runs, e.g. drift:0.45")
    parser.add_argument("--output", type=Path, help="also write the JSON result here")
    parser.set_defaults(handler=_retrain)


def _retrain(args: argparse.Namespace) -> int:
    from training.retrain import RetrainConfig, RetrainError, retrain

    code, result = EXIT_DECIDED, {}
    try:
        config = RetrainConfig(
            champion=args.champion,
            sample_files=tuple(args.samples),
            concept_drift=args.concept_drift,
            generate_rows=args.generate,
            scenario=args.scenario,
            strength=args.strength,
            metric=args.metric,
            margin=args.margin,
            holdout_fraction=args.holdout,
            seed=args.seed,
            trigger=args.trigger,
        )
        result = retrain(config).to_dict()
    except (RetrainError, ValueError) as error:
        code, result = EXIT_BAD_INPUT, {"status": "failed", "reason": str(error)}
    except Exception as error:  # the Job's result must say why, whatever broke
        code = EXIT_FAILED
        result = {"status": "failed", "reason": f"{type(error).__name__}: {error}"}
    text = json.dumps(result, indent=2)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    print(text)
    if code:
        print(f"canaria retrain: error: {result['reason']}", file=sys.stderr)
    return code
