"""Job launcher for local mode: ``canaria retrain`` as a subprocess, one per key.

``launch`` starts the process (a second launch with the same key while it runs returns the
running one: dedupe); ``status`` says ``running``, ``succeeded`` (exit 0, with the JSON
result it wrote) or ``failed`` (exit code and the result's reason when there is one).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess  # nosec B404 # local mode runs the retrain Job as a child process
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitoring.providers.interfaces import JobStatus
from monitoring.providers.jobs.manifest import retrain_args
from monitoring.providers.jobs.spec import RetrainSpec
from monitoring.providers.registry import job_launchers


@dataclass
class _LocalJob:
    popen: subprocess.Popen[bytes]
    result_path: Path
    log_path: Path


@job_launchers.register("local")
@dataclass
class LocalJobLauncher:
    """Runs ``python -m canaria.cli retrain ...`` under ``workdir`` (results and logs)."""

    workdir: Path
    python: str = sys.executable
    _jobs: dict[str, _LocalJob] = field(default_factory=dict)

    def launch(self, spec: RetrainSpec, *, key: str, champion: str, trigger: str) -> str:
        """Start the Job for ``key`` unless it is running; returns ``key``."""
        job = self._jobs.get(key)
        if job is not None and job.popen.poll() is None:
            return key
        self.workdir.mkdir(parents=True, exist_ok=True)
        result_path = self.workdir / f"{key}.json"
        log_path = self.workdir / f"{key}.log"
        args = retrain_args(spec, champion=champion, trigger=trigger)
        args[args.index("--output") + 1] = str(result_path)
        with log_path.open("ab") as log:
            popen = subprocess.Popen(  # nosec B603 # argv = python -m canaria.cli retrain ..., no shell
                [self.python, "-m", "canaria.cli", *args],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self._jobs[key] = _LocalJob(popen, result_path, log_path)
        return key

    def close(self) -> None:
        """Stop every Job still running (its whole process group), e.g. when the operator
        stops: a local Job does not outlive its operator, which reports it lost on restart."""
        for job in self._jobs.values():
            if job.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(job.popen.pid, signal.SIGTERM)
                try:
                    job.popen.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(job.popen.pid, signal.SIGKILL)
                    job.popen.wait(timeout=10)

    def status(self, key: str) -> JobStatus:
        job = self._jobs.get(key)
        if job is None:
            return JobStatus("unknown", None, f"no local Job with key {key}")
        code = job.popen.poll()
        if code is None:
            return JobStatus("running", None, "")
        result = _read_result(job.result_path)
        if code == 0 and result is not None:
            return JobStatus("succeeded", result, str(result.get("reason", "")))
        reason = str(result.get("reason")) if result else f"exited {code}, no result"
        return JobStatus("failed", result, reason)


def _read_result(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
