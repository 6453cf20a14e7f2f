"""Which process is the one worker of a kind (the outbox sender, later the webhook sender), among
all the web app's processes on all machines sharing one request database.

Every web process runs the background loops, but only the holder of the kind's lock does their
work: fewer processes polling the same rows, and one place that sends. The lock lives with the
database, so it needs nothing besides it and frees itself when its holder dies:

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock(NAMESPACE, key of the name)`)
  on a connection the holder keeps open for nothing else. If the process dies, or its machine
  or network goes, the server ends the session (TCP keepalives on that session: about 25 s) and
  with it the lock; another process takes it at its next round. `pg_locks` shows the holder:
  `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 1448102987`, and
  `pg_stat_activity.application_name` says which kind it holds.
- SQLite (one machine): an exclusive, non-blocking `flock` on a file beside the database
  (`requests.db.outbox.lock`, 0600, holding the holder's pid and host); the kernel drops it when
  the holder's process ends.
- An in-memory SQLite database belongs to one process: that process is its worker.

`hold()` is asked each round and never raises: it keeps the lock (checking it is still held),
or tries to take it, and says whether this process is the worker now. It logs once when this
process becomes the worker, stops being it, or cannot reach the lock, never personal data.
Delivery keeps claiming each row with a conditional UPDATE and a lease as well: a lock lost in
the middle of a round (a network cut) cannot make a message go out twice.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import re
import socket
import threading
import zlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from bot.core.private_files import private_file
from bot.storage.db import POSTGRES_CONNECT_TIMEOUT, database_url

log = logging.getLogger(__name__)

# The first key of every worker lock (two-key form of the advisory lock functions): "VPLK". The
# application's other advisory locks use the one-key (bigint) form, a separate key space.
NAMESPACE = 0x56504C4B
# How long the server waits before it notices that a lock holder's machine or network is gone:
# keepalive probes after 10 s of silence, 5 s apart, 3 unanswered end the session.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 10, 5, 3
WORKER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def lock_key(name: str) -> int:
    """The second key of the worker `name`'s advisory lock: its CRC-32, as a signed int4."""
    crc = zlib.crc32(name.encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def _whoami() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


class WorkerLock(ABC):
    """The lock of one kind of worker, as one process sees it: held or not."""

    def __init__(self, name: str) -> None:
        if not WORKER_NAME.match(name):
            raise ValueError(f"not a worker name: {name!r}")
        self.name = name
        self.held = False
        self._waiting_logged = False
        self._failure: Optional[str] = None
        self._guard = threading.Lock()  # hold() runs in a thread; release() may come meanwhile

    def hold(self) -> bool:
        """Whether this process is the worker now: the lock kept (checked still held) or taken.
        Any failure counts as not holding it, and is logged once until the next success."""
        with self._guard:
            was = self.held
            try:
                self.held = self._still_held() if was else self._take()
            except Exception as error:  # noqa: BLE001 - an unreachable lock: not the worker
                self.held = False
                self._drop()
                kind = type(error).__name__
                if self._failure != kind:
                    self._failure = kind
                    log.warning(
                        "Cannot reach the %s worker lock (%s); this process does not send "
                        "until it can",
                        self.name,
                        kind,
                    )
            else:
                self._failure = None
            if self.held and not was:
                self._waiting_logged = False
                log.info("This process (%s) is now the %s worker", _whoami(), self.name)
            elif was and not self.held:
                self._drop()
                log.warning("This process (%s) is no longer the %s worker", _whoami(), self.name)
            elif not self.held and not self._waiting_logged and self._failure is None:
                self._waiting_logged = True
                log.info("Another process is the %s worker; this one stands by", self.name)
            return self.held

    def release(self) -> None:
        """Give the lock up (at shutdown), so another process takes it at its next round."""
        with self._guard:
            if self.held:
                log.info("This process (%s) stops being the %s worker", _whoami(), self.name)
            self.held = False
            self._drop()

    @abstractmethod
    def _take(self) -> bool:
        """Try once, without waiting; True when this process now holds the lock."""

    @abstractmethod
    def _still_held(self) -> bool:
        """Whether the lock taken earlier is still this process's."""

    @abstractmethod
    def _drop(self) -> None:
        """Let go of the lock and what held it; never raises."""


class AdvisoryWorkerLock(WorkerLock):
    """PostgreSQL: a session advisory lock on a connection of its own, outside any pool, in
    autocommit (no transaction left open beside it). A connection that fails is closed, never
    reconnected in place: a new session has to take the lock again."""

    def __init__(self, name: str, url: str) -> None:
        super().__init__(name)
        connect_args: Dict[str, Any] = {}
        parsed = make_url(url)
        if parsed.get_driver_name() == "psycopg2" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT
        self._engine = create_engine(
            url, future=True, poolclass=NullPool, hide_parameters=True, connect_args=connect_args
        )
        self._connection: Optional[Connection] = None
        self._keys = {"space": NAMESPACE, "key": lock_key(name)}

    def _take(self) -> bool:
        if self._connection is None:
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                for setting, value in (
                    ("application_name", f"videopro {self.name} worker"),
                    ("tcp_keepalives_idle", KEEPALIVE_IDLE),
                    ("tcp_keepalives_interval", KEEPALIVE_INTERVAL),
                    ("tcp_keepalives_count", KEEPALIVE_COUNT),
                    ("statement_timeout", "5s"),
                ):
                    connection.execute(
                        text("SELECT set_config(:setting, :value, false)"),
                        {"setting": setting, "value": str(value)},
                    )
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        taken = bool(
            self._connection.execute(
                text("SELECT pg_try_advisory_lock(:space, :key)"), self._keys
            ).scalar()
        )
        if not taken:
            self._drop()  # no idle session kept open per waiting process
        return taken

    def _still_held(self) -> bool:
        if self._connection is None:
            return False
        return bool(
            self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid::bigint = :space"
                    " AND objid::bigint = :key AND objsubid = 2"
                ),
                {"space": NAMESPACE, "key": self._keys["key"] % (1 << 32)},
            ).scalar()
        )

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()  # the session ends, and the lock with it
            except Exception:  # noqa: BLE001 - a broken connection is gone already
                pass

    def dispose(self) -> None:
        self.release()
        self._engine.dispose()


class FileWorkerLock(WorkerLock):
    """SQLite: `flock` on a file beside the database. The lock belongs to the open file, so two
    locks in one process exclude each other too, and it goes when the process does."""

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name)
        self.path = path
        self._fd: Optional[int] = None

    def _take(self) -> bool:
        private_file(self.path)
        fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{_whoami()}\n".encode(), 0)
        return True

    def _still_held(self) -> bool:
        """Held while the locked file is still the one at the path: a lock file deleted or
        replaced under the holder would let a second process lock a new one."""
        if self._fd is None:
            return False
        try:
            return os.fstat(self._fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    def _drop(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)  # the lock goes with the last descriptor of the open file
            except OSError:
                pass


class ProcessWorkerLock(WorkerLock):
    """An in-memory database: only this process sees it, so this process is its worker."""

    def _take(self) -> bool:
        return True

    def _still_held(self) -> bool:
        return True

    def _drop(self) -> None:
        pass


def worker_lock(name: str, url: Optional[str] = None) -> WorkerLock:
    """The lock of the worker `name` (e.g. "outbox") for the request database at `url` (else
    DATABASE_URL, else SQLite in var/)."""
    url = url or database_url()
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return AdvisoryWorkerLock(name, url)
    if backend == "sqlite":
        path = parsed.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return ProcessWorkerLock(name)
        return FileWorkerLock(name, Path(f"{path}.{name}.lock"))
    raise ValueError(f"no worker lock for {backend} databases (PostgreSQL or SQLite)")


async def work_while_holding(
    lock: WorkerLock, work: Callable[[], object], interval: float = 10.0
) -> None:
    """Every `interval` seconds, keep or take `lock` and, while this process holds it, run one
    round of `work` (in a thread: it may talk to the database and the network). A round that
    fails is logged and the next one tries again; neither a failed round nor an unreachable
    lock stops the loop, so the site keeps serving. When the loop is cancelled (shutdown) the
    lock is given up, and another process takes over at its next round."""
    try:
        while True:
            if await asyncio.to_thread(lock.hold):
                try:
                    await asyncio.to_thread(work)
                except Exception as error:  # noqa: BLE001 - keep serving; the next round retries
                    log.warning("The %s worker's round failed: %s", lock.name, type(error).__name__)
            await asyncio.sleep(interval)
    finally:
        lock.release()
