"""``canaria train classic|llm``: train a model and save it in the BentoML store."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from training.drift_scenarios import DriftScenario

DEFAULT_CLASSIC_ROWS = 20000
DEFAULT_LLM_STEPS = 300


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model and save it in the BentoML store",
        description="Train a model and save it, with its metadata, in the BentoML store.",
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")

    classic = kinds.add_parser("classic", help="the churn classifier (scikit-learn)")
    _add_common_options(classic)
    classic.add_argument(
        "--rows", type=_positive_int, default=DEFAULT_CLASSIC_ROWS, help="customers to generate"
    )
    classic.add_argument(
        "--scenario",
        type=_scenario,
        metavar="{" + ",".join(scenario.value for scenario in DriftScenario) + "}",
        help="train on drifted customers, as a retraining job does",
    )
    classic.add_argument(
        "--strength",
        type=_unit_float,
        help="how strong the scenario is, in [0, 1] (default 1 with --scenario)",
    )
    classic.add_argument(
        "--label",
        action="append",
        default=[],
        type=_label,
        metavar="KEY=VALUE",
        help="a BentoML label for the saved model, e.g. role=candidate (repeatable)",
    )
    classic.set_defaults(handler=_train_classic)

    llm = kinds.add_parser("llm", help="the tiny support language model (torch)")
    _add_common_options(llm)
    llm.add_argument(
        "--max-steps", type=_positive_int, default=DEFAULT_LLM_STEPS, help="optimizer steps"
    )
    llm.set_defaults(handler=_train_llm)


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _train_classic(args: argparse.Namespace) -> int:
    if args.strength is not None and args.scenario is None:
        print("canaria train classic: error: --strength needs --scenario", file=sys.stderr)
        return 2
    from canaria.cli.progress import bentoml_home, stages
    from training.classic import save, train

    strength = 0.0 if args.scenario is None else (1.0 if args.strength is None else args.strength)
    try:
        with stages() as stage:
            drift = f", {args.scenario} at {strength:g}" if args.scenario else ""
            stage(f"training on {args.rows} generated customers{drift}")
            trained = train(
                seed=args.seed, n_rows=args.rows, scenario=args.scenario, strength=strength
            )
            stage(f"saving to the BentoML store {bentoml_home()}")
            tag = save(trained, labels=dict(args.label))
    except ValueError as error:  # arguments the parser cannot check, such as too few rows
        print(f"canaria train classic: error: {error}", file=sys.stderr)
        return 2
    return _report(str(tag), as_json=args.json)


def _train_llm(args: argparse.Namespace) -> int:
    from canaria.cli.progress import step_bar
    from training.llm import train_and_save

    try:
        with step_bar("training support-lm", total=args.max_steps) as advance:
            tag = train_and_save(seed=args.seed, max_steps=args.max_steps, on_step=advance)
    except ValueError as error:
        print(f"canaria train llm: error: {error}", file=sys.stderr)
        return 2
    return _report(str(tag), as_json=args.json)


def _report(tag: str, *, as_json: bool) -> int:
    """Print the saved tag, the store it went to and its held-out metrics, read back."""
    import bentoml

    from canaria.cli.progress import bentoml_home

    model = bentoml.models.get(tag)
    metadata: dict[str, Any] = dict(model.info.metadata)
    metrics: dict[str, float] = metadata.get("metrics", {})
    store = str(bentoml_home())
    if as_json:
        print(json.dumps({"tag": tag, "metrics": metrics, "store": store}, sort_keys=True))
    else:
        print(f"saved {tag}")
        print(f"  {'store':<22} {store} (BENTOML_HOME)")
        labels = ",".join(f"{k}={v}" for k, v in sorted(model.info.labels.items()))
        print(f"  {'labels':<22} {labels or '-'}")
        for name, value in metrics.items():
            print(f"  {name:<22} {value:.4f}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _unit_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def _scenario(text: str) -> DriftScenario:
    try:
        return DriftScenario(text)
    except ValueError:
        names = ", ".join(scenario.value for scenario in DriftScenario)
        raise argparse.ArgumentTypeError(f"unknown scenario {text!r}; one of {names}") from None


def _label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value
