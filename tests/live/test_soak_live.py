"""A short soak from outside (`python -m bot soak`, what `make soak` runs for longer): three
visitors make requests through the web chat for 45 seconds while the action server is killed
once; nothing is lost or stored twice, the action server is back within 30 seconds, and the
visitors it caught half-way through a form carry on to their reference.

The soak runs the stack under `python -m bot run`, the supervisor that restarts what dies; a
stack this test session started for the other live tests (which restarts nothing) is stopped
for it and started again afterwards. A stack started elsewhere is used as it is.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.core.paths import ROOT
from bot.core.settings import load_settings
from tests.support import live

pytestmark = [pytest.mark.live, pytest.mark.slow]


def test_a_short_soak_with_the_action_server_killed_loses_nothing(tmp_path):
    settings = load_settings()
    if not settings.rasa_api_token:
        pytest.skip("no RASA_API_TOKEN in .env: `make test` creates it (python -m bot env)")
    if not settings.model_path.exists():
        pytest.skip(f"no trained model at {settings.model_path}: `make test` trains it first")
    figures_path = tmp_path / "soak.json"
    own = live.session_stack
    if own is not None:
        own.stop()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bot",
                "soak",
                *("--visitors", "3", "--seconds", "45", "--drain", "30"),
                *("--faults", "kill", "--json", str(figures_path)),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        if own is not None:
            own.start(timeout=300)
    said = done.stdout + done.stderr
    assert figures_path.exists(), said
    figures = json.loads(figures_path.read_text())
    assert figures["stopped_early"] is None, said
    assert figures["lost"] == 0 and figures["duplicates"] == 0, said
    assert figures["unresolved"] == 0 and figures["untold"] == 0, said
    assert figures["started"] >= 3 and figures["announced"] >= 3, said
    assert figures["stored"] == figures["started"], said  # one row for each request
    [kill] = figures["faults"]
    assert kill["kind"] == "kill" and not kill["skipped"], said
    assert kill["healthy_after"] is not None and kill["healthy_after"] <= 30, said
    assert kill["recovered_after"] is not None, said
    assert kill["carried_on"] == kill["under_way"], said  # those half-way carried on
    assert done.returncode == 0, said
