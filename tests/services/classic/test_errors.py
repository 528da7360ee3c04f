"""BentoML's own error answers rewritten to the documented shape (an ASGI app in-process)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from bentoml.exceptions import BentoMLException, InvalidArgument, ServiceUnavailable
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from services.classic.errors import (
    BENTOML_REQUEST_LOGGER,
    ErrorAnswers,
    error_body,
    error_headers,
    is_expected,
    quiet_expected_errors,
)
from services.classic.openapi import RETRY_AFTER_SECONDS


def _app(status: int, *, ours: bool = False) -> Any:
    """An app that answers ``status`` the way BentoML does (or, with ``ours``, as the specs do)."""

    async def handle(_: Request) -> Response:
        headers = {"x-request-id": "mine"} if ours else None
        return JSONResponse([{"error": "bentoml's"}], status_code=status, headers=headers)

    routes = [Route(path, handle, methods=["POST"]) for path in ("/predict", "/other")]
    return ErrorAnswers(Starlette(routes=routes))


@pytest.mark.parametrize("status", [415, 500, 503, 504])
def test_bentoml_errors_get_the_documented_body(status: int) -> None:
    response = TestClient(_app(status)).post("/predict", headers={"x-request-id": "req-1"})
    assert response.status_code == status
    assert response.json() == error_body(status, "req-1")
    assert response.headers["x-request-id"] == "req-1"
    assert ("retry-after" in response.headers) is (status == 503)


def test_a_shed_request_is_asked_to_retry_later() -> None:
    response = TestClient(_app(503)).post("/predict")
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS) == "1"
    assert "overloaded" in response.json()["error"]
    assert "check the server log" not in response.text


@pytest.mark.parametrize("status", [200, 399])
def test_success_passes_untouched(status: int) -> None:
    response = TestClient(_app(status)).post("/predict")
    assert (response.status_code, response.json()) == (status, [{"error": "bentoml's"}])


def test_the_specs_own_errors_and_other_routes_pass_untouched() -> None:
    ours = TestClient(_app(422, ours=True)).post("/predict")
    assert (ours.status_code, ours.json()) == (422, [{"error": "bentoml's"}])
    other = TestClient(_app(503)).post("/other")
    assert (other.status_code, other.json()) == (503, [{"error": "bentoml's"}])
    assert "retry-after" not in other.headers


def test_error_body_and_headers() -> None:
    assert error_body(504, "r") == {"error": "gateway timeout", "request_id": "r"}
    assert error_headers(500, "r") == {"x-request-id": "r"}
    assert error_headers(503, "r") == {"x-request-id": "r", "retry-after": "1"}


def test_only_client_errors_and_shedding_are_expected() -> None:
    assert is_expected(ServiceUnavailable("process is overloaded"))
    assert is_expected(InvalidArgument("bad"))
    assert not is_expected(BentoMLException("boom"))  # error_code 500
    assert not is_expected(RuntimeError("boom"))
    assert not is_expected(None)


def test_expected_errors_leave_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    quiet_expected_errors()
    quiet_expected_errors()  # idempotent: one filter
    bentoml_logger = logging.getLogger(BENTOML_REQUEST_LOGGER)
    assert len(bentoml_logger.filters) == 1
    for error in (ServiceUnavailable("process is overloaded"), RuntimeError("model broke")):
        try:
            raise error
        except Exception:
            bentoml_logger.error("Exception on /predict [POST]", exc_info=True)
    logged = [record.exc_info[1] for record in caplog.records if record.exc_info]
    assert [type(error) for error in logged] == [RuntimeError]
