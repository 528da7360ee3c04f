"""Where the plugin reads rollouts and sends actions: the Kubernetes API, or local files.

Both sources answer the same four questions: ``get(name)`` (the whole object, as the API
shows it), ``list()``, ``events(name)`` and ``request(name, action)`` (ask the operator:
the ``canaria.dev/action`` annotation, or the state file's ``action`` in local mode).
Failures are ``CliError``s with one line that says what is wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from monitoring.api.constants import ACTION_ANNOTATION, GROUP, PLURAL, VERSION
from monitoring.api.spec import Action
from monitoring.plugin.exitcodes import CliError, ExitCode

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class Source(Protocol):
    """Rollouts to read and steer; ``where`` names them for messages."""

    where: str

    def get(self, name: str | None) -> dict[str, Any]: ...

    def list_rollouts(self) -> list[dict[str, Any]]: ...

    def events(self, name: str) -> list[dict[str, Any]]: ...

    def request(self, name: str | None, action: Action) -> str | None:
        """Ask for ``action``; returns the pending action it replaced, if any."""


def action_patch(action: Action) -> dict[str, Any]:
    """The merge patch that asks the operator for ``action`` (pure)."""
    return {"metadata": {"annotations": {ACTION_ANNOTATION: action.value}}}


def pending_action(obj: Mapping[str, Any]) -> str | None:
    """The action still waiting for the operator, if any (pure)."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(ACTION_ANNOTATION)
    return None if value is None else str(value)


def no_config_message(kubeconfig: str | None, detail: str) -> str:
    """One line: what configuration is missing and how to fix it (pure)."""
    where = f"kubeconfig {kubeconfig}" if kubeconfig else "no in-cluster service account and no"
    where += "" if kubeconfig else " kubeconfig ($KUBECONFIG or ~/.kube/config)"
    return (
        f"no Kubernetes configuration: {where} ({detail.rstrip('.')}); pass --kubeconfig FILE "
        "or set KUBECONFIG, or use local mode: --local ROLLOUT.yaml"
    )


def load_cluster_config(kubeconfig: str | None, context: str | None) -> tuple[Any, str]:
    """The client configuration and the default namespace (in-cluster first, then the
    kubeconfig's context); ``CliError`` naming what is missing."""
    from kubernetes import client, config

    configuration = client.Configuration()
    if kubeconfig is None:
        try:
            config.load_incluster_config(client_configuration=configuration)
        except config.ConfigException:
            pass
        else:
            namespace = "default"
            if SERVICE_ACCOUNT_NAMESPACE.exists():
                namespace = SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or namespace
            return configuration, namespace
    try:
        config.load_kube_config(
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
        contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
    except (config.ConfigException, OSError) as error:
        raise CliError(no_config_message(kubeconfig, str(error)), ExitCode.ERROR) from None
    chosen = next((c for c in contexts if c.get("name") == context), active) if context else active
    return configuration, (chosen or {}).get("context", {}).get("namespace") or "default"


class ClusterSource:
    """ModelRollouts through the official client; ``namespace=None`` with
    ``all_namespaces`` lists every namespace."""

    def __init__(
        self,
        *,
        kubeconfig: str | None,
        context: str | None,
        namespace: str | None,
        all_namespaces: bool = False,
    ) -> None:
        from kubernetes import client

        configuration, default_namespace = load_cluster_config(kubeconfig, context)
        self.namespace = namespace or default_namespace
        self.all_namespaces = all_namespaces
        self.api_client = client.ApiClient(configuration)
        self.custom = client.CustomObjectsApi(self.api_client)
        self.core = client.CoreV1Api(self.api_client)
        self.where = "all namespaces" if all_namespaces else f"namespace {self.namespace}"

    def _name(self, name: str | None) -> str:
        if not name:
            raise CliError("a rollout NAME is needed (or --local FILE)", ExitCode.USAGE)
        return name

    def get(self, name: str | None) -> dict[str, Any]:
        answer = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, self._name(name)
        )
        return _mapping(answer)

    def list_rollouts(self) -> list[dict[str, Any]]:
        if self.all_namespaces:
            answer = self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
        else:
            answer = self.custom.list_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL
            )
        return [_mapping(item) for item in _mapping(answer).get("items", [])]

    def events(self, name: str) -> list[dict[str, Any]]:
        selector = f"involvedObject.name={name},involvedObject.kind=ModelRollout"
        try:
            answer = self.core.list_namespaced_event(self.namespace, field_selector=selector)
        except Exception:  # Events are extra: no RBAC to list them must not hide the status
            return []
        items = self.api_client.sanitize_for_serialization(answer).get("items", [])
        return sorted(items, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))

    def request(self, name: str | None, action: Action) -> str | None:
        self.custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            self.namespace,
            PLURAL,
            self._name(name),
            action_patch(action),
            _content_type="application/merge-patch+json",
        )
        return None


class LocalSource:
    """Local-mode rollouts: YAML files and their state files in ``state_dir``."""

    def __init__(self, paths: Sequence[Path], *, state_dir: Path | None) -> None:
        self.paths = list(paths)
        self.state_dir = state_dir
        self.where = ", ".join(map(str, self.paths))

    def path_of(self, name: str | None) -> Path:
        """The file holding rollout ``name`` (any of one file when ``name`` is None)."""
        from monitoring.operator.state import RolloutFileError, read_rollout_file

        if name is None:
            if len(self.paths) == 1:
                return self.paths[0]
            raise CliError("several --local files: name the rollout", ExitCode.USAGE)
        for path in self.paths:
            try:
                doc = read_rollout_file(path)
            except RolloutFileError as error:
                raise CliError(str(error)) from None
            if (doc.get("metadata") or {}).get("name") == name:
                return path
        raise CliError(f"no rollout {name!r} in {self.where}")

    def _read(self, path: Path) -> dict[str, Any]:
        from monitoring.operator.local import read_local
        from monitoring.operator.state import RolloutFileError

        try:
            doc = read_local(path, self.state_dir)
        except (RolloutFileError, ValueError, KeyError) as error:
            raise CliError(str(error)) from None
        doc.pop("events", None)
        return doc

    def get(self, name: str | None) -> dict[str, Any]:
        return self._read(self.path_of(name))

    def list_rollouts(self) -> list[dict[str, Any]]:
        return [self._read(path) for path in self.paths]

    def events(self, name: str) -> list[dict[str, Any]]:
        from monitoring.operator.state import StateFile, state_path_for

        path = self.path_of(name)
        events = StateFile(state_path_for(path, self.state_dir)).read().get("events") or []
        return [dict(event) for event in events]

    def request(self, name: str | None, action: Action) -> str | None:
        from monitoring.operator.local import request_action
        from monitoring.operator.state import RolloutFileError

        try:
            return request_action(self.path_of(name), action.value, self.state_dir)
        except RolloutFileError as error:
            raise CliError(str(error)) from None


def _mapping(answer: object) -> dict[str, Any]:
    if not isinstance(answer, Mapping):
        raise CliError(f"unexpected API answer: {type(answer).__name__}")
    return dict(answer)


def describe_api_error(error: Exception) -> str:
    """One line for an exception from the client (pure)."""
    status = getattr(error, "status", None)
    if status == 404:
        return "ModelRollout not found"
    if status is not None:
        return f"API server answered {status}: {getattr(error, 'reason', '')}".rstrip(": ")
    return str(error) or type(error).__name__
