"""``spec.target`` of the spec parser (``_parse_target``, ``_parse_model_ref``): the stable and
canary model references read through ``parse_spec``, every error message in full and the text
limit of a tag or an image at the largest value accepted and one step past (expected values
written out by hand)."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.api.spec import ModelRef, SpecError, parse_spec
from tests.monitoring.api.spec_builders import with_

SIDES = ("stable", "canary")
KEYS = ("bentoTag", "image")


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        pytest.param(
            {"image": "ghcr.io/acme/churn:2"},
            ModelRef(image="ghcr.io/acme/churn:2"),
            id="image-only",
        ),
        pytest.param({"bentoTag": "churn:v7"}, ModelRef(bento_tag="churn:v7"), id="tag-only"),
        pytest.param(
            {"bentoTag": "churn:v7", "image": "ghcr.io/acme/churn:2"},
            ModelRef(bento_tag="churn:v7", image="ghcr.io/acme/churn:2"),
            id="both",
        ),
        pytest.param(
            {"bentoTag": None, "image": "img"}, ModelRef(image="img"), id="null-tag-is-absent"
        ),
    ],
)
def test_a_model_ref_keeps_its_tag_and_image(
    side: str, ref: dict[str, Any], expected: ModelRef
) -> None:
    spec = parse_spec(with_({f"target.{side}": ref}))
    assert getattr(spec.target, side) == expected


def test_stable_and_canary_are_read_from_their_own_keys() -> None:
    spec = parse_spec(
        with_({"target.stable": {"image": "img:1"}, "target.canary": {"bentoTag": "churn:v9"}})
    )
    assert spec.target.stable == ModelRef(bento_tag=None, image="img:1")
    assert spec.target.canary == ModelRef(bento_tag="churn:v9", image=None)


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("key", KEYS)
def test_a_tag_or_image_of_512_characters_is_accepted_513_refused(side: str, key: str) -> None:
    attribute = {"bentoTag": "bento_tag", "image": "image"}[key]
    spec = parse_spec(with_({f"target.{side}": {key: "a" * 512}}))
    assert getattr(getattr(spec.target, side), attribute) == "a" * 512
    with pytest.raises(SpecError) as caught:
        parse_spec(with_({f"target.{side}": {key: "a" * 513}}))
    assert str(caught.value) == (
        f"spec.target.{side}.{key}: must be at most 512 characters, got 513"
    )


BAD = [
    row
    for side in SIDES
    for row in (
        pytest.param(
            with_({f"target.{side}": None}),
            f"spec.target.{side}: is required",
            id=f"{side}-missing",
        ),
        pytest.param(
            with_({f"target.{side}": "churn:v1"}),
            f"spec.target.{side}: must be an object, got 'churn:v1'",
            id=f"{side}-not-an-object",
        ),
        pytest.param(
            with_({f"target.{side}": {}}),
            f"spec.target.{side}: needs a bentoTag or an image",
            id=f"{side}-empty",
        ),
        pytest.param(
            with_({f"target.{side}": {"bentoTag": None, "image": None}}),
            f"spec.target.{side}: needs a bentoTag or an image",
            id=f"{side}-both-null",
        ),
        pytest.param(
            with_({f"target.{side}": {"bentoTag": 5}}),
            f"spec.target.{side}.bentoTag: must be a string, got 5",
            id=f"{side}-tag-type",
        ),
        pytest.param(
            with_({f"target.{side}": {"image": True}}),
            f"spec.target.{side}.image: must be a string, got True",
            id=f"{side}-image-type",
        ),
        pytest.param(
            with_({f"target.{side}": {"bentoTag": ""}}),
            f"spec.target.{side}.bentoTag: must not be empty",
            id=f"{side}-tag-empty",
        ),
        pytest.param(
            with_({f"target.{side}": {"bentoTag": "churn:v1", "image": "  "}}),
            f"spec.target.{side}.image: must not be empty",
            id=f"{side}-image-blank",
        ),
    )
]


@pytest.mark.parametrize(("spec", "message"), BAD)
def test_bad_targets_are_refused_with_the_whole_message(spec: Any, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(spec)
    assert str(caught.value) == message


def test_a_missing_target_section_is_required() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(with_({"target": None}))
    assert (caught.value.path, caught.value.reason) == ("spec.target", "is required")
