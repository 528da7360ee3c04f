"""One environment-parsing style for both services."""

from __future__ import annotations

from enum import StrEnum

import pytest

from canaria.contracts.env import (
    EnvError,
    env_choice,
    env_flag,
    env_int,
    env_names,
    env_share,
    env_str,
)


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


def test_unset_or_blank_gives_the_default() -> None:
    for environ in ({}, {"X": "  "}):
        assert env_str(environ, "X", "d") == "d"
        assert env_int(environ, "X", 3, minimum=1) == 3
        assert env_share(environ, "X", 0.5) == 0.5
        assert env_flag(environ, "X") is False
        assert env_choice(Colour, environ, "X", Colour.RED) is Colour.RED


def test_values_are_parsed() -> None:
    assert env_int({"X": "7"}, "X", 1, minimum=1) == 7
    assert env_share({"X": "0.25"}, "X", 1.0) == 0.25
    assert env_flag({"X": "Yes"}, "X") is True and env_flag({"X": "off"}, "X", True) is False
    assert env_choice(Colour, {"X": "BLUE"}, "X", Colour.RED) is Colour.BLUE
    assert env_names({"X": "a, b,,"}, "X", ("c",)) == {"a", "b"}
    assert env_names({}, "X", ("c",)) == {"c"} and env_names({"X": ""}, "X", ("c",)) == set()


@pytest.mark.parametrize(
    ("parse", "raw", "expected"),
    [
        (lambda e: env_int(e, "X", 1, minimum=1), "0", "an integer >= 1"),
        (lambda e: env_int(e, "X", 1, minimum=1), "many", "an integer >= 1"),
        (lambda e: env_share(e, "X", 1.0), "1.5", "a number between 0 and 1"),
        (lambda e: env_share(e, "X", 1.0), "nan", "a number between 0 and 1"),
        (lambda e: env_flag(e, "X"), "maybe", "a boolean"),
        (lambda e: env_choice(Colour, e, "X", Colour.RED), "green", "one of: red, blue"),
    ],
)
def test_a_bad_value_names_its_variable_and_what_it_takes(
    parse: object, raw: str, expected: str
) -> None:
    with pytest.raises(EnvError, match=f"^X='{raw}': must be {expected}"):
        parse({"X": raw})  # type: ignore[operator]
