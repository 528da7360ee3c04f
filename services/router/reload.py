"""Watching the config file and applying each valid new version.

Polling ``stat`` (following symlinks) rather than inotify: a ConfigMap volume updates by
swapping a symlink, which inotify on the file itself misses, and one ``stat`` a second
costs nothing. Content is compared too, so a touch without a change is not a reload.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from canaria.contracts.logs import get_logger

from .config import ConfigError, RouterConfig, parse_yaml

log = get_logger("router.reload")

Signature = tuple[int, int, int] | None


def file_signature(path: Path) -> Signature:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class ConfigWatcher:
    """Polls the config file every ``interval()`` seconds and hot-reloads it when its
    content changes: a valid config goes to ``on_change``; an invalid one to
    ``on_refused`` (the router keeps its last good config)."""

    def __init__(
        self,
        path: Path,
        *,
        on_change: Callable[[RouterConfig], None],
        on_refused: Callable[[ConfigError], None],
        interval: Callable[[], float],
    ) -> None:
        self.path = path
        self._on_change = on_change
        self._on_refused = on_refused
        self._interval = interval
        self._signature = file_signature(path)
        self._digest = self._read_digest()

    def _read_digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def check(self) -> None:
        """Apply the file if it changed and is valid; refuse it (and say why) otherwise."""
        signature = file_signature(self.path)
        if signature == self._signature:
            return
        self._signature = signature
        try:
            data = self.path.read_bytes()
        except OSError as error:
            self._on_refused(ConfigError(f"config: cannot read {self.path}: {error.strerror}"))
            return
        digest = hashlib.sha256(data).hexdigest()
        if digest == self._digest:
            return
        self._digest = digest
        try:
            config = parse_yaml(data.decode("utf-8", errors="replace"))
        except ConfigError as error:
            self._on_refused(error)
            return
        self._on_change(config)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval())
            try:
                self.check()
            except Exception as error:  # keep watching whatever one attempt did
                log.error("config check failed", extra={"error_type": type(error).__name__})
