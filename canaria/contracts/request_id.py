"""The request-id rule, one for every hop: router, classic service, LLM service.

A caller's ``x-request-id`` is kept when it is a sane token: 1-128 characters from
letters, digits and ``. _ : @ / + = -`` (so base64 ids like ``dGVzdA==``, ``user@host``,
``trace/42`` and ``a+b`` survive); anything else (spaces, quotes, control characters, an
empty or overlong value) is replaced by a new random id (32 hex digits). The router passes
the id it kept on to the model server, which keeps it too, so one request carries one id
through every log line.
"""

from __future__ import annotations

import re
import uuid

REQUEST_ID_HEADER = "x-request-id"
_USABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id(given: str | None) -> str:
    """``given`` when it is a usable request id, else a new one (pure apart from the
    random id)."""
    if given and _USABLE_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex
