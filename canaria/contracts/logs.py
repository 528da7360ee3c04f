"""Structured JSON logging shared by every canaria process.

Every line is one JSON object, so that a log shipper needs no parser. Fields named on the
personal-data list are replaced before anything is written: callers pass raw records and
this module decides what reaches the sink.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

# Attributes every LogRecord has; anything else passed via ``extra=`` is a structured field.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


def scrub(document: Any, never_log: Iterable[str]) -> Any:
    """``document`` without the never-logged keys, at any depth (pure).

    Request bodies nest rows in lists of lists (``{"instances": [[{"email": ...}]]}``), so
    every mapping and list is walked, not only the top level.
    """
    blocked = never_log if isinstance(never_log, frozenset) else frozenset(never_log)
    if isinstance(document, Mapping):
        return {key: scrub(value, blocked) for key, value in document.items() if key not in blocked}
    if isinstance(document, list | tuple):
        return [scrub(item, blocked) for item in document]
    return document


def redact(record: Mapping[str, Any], never_log: Iterable[str]) -> dict[str, Any]:
    """A copy of the log record ``record`` without the never-logged fields (pure)."""
    cleaned: dict[str, Any] = scrub(record, never_log)
    return cleaned


class JsonFormatter(logging.Formatter):
    """Formats a LogRecord as one JSON object, including fields given via ``extra=``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: a traceback may carry request data into the log.
            payload["exc_type"] = record.exc_info[0].__name__
        return json.dumps(payload, default=str, separators=(",", ":"))


def configure(*, level: str = "INFO", stream: Any = None) -> None:
    """Send the root logger's output as JSON lines to ``stream`` (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing.formatter, JsonFormatter):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())


def configure_canaria_loggers(*, level: str = "INFO", stream: Any = None) -> None:
    """JSON lines for the ``canaria`` loggers only, to ``stream`` (stderr by default).

    For a process whose host prints its own text logs (``bentoml serve``): the handler sits
    on the ``canaria`` logger, not the root, and the lines do not propagate. Calling it
    again (each service worker does) adds no second handler.
    """
    logger = logging.getLogger("canaria")
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in logger.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False


def get_logger(name: str) -> logging.Logger:
    """A logger under the ``canaria`` hierarchy."""
    return logging.getLogger(f"canaria.{name}")
