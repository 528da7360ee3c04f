"""Step 2: serve the trained models with ``bentoml serve``, each on a free loopback port.

Servers are all started first and then waited for, so their start-ups overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

from canaria.demo.results import ModelSummary
from canaria.demo.settings import DemoSettings
from canaria.demo.stack import Process, Stack
from canaria.testing.processes import VENV_BIN, free_port

CLASSIC_SERVICE = "services.classic.service:ClassicService"
LLM_SERVICE = "services.llm.service:LLMService"
CLASSIC_MODEL_ENV = "CANARIA_CLASSIC_MODEL_TAG"
LLM_MODEL_ENV = "CANARIA_LLM_MODEL"
READY_PATH = "/readyz"


@dataclass(frozen=True)
class Servers:
    """The running model servers, by the role of the model each one serves."""

    stable: Process
    candidate: Process
    drifted: Process
    llm: Process


def serve_args(service: str, port: int) -> list[str]:
    """The ``bentoml serve`` command line for ``service`` on loopback (pure)."""
    return [
        str(VENV_BIN / "bentoml"),
        "serve",
        service,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def server_env(settings: DemoSettings, model_env: str, tag: str) -> dict[str, str]:
    """What a server needs: the demo's store, the model to serve, no telemetry (pure)."""
    return {
        "BENTOML_HOME": str(settings.bentoml_home),
        "BENTOML_DO_NOT_TRACK": "true",
        model_env: tag,
    }


def start_servers(
    stack: Stack,
    settings: DemoSettings,
    *,
    stable: ModelSummary,
    candidate: ModelSummary,
    drifted: ModelSummary,
    llm: ModelSummary,
) -> Servers:
    """Start the three classic servers and the LLM server; return once all are ready."""

    def start(name: str, service: str, model_env: str, tag: str) -> Process:
        port = free_port()
        return stack.start(
            name,
            serve_args(service, port),
            port=port,
            env=server_env(settings, model_env, tag),
        )

    servers = Servers(
        stable=start("classic-stable", CLASSIC_SERVICE, CLASSIC_MODEL_ENV, stable.tag),
        candidate=start("classic-candidate", CLASSIC_SERVICE, CLASSIC_MODEL_ENV, candidate.tag),
        drifted=start("classic-drifted", CLASSIC_SERVICE, CLASSIC_MODEL_ENV, drifted.tag),
        llm=start("llm", LLM_SERVICE, LLM_MODEL_ENV, llm.tag),
    )
    for process in (servers.stable, servers.candidate, servers.drifted, servers.llm):
        stack.wait_ready(process, READY_PATH, timeout=settings.startup_timeout)
    return servers
