"""The router's config schema: the documented example is valid, bad input names its field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from canaria.contracts.metrics import Variant
from services.router.admin import admin_token, authorization_error
from services.router.config import (
    ComparatorKind,
    ConfigError,
    TextMethod,
    load_config,
    parse_config,
    parse_yaml,
    public_view,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "services" / "router" / "example-config.yaml"
MINIMAL: dict[str, Any] = {"upstreams": {"stable": {"url": "http://stable:3000/"}}}


def test_the_documented_example_is_valid() -> None:
    config = load_config(EXAMPLE)
    assert config.canary_weight == 10
    assert config.sticky is not None and config.sticky.header == "x-user-id"
    assert config.match == {"header:x-ab-group": "b"}
    assert config.shadow_settings.comparator is ComparatorKind.CLASSIC
    assert config.shadow_settings.text.method is TextMethod.EMBEDDING
    assert config.rate_limit is not None and config.rate_limit.key == "header:x-api-key"
    shadow = config.upstream(Variant.SHADOW)
    assert shadow is not None and shadow.url == "http://churn-shadow:3000"


def test_defaults_for_a_minimal_config() -> None:
    config = parse_config(MINIMAL)
    assert config.upstreams.stable.url == "http://stable:3000"
    assert config.routes() == {"canary_weight": 0, "mirror": False, "match": {}}
    assert config.upstream(Variant.SHADOW) is None
    assert config.admin.token_env == "CANARIA_ROUTER_ADMIN_TOKEN"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"canary_weight": 130}, "canary_weight"),
        ({"canary_weight": "10"}, "canary_weight"),
        ({"canary_weight": 10}, "upstreams.canary"),
        ({"mirror": True}, "upstreams.canary"),
        ({"upstreams": {"stable": {"url": "stable:3000"}}}, "upstreams.stable.url"),
        ({"upstreams": {"stable": {"url": "http://s", "timeout_seconds": 0}}}, "timeout_seconds"),
        ({"sticky": {"header": "a", "cookie": "b"}}, "sticky"),
        ({"shadow": {"sample_rate": 1.5}}, "shadow.sample_rate"),
        ({"shadow": {"comparator": "fuzzy"}}, "shadow.comparator"),
        ({"shadow": {"max_in_flight": 0}}, "shadow.max_in_flight"),
        ({"rate_limit": {"requests_per_second": 1, "burst": 1, "key": "ip"}}, "rate_limit.key"),
        ({"max_header_bytes": 10}, "max_header_bytes"),
        ({"canary_wieght": 5}, "canary_wieght"),
    ],
)
def test_bad_fields_are_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        parse_config({**MINIMAL, **change})


def test_yaml_errors_and_non_mappings_are_refused() -> None:
    with pytest.raises(ConfigError, match="not valid YAML at line 3"):
        parse_yaml("upstreams:\n  stable: [unclosed\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        parse_yaml("- a\n- b\n")


def test_admin_changes_are_validated_whole() -> None:
    config = parse_config(
        {"upstreams": {"stable": {"url": "http://s"}, "canary": {"url": "http://c"}}}
    )
    changed = config.with_routes({"canary_weight": 20, "match": {"header:X-AB": "b"}})
    assert changed.routes() == {"canary_weight": 20, "mirror": False, "match": {"header:x-ab": "b"}}
    assert config.canary_weight == 0  # the old config is untouched
    with pytest.raises(ConfigError, match="canary_weight"):
        config.with_routes({"canary_weight": 130})
    with pytest.raises(ConfigError, match=r"upstreams\.canary"):
        parse_config(MINIMAL).with_routes({"canary_weight": 5})
    promoted = changed.promoted()
    assert promoted.upstreams.stable.url == "http://c"
    assert promoted.routes() == {"canary_weight": 0, "mirror": False, "match": {}}


def test_mirror_makes_the_canary_the_shadow() -> None:
    config = parse_config(
        {
            "upstreams": {"stable": {"url": "http://s"}, "canary": {"url": "http://c"}},
            "shadow": {"url": "http://elsewhere"},
            "mirror": True,
        }
    )
    shadow = config.upstream(Variant.SHADOW)
    assert shadow is not None and shadow.url == "http://c"


def test_the_admin_token_comes_from_env_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CANARIA_ROUTER_ADMIN_TOKEN", raising=False)
    config = parse_config(MINIMAL)
    assert authorization_error(config, "Bearer x") == (
        503,
        "admin API disabled: no token in $CANARIA_ROUTER_ADMIN_TOKEN",
    )
    monkeypatch.setenv("CANARIA_ROUTER_ADMIN_TOKEN", "s3cret")
    assert authorization_error(config, "Bearer s3cret") is None
    assert authorization_error(config, "bearer s3cret") is None
    assert authorization_error(config, None) is not None
    assert authorization_error(config, "Basic s3cret") is not None
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    from_file = parse_config({**MINIMAL, "admin": {"token_file": str(token_file)}})
    assert admin_token(from_file) == "from-file"
    assert "s3cret" not in str(public_view(config))
