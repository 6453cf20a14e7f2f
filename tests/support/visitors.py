"""Visitors of the web app in tests: a test client that holds the conversation cookie the app
would have issued for a conversation id the test chose (answer ratings are signed for it), or
the cookie read back from a client."""

from __future__ import annotations

import time
from typing import Any, Optional

from starlette.requests import Request

from bot.core.session_expiry import conversation_idle_expiry
from bot.web.visitor import COOKIE, Conversations


def conversation_cookie(conversation_id: str, secret: str, age_seconds: float = 0) -> str:
    """The cookie's value for `conversation_id` under the app's `secret` (its session secret),
    as if last renewed `age_seconds` ago."""
    signed_at = time.time() - age_seconds
    return Conversations(secret, conversation_idle_expiry(), clock=lambda: signed_at).sign(
        conversation_id
    )


def cookie_domain(client: Any) -> str:
    """The domain the cookie jar files the app's cookies under (a host without a dot gets
    `.local`), so that a cookie set here is the one the app's answers replace."""
    host = str(client.base_url.host)
    return host if "." in host else host + ".local"


def holding(client: Any, conversation_id: str, secret: str, age_seconds: float = 0) -> Any:
    """`client`, holding the cookie of `conversation_id`."""
    client.cookies.set(
        COOKIE,
        conversation_cookie(conversation_id, secret, age_seconds),
        domain=cookie_domain(client),
    )
    return client


def conversation_of(client: Any, secret: str) -> Optional[str]:
    """The conversation id a client's cookie holds (None without a valid one)."""
    value = client.cookies.get(COOKIE)
    if not value:
        return None
    scope = {"type": "http", "headers": [(b"cookie", f"{COOKIE}={value}".encode())]}
    return Conversations(secret, conversation_idle_expiry()).of(Request(scope))
