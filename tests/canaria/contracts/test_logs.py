"""JSON logging and personal-data redaction (canaria/contracts/logs.py)."""

from __future__ import annotations

import io
import json
import logging

from canaria.contracts.logs import JsonFormatter, configure_canaria_loggers, redact, scrub

NEVER_LOG = ("customer_id", "email")


def test_redact_removes_never_logged_fields_at_every_depth() -> None:
    record = {
        "customer_id": "c-1",
        "features": {"age": 30, "email": "a@b.c"},
        "rows": [{"email": "x"}, {"age": 2}],
        "instances": [[{"email": "deep", "tenure": 3}]],
    }
    assert redact(record, NEVER_LOG) == {
        "features": {"age": 30},
        "rows": [{}, {"age": 2}],
        "instances": [[{"tenure": 3}]],
    }


def test_redact_leaves_the_input_unchanged() -> None:
    record = {"customer_id": "c-1", "age": 3}
    redact(record, NEVER_LOG)
    assert record == {"customer_id": "c-1", "age": 3}


def test_scrub_takes_any_json_document() -> None:
    assert scrub([{"email": 1, "a": 2}, 3, "s"], NEVER_LOG) == [{"a": 2}, 3, "s"]
    assert scrub("plain", NEVER_LOG) == "plain"


def test_json_formatter_writes_extra_fields_and_no_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("canaria.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError("secret value in the message of an exception")
    except ValueError:
        logger.exception("failed", extra={"request_id": "r-1"})
    line = json.loads(stream.getvalue())
    assert line["msg"] == "failed"
    assert line["request_id"] == "r-1"
    assert line["exc_type"] == "ValueError"
    assert "secret value" not in stream.getvalue()


def test_canaria_loggers_write_json_once_and_leave_the_root_alone() -> None:
    stream = io.StringIO()
    canaria = logging.getLogger("canaria")
    saved = (list(canaria.handlers), canaria.level, canaria.propagate)
    try:
        canaria.handlers = []
        configure_canaria_loggers(stream=stream)
        configure_canaria_loggers(stream=stream)  # a second worker start adds nothing
        logging.getLogger("canaria.test").info("served", extra={"status": 200})
        assert len(canaria.handlers) == 1 and not canaria.propagate
        (line,) = stream.getvalue().splitlines()
        assert json.loads(line)["status"] == 200
    finally:
        canaria.handlers, canaria.level, canaria.propagate = saved
