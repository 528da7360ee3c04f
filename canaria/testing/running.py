"""Start real processes on free loopback ports, wait until they answer, stop them by PID.

The mechanics live in ``canaria.testing.processes`` (the demo uses them too); this module adds
the tests' failure messages (the whole log) and the ``running`` context manager.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from canaria.testing import processes
from canaria.testing.processes import REPO_ROOT, VENV_BIN, RunningProcess, free_port

__all__ = [
    "REPO_ROOT",
    "VENV_BIN",
    "RunningProcess",
    "free_port",
    "running",
    "start_process",
    "stop_process",
    "wait_http",
]


def start_process(
    args: Sequence[str],
    *,
    log_path: Path,
    port: int | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> RunningProcess:
    """Start ``args`` in its own process group, output to ``log_path``."""
    popen = processes.spawn(args, log_path=log_path, env=env, cwd=cwd or REPO_ROOT)
    return RunningProcess(popen=popen, log_path=log_path, port=port)


def wait_http(
    process: RunningProcess, path: str = "/", *, timeout: float = 60.0, ok_status: int = 200
) -> None:
    """Poll ``path`` until it answers ``ok_status``; fail with the process log otherwise."""
    try:
        processes.wait_http(process, path, timeout=timeout, ok_status=ok_status)
    except processes.ExitedWhileStartingError as error:
        raise RuntimeError(f"{error}:\n{process.log()}") from None
    except processes.NotReadyError as error:
        stop_process(process)
        raise TimeoutError(f"{error}:\n{process.log()}") from None


def stop_process(process: RunningProcess, *, timeout: float = 15.0) -> None:
    """SIGTERM the process group by PID, then SIGKILL if it does not exit in time."""
    processes.stop_process_group(process.popen, timeout=timeout)


@contextlib.contextmanager
def running(
    args: Sequence[str],
    *,
    log_path: Path,
    port: int | None = None,
    ready_path: str | None = "/",
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> Iterator[RunningProcess]:
    """Context manager: start, wait for ``ready_path`` (if given), always stop by PID."""
    process = start_process(args, log_path=log_path, port=port, env=env, cwd=cwd)
    try:
        if ready_path is not None and port is not None:
            wait_http(process, ready_path, timeout=timeout)
        yield process
    finally:
        stop_process(process)
