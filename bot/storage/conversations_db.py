"""Where the embedded stack keeps its conversations: Rasa's `events` table in one SQLite file.

Rasa writes it (bot.rasa.tracker_store.BoundedSQLTrackerStore, named in endpoints.yml), and
`python -m bot purge` and the erasure of a deletion request delete from it
(bot.retention.trackers), at times at the same moment. Both find the file with
`conversations_db` (`db` in endpoints.yml, else CONVERSATIONS_DB; a relative path is taken from
the project's root, so that Rasa and the command line agree whatever their working directory)
and open it with `sqlite_engine`.

Why the engine is made here and not left to Rasa: SQLAlchemy 1.4 gives a file SQLite database a
NullPool, so every statement opened the file and read its schema again (3.4 ms a message, against
1.3 ms pooled). WAL lets the command line read while Rasa writes, and with it synchronous=NORMAL
syncs the file at checkpoints instead of at every commit (a power cut may lose the last
messages, never the file); busy_timeout makes each side wait for the other's write instead of
failing with "database is locked".

The file holds what visitors typed: it is created 0600 (its folder 0700) before SQLite opens it,
and SQLite gives its -wal and -shm files the file's mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import QueuePool

from bot.core.paths import ROOT
from bot.core.private_files import private_file, restrict
from bot.core.settings import Settings, load_settings

# How long a statement waits for the other side's write (Rasa's, or the purge's) to finish.
BUSY_TIMEOUT_MS = 5000
JOURNALS = ("-wal", "-shm", "-journal")


def conversations_db(
    db: Optional[Union[str, Path]] = None, settings: Optional[Settings] = None
) -> Path:
    """The conversations' SQLite file: `db` (endpoints.yml's) when given, else the setting
    CONVERSATIONS_DB; a relative path is taken from the project's root."""
    path = Path(db if db else (settings or load_settings()).conversations_db).expanduser()
    return path if path.is_absolute() else ROOT / path


def private_database(path: Path) -> Path:
    """`path` created empty, 0600 in a 0700 folder, when missing, so that SQLite writes into a
    file no one else reads; what an older version left readable (journals too) is tightened."""
    private_file(path)
    for journal in JOURNALS:
        restrict(Path(f"{path}{journal}"))
    return path


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def sqlite_file(url: Union[str, URL]) -> Optional[Path]:
    """The file of a SQLite database URL; None for another database or one in memory."""
    parsed = make_url(url)
    database = parsed.database
    if not parsed.get_backend_name() == "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def sqlite_engine(path: Path, future: bool = True) -> Engine:
    """An engine on the SQLite file `path` that keeps its connections (QueuePool), in WAL mode
    and waiting for a concurrent write. It does not create the file: `private_database` does.
    Statements' values stay out of error messages (they are what visitors typed)."""
    engine = create_engine(
        sqlite_url(path),
        future=future,
        poolclass=QueuePool,
        hide_parameters=True,
        # Rasa calls the store from its event loop's thread; the pool may hand a connection
        # opened in another (the first one, made while Rasa loads) to it.
        connect_args={"check_same_thread": False},
    )
    event.listen(engine, "connect", _pragmas)
    return engine
