"""What the tests of the running stack (tests/live) share: the verification code a flow sent,
the scaled stacks' prerequisites and clean-up, and the stack this test session started."""

from __future__ import annotations

import re
import socket
from typing import Optional

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from bot.core.settings import load_settings
from bot.devtools.stack import Stack
from bot.storage.db import transaction
from bot.storage.models import OutboxMessage

# The stack the `live_stack` fixture started for this session (None: none, or one that was
# already running, which is not the session's to stop).
session_stack: Optional[Stack] = None


def latest_code(sessions, email: str) -> str:
    with transaction(sessions) as session:
        bodies = [
            m.body
            for m in session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.to_address == email)
                .order_by(OutboxMessage.id)
            ).scalars()
        ]
    # The e-mail is in the conversation's language: "code is 123456", "验证码是 123456".
    found = (re.search(r"(?:code is|验证码是) (\d{6})", body) for body in bodies)
    codes = [m.group(1) for m in found if m]
    assert codes, f"no verification code in the outbox for {email}"
    return codes[-1]


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def scaled_settings():
    """The settings for a scaled stack of a test's own, or a skip saying what is missing."""
    if not answers("127.0.0.1", 5432):
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432 (.ci/run starts it)")
    if not answers("127.0.0.1", 6379):
        pytest.skip("Redis does not answer on 127.0.0.1:6379 (.ci/run starts it)")
    settings = load_settings()
    if not settings.model_path.exists() or not settings.rasa_api_token:
        pytest.skip("no trained model or .env: `make test` makes both first")
    return settings


def drop_databases(*names: str) -> None:
    admin = create_engine(
        "postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT", future=True
    )
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def httpx_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
