"""Fixtures for every test directory: the settings read anew for every test, the hypothesis
profiles, headless Chromium, and the request database on SQLite and PostgreSQL.

tests/unit has its own conftest.py for what only its tests use (the store with a clock, the
cached encoder); the running stack is here, for tests/live and tests/browser alike. Helpers that
are plain functions or classes are in tests/support/.
"""

from __future__ import annotations

import shutil

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

import bot.core.settings as settings_module
from bot.core.paths import VAR_DIR
from bot.core.settings import load_settings
from bot.devtools.stack import Stack
from bot.storage.db import make_engine, upgrade
from bot.storage.models import Base
from tests.support import live
from tests.support.databases import (
    copy_sqlite,
    drop_postgres_database,
    postgres_database,
    sqlite_url,
)

# -- hypothesis: `full`, or `unit` with --hypothesis-profile=unit (tests/support/properties.py)

hypothesis_settings.register_profile("full", max_examples=100)
hypothesis_settings.register_profile("unit", max_examples=20)
hypothesis_settings.load_profile("full")


# -- the settings (bot.core.settings): read once per process, so once per test here ----------


@pytest.fixture(autouse=True)
def fresh_settings():
    """Each test starts from the settings as the environment and `.env` give them, and none
    leaves its own behind."""
    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


@pytest.fixture
def set_env(monkeypatch):
    """`set_env(NAME="value", OTHER=None)`: set (or, with None, unset) variables in this
    process's environment and reload the settings; undone after the test."""

    def set_env(**values):
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        load_settings.cache_clear()

    return set_env


@pytest.fixture
def no_env_file(monkeypatch, tmp_path):
    """The settings read no `.env`, whatever this machine's says: the environment and the
    defaults only. Returns the path they would read, for a test to write one there."""
    path = tmp_path / "settings.env"
    monkeypatch.setattr(settings_module, "ENV_FILE", path)
    load_settings.cache_clear()
    return path


@pytest.fixture
def default_rate_limits(set_env, no_env_file):
    """The built-in rate limits, whatever this machine's environment or .env says."""
    from bot.requests import ratelimit

    set_env(**{name: None for name in ratelimit.ENV_NAMES.values()})


# -- headless Chromium (tests/browser, and the browser tests of tests/live) --------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As root in a closed network: no sandbox, and none of Chromium's own calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.skip("Chromium is not installed (Debian package `chromium`; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


# -- the request database, on SQLite and (where it answers) PostgreSQL ------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """An empty request database migrated to head once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "requests.db"
    upgrade(sqlite_url(path))
    return path


@pytest.fixture
def migrated_sqlite(sqlite_template, tmp_path):
    """`migrated_sqlite("name.db")`: the URL of an empty, migrated SQLite request database of
    this test's own (in its tmp_path), as `upgrade()` would have made it, only faster."""

    def make(name: str = "requests.db") -> str:
        return copy_sqlite(sqlite_template, tmp_path / name)

    return make


@pytest.fixture(scope="session")
def postgres_url():
    admin, name, url = postgres_database()
    yield url
    drop_postgres_database(admin, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.db)])
def database_url(request, migrated_sqlite):
    """A migrated, empty request database of each kind. The PostgreSQL half is marked `db`
    (`make unit` leaves it out; it skips, saying why, where PostgreSQL does not answer)."""
    if request.param == "sqlite":
        yield migrated_sqlite()
        return
    url = request.getfixturevalue("postgres_url")
    upgrade(url)
    yield url
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


# -- the running stack (tests/live and tests/browser) ------------------------------------------


@pytest.fixture(scope="session")
def live_stack():
    """Rasa, the action server and the web app, answering on their ports.

    A stack that is already running (`make run` in another terminal) is used as it is and left
    running; otherwise one is started for the session and stopped at its end.
    """
    settings = load_settings()
    if not settings.rasa_api_token:
        pytest.skip("no RASA_API_TOKEN in .env: `make test` creates it (python -m bot env)")
    log_dir = VAR_DIR / "test-logs"
    for old in log_dir.glob("*.log"):
        old.unlink()
    # Debug logging on: the log-masking test reads what a full flow writes at its most verbose.
    stack = Stack(settings, echo=False, log_dir=log_dir, debug=True)
    stack.started_here = False
    if stack.all_healthy():
        yield stack
        return
    if not settings.model_path.exists():
        pytest.skip(f"no trained model at {settings.model_path}: `make test` trains it first")
    stack.start(timeout=300)
    stack.started_here = True
    live.session_stack = stack  # the soak stops it while it runs one that restarts what dies
    try:
        yield stack
    finally:
        live.session_stack = None
        stack.stop()
