"""The log formats, digests and set-up of canaria/contracts/logs.py, line for line
(hand-written expected lines; sha256 prefixes from hashlib or published test vectors)."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import logging
import sys
import time
from collections.abc import Iterator

import pytest

from canaria.contracts import logs
from canaria.contracts.logs import (
    ConsoleFormatter,
    JsonFormatter,
    configure,
    configure_canaria_loggers,
    digest,
    formatter_for,
    get_logger,
)

# 1970-01-02T00:00:00.5 UTC.
CREATED = 86400.5


def record(
    message: str = "hi %s",
    *args: object,
    level: int = logging.INFO,
    exc_info: logging._SysExcInfoType | None = None,
    **extra: object,
) -> logging.LogRecord:
    made = logging.LogRecord("canaria.test", level, __file__, 1, message, args, exc_info)
    made.created, made.msecs = CREATED, 500.0
    made.__dict__.update(extra)
    return made


def failure() -> logging._SysExcInfoType:
    try:
        raise KeyError("customer 42")
    except KeyError:
        return sys.exc_info()


@pytest.fixture
def saved_loggers() -> Iterator[None]:
    """The root and ``canaria`` loggers as they were, restored after the test."""
    root, canaria = logging.getLogger(), logging.getLogger("canaria")
    saved = [(log, list(log.handlers), log.level, log.propagate) for log in (root, canaria)]
    yield
    for log, handlers, level, propagate in saved:
        log.handlers[:], log.level, log.propagate = handlers, level, propagate


# digest


def test_digest_keeps_the_length_and_16_hex_digits_of_sha256() -> None:
    # sha256("abc") = ba7816bf8f01cfea414140de5dae2223... (FIPS 180-2 test vector).
    assert digest("abc") == {"chars": 3, "sha256": "ba7816bf8f01cfea"}
    assert digest(b"abc") == {"bytes": 3, "sha256": "ba7816bf8f01cfea"}
    assert digest("") == {"chars": 0, "sha256": "e3b0c44298fc1c14"}


def test_digest_of_a_document_is_that_of_its_sorted_json() -> None:
    text = '{"a": 2, "b": [1, "x"]}'
    expected = {"chars": 23, "sha256": hashlib.sha256(text.encode()).hexdigest()[:16]}
    assert digest({"b": [1, "x"], "a": 2}) == expected
    assert digest({"a": 2, "b": (1, "x")}) == expected


def test_digest_of_values_json_cannot_write_uses_their_text() -> None:
    day = datetime.date(2026, 11, 30)
    text = '{"day": "2026-11-30"}'
    assert digest({"day": day}) == {
        "chars": 21,
        "sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
    }


def test_digest_of_text_that_is_not_unicode_replaces_what_cannot_be_encoded() -> None:
    assert digest("a\ud800") == {"chars": 2, "sha256": hashlib.sha256(b"a?").hexdigest()[:16]}


# JsonFormatter


def test_a_json_line_exactly() -> None:
    line = JsonFormatter().format(record("hi %s", "ann@example.com", rollout="ml/churn", _x=1))
    assert line == (
        '{"ts":"1970-01-02T00:00:00.500Z","level":"info","logger":"canaria.test",'
        '"msg":"hi [email]","rollout":"ml/churn"}'
    )


def test_a_json_line_writes_what_json_cannot_as_text_and_an_exception_by_its_type() -> None:
    line = JsonFormatter().format(
        record("failed", level=logging.ERROR, exc_info=failure(), day=datetime.date(2026, 1, 2))
    )
    assert json.loads(line) == {
        "ts": "1970-01-02T00:00:00.500Z",
        "level": "error",
        "logger": "canaria.test",
        "msg": "failed",
        "day": "2026-01-02",
        "exc_type": "KeyError",
    }
    assert "customer 42" not in line


def test_exc_info_without_an_exception_adds_nothing() -> None:
    line = json.loads(JsonFormatter().format(record("x", exc_info=(None, None, None))))
    assert "exc_type" not in line


# ConsoleFormatter


def local(created: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(created))


def test_a_console_line_exactly() -> None:
    plain = ConsoleFormatter(colour=False)
    assert plain.format(record("hi %s", "ann@example.com", rollout="ml/churn", n=2)) == (
        f"{local(CREATED)} INFO    canaria.test: hi [email]  rollout=ml/churn n=2"
    )
    assert (
        plain.format(record("done", _private=1)) == f"{local(CREATED)} INFO    canaria.test: done"
    )


def test_a_console_line_names_an_exception_by_its_type_after_the_fields() -> None:
    plain = ConsoleFormatter(colour=False)
    failed = record("failed", level=logging.ERROR, exc_info=failure())
    assert plain.format(failed) == (
        f"{local(CREATED)} ERROR   canaria.test: failed  exc_type=KeyError"
    )
    with_field = record("failed", level=logging.ERROR, exc_info=failure(), rollout="r")
    assert plain.format(with_field) == (
        f"{local(CREATED)} ERROR   canaria.test: failed  rollout=r exc_type=KeyError"
    )
    no_exception = record("x", exc_info=(None, None, None))
    assert plain.format(no_exception) == f"{local(CREATED)} INFO    canaria.test: x"


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        (logging.DEBUG, "\033[2mDEBUG  \033[0m"),
        (logging.INFO, "\033[32mINFO   \033[0m"),
        (logging.WARNING, "\033[33mWARNING\033[0m"),
        (logging.ERROR, "\033[31mERROR  \033[0m"),
        (logging.CRITICAL, "\033[1;31mCRITICAL\033[0m"),
        (25, "Level 25\033[0m"),  # a level without a colour
    ],
)
def test_console_levels_are_padded_and_coloured(level: int, shown: str) -> None:
    line = ConsoleFormatter(colour=True).format(record("x", level=level))
    assert line == f"{local(CREATED)} {shown} canaria.test: x"


# formatter_for, configure, configure_canaria_loggers, get_logger


class Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class NoIsatty:
    def write(self, text: str) -> int:
        return len(text)


def test_the_formatter_follows_the_format_and_the_stream() -> None:
    assert type(formatter_for("json", Terminal(True))) is JsonFormatter
    console = formatter_for("console", Terminal(True))
    assert isinstance(console, ConsoleFormatter) and console.colour is True
    assert formatter_for("console", Terminal(False)).colour is False  # type: ignore[attr-defined]
    assert formatter_for("console", NoIsatty()).colour is False  # type: ignore[attr-defined]
    with pytest.raises(ValueError) as raised:
        formatter_for("xml", io.StringIO())
    assert str(raised.value) == "log format must be one of json, console, got 'xml'"


def test_configure_replaces_its_own_handler_keeps_others_and_sets_the_level(
    saved_loggers: None,
) -> None:
    root = logging.getLogger()
    other = logging.NullHandler()
    root.handlers[:] = [other]
    configure(level="debug", stream=Terminal(True), format="console")
    configure(level="warning", stream=Terminal(True), format="console")
    ours = [handler for handler in root.handlers if handler is not other]
    assert other in root.handlers and len(ours) == 1
    assert isinstance(ours[0].formatter, ConsoleFormatter) and ours[0].formatter.colour
    assert root.level == logging.WARNING
    configure(level="debug")
    (json_handler,) = [handler for handler in root.handlers if handler is not other]
    assert isinstance(json_handler.formatter, JsonFormatter)
    assert json_handler.stream is sys.stderr  # type: ignore[attr-defined]
    assert root.level == logging.DEBUG


def test_canaria_loggers_default_to_stderr_at_the_level_given(saved_loggers: None) -> None:
    canaria = logging.getLogger("canaria")
    canaria.handlers[:] = []
    configure_canaria_loggers(level="debug")
    (handler,) = canaria.handlers
    assert handler.stream is sys.stderr  # type: ignore[attr-defined]
    assert isinstance(handler.formatter, JsonFormatter)
    assert canaria.level == logging.DEBUG and canaria.propagate is False


def test_loggers_are_named_under_canaria() -> None:
    assert get_logger("router.compare").name == "canaria.router.compare"
    assert logs.LOG_FORMATS == ("json", "console")


def test_both_set_ups_default_to_info(saved_loggers: None) -> None:
    root, canaria = logging.getLogger(), logging.getLogger("canaria")
    root.setLevel(logging.ERROR)
    canaria.setLevel(logging.ERROR)
    configure(stream=io.StringIO())
    configure_canaria_loggers(stream=io.StringIO())
    assert (root.level, canaria.level) == (logging.INFO, logging.INFO)


def test_redact_applies_the_callers_list_as_well() -> None:
    assert logs.redact({"plan": "gold", "Plan ": "x", "tier": 1}, ["plan"]) == {"tier": 1}


def test_keys_that_are_not_text_are_kept_as_they_are() -> None:
    assert logs.scrub({1: "a@b.example", "n": {2.5: "y"}}) == {1: "[email]", "n": {2.5: "y"}}
