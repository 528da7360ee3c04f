"""Child processes on loopback ports: started, waited for over HTTP, stopped by PID.

Every process runs in its own session (process group), so stopping it also stops the
workers it forked (``bentoml serve`` forks several). The demo (``canaria.demo.stack``) and
the tests (``canaria/testing/running.py``) both start their servers with these helpers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess  # nosec B404 # the test kit starts the processes under test
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from canaria.testing.bentoml_home import is_bentoml_serve, serve_env

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The directory holding ``services/`` (servers are started from there)."""

VENV_BIN = Path(sys.executable).parent
"""Where ``bentoml``, ``uvicorn`` and ``canaria`` live; put first on a child's PATH."""

LOG_TAIL_LINES = 25
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningProcess:
    """A started child process, where its output goes and the port it serves on."""

    popen: subprocess.Popen[bytes]
    log_path: Path
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        """Everything the process wrote so far ("" when there is no log yet)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def spawn(
    args: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``args`` in its own session, stdout and stderr to ``log_path``.

    The child gets this environment plus ``env``, with the virtualenv's ``bin`` first on
    PATH, runs from ``cwd`` (the repository root by default) and reads no stdin. A
    ``bentoml serve`` gets a private ``BENTOML_HOME`` over the store it was given
    (``canaria.testing.bentoml_home``), so servers sharing a store keep their own metrics.
    """
    merged = {**os.environ, **(env or {})}
    if is_bentoml_serve(args):
        merged.update(serve_env(merged, log_path=log_path))
    merged["PATH"] = f"{VENV_BIN}{os.pathsep}{merged.get('PATH', '')}"
    with log_path.open("wb") as log_file:
        return subprocess.Popen(  # nosec B603 # argv from the tests (no shell), test kit only
            list(args),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=merged,
            cwd=str(cwd or REPO_ROOT),
            start_new_session=True,
        )


class ExitedWhileStartingError(RuntimeError):
    """The process exited before it answered."""


class NotReadyError(TimeoutError):
    """The process kept running but did not answer in time."""


def wait_http(
    process: RunningProcess,
    path: str = "/",
    *,
    timeout: float,
    ok_status: int = 200,
    poll_interval: float = 0.2,
) -> None:
    """Poll ``path`` until it answers ``ok_status``; never hangs.

    Raises ``ExitedWhileStartingError`` if the process exits first and ``NotReadyError``
    when the time runs out; the messages carry no log (callers add the part they show).
    """
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not process.running():
                raise ExitedWhileStartingError(
                    f"process {process.pid} exited with code {process.popen.returncode}"
                    " while starting"
                )
            try:
                response = client.get(f"{process.base_url}{path}")
                if response.status_code == ok_status:
                    return
                last = f"{path} answered {response.status_code}"
            except httpx.HTTPError as error:
                last = type(error).__name__
            time.sleep(poll_interval)
    raise NotReadyError(f"{path} not ready after {timeout:.0f}s ({last})")


def stop_process_group(popen: subprocess.Popen[bytes], *, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the process group led by ``popen`` (by its PID), SIGKILL it if it lingers."""
    if popen.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGTERM)
        try:
            popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(timeout=timeout)
    # The leader is gone; make sure no worker it forked outlives it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGKILL)
