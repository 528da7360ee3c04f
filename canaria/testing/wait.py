"""The one poll the tests, the benchmarks and the demo wait with."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable


def wait_until(
    what: str,
    condition: Callable[[], bool],
    *,
    timeout: float = 30.0,
    poll: float = 0.02,
    ignoring: tuple[type[Exception], ...] = (),
    detail: Callable[[], object] | None = None,
) -> float:
    """Poll ``condition`` until it holds and return when it did (``time.time()``).

    An exception in ``ignoring`` counts as "not yet". ``TimeoutError`` names ``what``, with
    ``detail()`` when given.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(*ignoring):
            if condition():
                return time.time()
        time.sleep(poll)
    shown = f"; {detail()}" if detail is not None else ""
    raise TimeoutError(f"timed out waiting for {what}{shown}")
