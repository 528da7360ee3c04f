"""The router's configuration: a YAML file, validated whole before it replaces the last one.

Every field is documented in ``example-config.yaml`` beside this module. The models are
frozen: the running router holds one ``RouterConfig`` and swaps the reference, so a request
sees either the old or the new configuration, never half of each. The admin API's changes
produce a new ``RouterConfig`` the same way (``with_routes``, ``promoted``).
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from canaria.contracts.metrics import Variant
from canaria.contracts.routes import (
    ROUTE_FIELDS,
    NothingToPromoteError,
    Routes,
    promoted_config,
    routes_body,
    unknown_route_fields,
)

DEFAULT_ADMIN_TOKEN_ENV = "CANARIA_ROUTER_ADMIN_TOKEN"  # nosec B105 # the name of an environment variable, not a secret
CLIENT_ADDRESS = "client_address"
_HEADER_NAME = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"
_MATCH_KEY = re.compile(rf"^(header|cookie):{_HEADER_NAME}$")
FORWARDED_FOR = "forwarded_for"
_RATE_LIMIT_KEY = re.compile(rf"^(client_address|forwarded_for|header:{_HEADER_NAME})$")
# What ``PUT /admin/routes`` accepts besides the operator's route fields.
ROUTER_ONLY_ROUTE_FIELDS = ("breaker",)


class ConfigError(ValueError):
    """A configuration (file or admin change) that was refused; the message names the field."""


class ComparatorKind(StrEnum):
    CLASSIC = "classic"
    TEXT = "text"


class TextMethod(StrEnum):
    EXACT = "exact"
    TOKEN_OVERLAP = "token_overlap"  # nosec B105 # a comparison method's name, not a secret
    EMBEDDING = "embedding"


class UpstreamClientKind(StrEnum):
    """The HTTP client the router talks to its upstreams with (``services/router/pools.py``)."""

    CUSTOM = "custom"
    AIOHTTP = "aiohttp"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UpstreamSettings(_Frozen):
    """One model server. ``timeout_seconds`` bounds the connect, the wait for the answer's
    headers and every gap between two chunks of it (a stream may last longer in total)."""

    url: StrictStr
    timeout_seconds: StrictFloat = Field(default=10.0, gt=0, le=3600)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", url):
            raise ValueError(f"must be an http:// or https:// URL, got {url!r}")
        return url.rstrip("/")


class Upstreams(_Frozen):
    stable: UpstreamSettings
    canary: UpstreamSettings | None = None
    shadow: UpstreamSettings | None = None


class UpstreamClientSettings(_Frozen):
    """How the router connects to its upstreams; read at start (a reload that changes it
    is logged and applies at the next start). ``implementation``: the HTTP client
    (``--upstream-client`` overrides it); ``max_connections_per_upstream``: connections open
    to one upstream at once, requests beyond it wait up to the upstream's timeout for one
    (then 503, reason ``pool_full``); ``ca_bundle``: a PEM file of the CAs that https
    upstreams are verified against (default: the system's CAs), checked when the file is
    loaded."""

    implementation: UpstreamClientKind = UpstreamClientKind.CUSTOM
    max_connections_per_upstream: StrictInt = Field(default=64, ge=1, le=100_000)
    ca_bundle: StrictStr | None = None


class StickySettings(_Frozen):
    """Where the key that keeps a user on one variant comes from: one header or one cookie."""

    header: StrictStr | None = None
    cookie: StrictStr | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> StickySettings:
        if (self.header is None) == (self.cookie is None):
            raise ValueError("give exactly one of 'header' or 'cookie'")
        return self

    @field_validator("header")
    @classmethod
    def _lower_header(cls, name: str | None) -> str | None:
        return None if name is None else name.lower()


class ClassicComparatorSettings(_Frozen):
    """Answers agree when the class is the same and probabilities differ by at most this."""

    probability_tolerance: StrictFloat = Field(default=0.05, ge=0, le=1)


class TextComparatorSettings(_Frozen):
    """Answers agree when their similarity (1 = identical) is at least ``min_similarity``."""

    method: TextMethod = TextMethod.EMBEDDING
    min_similarity: StrictFloat = Field(default=0.8, ge=0, le=1)


class ShadowSettings(_Frozen):
    """Which share of requests is copied to the shadow, how many at once, how to compare."""

    url: StrictStr | None = None
    timeout_seconds: StrictFloat = Field(default=10.0, gt=0, le=3600)
    sample_rate: StrictFloat = Field(default=1.0, ge=0, le=1)
    max_in_flight: StrictInt = Field(default=32, ge=1, le=100_000)
    comparator: ComparatorKind = ComparatorKind.CLASSIC
    classic: ClassicComparatorSettings = ClassicComparatorSettings()
    text: TextComparatorSettings = TextComparatorSettings()
    disagreement_log_rate: StrictFloat = Field(default=0.1, ge=0, le=1)
    max_answer_bytes: StrictInt = Field(default=1 << 20, ge=1)


class RateLimitSettings(_Frozen):
    """A token bucket per client: ``burst`` requests at once, refilled at the given rate."""

    requests_per_second: StrictFloat = Field(gt=0)
    burst: StrictInt = Field(ge=1)
    key: StrictStr = CLIENT_ADDRESS
    # With key forwarded_for: how many proxies in front of the router append to
    # X-Forwarded-For; the client is the address the outermost of them saw.
    trusted_proxies: StrictInt = Field(default=1, ge=1, le=10)
    max_clients: StrictInt = Field(default=100_000, ge=1)

    @field_validator("key")
    @classmethod
    def _key_form(cls, key: str) -> str:
        if not _RATE_LIMIT_KEY.match(key):
            raise ValueError(
                f"must be 'client_address', 'forwarded_for' or 'header:NAME', got {key!r}"
            )
        if key.lower() == "header:x-forwarded-for":
            # A client can prefix any address to the header: key on the hop a trusted
            # proxy added instead.
            raise ValueError("header:x-forwarded-for can be spoofed: use 'forwarded_for'")
        return key.lower()


class ConnectionSettings(_Frozen):
    """Bounds on client connections (seconds): the whole head must arrive within
    ``header_timeout_seconds`` of its first byte, the whole body within
    ``body_timeout_seconds`` of the head (else 408); a connection idle for
    ``idle_timeout_seconds`` is closed; past ``max_connections`` new ones get a 503."""

    max_connections: StrictInt = Field(default=1000, ge=1, le=1_000_000)
    idle_timeout_seconds: StrictFloat = Field(default=5.0, gt=0, le=3600)
    header_timeout_seconds: StrictFloat = Field(default=10.0, gt=0, le=3600)
    body_timeout_seconds: StrictFloat = Field(default=30.0, gt=0, le=3600)


class BreakerSettings(_Frozen):
    """Fast abort: trip when ``failures`` of the canary's last ``window_requests`` answers
    failed (5xx or none), counting only those of the last ``window_seconds``."""

    failures: StrictInt = Field(default=5, ge=1, le=100_000)
    window_requests: StrictInt = Field(default=20, ge=1, le=100_000)
    window_seconds: StrictFloat = Field(default=10.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _reachable(self) -> BreakerSettings:
        if self.failures > self.window_requests:
            raise ValueError("failures must be at most window_requests")
        return self


class AccessLogSettings(_Frozen):
    """One JSON line per sampled request: ``sample_rate`` of all (0 = none), and with
    ``always_log_errors`` every request answered 5xx or not answered at all."""

    sample_rate: StrictFloat = Field(default=0.1, ge=0, le=1)
    always_log_errors: StrictBool = True


class AdminSettings(_Frozen):
    """The admin API: where its bearer token comes from (never from this file), where it
    listens (``separate``: its own listener at ``host``:``port``, loopback by default;
    ``public``: the serving port, as before), and how many failed authentications a
    caller may make per minute before it is refused with 429 for that minute."""

    token_env: StrictStr = DEFAULT_ADMIN_TOKEN_ENV
    token_file: StrictStr | None = None
    listen: Literal["separate", "public"] = "separate"
    host: StrictStr = "127.0.0.1"
    port: StrictInt = Field(default=8081, ge=0, le=65535)
    max_auth_failures_per_minute: StrictInt = Field(default=10, ge=1, le=10_000)


class RouterConfig(_Frozen):
    upstreams: Upstreams
    canary_weight: StrictInt = Field(default=0, ge=0, le=100)
    mirror: StrictBool = False
    match: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    sticky: StickySettings | None = None
    override_header: StrictStr | None = None
    override_secret_env: StrictStr | None = None
    shadow: ShadowSettings | None = None
    never_log: tuple[StrictStr, ...] = ()
    rate_limit: RateLimitSettings | None = None
    max_request_bytes: StrictInt = Field(default=1 << 20, ge=1)
    max_header_bytes: StrictInt = Field(default=64 << 10, ge=1024, le=16 << 20)
    connections: ConnectionSettings = ConnectionSettings()
    access_log: AccessLogSettings = AccessLogSettings()
    breaker: BreakerSettings | None = None
    admin: AdminSettings = AdminSettings()
    upstream_client: UpstreamClientSettings = UpstreamClientSettings()
    reload_interval_seconds: StrictFloat = Field(default=1.0, gt=0, le=3600)

    @field_validator("match")
    @classmethod
    def _match_keys(cls, match: dict[str, str]) -> dict[str, str]:
        for key in match:
            if not _MATCH_KEY.match(key):
                raise ValueError(f"key {key!r} must look like 'header:NAME' or 'cookie:NAME'")
        # Header names are case-insensitive; cookie names are not.
        return {
            (key.lower() if key.startswith("header:") else key): value
            for key, value in match.items()
        }

    @field_validator("override_header")
    @classmethod
    def _lower_header(cls, name: str | None) -> str | None:
        return None if name is None else name.lower()

    @model_validator(mode="after")
    def _consistent(self) -> RouterConfig:
        if self.override_secret_env is not None and self.override_header is None:
            raise ValueError("override_secret_env needs override_header")
        if self.upstreams.canary is None:
            if self.canary_weight > 0:
                raise ValueError("canary_weight > 0 needs upstreams.canary")
            if self.match:
                raise ValueError("match rules need upstreams.canary")
            if self.mirror:
                raise ValueError("mirror needs upstreams.canary")
        shadow, listed = self.shadow, self.upstreams.shadow
        if shadow is not None and shadow.url is not None:
            UpstreamSettings(url=shadow.url, timeout_seconds=shadow.timeout_seconds)
            if listed is not None and listed.url != shadow.url.rstrip("/"):
                raise ValueError("shadow.url differs from upstreams.shadow.url: give it once")
        return self

    # --- derived views ------------------------------------------------------------------

    @property
    def shadow_settings(self) -> ShadowSettings:
        return self.shadow or ShadowSettings()

    def upstream(self, variant: Variant) -> UpstreamSettings | None:
        """The server for ``variant``; with ``mirror`` on, the canary is the shadow."""
        if variant is Variant.STABLE:
            return self.upstreams.stable
        if variant is Variant.CANARY:
            return self.upstreams.canary
        if self.mirror:
            return self.upstreams.canary
        if self.upstreams.shadow is not None:
            return self.upstreams.shadow
        shadow = self.shadow
        if shadow is not None and shadow.url is not None:
            return UpstreamSettings(url=shadow.url, timeout_seconds=shadow.timeout_seconds)
        return None

    def routes(self) -> dict[str, Any]:
        """What ``GET /admin/routes`` answers (``canaria.contracts.routes.routes_body``)."""
        return routes_body(
            Routes(canary_weight=self.canary_weight, mirror=self.mirror, match=self.match)
        )

    def with_routes(self, update: Mapping[str, Any]) -> RouterConfig:
        """A copy with some of canary_weight / mirror / match (the operator's routes,
        ``canaria.contracts.routes.ROUTE_FIELDS``) or the router's own ``breaker`` replaced
        (``breaker`` null turns it off), validated whole."""
        unknown = sorted(set(unknown_route_fields(update)) - set(ROUTER_ONLY_ROUTE_FIELDS))
        if unknown:
            known = ", ".join(sorted((*ROUTE_FIELDS, *ROUTER_ONLY_ROUTE_FIELDS)))
            raise ConfigError(f"{unknown[0]}: unknown field (known: {known})")
        return parse_config({**self.model_dump(mode="python", exclude_none=True), **update})

    def promoted(self) -> RouterConfig:
        """The canary becomes the stable upstream; all traffic goes to it, routes reset
        (``canaria.contracts.routes.promoted_config``)."""
        try:
            raw = promoted_config(self.model_dump(mode="python", exclude_none=True))
        except NothingToPromoteError as error:
            raise ConfigError(str(error)) from None
        return parse_config(raw)


def describe(error: ValidationError) -> str:
    """One line per problem, each starting with the dotted path of the offending field."""
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "config"
        message = str(problem["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return "; ".join(lines)


def parse_config(raw: Any) -> RouterConfig:
    """Validate a parsed YAML document (pure); ``ConfigError`` names every bad field."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"config: must be a mapping, got {type(raw).__name__}")
    try:
        return RouterConfig.model_validate(dict(raw))
    except ValidationError as error:
        raise ConfigError(describe(error)) from None


def check_ca_bundle(config: RouterConfig) -> RouterConfig:
    """``config`` when its ``upstream_client.ca_bundle`` (if any) is a readable PEM bundle
    of CA certificates, else ``ConfigError`` naming the file (reads it)."""
    path = config.upstream_client.ca_bundle
    if path is None:
        return config
    where = "upstream_client.ca_bundle"
    try:
        ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        raise ConfigError(f"{where}: {path} does not exist") from None
    except ssl.SSLError as error:
        raise ConfigError(f"{where}: {path} holds no PEM CA certificate ({error.reason})") from None
    except OSError as error:
        raise ConfigError(f"{where}: cannot read {path}: {error.strerror}") from None
    return config


def parse_yaml(text: str) -> RouterConfig:
    """Parse and validate the text of a config file; reads the CA bundle it names."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config: not valid YAML{where}") from None
    return check_ca_bundle(parse_config(raw))


def load_config(path: Path) -> RouterConfig:
    """Read and validate the config file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"config: cannot read {path}: {error.strerror}") from None
    return parse_yaml(text)


def public_view(config: RouterConfig) -> dict[str, Any]:
    """The effective configuration as JSON-ready data (it never holds a token value)."""
    return config.model_dump(mode="json")
