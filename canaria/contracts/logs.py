"""Structured logging shared by every canaria process: JSON lines, or console lines.

By default every line is one JSON object, so that a log shipper needs no parser;
``format="console"`` writes human lines (``12:00:01 INFO  canaria.operator: message
key=value``), coloured only when the stream is a terminal. This is the one redaction
module of the project: both formatters pass every record's message and fields through
``scrub`` (the built-in personal-data names, model text reduced to digests, e-mail
addresses masked), plus the names the process adds to the formatter's ``never_log``
(``configure``/``configure_canaria_loggers``: a config's ``never_log``, the served model's
declared personal-data fields); callers writing their own records (a sample log, the
router's disagreement log) apply ``redact`` with their list as well.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

# Attributes every LogRecord has; anything else passed via ``extra=`` is a structured field.
# uvicorn adds ``color_message`` (the message with ANSI colour codes): never written.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "color_message"}
)


# Field names never written, whatever the caller's list says. Names are compared after
# ``normalise_key`` (case, spaces, "_" and "-" ignored): "Customer_ID " is customer_id.
DEFAULT_NEVER_LOG = frozenset(
    {
        "email",
        "e_mail",
        "mail",
        "phone",
        "phone_number",
        "mobile",
        "customer_id",
        "customer_name",
        "first_name",
        "last_name",
        "full_name",
        "address",
        "ssn",
        "password",
        "authorization",
        "api_key",
        "cookie",
    }
)
# Text a model reads or writes: only its length and a digest are ever written.
DIGESTED = frozenset(
    {"prompt", "prompts", "messages", "completion", "generated_text", "choices", "text"}
)
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
MASKED_EMAIL = "[email]"


def normalise_key(key: object) -> str:
    """A field name compared for redaction: case-folded, without spaces, "_", "-" (pure)."""
    return re.sub(r"[^0-9a-z]", "", str(key).casefold())


def _blocked(never_log: Iterable[str]) -> frozenset[str]:
    return frozenset(normalise_key(name) for name in (*DEFAULT_NEVER_LOG, *never_log))


def digest(value: Any) -> dict[str, Any]:
    """What the logs keep of model text or a body: its length (``chars``, or ``bytes`` for
    bytes) and the first 16 hex digits of its sha256, to match equal inputs (pure)."""
    if isinstance(value, bytes):
        return {"bytes": len(value), "sha256": hashlib.sha256(value).hexdigest()[:16]}
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    sha = hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()[:16]
    return {"chars": len(text), "sha256": sha}


def mask_text(text: str) -> str:
    """``text`` with every e-mail address replaced by ``[email]`` (pure)."""
    return EMAIL.sub(MASKED_EMAIL, text) if "@" in text else text


def _scrub(document: Any, blocked: frozenset[str], digested: frozenset[str]) -> Any:
    if isinstance(document, Mapping):
        cleaned: dict[Any, Any] = {}
        for key, value in document.items():
            name = normalise_key(key)
            if name in blocked:
                continue
            shown = mask_text(key) if isinstance(key, str) else key
            if shown in cleaned:  # two keys masked alike: keep both, numbered
                shown = f"{shown}#{len(cleaned)}"
            cleaned[shown] = digest(value) if name in digested else _scrub(value, blocked, digested)
        return cleaned
    if isinstance(document, list | tuple):
        return [_scrub(item, blocked, digested) for item in document]
    if isinstance(document, str):
        return mask_text(document)
    return document


def scrub(document: Any, never_log: Iterable[str] = ()) -> Any:
    """``document`` made fit for a log (pure), at any depth of mappings and lists:

    - fields named in ``never_log`` or ``DEFAULT_NEVER_LOG`` are removed, names compared
      after ``normalise_key`` (``Email``, ``EMAIL``, ``Customer_ID``, ``"email "``);
    - model text (``DIGESTED``: prompt, messages, completion, ...) becomes its digest;
    - every e-mail address in a string value *or a key* becomes ``[email]``.
    """
    return _scrub(document, _blocked(never_log), frozenset(normalise_key(n) for n in DIGESTED))


def redact(record: Mapping[str, Any], never_log: Iterable[str] = ()) -> dict[str, Any]:
    """A copy of the log record ``record`` made fit for a log by ``scrub`` (pure)."""
    cleaned: dict[str, Any] = scrub(record, never_log)
    return cleaned


class JsonFormatter(logging.Formatter):
    """Formats a LogRecord as one JSON object, including fields given via ``extra=``,
    with the fields named in ``never_log`` (and the built-in list) removed."""

    def __init__(self, *, never_log: Iterable[str] = ()) -> None:
        super().__init__()
        self.never_log = frozenset(never_log)

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask_text(record.getMessage()),
        }
        fields = {
            key: value
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRS and not key.startswith("_")
        }
        payload.update(redact(fields, self.never_log))
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: a traceback may carry request data into the log.
            payload["exc_type"] = record.exc_info[0].__name__
        return json.dumps(payload, default=str, separators=(",", ":"))


_LEVEL_COLOURS = {
    "DEBUG": "\033[2m",
    "INFO": "\033[32m",
    "WARNING": "\033[33m",
    "ERROR": "\033[31m",
    "CRITICAL": "\033[1;31m",
}
_RESET = "\033[0m"
LOG_FORMATS = ("json", "console")


class ConsoleFormatter(logging.Formatter):
    """One human line per record: time, level, logger, message, then the ``extra=``
    fields as ``key=value``, scrubbed like ``JsonFormatter``'s; ANSI colours only when
    ``colour`` is true."""

    def __init__(self, *, colour: bool, never_log: Iterable[str] = ()) -> None:
        super().__init__()
        self.colour = colour
        self.never_log = frozenset(never_log)

    def format(self, record: logging.LogRecord) -> str:
        when = time.strftime("%H:%M:%S", time.localtime(record.created))
        level = f"{record.levelname:<7}"
        if self.colour:
            level = f"{_LEVEL_COLOURS.get(record.levelname, '')}{level}{_RESET}"
        extra = {
            key: value
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRS and not key.startswith("_")
        }
        fields = " ".join(f"{key}={value}" for key, value in redact(extra, self.never_log).items())
        line = f"{when} {level} {record.name}: {mask_text(record.getMessage())}"
        if record.exc_info and record.exc_info[0] is not None:
            fields = f"{fields} exc_type={record.exc_info[0].__name__}".strip()
        return f"{line}  {fields}" if fields else line


def formatter_for(format: str, stream: Any, never_log: Iterable[str] = ()) -> logging.Formatter:
    """The formatter for ``json`` or ``console`` output to ``stream``, removing the fields
    in ``never_log`` too; ``ValueError`` naming the choices for anything else."""
    if format == "json":
        return JsonFormatter(never_log=never_log)
    if format == "console":
        isatty = getattr(stream, "isatty", None)
        return ConsoleFormatter(colour=bool(isatty and isatty()), never_log=never_log)
    raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, got {format!r}")


def configure(
    *,
    level: str = "INFO",
    stream: Any = None,
    format: str = "json",
    never_log: Iterable[str] = (),
) -> None:
    """Send the root logger's output to ``stream`` (stderr by default) as JSON lines, or
    as console lines with ``format="console"``, without the fields named in ``never_log``."""
    sink = stream or sys.stderr
    handler = logging.StreamHandler(sink)
    handler.setFormatter(formatter_for(format, sink, never_log))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing.formatter, JsonFormatter | ConsoleFormatter):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())


def configure_canaria_loggers(
    *, level: str = "INFO", stream: Any = None, never_log: Iterable[str] = ()
) -> None:
    """JSON lines for the ``canaria`` loggers only, to ``stream`` (stderr by default),
    without the fields named in ``never_log`` (besides the built-in list).

    For a process whose host prints its own text logs (``bentoml serve``): the handler sits
    on the ``canaria`` logger, not the root, and the lines do not propagate. Calling it
    again (each service worker does) adds no second handler; its ``never_log`` names are
    added to the existing handler's.
    """
    logger = logging.getLogger("canaria")
    formatters = [
        handler.formatter
        for handler in logger.handlers
        if isinstance(handler.formatter, JsonFormatter)
    ]
    for formatter in formatters:
        formatter.never_log = formatter.never_log | frozenset(never_log)
    if not formatters:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter(never_log=never_log))
        logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False


def get_logger(name: str) -> logging.Logger:
    """A logger under the ``canaria`` hierarchy."""
    return logging.getLogger(f"canaria.{name}")
