"""Start real processes on free loopback ports, wait until they answer, stop them by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningProcess:
    """A child process started by a test, with where its output goes."""

    popen: subprocess.Popen[bytes]
    log_path: Path
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_process(
    args: Sequence[str],
    *,
    log_path: Path,
    port: int | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> RunningProcess:
    """Start ``args`` in its own process group, output to ``log_path``."""
    merged_env = {**os.environ, **(env or {})}
    merged_env["PATH"] = f"{VENV_BIN}{os.pathsep}{merged_env.get('PATH', '')}"
    log_file = log_path.open("wb")
    popen = subprocess.Popen(
        list(args),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=merged_env,
        cwd=str(cwd or REPO_ROOT),
        start_new_session=True,
    )
    return RunningProcess(popen=popen, log_path=log_path, port=port)


def wait_http(
    process: RunningProcess, path: str = "/", *, timeout: float = 60.0, ok_status: int = 200
) -> None:
    """Poll ``path`` until it answers ``ok_status``; fail with the process log otherwise."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(
                f"process {process.pid} exited with {process.popen.returncode}:\n{process.log()}"
            )
        try:
            response = httpx.get(f"{process.base_url}{path}", timeout=2.0)
            if response.status_code == ok_status:
                return
            last_error = f"status {response.status_code}"
        except httpx.HTTPError as error:
            last_error = repr(error)
        time.sleep(0.2)
    stop_process(process)
    raise TimeoutError(f"{path} not ready after {timeout}s ({last_error}):\n{process.log()}")


def stop_process(process: RunningProcess, *, timeout: float = 15.0) -> None:
    """SIGTERM the process group by PID, then SIGKILL if it does not exit in time."""
    if process.popen.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.popen.wait(timeout=timeout)
    else:
        # The leader is gone; make sure no worker it forked outlives it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def running(
    args: Sequence[str],
    *,
    log_path: Path,
    port: int | None = None,
    ready_path: str | None = "/",
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[RunningProcess]:
    """Context manager: start, wait for ``ready_path`` (if given), always stop by PID."""
    process = start_process(args, log_path=log_path, port=port, env=env)
    try:
        if ready_path is not None and port is not None:
            wait_http(process, ready_path, timeout=timeout)
        yield process
    finally:
        stop_process(process)
