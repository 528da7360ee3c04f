"""The LLM service served for real by ``bentoml serve`` on a loopback port.

One server for the whole package (``scope="package"``: started by the first
``test_service_*`` test that asks for it, stopped after the package's last test), with the
session's tiny trained model; every test talks to it over HTTP, as an OpenAI client would.
Sharing it is safe: no test changes the server's settings or model, metric checks compare
a scrape before and after their own requests, and log checks look up their own request ids.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from canaria.testing.running import RunningProcess, free_port, running
from tests.services.llm.served import TIMEOUT


@pytest.fixture(scope="package")
def server(
    llm_model_tag: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProcess]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("llm-serve") / "serve.log"
    command = ["bentoml", "serve", "services.llm.service:LLMService", "--host", "127.0.0.1"]
    with running(
        [*command, "--port", str(port)],
        log_path=log_path,
        port=port,
        ready_path="/readyz",
        env={"CANARIA_LLM_MODEL": llm_model_tag, "CANARIA_LLM_DEVICE": "cpu"},
        timeout=180,
    ) as process:
        yield process


@pytest.fixture(scope="package")
def client(server: RunningProcess) -> Iterator[httpx.Client]:
    """An HTTP client on ``server`` (``test_in_process.py`` has its own ``client``)."""
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as http:
        yield http
