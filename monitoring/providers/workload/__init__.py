"""Workload providers, registered by name in ``workload_providers``: ``kubernetes`` (the
Deployments through the API server) and ``noop`` (alias ``local``: no cluster)."""

from monitoring.providers.workload.kubernetes import KubernetesWorkloads
from monitoring.providers.workload.noop import NoopWorkloads

__all__ = ["KubernetesWorkloads", "NoopWorkloads"]
