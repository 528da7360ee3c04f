"""The admin API: read and set routes, promote the canary, show the effective config.

Every endpoint needs ``Authorization: Bearer <token>``; the token comes from the
environment variable (or file) the config names, never from the config itself. Changes
made here last until the config file next changes: a file change replaces everything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any, Protocol

from canaria.contracts.logs import get_logger

from .config import ConfigError, RouterConfig, public_view
from .proxy import Message, Receive, Send, send_json

log = get_logger("router.admin")

MAX_ADMIN_BODY_BYTES = 64 * 1024
ENDPOINTS = {
    "/admin/routes": ("GET", "PUT"),
    "/admin/promote": ("POST",),
    "/admin/config": ("GET",),
}


class ConfigHolder(Protocol):
    config: RouterConfig

    def apply(self, config: RouterConfig, *, source: str) -> None: ...


def admin_token(config: RouterConfig) -> str | None:
    """The token from ``admin.token_file`` if set, else from ``admin.token_env``."""
    settings = config.admin
    if settings.token_file:
        try:
            token = Path(settings.token_file).read_text(encoding="utf-8").strip()
        except OSError:
            return None
    else:
        token = os.environ.get(settings.token_env, "").strip()
    return token or None


def authorization_error(config: RouterConfig, authorization: str | None) -> tuple[int, str] | None:
    """(status, message) when the request may not use the admin API; ``None`` if it may."""
    expected = admin_token(config)
    if expected is None:
        where = config.admin.token_file or f"${config.admin.token_env}"
        return 503, f"admin API disabled: no token in {where}"
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return 401, "missing bearer token (Authorization: Bearer <token>)"
    # Digests of both: compare_digest is constant-time for equal lengths only, and the
    # token's length is no business of a client's either.
    given_digest = hashlib.sha256(given.strip().encode()).digest()
    if not hmac.compare_digest(given_digest, hashlib.sha256(expected.encode()).digest()):
        return 401, "wrong bearer token"
    return None


async def _read_json(receive: Receive) -> Any:
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_ADMIN_BODY_BYTES:
            raise ConfigError(f"body: larger than {MAX_ADMIN_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    try:
        document = json.loads(b"".join(chunks) or b"null")
    except (ValueError, RecursionError):  # bad UTF-8 or JSON, a 5000-digit number, [[[[...
        raise ConfigError("body: not valid JSON") from None
    if not isinstance(document, dict):
        raise ConfigError("body: must be a JSON object with canary_weight, mirror or match")
    return document


async def handle_admin(
    holder: ConfigHolder,
    *,
    path: str,
    method: str,
    headers: dict[str, str],
    receive: Receive,
    send: Send,
) -> None:
    """Answer one ``/admin/*`` request with JSON: ``GET /admin/config`` (the config, tokens
    hidden), ``GET``/``PUT /admin/routes`` (``canaria.contracts.routes.routes_body``),
    ``POST /admin/promote``. Needs ``Authorization: Bearer <token>`` (401/403 otherwise);
    404 for an unknown path, 405 for a wrong method, 400 naming the field for a bad body
    (the config in force stays)."""
    allowed = ENDPOINTS.get(path)
    if allowed is None:
        await send_json(send, 404, {"error": f"no admin endpoint {path}"})
        return
    refused = authorization_error(holder.config, headers.get("authorization"))
    if refused is not None:
        status, message = refused
        challenge = [(b"www-authenticate", b"Bearer")] if status == 401 else []
        await send_json(send, status, {"error": message}, headers=challenge)
        return
    if method not in allowed:
        allow = [(b"allow", ", ".join(allowed).encode())]
        await send_json(send, 405, {"error": f"{method} not allowed on {path}"}, headers=allow)
        return
    try:
        status, payload = await _dispatch(holder, path, method, receive)
    except ConfigError as error:
        status, payload = 400, {"error": str(error)}
    await send_json(send, status, payload)


async def _dispatch(
    holder: ConfigHolder, path: str, method: str, receive: Receive
) -> tuple[int, Any]:
    if path == "/admin/config":
        return 200, public_view(holder.config)
    if path == "/admin/promote":
        holder.apply(holder.config.promoted(), source="admin promote")
        config = holder.config
        return 200, {"stable": config.upstreams.stable.url, **config.routes()}
    if method == "PUT":
        update = await _read_json(receive)
        holder.apply(holder.config.with_routes(update), source="admin routes")
    return 200, holder.config.routes()
