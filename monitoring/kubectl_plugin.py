"""``kubectl canaria``: watch, script and steer ModelRollouts from the terminal.

Installed as the console script ``kubectl-canaria``, which kubectl runs as a plugin (and
as ``canaria rollout``). It talks to the API server with the official client (kubeconfig,
or in-cluster), or, with ``--local FILE``, to local-mode rollouts and their state files.
Actions only ask: they set the ``canaria.dev/action`` annotation (locally: the state
file's ``action``), which the operator applies at its next tick, exactly as a plain
``kubectl annotate`` would; then the command waits until it did and says what changed.
The sub-commands and exit codes: ``monitoring.plugin`` (``kubectl canaria --help``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from monitoring.api.spec import Action
from monitoring.plugin.exitcodes import CliError, ExitCode
from monitoring.plugin.parser import build_parser
from monitoring.plugin.sources import ClusterSource, LocalSource, Source, describe_api_error


def source_for(args: argparse.Namespace) -> Source:
    """Local files when ``--local`` was given, else the cluster."""
    local = getattr(args, "local", None)
    if local:
        return LocalSource(local, state_dir=args.state_dir)
    return ClusterSource(
        kubeconfig=args.kubeconfig,
        context=args.context,
        namespace=args.namespace,
        all_namespaces=bool(args.all_namespaces),
    )


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; errors are one ``error: ...`` line and a documented code."""
    try:
        return int(_dispatch(args))
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return int(error.code)
    except KeyboardInterrupt:  # Ctrl-C while watching or waiting: the rollout goes on
        return 130
    except Exception as error:  # the API or a file: a CLI prints what went wrong, no traceback
        print(f"error: {describe_api_error(error)}", file=sys.stderr)
        return int(ExitCode.ERROR)


def _dispatch(args: argparse.Namespace) -> ExitCode:
    command = args.plugin_command
    if command == "lint":
        return _lint(args)
    if command == "completion":
        return _completion(args)
    if command in ("status", "get", "list"):
        return _read(args, source_for(args))
    from monitoring.plugin.actions import ActionRequest, run_action

    action: Action = args.action
    if not args.name and not args.local:
        raise CliError(f"{action.value} needs a rollout NAME (or --local FILE)", ExitCode.USAGE)
    if action is Action.PROMOTE and args.full:
        action = Action.PROMOTE_FULL
    request = ActionRequest(
        action=action,
        name=args.name,
        wait=not args.no_wait,
        timeout=args.wait_timeout,
        dry_run=args.dry_run,
    )
    return run_action(source_for(args), request, out=sys.stdout)


def _read(args: argparse.Namespace, source: Source) -> ExitCode:
    from monitoring.plugin.render import format_list, format_output, format_summary
    from monitoring.plugin.watch import Watch, follow, show_once

    name = getattr(args, "name", None)
    output = args.output
    one_file = isinstance(source, LocalSource) and len(source.paths) == 1
    if name is None and args.plugin_command == "status" and one_file:
        name = str(source.get(None)["metadata"]["name"])  # `status --local FILE`: its details
    if name is None:
        objs = source.list_rollouts()
        if output:
            print(format_output(objs, output, single=False))
        elif args.plugin_command == "status":
            print(format_summary(objs, with_namespace=bool(args.all_namespaces)))
        else:
            print(format_list(objs, with_namespace=bool(args.all_namespaces)))
        return ExitCode.OK
    if getattr(args, "watch", False):
        watch = Watch(poll=args.poll_interval, timeout=args.timeout, output=output)
        code = follow(source, name, watch)
        return code if args.plugin_command == "status" or code is ExitCode.TIMEOUT else ExitCode.OK
    code = show_once(source, name, output=output, out=sys.stdout)
    return code if args.plugin_command == "status" else ExitCode.OK


def _lint(args: argparse.Namespace) -> ExitCode:
    from monitoring.plugin.lint import CRD_PATH, lint_file, validator

    crd = args.crd or CRD_PATH
    try:
        validator(crd)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CliError(f"cannot use the CRD {crd}: {error}; pass --crd FILE") from None
    failed = 0
    for path in args.files:
        problems = lint_file(path, crd_path=crd)
        for problem in problems:
            print(f"{path}: {problem}")
        print(
            f"{path}: {len(problems)} problem{'s' * (len(problems) != 1)}"
            if problems
            else f"{path}: ok"
        )
        failed += bool(problems)
    return ExitCode.DEGRADED if failed else ExitCode.OK


def _completion(args: argparse.Namespace) -> ExitCode:
    """The completion script of the whole command (``kubectl-canaria``, or ``canaria``
    when run as ``canaria rollout completion``)."""
    import shtab

    parser = args.completion_parser()
    script = shtab.complete(parser, shell=args.shell)  # nosec B604 # shell= names the completion dialect (bash/zsh), runs nothing
    print(script)
    return ExitCode.OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.set_defaults(completion_parser=build_parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
