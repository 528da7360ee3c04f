"""A model that declares ``national_id`` personal data: its value reaches no router log.

The router cannot read a model's metadata (its image ships no model): its log lines are an
allowlist that holds no request field at all, and its ``never_log`` takes the declared
names (the chart's ``traffic.router.neverLog``) for anything else it writes. Here a real
router, shadowing a disagreeing upstream with every log on, gets requests carrying a
national id in the body (under several spellings), the query string, a header and a
cookie.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from canaria.contracts import metrics as catalog
from canaria.contracts.model_metadata import PERSONAL_DATA_KEY, personal_data_fields
from canaria.testing.wait import wait_until

from .conftest import Router

pytestmark = pytest.mark.slow  # starts real processes or trains a model

SECRET_ID = "NID-731-40-2288"
# The metadata ``extra`` of a model declaring its national id personal data.
MODEL_EXTRA = {PERSONAL_DATA_KEY: ["customer_id", "national_id"]}


def test_a_declared_personal_data_field_reaches_no_router_log_line(
    upstreams: dict[str, str], start_routers: Callable[..., dict[str, Router]]
) -> None:
    config = {
        "upstreams": {
            "stable": {"url": upstreams["stable"], "timeout_seconds": 5},
            "shadow": {"url": upstreams["different"], "timeout_seconds": 5},
        },
        "shadow": {"sample_rate": 1.0, "disagreement_log_rate": 1.0},
        "access_log": {"sample_rate": 1.0},
        "never_log": list(personal_data_fields(MODEL_EXTRA)),
    }
    router = start_routers({"personal": config})["personal"]
    body = {
        "features": {"tenure": 3, "plan": "basic", "national_id": SECRET_ID},
        "National_ID": SECRET_ID,
        "NATIONAL-ID ": SECRET_ID,
        "records": [{"national id": SECRET_ID}],
    }
    with httpx.Client(timeout=30) as client:
        for index in range(5):
            response = client.post(
                f"{router.url}/predict?national_id={SECRET_ID}",
                json=body,
                headers={
                    "x-request-id": f"pd-{index}",
                    "national-id": SECRET_ID,
                    "cookie": f"national_id={SECRET_ID}",
                },
            )
            assert response.status_code == 200
    wait_until(
        "five disagreement lines",
        lambda: router.log().count("shadow disagreement") == 5,
        poll=0.1,
    )
    assert router.metric(catalog.SHADOW_COMPARISONS_TOTAL, outcome="disagree") == 5
    lines = [json.loads(line) for line in router.log().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("msg") == "request" and "path" in line]
    assert {line["request_id"] for line in access} >= {f"pd-{i}" for i in range(5)}
    assert SECRET_ID not in router.log()
