"""Job launcher for the cluster: creates the ``batch/v1`` Job from ``manifest.job_manifest``.

The Job's name carries the dedupe key, so a second ``launch`` with the same key (a retried
reconcile, a second operator replica) gets 409 from the API server and is treated as
"already launched". ``status`` reads the Job's ``status``: ``succeeded``/``failed`` counts
and conditions; once the Job ended, the JSON result comes from its pod's termination
message (the container writes it to ``terminationMessagePath``), read by listing the
Job's pods (label ``job-name``): the operator needs ``get``/``list`` on pods for that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from monitoring.providers.interfaces import JobStatus
from monitoring.providers.jobs.manifest import job_manifest, job_name
from monitoring.providers.jobs.spec import RetrainSpec
from monitoring.providers.kubeclient import LazyApiClient
from monitoring.providers.registry import job_launchers

CONFLICT = 409
NOT_FOUND = 404


@job_launchers.register("kubernetes")
@dataclass
class KubernetesJobLauncher:
    """Creates and reads Jobs in ``namespace`` for rollout ``rollout``."""

    rollout: str
    namespace: str
    store_claim: str
    api_client: Any = None
    kubeconfig: str | None = None

    def __post_init__(self) -> None:
        self._client = LazyApiClient(self.api_client, kubeconfig=self.kubeconfig)

    def _batch(self) -> Any:
        from kubernetes import client

        return client.BatchV1Api(self._client())

    def launch(self, spec: RetrainSpec, *, key: str, champion: str, trigger: str) -> str:
        """Create the Job (idempotent by name); returns its name."""
        from kubernetes.client.exceptions import ApiException

        body = job_manifest(
            spec, rollout=self.rollout, namespace=self.namespace, key=key,
            champion=champion, trigger=trigger, store_claim=self.store_claim,
        )  # fmt: skip
        try:
            self._batch().create_namespaced_job(self.namespace, body)
        except ApiException as error:
            if error.status != CONFLICT:
                raise
        return str(body["metadata"]["name"])

    def status(self, key: str) -> JobStatus:
        from kubernetes.client.exceptions import ApiException

        name = job_name(self.rollout, key)
        try:
            job = self._batch().read_namespaced_job_status(name, self.namespace)
        except ApiException as error:
            if error.status == NOT_FOUND:
                return JobStatus("unknown", None, f"Job {name} not found")
            raise
        phase = job_phase(job.to_dict().get("status") or {})
        if phase.phase not in ("succeeded", "failed"):
            return phase
        result = self._result(name)
        if result is None:
            return phase
        reason = str(result.get("reason") or phase.reason)
        return replace(phase, result=result, reason=reason)

    def _result(self, name: str) -> dict[str, Any] | None:
        """The JSON result from the Job's pods' termination messages (the last pod's)."""
        from kubernetes import client

        core = client.CoreV1Api(self._client())
        pods = core.list_namespaced_pod(self.namespace, label_selector=f"job-name={name}")
        found: dict[str, Any] | None = None
        for pod in pods.to_dict().get("items") or []:
            found = termination_result(pod) or found
        return found


def termination_result(pod: dict[str, Any]) -> dict[str, Any] | None:
    """The ``retrain`` container's JSON termination message in a pod dict, if any (pure)."""
    for container in (pod.get("status") or {}).get("container_statuses") or []:
        terminated = ((container or {}).get("state") or {}).get("terminated") or {}
        message = terminated.get("message")
        if container.get("name") != "retrain" or not message:
            continue
        try:
            data = json.loads(message)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def job_phase(status: dict[str, Any]) -> JobStatus:
    """A ``JobStatus`` from a Job's ``status`` (snake_case dict, as the client gives it)."""
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            return JobStatus("succeeded", None, "Job complete")
        if condition.get("type") == "Failed":
            return JobStatus("failed", None, str(condition.get("message") or "Job failed"))
    return JobStatus("running", None, "")
