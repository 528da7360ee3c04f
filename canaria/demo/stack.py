"""The demo's processes: started on free loopback ports, waited for, stopped by PID.

Every process runs in its own session (process group), so stopping it also stops the
workers it forked (``bentoml serve`` forks several). ``Stack`` remembers what it started
and stops all of it, newest first, however the demo ends: normally, on an error, on
Ctrl-C or on SIGTERM (``stop_on_signals`` turns SIGTERM into ``KeyboardInterrupt``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

LOG_TAIL_LINES = 25
STOP_TIMEOUT = 10.0


class ComponentError(RuntimeError):
    """A part of the demo that failed to start or answer; names it and shows its log."""

    def __init__(self, component: str, problem: str, log_tail: str = "") -> None:
        detail = f"\n--- last lines of its log ---\n{log_tail}" if log_tail.strip() else ""
        super().__init__(f"{component}: {problem}{detail}")
        self.component = component


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def repo_root() -> Path:
    """The directory holding ``services/`` (servers are started from there)."""
    return Path(__file__).resolve().parents[2]


def venv_bin() -> Path:
    return Path(sys.executable).parent


@dataclass
class Process:
    """One started process and where its output goes."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Stack:
    """The processes of one demo run; ``close`` (or leaving the ``with``) stops them all."""

    def __init__(self, *, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._processes: list[Process] = []
        self.started: list[Process] = []
        """Every process ever started here, running or not (for the record)."""

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(
        self,
        name: str,
        args: Sequence[str],
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Process:
        """Start ``args`` from the repository root, output to ``<log_dir>/<name>.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        merged = {**os.environ, **(env or {})}
        merged["PATH"] = f"{venv_bin()}{os.pathsep}{merged.get('PATH', '')}"
        with log_path.open("wb") as log_file:
            try:
                popen = subprocess.Popen(
                    list(args),
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=merged,
                    cwd=str(repo_root()),
                    start_new_session=True,
                )
            except OSError as error:
                raise ComponentError(name, f"cannot start {args[0]}: {error}") from None
        process = Process(name=name, popen=popen, log_path=log_path, port=port)
        self._processes.append(process)
        self.started.append(process)
        return process

    def wait_ready(self, process: Process, path: str, *, timeout: float) -> None:
        """Poll ``path`` until it answers 200; ``ComponentError`` if the process exits or
        the time runs out (never a hang)."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not process.running():
                    raise ComponentError(
                        process.name,
                        f"exited with code {process.popen.returncode} while starting",
                        process.log_tail(),
                    )
                try:
                    response = client.get(f"{process.url}{path}")
                    if response.status_code == 200:
                        return
                    last = f"{path} answered {response.status_code}"
                except httpx.HTTPError as error:
                    last = type(error).__name__
                time.sleep(0.25)
        raise ComponentError(
            process.name, f"not ready after {timeout:.0f}s ({last})", process.log_tail()
        )

    def stop(self, process: Process) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers; forget the process."""
        stop_process_group(process.popen)
        if process in self._processes:
            self._processes.remove(process)

    def close(self) -> None:
        """Stop every process still known, newest first; never raises, and a second
        Ctrl-C cannot cut it short."""
        with _signals_ignored():
            while self._processes:
                process = self._processes.pop()
                with contextlib.suppress(Exception):
                    stop_process_group(process.popen)

    @property
    def processes(self) -> list[Process]:
        """The processes not stopped yet."""
        return list(self._processes)

    def record(self) -> list[dict[str, object]]:
        """Name, PID, port, log and exit code of every process started (pure read)."""
        return [
            {
                "name": process.name,
                "pid": process.pid,
                "port": process.port,
                "log": str(process.log_path),
                "returncode": process.popen.returncode,
            }
            for process in self.started
        ]


def stop_process_group(popen: subprocess.Popen[bytes], *, timeout: float = STOP_TIMEOUT) -> None:
    """Stop the process group led by ``popen`` (by its PID)."""
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


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ignore stop signals while cleaning up (only the main thread may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM (and SIGHUP) into ``KeyboardInterrupt`` so cleanup runs as on Ctrl-C."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
