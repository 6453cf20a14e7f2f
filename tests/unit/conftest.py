"""Fixtures of tests/unit: the request store with a clock the test sets, the action server's
services built on a test's store, the encoder that keeps what it encoded, and (for every test)
a conversations file of its own. Nothing here needs a server, a trained model or a browser."""

from __future__ import annotations

import uuid

import pytest

from bot.requests.store import RequestStore
from bot.storage.db import make_engine
from tests.support import Clock


@pytest.fixture(autouse=True)
def conversations_elsewhere(monkeypatch, tmp_path_factory):
    """The embedded tracker store's file (CONVERSATIONS_DB) is one of this test's own, in a
    temporary folder (made only if something writes it): no test writes to, purges or erases
    from the repository's var/conversations.db, or sees another test's conversations."""
    folder = tmp_path_factory.getbasetemp() / "conversations"
    monkeypatch.setenv("CONVERSATIONS_DB", str(folder / f"{uuid.uuid4().hex}.db"))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(database_url, clock):
    """Overridden by modules that need the store wired differently."""
    store = RequestStore(
        make_engine(database_url), secret="test-secret", working_days=15, clock=clock
    )
    yield store
    store.engine.dispose()


@pytest.fixture
def served():
    """`served(store)`: the actions work on services built on the test's store (bot.services,
    installed in actions.store_access), and get them back afterwards; it returns the services,
    for a test to put a stand-in for one of them (`services.directory = ...`). (Imported here,
    not at the top: importing `actions` installs the log masking.)"""
    from actions import store_access
    from bot.services import Services

    def serve(store):
        services = Services(store)
        store_access.install(services)
        return services

    yield serve
    store_access.install(None)


@pytest.fixture(scope="session")
def session_encoder():
    import bot.nlu.encoder as encoder_module
    from tests.support.encoders import CachingEncoder

    return CachingEncoder(encoder_module.load_encoder())


@pytest.fixture
def cached_encoder(session_encoder, monkeypatch):
    """`load_encoder()` gives the session's caching encoder (tests/support/encoders.py) to the
    code under test: the Rasa components and calibration. (Imported here, not at the top: Rasa
    takes seconds to import, and only the tests that ask for this need it.)"""
    import bot.nlu.encoder as encoder_module
    import bot.rasa.components as components_module

    monkeypatch.setattr(encoder_module, "load_encoder", lambda: session_encoder)
    monkeypatch.setattr(components_module, "load_encoder", lambda: session_encoder)
    return session_encoder


GAP_LOG_SECRET = "test-app-secret"


@pytest.fixture
def gap_log(migrated_sqlite, served, set_env):
    """Unanswered questions go to a database of the test's own, never the default one; the
    policy actions sign their answers with GAP_LOG_SECRET."""
    engine = make_engine(migrated_sqlite())
    served(RequestStore(engine, secret=GAP_LOG_SECRET))
    set_env(APP_SECRET=GAP_LOG_SECRET)
    yield engine
    engine.dispose()


@pytest.fixture
def failed_login_delays(monkeypatch):
    """The delay each failed login costs, recorded instead of waited (five cost 5.75 s).
    Modules that log staff in use it for every test (`pytestmark`): none waits for it."""
    from types import SimpleNamespace

    from bot.web.staff import auth as staff_auth

    delays = []

    async def sleep(seconds):
        delays.append(seconds)

    monkeypatch.setattr(staff_auth, "asyncio", SimpleNamespace(sleep=sleep))
    return delays
