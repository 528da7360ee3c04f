"""The demo's processes: started on free loopback ports, waited for, stopped by PID.

``Stack`` remembers what it started and stops all of it, newest first, however the demo
ends: normally, on an error, on Ctrl-C or on SIGTERM (``stop_on_signals`` turns SIGTERM
into ``KeyboardInterrupt``). Starting, waiting and stopping by process group are
``canaria.testing.processes``.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from canaria.testing.processes import (
    ExitedWhileStartingError,
    NotReadyError,
    RunningProcess,
    spawn,
    stop_process_group,
    wait_http,
)


class ComponentError(RuntimeError):
    """A part of the demo that failed to start or answer; names it and shows its log."""

    def __init__(self, component: str, problem: str, log_tail: str = "") -> None:
        detail = f"\n--- last lines of its log ---\n{log_tail}" if log_tail.strip() else ""
        super().__init__(f"{component}: {problem}{detail}")
        self.component = component


@dataclass(kw_only=True)
class Process(RunningProcess):
    """One started process of the demo, named for the messages and the record."""

    name: str


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
        try:
            popen = spawn(args, log_path=log_path, env=env)
        except OSError as error:
            raise ComponentError(name, f"cannot start {args[0]}: {error}") from None
        process = Process(name=name, popen=popen, log_path=log_path, port=port)
        self._processes.append(process)
        self.started.append(process)
        return process

    def wait_ready(self, process: Process, path: str, *, timeout: float) -> None:
        """Poll ``path`` until it answers 200; ``ComponentError`` if the process exits or
        the time runs out (never a hang)."""
        from canaria.cli.progress import stages

        try:
            with stages() as stage:  # a spinner on stderr with the time waited so far
                stage(f"waiting for {process.name} to answer {path}")
                wait_http(process, path, timeout=timeout)
        except (ExitedWhileStartingError, NotReadyError) as error:
            raise ComponentError(process.name, str(error), process.log_tail()) from None

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
