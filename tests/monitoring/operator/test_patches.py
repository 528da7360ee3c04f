"""Merge patches between two statuses: applying the diff gives the new status, exactly."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from monitoring.operator.patches import apply_merge_patch, merge_patch_between

# JSON-like values without null (a merge patch cannot store null: it means "delete").
scalars = st.one_of(st.booleans(), st.integers(), st.text(max_size=5))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)
objects = st.dictionaries(st.text(max_size=3), values, max_size=5)


@given(old=objects, new=objects)
def test_applying_the_diff_gives_the_new_object(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert apply_merge_patch(old, merge_patch_between(old, new)) == new


@given(obj=objects)
def test_no_change_is_an_empty_patch(obj: dict[str, Any]) -> None:
    assert merge_patch_between(obj, obj) == {}


def test_only_changes_are_sent_and_removals_are_null() -> None:
    old = {
        "phase": "Paused",
        "pauseReason": "action",
        "stableModel": {"bentoTag": "a", "image": "i"},
    }
    new = {"phase": "Progressing", "stableModel": {"bentoTag": "a"}}
    assert merge_patch_between(old, new) == {
        "phase": "Progressing",
        "pauseReason": None,
        "stableModel": {"image": None},
    }
