"""The shadow comparator's tolerance at its boundary, from both sides (hand-reasoned
values: 0.75 - 0.5 = 0.25 exactly in binary floating point)."""

from __future__ import annotations

import json

from services.router.answers import ClassicAnswer, classic_answers
from services.router.compare import classic_difference


def answer(predicted: str, probability: float, **extra: object) -> ClassicAnswer:
    body = json.dumps({"predicted_class": predicted, "probability": probability, **extra})
    return classic_answers(body.encode())[0]


def test_a_difference_equal_to_the_tolerance_agrees_and_one_past_it_does_not() -> None:
    primary, shadow = answer("yes", 0.75), answer("yes", 0.5)
    assert classic_difference(primary, shadow, tolerance=0.25) == (True, 0.25)
    assert classic_difference(primary, shadow, tolerance=0.25 - 1e-9) == (False, 0.25)


def test_tolerance_zero_identical_answers_agree_and_any_gap_disagrees() -> None:
    same = answer("yes", 0.8)
    assert classic_difference(same, answer("yes", 0.8), tolerance=0.0) == (True, 0.0)
    agree, difference = classic_difference(same, answer("yes", 0.800001), tolerance=0.0)
    assert not agree and 0 < difference < 1e-5


def test_full_distributions_at_the_tolerance_agree() -> None:
    primary = answer("yes", 0.75, probabilities={"yes": 0.75, "no": 0.25})
    shadow = answer("yes", 0.5, probabilities={"yes": 0.5, "no": 0.5})
    assert classic_difference(primary, shadow, tolerance=0.25) == (True, 0.25)
    assert classic_difference(primary, shadow, tolerance=0.2) == (False, 0.25)


def test_a_changed_class_never_agrees_even_with_the_widest_tolerance() -> None:
    assert classic_difference(answer("yes", 0.5), answer("no", 0.5), tolerance=1.0) == (
        False,
        1.0,
    )
