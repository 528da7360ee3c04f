"""The seeded Hypothesis profile and the example budget (tests/hypothesis_budget.py)."""

from __future__ import annotations

import pytest
from hypothesis import Phase, settings

from tests.hypothesis_budget import SCALE_ENV, examples, examples_scale, phases


def test_every_property_test_runs_seeded_without_a_database() -> None:
    assert settings.default.derandomize is True
    assert settings.default.database is None


def test_a_full_run_shrinks_and_a_scaled_one_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tuple(settings.default.phases) == phases()  # the loaded profile's
    monkeypatch.setenv(SCALE_ENV, "1")
    assert phases() == tuple(Phase)
    monkeypatch.setenv(SCALE_ENV, "0.1")
    assert phases() == (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
    assert Phase.shrink in tuple(Phase) and Phase.explain in tuple(Phase)


def test_unset_or_empty_keeps_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCALE_ENV, raising=False)
    assert examples_scale() == 1.0
    assert examples(150) == 150
    monkeypatch.setenv(SCALE_ENV, "")
    assert examples(30) == 30


@pytest.mark.parametrize(
    ("scale", "count", "expected"),
    [
        ("1", 600, 600),
        ("0.1", 600, 60),
        ("0.1", 150, 15),
        ("0.1", 30, 5),  # 3 would be under the minimum of 5
        ("0.1", 49, 5),  # 4.9 rounds to 5
        ("0.1", 55, 6),  # 5.5 rounds to 6 (half to even)
        ("0.01", 3, 3),  # a count already under the minimum is kept
        ("1e-9", 100, 5),
    ],
)
def test_a_scale_lowers_the_count_never_below_five(
    monkeypatch: pytest.MonkeyPatch, scale: str, count: int, expected: int
) -> None:
    monkeypatch.setenv(SCALE_ENV, scale)
    assert examples(count) == expected


@pytest.mark.parametrize("raw", ["0", "-0.5", "1.0001", "2", "nan", "inf", "many"])
def test_a_scale_outside_zero_to_one_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv(SCALE_ENV, raw)
    with pytest.raises(ValueError) as error:
        examples(100)
    assert str(error.value) == f"CANARIA_EXAMPLES_SCALE: must be a number in (0, 1], got {raw!r}"
