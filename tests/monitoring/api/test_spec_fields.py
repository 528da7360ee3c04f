"""``monitoring.api.spec.fields``: every error message whole (path and reason), the
boundaries of durations on both sides, and the defaults and conversions of each reader."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from monitoring.api.spec import SpecError, StrategyType
from monitoring.api.spec.fields import (
    REQUIRED,
    enum_value,
    field_value,
    int_in_range,
    non_empty,
    parse_duration,
    sub_object,
)

VALID_64 = "1s" * 32  # 64 characters, 32 parts of one second
VALID_65 = "10s" + "1s" * 31  # 65 characters: one past the length limit
INVALID_64 = "1s" * 31 + "xx"  # 64 characters, not a duration
SHAPE = "must be a duration like 30s, 1m or 500ms, got "


def test_durations_up_to_64_characters_are_read() -> None:
    assert len(VALID_64) == 64
    assert parse_duration(VALID_64) == 32.0


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (VALID_65, "'" + VALID_65[:64] + "...'"),  # too long: cut to 64 characters
        ("1s" * 40, "'" + "1s" * 32 + "...'"),
        (INVALID_64, "'" + INVALID_64 + "'"),  # 64 characters: shown whole
        ("1x", "'1x'"),
        (90, "90"),
    ],
)
def test_a_bad_duration_is_shown_cut_to_64_characters(text: Any, shown: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_duration(text)
    assert str(caught.value) == "duration: " + SHAPE + shown  # the default path
    assert caught.value.path == "duration"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0s", "must be longer than 0 and finite, got '0s'"),
        ("0m0.0s", "must be longer than 0 and finite, got '0m0.0s'"),
        ("999ms", "must be between 1s and 60s, got '999ms' (0.999s)"),
        ("60001ms", "must be between 1s and 60s, got '60001ms' (60.001s)"),
        ("1m1s", "must be between 1s and 60s, got '1m1s' (61s)"),
    ],
)
def test_durations_out_of_bounds_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_duration(text, path="spec.x", bounds=(1.0, 60.0))
    assert str(caught.value) == f"spec.x: {message}"


@pytest.mark.parametrize(("text", "seconds"), [("1s", 1.0), ("1000ms", 1.0), ("1m", 60.0)])
def test_durations_at_the_bounds_are_accepted(text: str, seconds: float) -> None:
    assert parse_duration(text, path="spec.x", bounds=(1.0, 60.0)) == seconds


def test_field_values_are_converted_and_defaulted() -> None:
    whole = field_value({"k": 3.0}, "k", "p", int, default=REQUIRED)
    assert (whole, type(whole)) == (3, int)
    number = field_value({"k": 2}, "k", "p", float, default=REQUIRED)
    assert (number, type(number)) == (2.0, float)
    assert field_value({"k": None}, "k", "p", int, default=7) == 7
    assert field_value({}, "k", "p", str, default="d") == "d"
    assert field_value({"k": False}, "k", "p", bool, default=True) is False


READERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "int": lambda d: field_value(d, "k", "p", int, default=REQUIRED),
    "float": lambda d: field_value(d, "k", "p", float, default=REQUIRED),
    "str": lambda d: field_value(d, "k", "p", str, default=REQUIRED),
    "bool": lambda d: field_value(d, "k", "p", bool, default=REQUIRED),
    "list": lambda d: field_value(d, "k", "p", list, default=REQUIRED),
    "object": lambda d: sub_object(d, "k", "p", required=True),
    "optional object": lambda d: sub_object(d, "k", "p"),
    "enum": lambda d: enum_value(d, "k", "p", StrategyType, REQUIRED),
    "optional enum": lambda d: enum_value(d, "k", "p", StrategyType, StrategyType.CANARY),
    "range": lambda d: int_in_range(d, "k", "p", 1, 5, REQUIRED),
    "non-empty": lambda d: non_empty(d, "k", "p"),
}


@pytest.mark.parametrize(
    ("reader", "value", "reason"),
    [
        ("int", None, "is required"),
        ("int", 2.5, "must be an integer, got 2.5"),
        ("int", True, "must be an integer, got True"),
        ("int", "3", "must be an integer, got '3'"),
        ("float", True, "must be a number, got True"),
        ("float", float("nan"), "must be a finite number, got nan"),
        ("float", float("inf"), "must be a finite number, got inf"),
        ("str", 3, "must be a string, got 3"),
        ("bool", 1, "must be true or false, got 1"),
        ("list", 3, "must be list, got 3"),
        ("object", None, "is required"),
        ("object", [1], "must be an object, got [1]"),
        ("optional object", "x", "must be an object, got 'x'"),
        ("enum", None, "is required"),
        ("enum", 3, "must be a string, got 3"),
        ("enum", "rolling", "must be one of canary, blueGreen, abTesting, got 'rolling'"),
        ("optional enum", 3, "must be a string, got 3"),
        ("range", None, "is required"),
        ("range", 0, "must be between 1 and 5, got 0"),
        ("range", 6, "must be between 1 and 5, got 6"),
        ("range", 6.0, "must be between 1 and 5, got 6"),
        ("non-empty", None, "is required"),
        ("non-empty", 3, "must be a string, got 3"),
        ("non-empty", " \t", "must not be empty"),
    ],
)
def test_every_error_names_the_path_and_the_reason(reader: str, value: Any, reason: str) -> None:
    data = {} if value is None else {"k": value}
    with pytest.raises(SpecError) as caught:
        READERS[reader](data)
    assert (caught.value.path, caught.value.reason) == ("p.k", reason)
    assert str(caught.value) == f"p.k: {reason}"


@pytest.mark.parametrize(
    ("reader", "value", "expected"),
    [
        ("object", {"a": 1}, {"a": 1}),
        ("optional object", None, {}),
        ("enum", "blueGreen", StrategyType.BLUE_GREEN),
        ("optional enum", None, StrategyType.CANARY),
        ("range", 1, 1),
        ("range", 5, 5),
        ("range", 5.0, 5),
        ("non-empty", " a ", " a "),
    ],
)
def test_good_values_and_defaults(reader: str, value: Any, expected: Any) -> None:
    data = {} if value is None else {"k": value}
    assert READERS[reader](data) == expected


def test_an_absent_enum_gives_its_default_as_it_is() -> None:
    sentinel = object()  # not a member: returned untouched, never looked up in the enum
    assert enum_value({}, "k", "p", StrategyType, sentinel) is sentinel
    assert enum_value({"k": None}, "k", "p", StrategyType, None) is None
    assert int_in_range({}, "k", "p", 1, 5, None) is None
