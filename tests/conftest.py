"""Shared fixtures: the live stack (started once per test session, or found running)."""

from __future__ import annotations

import pytest

from bot.paths import VAR_DIR
from bot.settings import load_settings
from bot.stack import Stack


@pytest.fixture(scope="session")
def live_stack():
    """Rasa, the action server and the web app, answering on their ports.

    A stack that is already running (`make run` in another terminal) is used as it is and left
    running; otherwise one is started for the session and stopped at its end.
    """
    settings = load_settings()
    if not settings.rasa_api_token:
        pytest.skip("no RASA_API_TOKEN in .env: `make test` creates it (python -m bot env)")
    stack = Stack(settings, echo=False, log_dir=VAR_DIR / "test-logs")
    if stack.all_healthy():
        yield stack
        return
    if not settings.model_path.exists():
        pytest.skip(f"no trained model at {settings.model_path}: `make test` trains it first")
    stack.start(timeout=300)
    try:
        yield stack
    finally:
        stack.stop()
