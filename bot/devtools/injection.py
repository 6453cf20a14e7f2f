"""Faults made from outside a running stack, as an operator's bad day would make them: the
process listening on a port killed or frozen, the request database locked by someone else.

Nothing here asks the supervisor anything: the process behind a port is found the way `ss -lp`
finds it (the listening socket's inode in /proc/net/tcp, then which process holds a descriptor
on that socket), so the soak works the same against a stack it started and one it found running.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any, Iterable, List, Optional, Set

from sqlalchemy.engine import Engine

from bot.storage.db import database_url, make_engine
from bot.storage.models import OutboxMessage, PrivacyRequest, RequestEvent, VerificationCode

LISTEN = "0A"  # TCP_LISTEN, as /proc/net/tcp writes a socket's state
PROC = Path("/proc")

# What storing a request writes (PostgreSQL locks tables; SQLite's lock is the whole file).
REQUEST_TABLES = tuple(
    model.__table__.name
    for model in (PrivacyRequest, RequestEvent, VerificationCode, OutboxMessage)
)


def listening_inodes(port: int, proc: Path = PROC) -> Set[str]:
    """The inodes of the sockets listening on `port`, on IPv4 or IPv6, any address."""
    inodes: Set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
            if len(fields) < 10 or fields[3] != LISTEN:
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def holders(inodes: Iterable[str], proc: Path = PROC) -> List[int]:
    """The processes with a descriptor on any of these sockets (a server's workers share its
    listening socket, so each of them is one)."""
    wanted = {f"socket:[{inode}]" for inode in inodes}
    found: List[int] = []
    if not wanted:
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            descriptors = list((entry / "fd").iterdir())
        except OSError:  # gone, or not ours to read
            continue
        for descriptor in descriptors:
            try:
                if os.readlink(descriptor) in wanted:
                    found.append(int(entry.name))
                    break
            except OSError:
                continue
    return sorted(found)


def pids_listening_on(port: int, proc: Path = PROC) -> List[int]:
    """Every process holding the socket that listens on `port`; empty when nothing listens."""
    return holders(listening_inodes(port, proc), proc)


def send(pids: Iterable[int], signum: int) -> List[int]:
    """`signum` to each process; returns those that were there to get it."""
    reached = []
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            continue
        reached.append(pid)
    return reached


def alive(pid: int) -> bool:
    """Still a process, and not a zombie waiting for its parent (which holds no port)."""
    try:
        state = (PROC / str(pid) / "stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def kill(pids: Iterable[int]) -> List[int]:
    return send(pids, signal.SIGKILL)


def freeze(pids: Iterable[int]) -> List[int]:
    """SIGSTOP: the process keeps its port and accepts connections, and answers none."""
    return send(pids, signal.SIGSTOP)


def thaw(pids: Iterable[int]) -> List[int]:
    return send(pids, signal.SIGCONT)


class DatabaseLock:
    """Someone else holding the request database: on SQLite a connection in BEGIN EXCLUSIVE
    (no other writer gets in; with WAL, readers still do), on PostgreSQL a transaction holding
    the request tables in ACCESS EXCLUSIVE mode (nobody reads or writes them). `acquire()` waits
    for writers already at work, as any locker would; `release()` rolls back, having changed
    nothing."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url or database_url()
        self.engine: Optional[Engine] = None
        self.connection: Any = None
        self._guard = threading.Lock()

    @property
    def sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def acquire(self) -> None:
        with self._guard:
            if self.connection is not None:
                return
            self.engine = make_engine(self.url)
            raw = self.engine.raw_connection()
            driver = raw.driver_connection
            try:
                if self.sqlite:
                    driver.isolation_level = None  # our BEGIN, not the driver's
                    driver.execute("BEGIN EXCLUSIVE")
                else:
                    with driver.cursor() as cursor:
                        cursor.execute(
                            f"LOCK TABLE {', '.join(REQUEST_TABLES)} IN ACCESS EXCLUSIVE MODE"
                        )
            except BaseException:
                raw.close()
                self.engine.dispose()
                self.engine = None
                raise
            self.connection = raw

    def release(self) -> None:
        with self._guard:
            raw, self.connection = self.connection, None
            if raw is None:
                return
            try:
                if self.sqlite:
                    raw.driver_connection.execute("ROLLBACK")
                else:
                    raw.driver_connection.rollback()
            finally:
                raw.close()
                if self.engine is not None:
                    self.engine.dispose()
                    self.engine = None

    @property
    def held(self) -> bool:
        return self.connection is not None

    def __enter__(self) -> DatabaseLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
