"""Step 2: serve the trained models with ``bentoml serve``, each on a free loopback port.

Servers are all started first and then waited for, so their start-ups overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from canaria.demo.results import ModelSummary
from canaria.demo.settings import DemoSettings
from canaria.demo.stack import Process, Stack
from canaria.testing.processes import VENV_BIN, free_port

CLASSIC_SERVICE = "services.classic.service:ClassicService"
LLM_SERVICE = "services.llm.service:LLMService"
CLASSIC_MODEL_ENV = "CANARIA_CLASSIC_MODEL_TAG"
LLM_MODEL_ENV = "CANARIA_LLM_MODEL"
SAMPLE_LOG_ENV = "CANARIA_SAMPLE_LOG"
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


def start_classic(
    stack: Stack, settings: DemoSettings, *, name: str, tag: str, sample_log: Path | None = None
) -> Process:
    """``bentoml serve`` of the classifier ``tag`` (not waited for); with ``sample_log``,
    every scored record is appended there (``CANARIA_SAMPLE_LOG``, for the drift monitor)."""
    port = free_port()
    env = server_env(settings, CLASSIC_MODEL_ENV, tag)
    if sample_log is not None:
        sample_log.parent.mkdir(parents=True, exist_ok=True)
        env[SAMPLE_LOG_ENV] = str(sample_log)
    return stack.start(name, serve_args(CLASSIC_SERVICE, port), port=port, env=env)


def start_servers(
    stack: Stack,
    settings: DemoSettings,
    *,
    stable: ModelSummary,
    candidate: ModelSummary,
    drifted: ModelSummary,
    llm: ModelSummary,
) -> Servers:
    """Start the three classic servers and the LLM server; return once all are ready.
    The stable logs its inputs to ``settings.stable_sample_log`` (rollout 4 reads them)."""

    def start(name: str, service: str, model_env: str, tag: str) -> Process:
        port = free_port()
        return stack.start(
            name,
            serve_args(service, port),
            port=port,
            env=server_env(settings, model_env, tag),
        )

    servers = Servers(
        stable=start_classic(
            stack,
            settings,
            name="classic-stable",
            tag=stable.tag,
            sample_log=settings.stable_sample_log,
        ),
        candidate=start("classic-candidate", CLASSIC_SERVICE, CLASSIC_MODEL_ENV, candidate.tag),
        drifted=start("classic-drifted", CLASSIC_SERVICE, CLASSIC_MODEL_ENV, drifted.tag),
        llm=start("llm", LLM_SERVICE, LLM_MODEL_ENV, llm.tag),
    )
    for process in (servers.stable, servers.candidate, servers.drifted, servers.llm):
        stack.wait_ready(process, READY_PATH, timeout=settings.startup_timeout)
    return servers
