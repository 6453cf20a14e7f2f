"""Conversations survive a restart of Rasa: a visitor half-way through a deletion request when
Rasa is killed carries on from the same question once the supervisor (`python -m bot run`) has
started it again, since the embedded tracker store keeps conversations in SQLite.

Runs the stack under `python -m bot run`, the supervisor that restarts what dies; a stack this
test session started for the other live tests (which restarts nothing) is stopped for it and
started again afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from bot.core.paths import ROOT
from bot.core.settings import load_settings
from bot.devtools import injection
from bot.devtools.stack import is_healthy
from tests.support import live

pytestmark = [pytest.mark.live, pytest.mark.slow]


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(1)
    return False


def test_a_form_half_way_carries_on_after_rasa_is_killed_and_restarted():
    settings = load_settings()
    if not settings.rasa_api_token:
        pytest.skip("no RASA_API_TOKEN in .env: `make test` creates it (python -m bot env)")
    if not settings.model_path.exists():
        pytest.skip(f"no trained model at {settings.model_path}: `make test` trains it first")
    rasa_ready = f"{settings.rasa_url}/status?token={settings.rasa_api_token}"
    own = live.session_stack
    if own is not None:
        own.stop()
    elif is_healthy(f"{settings.web_url}/health"):
        pytest.skip("a stack started elsewhere is running: its supervisor is not this test's")
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert _wait(
            lambda: is_healthy(rasa_ready) and is_healthy(f"{settings.web_url}/health"), 300
        )
        with httpx.Client(base_url=settings.web_url, timeout=60) as visitor:
            visitor.get("/")

            def say(text: str) -> str:
                reply = visitor.post("/api/chat", json={"message": text, "language": "en"})
                return " ".join(m.get("text", "") for m in reply.json().get("messages", []))

            assert "e-mail address" in say("please delete my account")
            assert "whole account" in say("restart.survivor@example.com")
            [rasa] = injection.pids_listening_on(settings.rasa_port)
            injection.kill([rasa])
            assert _wait(lambda: not is_healthy(rasa_ready), 30)
            assert _wait(lambda: is_healthy(rasa_ready), 300), "Rasa was not started again"
            # The same conversation, at the same question: the form goes on to the next one.
            assert "why" in say("the whole account").lower()
    finally:
        os.killpg(supervisor.pid, signal.SIGINT)
        supervisor.wait(timeout=60)
        if own is not None:
            own.start(timeout=300)
