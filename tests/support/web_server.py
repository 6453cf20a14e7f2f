"""The web app served in this process on a free port, for browser tests that need neither Rasa
nor a trained model: a uvicorn server in a thread, stopped when the block ends."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Tuple

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(app: Any, start_timeout: float = 15) -> Iterator[str]:
    """`with serving(app) as base:` the app answers at `base` (http://127.0.0.1:<port>)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def desk_site(
    database_url: str, secret: str, members: Iterable[Tuple[str, str, str]]
) -> Iterator[Tuple[str, Any]]:
    """`with desk_site(url, secret, [(name, role, password)]) as (base, services):` the web app
    over its own request database with these staff members, no Rasa behind it, served at
    `base`; the database's engine disposed of when the block ends."""
    from dataclasses import replace

    from bot.core.settings import load_settings
    from bot.requests.store import RequestStore
    from bot.services import Services
    from bot.storage.db import make_engine
    from bot.web.app import create_app

    services = Services(RequestStore(make_engine(database_url), secret=secret))
    for name, role, password in members:
        services.directory.add(name, role, password)
    app = create_app(
        replace(load_settings(), rasa_url="http://rasa.test"),
        services=services,
        session_secret=f"{secret}-session",
    )
    try:
        with serving(app) as base:
            yield base, services
    finally:
        services.store.engine.dispose()


def sign_in(opener: Any, base: str, username: str, password: str) -> Any:
    """A new page (of a Playwright browser or context: anything with `new_page`) signed in to
    the staff pages through the login form, on the page staff land on."""
    page = opener.new_page()
    page.goto(f"{base}/staff/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: "/staff/login" not in url)
    return page
