"""JSON logging and personal-data redaction (canaria/contracts/logs.py)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from canaria.contracts import logs
from canaria.contracts.logs import JsonFormatter, configure_canaria_loggers, digest, redact, scrub

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


@pytest.mark.parametrize(
    "key", ["email", "Email", "EMAIL", "e-mail", "E_Mail", "email ", " Email", "customerId"]
)
def test_personal_fields_are_removed_whatever_their_spelling(key: str) -> None:
    never_log = ("email", "customerid")
    assert redact({key: "x", "age": 3}, never_log) == {"age": 3}


@pytest.mark.parametrize("key", ["customer_id", "Customer_ID", "CUSTOMER-ID", "customer_id "])
def test_customer_id_is_never_logged_even_unlisted(key: str) -> None:
    assert redact({"row": {key: "c-17", "tenure": 3}}) == {"row": {"tenure": 3}}


def test_email_addresses_are_masked_in_free_text_keys_and_ids() -> None:
    record = {
        "note": "call Alice <alice.smith+x@mail.example.co.uk> today",
        "alice@example.com": {"tenure": 3},
        "bob@example.com": 1,
        "request_id": "carol@example.org",
        "rows": [["dave@example.net"]],
    }
    cleaned = redact(record)
    text = json.dumps(cleaned)
    assert "@" not in text
    assert cleaned["note"] == "call Alice <[email]> today"
    assert cleaned["request_id"] == "[email]"
    assert len([key for key in cleaned if key.startswith("[email]")]) == 2  # both kept


@pytest.mark.parametrize("key", ["prompt", "Prompt", "messages", "completion", "choices"])
def test_model_text_is_reduced_to_length_and_digest(key: str) -> None:
    prompt = [{"role": "user", "content": "my card number is 4111 1111 1111 1111"}]
    cleaned = redact({"request": {key: prompt}})
    assert cleaned["request"][key] == digest(prompt)
    assert "4111" not in json.dumps(cleaned)


def test_every_log_line_goes_through_the_redaction() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("canaria.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning(
        "mail from %s",
        "eve@example.com",
        extra={"Customer_ID": "c-9", "prompt": "secret", "color_message": "\x1b[32mhi\x1b[0m"},
    )
    line = json.loads(stream.getvalue())
    assert line["msg"] == "mail from [email]"
    assert "Customer_ID" not in line and "color_message" not in line
    assert line["prompt"] == digest("secret")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "coloured"), [(io.StringIO(), False), (_Tty(), True)])
def test_console_format_is_human_and_coloured_only_on_a_terminal(
    stream: io.StringIO, coloured: bool
) -> None:
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        logs.configure(level="INFO", stream=stream, format="console")
        logging.getLogger("canaria.operator").warning("rolled back", extra={"rollout": "ml/churn"})
    finally:
        root.handlers[:], root.level = before[0], before[1]
    line = stream.getvalue().strip()
    assert "canaria.operator: rolled back  rollout=ml/churn" in line
    assert ("\033[" in line) is coloured
    assert not line.startswith("{")


def test_an_unknown_log_format_names_the_choices() -> None:
    with pytest.raises(ValueError, match="json, console"):
        logs.formatter_for("xml", io.StringIO())


def test_console_lines_are_scrubbed_too() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        logs.configure(level="INFO", stream=stream, format="console")
        logging.getLogger("canaria.router").info(
            "mail a@b.example", extra={"email": "a@b.example", "rollout": "ml/churn"}
        )
    finally:
        root.handlers[:], root.level = before[0], before[1]
    line = stream.getvalue()
    assert "a@b.example" not in line and "rollout=ml/churn" in line


def test_a_processs_own_names_join_the_formatters_of_every_line() -> None:
    """``configure_canaria_loggers(never_log=...)`` (a served model's personal-data fields)
    adds to the handler a first call made: a second call merges, never replaces."""
    stream = io.StringIO()
    canaria = logging.getLogger("canaria")
    saved = (list(canaria.handlers), canaria.level, canaria.propagate)
    try:
        canaria.handlers = []
        configure_canaria_loggers(stream=stream, never_log=["national_id"])
        configure_canaria_loggers(stream=stream, never_log=["passport"])
        fields = {"National_ID": "n-1", "NATIONAL-ID ": "n-2", "Passport": "p-1", "kept": 3}
        logging.getLogger("canaria.test").info("served", extra=fields)
        (line,) = stream.getvalue().splitlines()
        assert {k: v for k, v in json.loads(line).items() if k in {*fields, "kept"}} == {"kept": 3}
    finally:
        canaria.handlers, canaria.level, canaria.propagate = saved


def test_configure_takes_never_log_for_json_and_console_lines() -> None:
    root = logging.getLogger()
    before = list(root.handlers), root.level
    for format in logs.LOG_FORMATS:
        stream = io.StringIO()
        try:
            logs.configure(stream=stream, format=format, never_log=["national_id"])
            logging.getLogger("canaria.x").info("m", extra={"National ID": "n-9", "ok": 1})
        finally:
            root.handlers[:], root.level = before[0], before[1]
        assert "n-9" not in stream.getvalue() and "ok" in stream.getvalue()
