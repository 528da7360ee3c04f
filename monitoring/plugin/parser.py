"""The plugin's command line, for ``kubectl-canaria`` and ``canaria rollout`` alike.

kubectl hands a plugin every word after its name unchanged, and users type global flags
anywhere (``kubectl canaria status churn -n ml``). So the global flags (``--kubeconfig``,
``--context``, ``-n``, ``-A``, ``--state-dir``) are known to the top parser and to every
sub-command; a sub-command's copy has no default, so a flag given before the sub-command
is not reset by it.
"""

from __future__ import annotations

import argparse
from importlib import metadata
from pathlib import Path
from typing import Any

from monitoring.api.spec import Action, SpecError, parse_duration
from monitoring.plugin.exitcodes import EPILOG
from monitoring.plugin.render import OUTPUTS

ROLLOUT_NAMES_COMMAND = "kubectl-canaria list -o name 2>/dev/null | sed 's|.*/||'"
ACTION_HELP = {
    Action.PROMOTE: "next step now (--full: skip every remaining step and promote)",
    Action.ABORT: "traffic back to the stable, the canary kept for inspection (retryable)",
    Action.RETRY: "restart the analysis of an aborted, failed or rolled-back canary",
    Action.ROLLBACK: "traffic back to the stable; the rollout ends",
    Action.PAUSE: "freeze traffic and analysis",
    Action.RESUME: "continue after a pause action",
}


def version() -> str:
    try:
        return metadata.version("canaria")
    except metadata.PackageNotFoundError:
        return "unknown"


def duration(text: str) -> float:
    """``10m``, ``90s``, ``1h30m`` or plain seconds (argparse type)."""
    try:
        return float(text) if text.replace(".", "", 1).isdigit() else parse_duration(text)
    except SpecError as error:
        raise argparse.ArgumentTypeError(error.reason) from None


def global_flags(*, top: bool) -> argparse.ArgumentParser:
    """The flags every command takes; defaults only on the top parser."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("global flags (any position)")

    def default(value: Any) -> dict[str, Any]:
        return {"default": value if top else argparse.SUPPRESS}

    group.add_argument(
        "--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube)", **default(None)
    )
    group.add_argument("--context", help="kubeconfig context to use", **default(None))
    group.add_argument(
        "-n", "--namespace", help="namespace (default: the context's)", **default(None)
    )
    group.add_argument(
        "-A",
        "--all-namespaces",
        action="store_true",
        help="every namespace (list, status)",
        **default(False),
    )
    group.add_argument(
        "--state-dir",
        type=Path,
        help="local mode's state directory (default: $CANARIA_STATE_DIR, else "
        "$XDG_STATE_HOME/canaria, i.e. ~/.local/state/canaria)",
        **default(None),
    )
    return parser


def _local(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--local",
        action="append",
        type=Path,
        metavar="FILE",
        help="a local-mode rollout file instead of the cluster (repeatable)",
    ).complete = {"bash": "_shtab_compgen_files", "zsh": "_files"}  # type: ignore[attr-defined]


def _name(parser: argparse.ArgumentParser, *, required: bool) -> None:
    import shtab

    action = parser.add_argument(
        "name", nargs=None if required else "?", metavar="NAME", help="the ModelRollout"
    )
    action.complete = shtab.cmd(ROLLOUT_NAMES_COMMAND)  # type: ignore[attr-defined]


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", choices=OUTPUTS, help="print json, yaml or names")


def _watch(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--watch", action="store_true", help="follow until a final phase")
    parser.add_argument(
        "--timeout", type=duration, help="with --watch: give up after this long (e.g. 10m); exit 3"
    )
    parser.add_argument(
        "--poll-interval", type=duration, default=1.0, help="seconds between reads (default 1)"
    )


def add_commands(parser: argparse.ArgumentParser) -> None:
    """Add ``--version`` and every sub-command to ``parser``, which was made with
    ``parents=[global_flags(top=True)]``."""
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    flags = global_flags(top=False)
    commands = parser.add_subparsers(dest="plugin_command", required=True, metavar="COMMAND")

    def command(name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help,
            description=description or help,
            parents=[flags],
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    status = command(
        "status",
        "one rollout's evidence; exit 0 healthy/promoted, 1 failed/rolled back/aborted",
        "Show a rollout (or, with no NAME, the namespace's rollouts). With --watch, follow it "
        "until promoted (exit 0), failed, rolled back or aborted (exit 1), or --timeout (3).",
    )
    _name(status, required=False)
    _watch(status)
    _output(status)
    _local(status)

    get = command("get", "one rollout's evidence (no NAME: the list); --watch redraws")
    _name(get, required=False)
    _watch(get)
    _output(get)
    _local(get)

    listing = command("list", "the rollouts of a namespace (-A: all) in kubectl columns")
    _output(listing)
    _local(listing)

    for action, text in ACTION_HELP.items():
        sub = command(action.value, text)
        _name(sub, required=False)
        if action is Action.PROMOTE:
            sub.add_argument("--full", action="store_true", help="promote now, skip the steps")
        sub.add_argument("--no-wait", action="store_true", help="ask, do not wait for the operator")
        sub.add_argument(
            "--wait-timeout",
            type=duration,
            default=60.0,
            help="wait at most this long (default 60s)",
        )
        sub.add_argument(
            "--dry-run",
            action="store_true",
            help="validate and show what it would do; send nothing",
        )
        _local(sub)
        sub.set_defaults(action=action)

    lint = command(
        "lint",
        "validate ModelRollout YAML offline: every problem, with its field path",
        "Check files against the CRD schema (unknown fields included) and the operator's "
        "parser; exit 1 when any file has a problem.",
    )
    lint.add_argument("files", nargs="+", type=Path, metavar="FILE").complete = {  # type: ignore[attr-defined]
        "bash": "_shtab_compgen_files",
        "zsh": "_files",
    }
    lint.add_argument("--crd", type=Path, help="the CRD file (default: k8s/crds/modelrollout.yaml)")

    completion = command("completion", "print a shell completion script (bash or zsh)")
    completion.add_argument("shell", choices=("bash", "zsh"))


def build_parser(prog: str = "kubectl-canaria") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        parents=[global_flags(top=True)],
        description="Show and steer canaria ModelRollouts: status, list, promote, abort, retry, "
        "rollback, pause, resume; lint rollout files.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_commands(parser)
    return parser
