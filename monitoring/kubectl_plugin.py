"""``kubectl canaria``: status, promote, rollback, pause and resume of ModelRollouts.

Installed as the console script ``kubectl-canaria``, which kubectl runs as a plugin. It
talks to the API server with the official client (kubeconfig, or in-cluster), or, with
``--local FILE``, to a local-mode rollout and its state file. Actions only ask: they set
the ``canaria.dev/action`` annotation (locally: the state file's ``action``), and the
operator applies them at its next tick, exactly as a plain ``kubectl annotate`` would.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monitoring.api.constants import ACTION_ANNOTATION, GROUP, PLURAL, VERSION
from monitoring.api.spec import Action

_MESSAGE_WIDTH = 70


# --- rendering (pure) ----------------------------------------------------------------------


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, two spaces apart, like ``kubectl get`` (pure)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _model(ref: Mapping[str, Any] | None) -> str:
    if not ref:
        return "-"
    return str(ref.get("bentoTag") or ref.get("image") or "-")


def _short(text: str, width: int = _MESSAGE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def failed_checks(status: Mapping[str, Any]) -> list[str]:
    """Names of the checks that failed in the last analysis (pure)."""
    checks = (status.get("lastAnalysis") or {}).get("checks") or []
    return [str(c.get("name")) for c in checks if c.get("verdict") == "fail"]


def summary_row(obj: Mapping[str, Any], *, with_namespace: bool) -> list[str]:
    """One line of ``status``: name, phase, weight, stable, canary, failed checks, message."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    target = (obj.get("spec") or {}).get("target") or {}
    failed = str(status.get("failedChecks", 0))
    names = failed_checks(status)
    if names:
        failed += f" ({', '.join(names)})"
    row = [
        str(meta.get("name", "?")),
        str(status.get("phase", "-")),
        f"{status.get('canaryWeight', 0)}%",
        _model(status.get("stableModel") or target.get("stable")),
        _model(status.get("canaryModel") or target.get("canary")),
        failed,
        _short(str(status.get("message", ""))),
    ]
    return [str(meta.get("namespace", "default")), *row] if with_namespace else row


SUMMARY_HEADERS = ["NAME", "PHASE", "WEIGHT", "STABLE", "CANARY", "FAILED", "MESSAGE"]


def format_summary(objs: Sequence[Mapping[str, Any]], *, with_namespace: bool = False) -> str:
    if not objs:
        return "No ModelRollouts found."
    headers = (["NAMESPACE"] if with_namespace else []) + SUMMARY_HEADERS
    rows = [summary_row(obj, with_namespace=with_namespace) for obj in objs]
    return format_table(headers, rows)


def _number(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    from canaria.contracts.checks import Unit
    from monitoring.analysis import format_value

    try:
        return format_value(float(value), Unit(unit))
    except ValueError:
        return f"{value}"


def _threshold(check: Mapping[str, Any]) -> str:
    unit = "" if check.get("comparison") == "relative" else str(check.get("unit") or "")
    suffix = "× stable" if check.get("comparison") == "relative" else ""
    parts = []
    if check.get("min") is not None:
        parts.append(f">= {_number(check['min'], unit)}{suffix}")
    if check.get("max") is not None:
        parts.append(f"<= {_number(check['max'], unit)}{suffix}")
    return ", ".join(parts) or "-"


def format_details(obj: Mapping[str, Any], *, events: Sequence[Mapping[str, Any]] = ()) -> str:
    """One rollout: the summary, every check's evidence, recent decisions and Events."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    pending = (meta.get("annotations") or {}).get(ACTION_ANNOTATION)
    lines = [
        format_summary([obj]),
        "",
        f"Message:        {status.get('message', '-')}",
        f"Step:           {status.get('currentStep', 0)}"
        f"   next analysis: {status.get('nextAnalysisTime', '-')}",
    ]
    if pending:
        lines.append(f"Pending action: {pending} (applied at the operator's next tick)")
    analysis = status.get("lastAnalysis")
    if analysis:
        lines += ["", f"Last analysis at {analysis.get('time')}: {analysis.get('verdict')}"]
        rows = [
            [
                str(c.get("name")),
                str(c.get("verdict")),
                _number(c.get("value"), str(c.get("unit") or "")),
                _number(c.get("stableValue"), str(c.get("unit") or "")),
                _threshold(c),
                _short(str(c.get("message", "")), 60),
            ]
            for c in analysis.get("checks") or []
        ]
        headers = ["CHECK", "VERDICT", "CANARY", "STABLE", "THRESHOLD", "MESSAGE"]
        lines.append(format_table(headers, rows))
    history = status.get("history") or []
    if history:
        lines += ["", "History:"]
        rows = [
            [
                str(h.get("time")),
                str(h.get("decision")),
                str(h.get("phase")),
                f"{h.get('canaryWeight', 0)}%",
                _short(str(h.get("message", ""))),
            ]
            for h in history[-10:]
        ]
        lines.append(format_table(["TIME", "DECISION", "PHASE", "WEIGHT", "MESSAGE"], rows))
    lines += retrain_lines(status.get("retrain") or {})
    if events:
        lines += ["", "Events:"]
        rows = [
            [
                str(e.get("time") or e.get("lastTimestamp") or "-"),
                str(e.get("type")),
                str(e.get("reason")),
                _short(str(e.get("message", ""))),
            ]
            for e in events[-10:]
        ]
        lines.append(format_table(["TIME", "TYPE", "REASON", "MESSAGE"], rows))
    return "\n".join(lines)


def retrain_lines(retrain: Mapping[str, Any]) -> list[str]:
    """``status.retrain`` (the retraining loop): what runs, the last outcome, its steps."""
    if not retrain:
        return []
    running = retrain.get("runningKey")
    lines = ["", f"Retraining:     {f'Job {running} running' if running else 'no Job running'}"]
    if retrain.get("lastOutcome"):
        reason = _short(str(retrain.get("lastReason", "")), 90)
        lines.append(f"Last outcome:   {retrain['lastOutcome']}: {reason}")
    if retrain.get("waitReason"):
        lines.append(f"Waiting:        {_short(str(retrain['waitReason']), 90)}")
    rows = [[str(h.get("time")), str(h.get("step")), _short(str(h.get("message", "")))]
            for h in (retrain.get("history") or [])[-10:]]  # fmt: skip
    if rows:
        lines.append(format_table(["TIME", "STEP", "MESSAGE"], rows))
    return lines


def action_patch(action: Action) -> dict[str, Any]:
    """The merge patch that asks the operator for ``action`` (pure)."""
    return {"metadata": {"annotations": {ACTION_ANNOTATION: action.value}}}


# --- I/O -----------------------------------------------------------------------------------


class _Cluster:
    def __init__(self, *, kubeconfig: str | None, context: str | None) -> None:
        from kubernetes import client, config

        configuration = client.Configuration()
        self.namespace = "default"
        try:
            config.load_incluster_config(client_configuration=configuration)
            self.namespace = _incluster_namespace() or self.namespace
        except config.ConfigException:
            config.load_kube_config(
                config_file=kubeconfig, context=context, client_configuration=configuration
            )
            _, active = config.list_kube_config_contexts(config_file=kubeconfig)
            chosen = active
            if context:
                contexts, _ = config.list_kube_config_contexts(config_file=kubeconfig)
                chosen = next((c for c in contexts if c.get("name") == context), active)
            self.namespace = (chosen or {}).get("context", {}).get("namespace") or "default"
        self.api_client = client.ApiClient(configuration)
        self.custom = client.CustomObjectsApi(self.api_client)
        self.core = client.CoreV1Api(self.api_client)

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        answer = self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        return _mapping(answer)

    def list_rollouts(self, namespace: str | None) -> list[dict[str, Any]]:
        if namespace is None:
            answer = self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
        else:
            answer = self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        return [_mapping(item) for item in _mapping(answer).get("items", [])]

    def events(self, namespace: str, name: str) -> list[dict[str, Any]]:
        selector = f"involvedObject.name={name},involvedObject.kind=ModelRollout"
        answer = self.core.list_namespaced_event(namespace, field_selector=selector)
        items = self.api_client.sanitize_for_serialization(answer).get("items", [])
        return sorted(items, key=lambda e: str(e.get("lastTimestamp") or ""))

    def request(self, namespace: str, name: str, action: Action) -> None:
        self.custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            PLURAL,
            name,
            action_patch(action),
            _content_type="application/merge-patch+json",
        )


def _mapping(answer: object) -> dict[str, Any]:
    if not isinstance(answer, Mapping):
        raise TypeError(f"unexpected API answer: {type(answer).__name__}")
    return dict(answer)


def _incluster_namespace() -> str | None:
    path = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    return path.read_text().strip() if path.exists() else None


def build_parser(prog: str = "kubectl-canaria") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Show and steer canaria ModelRollouts (promote, rollback, pause, resume).",
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube)")
    parser.add_argument("--context", help="kubeconfig context to use")
    parser.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    status = commands.add_parser("status", help="a table of rollouts, or one rollout's evidence")
    status.add_argument("name", nargs="?", help="one rollout: show every check's evidence")
    status.add_argument("-A", "--all-namespaces", action="store_true")
    status.add_argument("--local", nargs="+", type=Path, metavar="FILE", help="local mode")
    for action in Action:
        sub = commands.add_parser(action.value, help=f"ask the operator to {action.value}")
        sub.add_argument("name", nargs="?", help="the ModelRollout (not with --local)")
        sub.add_argument("--local", type=Path, metavar="FILE", help="a local-mode rollout file")
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        if args.command == "status":
            print(_status(args))
        else:
            print(_request(args, Action(args.command)))
    except Exception as error:  # a CLI prints what went wrong, never a traceback
        print(f"error: {_describe(error)}", file=sys.stderr)
        return 1
    return 0


def _status(args: argparse.Namespace) -> str:
    if args.local:
        from monitoring.operator.local import read_local

        objs = [read_local(path) for path in args.local]
        if args.name:
            objs = [o for o in objs if o["metadata"]["name"] == args.name]
            if not objs:
                raise LookupError(f"no rollout {args.name!r} in {', '.join(map(str, args.local))}")
        if len(objs) == 1:
            return format_details(objs[0], events=objs[0].get("events") or [])
        return format_summary(objs)
    cluster = _Cluster(kubeconfig=args.kubeconfig, context=args.context)
    namespace = args.namespace or cluster.namespace
    if args.name:
        obj = cluster.get(namespace, args.name)
        try:
            events = cluster.events(namespace, args.name)
        except Exception:  # Events are extra: no RBAC to list them must not hide the status
            events = []
        return format_details(obj, events=events)
    objs = cluster.list_rollouts(None if args.all_namespaces else namespace)
    return format_summary(objs, with_namespace=args.all_namespaces)


def _request(args: argparse.Namespace, action: Action) -> str:
    if args.local:
        from monitoring.operator.local import request_action

        replaced = request_action(args.local, action.value)
        note = f" (replacing pending {replaced})" if replaced and replaced != action.value else ""
        return f"{action.value} requested for {args.local}{note}; applied at the next tick"
    if not args.name:
        raise ValueError(f"{action.value} needs a rollout NAME (or --local FILE)")
    cluster = _Cluster(kubeconfig=args.kubeconfig, context=args.context)
    namespace = args.namespace or cluster.namespace
    cluster.request(namespace, args.name, action)
    return (
        f"{action.value} requested for modelrollout {namespace}/{args.name}; "
        "the operator applies it at its next tick"
    )


def _describe(error: Exception) -> str:
    status = getattr(error, "status", None)
    if status == 404:
        return "ModelRollout not found"
    if status is not None:
        return f"API server answered {status}: {getattr(error, 'reason', '')}".rstrip(": ")
    return str(error)


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
