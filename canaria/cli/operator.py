"""``canaria operator``: the ModelRollout operator, in a cluster (kopf) or locally.

``canaria operator`` watches ModelRollouts through the Kubernetes API (kubeconfig or
in-cluster); ``canaria operator --local churn.yaml`` runs the same reconcile code on YAML
files with no cluster, keeping each rollout's status in a state file beside it.
``canaria rollout ...`` is ``kubectl-canaria ...`` (status, promote, rollback, pause,
resume), handy with ``--local`` where there is no kubectl.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from typing import Any

DEFAULT_METRICS_PORT = 9108
# Every interface by default: in a pod, Prometheus scrapes the pod's IP, not its loopback.
DEFAULT_METRICS_HOST = "0.0.0.0"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "operator",
        help="run the ModelRollout operator (kopf, or --local on YAML files)",
        description="Run the ModelRollout operator: analyse canaries, promote or roll back.",
    )
    parser.add_argument(
        "--local",
        nargs="+",
        type=Path,
        metavar="ROLLOUT_YAML",
        help="no cluster: reconcile these ModelRollout files (state in FILE.state.json)",
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
    parser.set_defaults(handler=_run_operator)

    rollout = subparsers.add_parser(
        "rollout",
        help="status, promote, rollback, pause, resume (same as kubectl-canaria)",
        description="Same as kubectl-canaria: e.g. 'canaria rollout rollback --local churn.yaml'.",
        add_help=False,
    )
    rollout.add_argument("args", nargs=argparse.REMAINDER)
    rollout.set_defaults(handler=_run_rollout)


def _run_rollout(args: argparse.Namespace) -> int:
    from monitoring.kubectl_plugin import build_parser, run

    return run(build_parser(prog="canaria rollout").parse_args(args.args))


def _run_operator(args: argparse.Namespace) -> int:
    from canaria.contracts.logs import configure
    from monitoring.operator.metrics import OperatorMetrics

    configure(level=args.log_level)
    metrics = OperatorMetrics()
    if args.metrics_port is not None:
        try:
            metrics.serve(port=args.metrics_port, address=args.metrics_host)
        except OSError as error:  # address in use, or a host that does not resolve
            where = f"{args.metrics_host}:{args.metrics_port}"
            print(f"error: cannot serve metrics on {where}: {error}")
            return 2
    if args.local:
        return _run_local(args.local, metrics)
    return _run_kopf(args, metrics)


def _run_local(paths: list[Path], metrics: Any) -> int:
    from monitoring.operator.local import run_local
    from monitoring.operator.state import RolloutFileError

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run_local(paths, stop=stop, metrics=metrics)
    except RolloutFileError as error:
        print(f"error: {error}")
        return 2
    return 0


def _run_kopf(args: argparse.Namespace, metrics: Any) -> int:
    if args.kubeconfig:
        # Before kopf is imported: it imports the kubernetes client, which reads the
        # variable once, and kopf logs in through that client.
        os.environ["KUBECONFIG"] = args.kubeconfig
    from monitoring.operator.handlers import run_kopf
    from monitoring.operator.kube_store import cluster_reconciler

    reconciler = cluster_reconciler(metrics=metrics, kubeconfig=args.kubeconfig)
    run_kopf(reconciler, namespaces=args.namespace, liveness=args.liveness)
    return 0
