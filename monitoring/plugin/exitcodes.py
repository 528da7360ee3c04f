"""The plugin's documented exit codes, shared by every sub-command."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What ``kubectl canaria`` / ``canaria rollout`` exit with."""

    OK = 0  # healthy or promoted; the action was applied; lint found nothing
    DEGRADED = 1  # the rollout failed, was rolled back or aborted; lint found problems
    USAGE = 2  # a bad command line (argparse)
    TIMEOUT = 3  # --timeout (status) or the action wait ran out; nothing was undone
    ERROR = 4  # no cluster configuration, API or file error, rollout not found
    REFUSED = 5  # the action cannot apply in the rollout's phase; nothing was sent


EPILOG = "\n".join(
    [
        "exit codes:",
        "  0  healthy or promoted (status); action applied; lint clean",
        "  1  the rollout failed, was rolled back or aborted; lint found problems",
        "  2  bad command line",
        "  3  timed out (status --watch --timeout, or waiting for an action)",
        "  4  no cluster configuration, API or file error, rollout not found",
        "  5  the action cannot apply in the rollout's phase (nothing sent)",
    ]
)


class CliError(Exception):
    """A failure the plugin reports as one ``error: ...`` line and an exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.code = code
