"""One request-id rule for the router and both model services."""

from __future__ import annotations

import pytest

from canaria.contracts.request_id import request_id


@pytest.mark.parametrize(
    "given", ["abc-123", "dGVzdA==", "user@host", "trace/42", "a+b", "x:y.z_1", "a" * 128]
)
def test_a_sane_id_is_kept(given: str) -> None:
    assert request_id(given) == given


@pytest.mark.parametrize("given", [None, "", "a" * 129, "bad id", 'q"uote', "new\nline", "é"])
def test_anything_else_gets_a_new_id(given: str | None) -> None:
    created = request_id(given)
    assert created != given
    assert len(created) == 32 and int(created, 16) >= 0
