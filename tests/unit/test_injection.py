"""The soak's faults made from outside: the process behind a listening port, found through /proc
(against sockets and processes the test makes itself), stopped, resumed and killed; the request
database locked against writers and released, on SQLite and on PostgreSQL."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from bot.devtools import injection
from bot.devtools.injection import DatabaseLock, listening_inodes, pids_listening_on

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc")


def test_the_process_listening_on_a_port_is_found_by_its_socket():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        assert pids_listening_on(port) == []  # bound, not listening yet
        server.listen()
        assert pids_listening_on(port) == [injection.os.getpid()]
        with socket.create_connection(("127.0.0.1", port)):  # a client's socket is no listener
            assert pids_listening_on(port) == [injection.os.getpid()]
    assert pids_listening_on(port) == []


def test_a_child_that_holds_the_listening_socket_is_found_too():
    """A server's worker processes share its socket: each of them is behind the port."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(30)"], pass_fds=[server.fileno()]
        )
        try:
            deadline = time.monotonic() + 10
            while len(pids_listening_on(port)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert pids_listening_on(port) == sorted([injection.os.getpid(), child.pid])
        finally:
            child.kill()
            child.wait()


def test_the_proc_tables_are_read_for_listeners_on_the_port_only(tmp_path):
    net = tmp_path / "net"
    net.mkdir()
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"  # noqa: E501
    (net / "tcp").write_text(
        header
        + "   0: 0100007F:158F 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 111 1\n"
        + "   1: 0100007F:158F 0100007F:9C40 01 00000000:00000000 00:00000000 00000000 0 0 222 1\n"
        + "   2: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 333 1\n"
    )
    (net / "tcp6").write_text(
        header
        + "   0: 00000000000000000000000000000000:158F 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000 0 0 444 1\n"
    )
    assert listening_inodes(5519, tmp_path) == {"111", "444"}  # 0x158F
    assert listening_inodes(8000, tmp_path) == {"333"}
    assert listening_inodes(5005, tmp_path) == set()


def state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_a_process_is_frozen_thawed_and_killed():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert injection.freeze([child.pid]) == [child.pid]
        deadline = time.monotonic() + 5
        while state(child.pid) != "T" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert state(child.pid) == "T" and injection.alive(child.pid)
        injection.thaw([child.pid])
        deadline = time.monotonic() + 5
        while state(child.pid) == "T" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert state(child.pid) in ("S", "R")
        assert injection.kill([child.pid]) == [child.pid]
        assert child.wait(timeout=5) == -9
        assert not injection.alive(child.pid)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert injection.kill([child.pid]) == []  # gone: nothing to reach


def write(url: str, value: str, timeout: float = 0.2) -> None:
    """A writer that gives up after `timeout` seconds, as the action server would after its
    own busy timeout."""
    connection = sqlite3.connect(make_url(url).database, timeout=timeout)
    try:
        connection.execute(
            "INSERT INTO outbox (to_address, subject, body, status, attempts, created_at, "
            "next_attempt_at) VALUES (?, 's', 'b', 'queued', 0, '2026-01-01', '2026-01-01')",
            (value,),
        )
        connection.commit()
    finally:
        connection.close()


def count(url: str) -> int:
    connection = sqlite3.connect(make_url(url).database)
    try:
        return connection.execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        connection.close()


def test_a_locked_sqlite_database_refuses_writers_until_released(migrated_sqlite):
    url = migrated_sqlite()
    write(url, "before@example.com")
    lock = DatabaseLock(url)
    with lock:
        assert lock.held
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            write(url, "during@example.com")
        assert count(url) == 1  # readers still read (WAL)
    assert not lock.held
    write(url, "after@example.com")
    assert count(url) == 2
    lock.release()  # a second release changes nothing


@pytest.mark.db
def test_a_locked_postgres_database_refuses_readers_and_writers_until_released(postgres_url):
    from bot.storage.db import upgrade

    upgrade(postgres_url)
    other = psycopg2.connect(postgres_url)
    try:
        with DatabaseLock(postgres_url), other.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                cursor.execute("SELECT count(*) FROM privacy_requests")
            other.rollback()
        with other.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
            cursor.execute("SELECT count(*) FROM privacy_requests")
            assert cursor.fetchone() == (0,)
    finally:
        other.close()
