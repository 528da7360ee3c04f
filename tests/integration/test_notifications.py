"""Notifications in local mode: ``canaria operator --local`` takes a rollout through a real
router to promotion and a real webhook receiver on loopback gets the started and promoted
messages, signed with the HMAC key from the operator's environment (``urlEnv`` and
``hmacKeyEnv``, local mode's stand-in for a Secret), whether the entry is the rollout's own
or its folder's ``canaria-notifications.yaml`` (local mode's namespace defaults)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from canaria.testing import fake_model
from canaria.testing.local_loop import local_operator, router_checks, steady_traffic
from canaria.testing.router import TOKEN_ENV, running_router
from canaria.testing.wait import wait_until
from monitoring.notify.messages import EVENT_HEADER, SIGNATURE_HEADER, verify
from monitoring.operator.local_rollout import local_rollout
from monitoring.operator.state import state_path_for
from tests.monitoring.notify.receiver import receiving

pytestmark = pytest.mark.slow

TOKEN = "notifications-token"
HMAC = "local-signing-key"


def state(path: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        return dict(json.loads(state_path_for(path).read_text()))
    return {}


@pytest.mark.parametrize("where", ["rollout", "namespace-file"])
def test_a_promotion_is_announced_to_a_signed_webhook(tmp_path: Path, where: str) -> None:
    with (
        receiving(lambda index: (200, 0.0)) as receiver,
        fake_model.serving("stable", workdir=tmp_path) as stable,
        fake_model.serving("canary", workdir=tmp_path) as canary,
    ):
        config = {
            "upstreams": {"stable": {"url": stable.base_url}, "canary": {"url": canary.base_url}},
            "canary_weight": 0,
        }
        with running_router(config, workdir=tmp_path, token=TOKEN) as router:
            doc = local_rollout(
                name="churn",
                stable_tag="churn-classifier:v1",
                canary_tag="churn-classifier:v2",
                router_url=router.base_url,
                token_env=TOKEN_ENV,
                analysis={
                    "interval": "1s",
                    "stepWeights": [50],
                    "checks": router_checks(window="2s", max_latency_p99=2.0),
                },
            )
            entry = {"provider": "webhook", "urlEnv": "ALERTS_URL", "hmacKeyEnv": "ALERTS_KEY"}
            if where == "rollout":
                doc["spec"]["notifications"] = [entry]
            else:
                manifest = {"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "canaria-notifications"},
                            "data": {"providers": yaml.safe_dump([entry])}}  # fmt: skip
                (tmp_path / "canaria-notifications.yaml").write_text(yaml.safe_dump(manifest))
            path = tmp_path / "churn.yaml"
            path.write_text(yaml.safe_dump(doc))
            env = {"ALERTS_URL": receiver.url, "ALERTS_KEY": HMAC}
            with (
                steady_traffic(router.base_url, {"x": 1}, workers=2, pause=0.02),
                local_operator(path, log_path=tmp_path / "operator.log", token=TOKEN, env=env),
            ):
                wait_until(
                    "promoted and announced",
                    lambda: (
                        [r.headers.get(EVENT_HEADER) for r in receiver.requests][-1:]
                        == ["promoted"]
                    ),
                    timeout=60,
                    detail=lambda: state(path).get("status", {}).get("message"),
                )
    assert state(path)["status"]["phase"] == "Succeeded"
    events = [json.loads(r.body)["event"] for r in receiver.requests]
    assert events == ["started", "promoting", "promoted"], events
    for request in receiver.requests:
        assert verify(request.body, request.headers[SIGNATURE_HEADER], key=HMAC.encode())
        assert not verify(request.body, request.headers[SIGNATURE_HEADER], key=b"other")
    promoting = json.loads(receiver.requests[1].body)
    assert promoting["rollout"] == "default/churn"
    assert [c["name"] for c in promoting["checks"]] == ["success-rate", "latency-p99"]
