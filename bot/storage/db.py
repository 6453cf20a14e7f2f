"""The request database: SQLite in `var/` by default, PostgreSQL through `DATABASE_URL`.

A SQLite database holds e-mail addresses, transcripts and the outbox's codes: its file is
created 0600 (and its folder 0700) before SQLite opens it, whoever opens it first; SQLite gives
its `-wal` and `-shm` files the database file's mode.

Its tables never share a name with Rasa's SQL tracker store (`events`), so both may live in one
PostgreSQL database. The schema is made by Alembic migrations (`migrations/`), never by
`create_all`, so that a database in production changes only through a reviewed migration.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, List, Optional

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.core.paths import ROOT, VAR_DIR
from bot.core.private_files import private_file, restrict
from bot.core.settings import load_settings

DEFAULT_URL = f"sqlite:///{VAR_DIR / 'requests.db'}"
# Seconds to wait for PostgreSQL to answer a new connection (unless the URL sets
# `connect_timeout`): libpq would wait forever for a hung or firewalled host, and the chat with it.
POSTGRES_CONNECT_TIMEOUT = 10
# A database error's message names the SQL it failed on and, by default, the values it was
# given: an e-mail's body with a live verification code, an address, a transcript. The message
# is logged (a failed action's traceback, a failed save), so the values are left out of it.
HIDE_PARAMETERS = True


def database_url() -> str:
    """DATABASE_URL (bot.core.settings), else SQLite in var/."""
    return load_settings().database_url or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the one writer
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: Optional[str] = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            try:
                private_file(Path(path))
            except OSError:
                pass  # not a file one can create (a folder, read-only): SQLite's error, on use
            for journal in ("-wal", "-shm", "-journal"):
                restrict(Path(path + journal))
        engine = create_engine(
            url,
            future=True,
            hide_parameters=HIDE_PARAMETERS,
            connect_args={"check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {}
    parsed = make_url(url)
    if parsed.get_driver_name() == "psycopg2" and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT
    return create_engine(
        url,
        future=True,
        pool_pre_ping=True,
        hide_parameters=HIDE_PARAMETERS,
        connect_args=connect_args,
    )


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` when it does not exist yet."""
    if not url.startswith("postgresql"):
        return
    target = make_url(url)
    admin = create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True
    )
    try:
        with admin.connect() as connection:
            exists = connection.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)
            ).first()
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    finally:
        admin.dispose()


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker) -> Iterator[Session]:
    """One unit of work: committed whole, or rolled back whole."""
    session: Session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def in_conversation(factory: sessionmaker, name: Any, conversation_id: Optional[str]) -> List[Any]:
    """`name` (a column: a request's reference, a ticket's number) of each row made in a
    conversation, oldest first: how staff pages name a conversation (never by its id, which is
    the visitor's key to it)."""
    if not conversation_id:
        return []
    table = name.class_
    with transaction(factory) as session:
        return list(
            session.execute(
                select(name).where(table.conversation_id == conversation_id).order_by(table.id)
            ).scalars()
        )


def upgrade(url: Optional[str] = None, revision: str = "head") -> None:
    """Apply the migrations to the database at `url` (what `make run` and the tests do)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    command.upgrade(config, revision)
