"""Control of a running router: admin API, hot reload of the config file, health."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from canaria.contracts import metrics as catalog
from canaria.testing.wait import wait_until

from .conftest import ADMIN_TOKEN, Router, admin_headers

pytestmark = pytest.mark.slow  # starts real processes or trains a model

RELOADS = catalog.ROUTER_CONFIG_RELOADS_TOTAL


def _config(upstreams: dict[str, str], **routes: Any) -> dict[str, Any]:
    return {
        "upstreams": {
            "stable": {"url": upstreams["stable"]},
            "canary": {"url": upstreams["canary"]},
        },
        "canary_weight": 10,
        # The refusal tests make dozens of wrong-token calls from one address.
        "admin": {"max_auth_failures_per_minute": 1000},
        **routes,
    }


@pytest.fixture(scope="module")
def routers(
    upstreams: dict[str, str], start_routers: Callable[..., dict[str, Router]]
) -> dict[str, Router]:
    return start_routers(
        {"control": _config(upstreams), "promote": _config(upstreams, canary_weight=50)}
    )


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as session:
        yield session


def test_health_and_readiness(client: httpx.Client, routers: dict[str, Router]) -> None:
    url = routers["control"].url
    assert client.get(f"{url}/healthz").json() == {"status": "ok"}
    assert client.get(f"{url}/readyz").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/routes"),
        ("PUT", "/admin/routes"),
        ("POST", "/admin/promote"),
        ("GET", "/admin/config"),
    ],
)
def test_admin_refuses_a_missing_or_wrong_token(
    client: httpx.Client, routers: dict[str, Router], method: str, path: str
) -> None:
    url = routers["control"].admin_url + path
    near_miss = ADMIN_TOKEN[:-1]  # a prefix of the token: compared whole, not by length
    for headers in (
        {},
        admin_headers("not-the-token"),
        admin_headers(near_miss),
        {"authorization": ADMIN_TOKEN},
    ):
        response = client.request(method, url, json={"canary_weight": 0}, headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert "token" in response.json()["error"]
        assert "not-the-token" not in response.text and near_miss not in response.text
    assert (
        client.get(f"{routers['control'].admin_url}/admin/routes", headers=admin_headers()).json()[
            "canary_weight"
        ]
        == 10
    )


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"canary_weight": 130}, "canary_weight"),
        ({"canary_weight": -1}, "canary_weight"),
        ({"canary_weight": "ten"}, "canary_weight"),
        ({"canary_weight": 12.5}, "canary_weight"),
        ({"mirror": "yes"}, "mirror"),
        ({"match": {"x-ab": "b"}}, "match"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_admin_refuses_bad_routes_and_keeps_the_old_ones(
    client: httpx.Client, routers: dict[str, Router], update: dict[str, Any], field: str
) -> None:
    url = f"{routers['control'].admin_url}/admin/routes"
    response = client.put(url, json=update, headers=admin_headers())
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]
    assert client.get(url, headers=admin_headers()).json()["canary_weight"] == 10


@pytest.mark.parametrize(
    "body",
    [
        b"canary_weight=20",
        b"\xff\xfe{}",
        b'{"canary_weight": ' + b"9" * 5000 + b"}",  # past Python's int-from-text limit
        b"[" * 50_000,  # deeper than the JSON parser's recursion limit
    ],
)
def test_admin_refuses_a_body_that_is_not_json(
    client: httpx.Client, routers: dict[str, Router], body: bytes
) -> None:
    router = routers["control"]
    response = client.put(f"{router.admin_url}/admin/routes", content=body, headers=admin_headers())
    assert response.status_code == 400
    assert response.json() == {"error": "body: not valid JSON"}
    assert "Exception in ASGI" not in router.log()


def test_admin_reads_and_sets_routes(client: httpx.Client, routers: dict[str, Router]) -> None:
    router = routers["control"]
    url = f"{router.admin_url}/admin/routes"
    no_breaker = {"breaker": {"canary": None}}
    assert client.get(url, headers=admin_headers()).json() == {
        "canary_weight": 10,
        "mirror": False,
        "match": {},
        **no_breaker,
    }
    new = {"canary_weight": 40, "match": {"header:x-ab": "b"}}
    response = client.put(url, json=new, headers=admin_headers())
    assert response.status_code == 200
    assert response.json() == {**new, "mirror": False, **no_breaker}
    assert client.get(url, headers=admin_headers()).json() == {**new, "mirror": False, **no_breaker}
    assert router.series(catalog.ROUTER_WEIGHT, variant="canary") == 40
    response = client.put(url, json={"canary_weight": 10, "match": {}}, headers=admin_headers())
    assert response.json()["canary_weight"] == 10


def test_admin_config_shows_the_effective_config_without_the_token(
    client: httpx.Client, routers: dict[str, Router], upstreams: dict[str, str]
) -> None:
    response = client.get(f"{routers['control'].admin_url}/admin/config", headers=admin_headers())
    assert response.status_code == 200
    config = response.json()
    assert config["upstreams"]["stable"]["url"] == upstreams["stable"]
    assert config["admin"]["token_env"] == "CANARIA_ROUTER_ADMIN_TOKEN"
    assert ADMIN_TOKEN not in response.text
    assert ADMIN_TOKEN not in routers["control"].log()


def test_promote_makes_the_canary_the_stable_upstream(
    client: httpx.Client, routers: dict[str, Router], upstreams: dict[str, str]
) -> None:
    router = routers["promote"]
    response = client.post(f"{router.admin_url}/admin/promote", headers=admin_headers())
    assert response.status_code == 200
    assert response.json() == {
        "stable": upstreams["canary"],
        "canary_weight": 0,
        "mirror": False,
        "match": {},
    }
    served = {client.post(f"{router.url}/predict", json={}).json()["served_by"] for _ in range(20)}
    assert served == {"canary"}  # the canary's server now answers as the stable variant


def test_a_changed_file_is_reloaded_and_a_broken_one_refused(
    client: httpx.Client, routers: dict[str, Router], upstreams: dict[str, str]
) -> None:
    router = routers["control"]
    routes_url = f"{router.admin_url}/admin/routes"
    router.write_config(_config(upstreams, canary_weight=70))
    wait_until("a reload", lambda: router.metric(RELOADS, result="success") == 1, poll=0.1)
    assert client.get(routes_url, headers=admin_headers()).json()["canary_weight"] == 70
    # An admin change lasts until the file changes again.
    client.put(routes_url, json={"canary_weight": 25}, headers=admin_headers())

    router.config_path.write_text("upstreams: [unclosed\n")
    wait_until("a refusal", lambda: router.metric(RELOADS, result="failure") == 1, poll=0.1)
    router.write_config(_config(upstreams, canary_weight=130))
    wait_until("a second refusal", lambda: router.metric(RELOADS, result="failure") == 2, poll=0.1)
    assert client.get(routes_url, headers=admin_headers()).json()["canary_weight"] == 25
    assert "canary_weight" in router.log() and "config refused" in router.log()
    assert client.post(f"{router.url}/predict", json={}).status_code == 200

    router.write_config(_config(upstreams, canary_weight=10))
    wait_until("a second reload", lambda: router.metric(RELOADS, result="success") == 2, poll=0.1)
    assert client.get(routes_url, headers=admin_headers()).json()["canary_weight"] == 10


def test_an_invalid_config_at_start_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "router.yaml"
    path.write_text(yaml.safe_dump({"upstreams": {"stable": {"url": "ftp://x"}}, "mirror": 1}))
    result = subprocess.run(
        [sys.executable, "-m", "canaria.cli", "router", "--config", str(path), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "upstreams.stable.url" in result.stderr
    assert "mirror" in result.stderr
