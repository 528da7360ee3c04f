"""``canaria operator``: the ModelRollout operator, in a cluster (kopf) or locally.

``canaria operator`` watches ModelRollouts through the Kubernetes API (kubeconfig or
in-cluster); ``canaria operator --local churn.yaml`` runs the same reconcile code on YAML
files with no cluster, keeping each rollout's status in a state directory
(``monitoring.operator.state``). ``canaria rollout ...`` is ``kubectl-canaria ...``
(status, list, promote, abort, retry, rollback, pause, resume, lint), handy with
``--local`` where there is no kubectl.

Exit codes of ``canaria operator``: 0 stopped cleanly (SIGTERM, Ctrl-C); 2 bad arguments,
a rollout file that cannot be used, or a metrics port that cannot be served; 4 no
Kubernetes configuration (no in-cluster service account, no kubeconfig).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

DEFAULT_METRICS_PORT = 9108
EXIT_BAD_INPUT = 2
EXIT_NO_CLUSTER = 4
OPERATOR_EPILOG = """exit codes:
  0  stopped cleanly (SIGTERM, Ctrl-C)
  2  bad arguments, an unusable rollout file, or a metrics port that cannot be served
  4  no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, or use --local"""
# Loggers that would log every HTTP call at INFO (one line per router or API request).
QUIET_LOGGERS = ("httpx", "httpcore", "kubernetes.client.rest")
# Every interface by default: in a pod, Prometheus scrapes the pod's IP, not its loopback.
DEFAULT_METRICS_HOST = "0.0.0.0"  # nosec B104 # Prometheus scrapes the pod IP; NetworkPolicy limits callers


def register(subparsers: Any) -> None:
    from monitoring.operator.state import STATE_DIR_ENV, default_state_dir

    parser = subparsers.add_parser(
        "operator",
        help="run the ModelRollout operator (kopf, or --local on YAML files)",
        description="Run the ModelRollout operator: analyse canaries, promote or roll back.",
        epilog=OPERATOR_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--local",
        nargs="+",
        type=Path,
        metavar="ROLLOUT_YAML",
        help="no cluster: reconcile these ModelRollout files; each one's state goes to "
        "STATE_DIR/NAME-HASH.state.json (see --state-dir)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        help=f"local mode's state directory (default: ${STATE_DIR_ENV}, else "
        f"$XDG_STATE_HOME/canaria; here: {default_state_dir()})",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        help="watch this namespace (repeatable; default: all namespaces)",
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, $KUBECONFIG)")
    parser.add_argument(
        "--metrics-port",
        type=int,
        help=f"serve the operator's Prometheus metrics on this port (e.g. {DEFAULT_METRICS_PORT})",
    )
    parser.add_argument(
        "--metrics-host",
        default=DEFAULT_METRICS_HOST,
        help="address the --metrics-port server binds (default 0.0.0.0, every interface, "
        "for Prometheus to scrape the pod's IP; e.g. 127.0.0.1 for local mode on a laptop)",
    )
    parser.add_argument(
        "--liveness", help="kopf liveness endpoint, e.g. http://0.0.0.0:8080/healthz"
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    add_log_format(parser)
    parser.set_defaults(handler=_run_operator)

    from monitoring.plugin.exitcodes import EPILOG
    from monitoring.plugin.parser import add_commands, global_flags

    rollout = subparsers.add_parser(
        "rollout",
        parents=[global_flags(top=True)],
        help="status, list, promote, abort, retry, rollback, pause, resume, lint "
        "(= kubectl-canaria)",
        description="Same as kubectl-canaria: e.g. 'canaria rollout rollback --local churn.yaml'.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_commands(rollout)
    rollout.set_defaults(handler=_run_rollout, completion_parser=_canaria_parser)


def add_log_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=("json", "console"),
        default="json",
        help="json lines (default), or console: human lines, coloured on a terminal",
    )


def _canaria_parser() -> argparse.ArgumentParser:
    from canaria.cli import build_parser

    return build_parser()


def _run_rollout(args: argparse.Namespace) -> int:
    from monitoring.kubectl_plugin import run

    return run(args)


def _run_operator(args: argparse.Namespace) -> int:
    from canaria.contracts.logs import configure
    from monitoring.operator.metrics import OperatorMetrics

    configure(level=args.log_level, format=args.log_format)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    metrics = OperatorMetrics()
    if args.metrics_port is not None:
        try:
            metrics.serve(port=args.metrics_port, address=args.metrics_host)
        except OSError as error:  # address in use, or a host that does not resolve
            where = f"{args.metrics_host}:{args.metrics_port}"
            print(f"error: cannot serve metrics on {where}: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if args.local:
        return _run_local(args.local, metrics, state_dir=args.state_dir)
    if args.state_dir is not None:
        print("error: --state-dir is for local mode (--local FILE)", file=sys.stderr)
        return EXIT_BAD_INPUT
    return _run_kopf(args, metrics)


def _run_local(paths: list[Path], metrics: Any, *, state_dir: Path | None) -> int:
    from monitoring.operator.local import run_local
    from monitoring.operator.state import RolloutFileError

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run_local(paths, stop=stop, metrics=metrics, state_dir=state_dir)
    except RolloutFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def _run_kopf(args: argparse.Namespace, metrics: Any) -> int:
    if args.kubeconfig:
        # Before kopf is imported: it imports the kubernetes client, which reads the
        # variable once, and kopf logs in through that client.
        os.environ["KUBECONFIG"] = args.kubeconfig
    from monitoring.plugin.exitcodes import CliError
    from monitoring.plugin.sources import load_cluster_config

    try:
        load_cluster_config(args.kubeconfig, None)  # fail in one line, before kopf starts
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_NO_CLUSTER
    from monitoring.operator.handlers import run_kopf
    from monitoring.operator.kube_store import cluster_reconciler

    reconciler = cluster_reconciler(metrics=metrics, kubeconfig=args.kubeconfig)
    run_kopf(reconciler, namespaces=args.namespace, liveness=args.liveness)
    return 0
