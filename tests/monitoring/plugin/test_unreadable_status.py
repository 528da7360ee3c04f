"""A status the plugin cannot read is one clear error naming the rollout and the field;
a status not written yet shows as ``-`` and keeps ``status --watch`` waiting."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.api.status import Phase
from monitoring.plugin.exitcodes import CliError, ExitCode
from monitoring.plugin.live import change_line
from monitoring.plugin.render import format_details, format_list, format_summary
from monitoring.plugin.watch import phase_exit, phase_of

BAD = {"metadata": {"name": "churn"}, "status": {"phase": "Verifying"}}


@pytest.mark.parametrize("show", [format_details, change_line, lambda o: format_list([o])])
def test_an_unreadable_status_names_the_rollout_and_the_field(show: Any) -> None:
    with pytest.raises(CliError) as caught:
        show(BAD)
    assert caught.value.code is ExitCode.ERROR
    assert str(caught.value).startswith("ModelRollout churn: unreadable status.phase='Verifying'")


def test_no_status_yet_shows_dashes_and_is_not_final() -> None:
    obj = {"metadata": {"name": "churn"}}
    assert phase_of(obj) is None and phase_exit(phase_of(obj)) is None
    assert format_summary([obj]).splitlines()[1].split()[:3] == ["churn", "-", "0%"]
    assert change_line(obj) == "churn: - canary 0% step 0/?: "
    assert phase_exit(phase_of({"status": {"phase": "Idle"}})) is ExitCode.OK
    assert phase_exit(Phase.ABORTED) is ExitCode.DEGRADED
