"""Job launchers by name, and what a launcher reports about a Job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from monitoring.providers.base import Registry
from monitoring.providers.jobs.spec import RetrainSpec


@dataclass(frozen=True)
class JobStatus:
    """``phase``: running, succeeded, failed or unknown; ``result`` the Job's JSON result."""

    phase: str
    result: dict[str, Any] | None
    reason: str


class JobLauncher(Protocol):
    def launch(self, spec: RetrainSpec, *, key: str, champion: str, trigger: str) -> str: ...

    def status(self, key: str) -> JobStatus: ...


job_launchers: Registry[JobLauncher] = Registry("jobs", package="monitoring.providers.jobs")
