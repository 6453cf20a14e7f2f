"""Shared fixtures: the settings read anew for every test, the live stack (started once per test
session, or found running), headless Chromium, and the request database on SQLite and
PostgreSQL."""

from __future__ import annotations

import shutil

import pytest

import bot.core.settings as settings_module
from bot.core.paths import VAR_DIR
from bot.core.settings import load_settings
from bot.devtools.stack import Stack


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


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As root in a closed network: no sandbox, and none of Chromium's own calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.skip("Chromium is not installed (Debian package `chromium`; .ci/run installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


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
    try:
        yield stack
    finally:
        stack.stop()


# -- the request database, on SQLite and (where it answers) PostgreSQL ------------------------

import os  # noqa: E402
import uuid  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

from bot.storage.db import make_engine, upgrade  # noqa: E402
from bot.storage.models import Base  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_database():
    """A fresh PostgreSQL database for this test session, or a skip saying why not."""
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as connection:
            name = f"privacy_test_{uuid.uuid4().hex[:8]}"
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means: no usable server here
        pytest.skip(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not available: {error.__class__.__name__}")
    return admin, name, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def postgres_url():
    admin, name, url = _postgres_database()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A migrated, empty request database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'requests.db'}"
        upgrade(url)
        yield url
        return
    url = request.getfixturevalue("postgres_url")
    upgrade(url)
    yield url
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


# -- the request store with a clock the test sets -----------------------------------------------

from bot.requests.store import RequestStore  # noqa: E402
from tests.helpers import Clock  # noqa: E402


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(database_url, clock):
    """Overridden by modules that need the store wired differently."""
    store = RequestStore(make_engine(database_url), secret="test-secret", working_days=15,
                         clock=clock)
    yield store
    store.engine.dispose()


@pytest.fixture
def default_rate_limits(set_env, no_env_file):
    """The built-in rate limits, whatever this machine's environment or .env says."""
    from bot.requests import ratelimit
    set_env(**{name: None for name in ratelimit.ENV_NAMES.values()})
