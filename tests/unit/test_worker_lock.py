"""One outbox worker at a time: the worker lock (bot.storage.worker_lock) on SQLite (a file lock,
between processes as within one) and on PostgreSQL (an advisory lock; those tests are marked
`db`), how it passes on when its holder goes, and the outbox loop sending only while it holds it
(bot.mail.worker). The holders that die are real processes, killed with SIGKILL."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, List

import pytest
from sqlalchemy import create_engine, text

from bot.core.paths import ROOT
from bot.mail.outbox import enqueue, list_messages
from bot.mail.smtp import SmtpSettings
from bot.mail.worker import OUTBOX_WORKER, deliver_outbox_forever
from bot.storage.db import make_engine, session_factory, transaction
from bot.storage.worker_lock import (
    NAMESPACE,
    AdvisoryWorkerLock,
    FileWorkerLock,
    ProcessWorkerLock,
    WorkerLock,
    lock_key,
    worker_lock,
)
from tests.support.stores import closed_port

SMTP = SmtpSettings(host="127.0.0.1", port=1, sender="privacy@videopro.example")

HOLDER = """
import sys
from bot.storage.worker_lock import worker_lock
lock = worker_lock(sys.argv[1], sys.argv[2])
print("held" if lock.hold() else "waiting", flush=True)
sys.stdin.read()  # until the test closes stdin or kills this process
"""


@pytest.fixture
def holder_process() -> Iterator:
    """`start(name, url)`: a process that takes the worker lock `name` of the database at
    `url` and keeps it until killed; returns (process, what it said: "held" or "waiting")."""
    started: List[subprocess.Popen] = []

    def start(name: str, url: str):
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, name, url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        assert process.stdout is not None
        return process, process.stdout.readline().strip()

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def eventually(check, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


# -- which lock for which database -------------------------------------------------------------


def test_each_database_gets_its_kind_of_lock(tmp_path):
    file_lock = worker_lock("outbox", f"sqlite:///{tmp_path}/requests.db")
    assert isinstance(file_lock, FileWorkerLock)
    assert file_lock.path == tmp_path / "requests.db.outbox.lock"  # beside the database
    assert isinstance(worker_lock("outbox", "sqlite://"), ProcessWorkerLock)
    assert isinstance(worker_lock("outbox", "sqlite:///:memory:"), ProcessWorkerLock)
    advisory = worker_lock("outbox", "postgresql://postgres@127.0.0.1:1/none")  # no connection yet
    assert isinstance(advisory, AdvisoryWorkerLock)
    with pytest.raises(ValueError):
        worker_lock("outbox", "mysql://u@h/db")


def test_worker_names_are_short_plain_words(tmp_path):
    assert worker_lock("webhooks", f"sqlite:///{tmp_path}/r.db").name == "webhooks"
    for bad in ("", "Outbox", "../x", "a b", "x" * 40):
        with pytest.raises(ValueError):
            worker_lock(bad, f"sqlite:///{tmp_path}/r.db")


def test_each_kind_of_worker_has_its_own_advisory_key():
    keys = {lock_key(name) for name in ("outbox", "webhooks", "retention")}
    assert len(keys) == 3
    assert all(-(2**31) <= key < 2**31 for key in keys)  # the int4 of pg_try_advisory_lock
    assert NAMESPACE == 1448102987  # the number docs/deployment.md finds the worker by


def test_an_in_memory_database_has_its_one_process_as_worker():
    lock = worker_lock("outbox", "sqlite://")
    assert lock.hold() and lock.hold()


# -- SQLite: a file lock -----------------------------------------------------------------------


def test_two_holders_in_one_process_exclude_each_other(tmp_path):
    url = f"sqlite:///{tmp_path}/requests.db"
    first, second = worker_lock("outbox", url), worker_lock("outbox", url)
    assert first.hold()
    assert not second.hold()
    assert first.hold()  # kept, round after round
    assert not second.hold()
    first.release()
    assert second.hold()
    assert not first.hold()


def test_kinds_of_worker_lock_separately(tmp_path):
    url = f"sqlite:///{tmp_path}/requests.db"
    assert worker_lock("outbox", url).hold()
    assert worker_lock("webhooks", url).hold()


def test_the_lock_file_is_private_and_names_its_holder(tmp_path):
    lock = worker_lock("outbox", f"sqlite:///{tmp_path}/var/requests.db")
    assert isinstance(lock, FileWorkerLock)
    assert lock.hold()
    assert stat.S_IMODE(lock.path.stat().st_mode) == 0o600
    assert lock.path.read_text() == f"pid {os.getpid()} on {os.uname().nodename}\n"


def test_a_process_holding_the_file_lock_keeps_others_out_until_it_dies(tmp_path, holder_process):
    url = f"sqlite:///{tmp_path}/requests.db"
    process, said = holder_process("outbox", url)
    assert said == "held"
    mine = worker_lock("outbox", url)
    assert not mine.hold()
    assert not mine.hold()
    kill(process)  # SIGKILL: no chance to release anything
    assert mine.hold()  # the next round takes over
    _, said = holder_process("outbox", url)
    assert said == "waiting"  # and keeps it against a newcomer


def test_a_lock_file_removed_under_its_holder_is_no_longer_held(tmp_path):
    """Otherwise a second process could lock the new file and both would send."""
    url = f"sqlite:///{tmp_path}/requests.db"
    first = worker_lock("outbox", url)
    assert first.hold()
    assert isinstance(first, FileWorkerLock)
    first.path.unlink()
    second = worker_lock("outbox", url)
    assert second.hold()
    assert not first.hold()


def test_a_lock_that_cannot_be_reached_counts_as_not_held_and_is_logged_once(tmp_path, caplog):
    (tmp_path / "blocker").write_text("a file, not a folder")
    lock = worker_lock("outbox", f"sqlite:///{tmp_path}/blocker/requests.db")
    with caplog.at_level(logging.INFO, logger="bot.storage.worker_lock"):
        assert not lock.hold()
        assert not lock.hold()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "Cannot reach the outbox worker lock (FileExistsError); this process does not send "
        "until it can"  # the folder of the lock file cannot be made
    ]


def test_becoming_and_stopping_being_the_worker_are_logged_once(tmp_path, caplog):
    url = f"sqlite:///{tmp_path}/requests.db"
    first, second = worker_lock("outbox", url), worker_lock("outbox", url)
    me = f"pid {os.getpid()} on {os.uname().nodename}"
    with caplog.at_level(logging.INFO, logger="bot.storage.worker_lock"):
        for _ in range(3):
            first.hold()
            second.hold()
        assert isinstance(first, FileWorkerLock)
        first.path.unlink()  # first loses it at its next round; second takes a new file
        for _ in range(3):
            first.hold()
            second.hold()
    assert [r.getMessage() for r in caplog.records] == [
        f"This process ({me}) is now the outbox worker",
        "Another process is the outbox worker; this one stands by",
        f"This process ({me}) is no longer the outbox worker",
        f"This process ({me}) is now the outbox worker",
        "Another process is the outbox worker; this one stands by",
    ]


# -- PostgreSQL: an advisory lock --------------------------------------------------------------


def test_an_unreachable_postgresql_counts_as_not_held_without_raising(caplog):
    lock = worker_lock(
        "outbox", f"postgresql://postgres@127.0.0.1:{closed_port()}/none?connect_timeout=2"
    )
    with caplog.at_level(logging.WARNING, logger="bot.storage.worker_lock"):
        assert not lock.hold()
        assert not lock.hold()
    assert [r.getMessage() for r in caplog.records] == [
        "Cannot reach the outbox worker lock (OperationalError); this process does not send "
        "until it can"
    ]


@pytest.fixture
def advisory_locks(postgres_url) -> Iterator:
    made: List[AdvisoryWorkerLock] = []

    def make(name: str = "outbox") -> AdvisoryWorkerLock:
        lock = worker_lock(name, postgres_url)
        assert isinstance(lock, AdvisoryWorkerLock)
        made.append(lock)
        return lock

    yield make
    for lock in made:
        lock.dispose()


def holders(url: str) -> List[int]:
    """The server processes holding the outbox worker lock, as pg_locks shows them."""
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    text(
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                        " AND classid = :space AND objsubid = 2"
                    ),
                    {"space": NAMESPACE},
                ).scalars()
            )
    finally:
        engine.dispose()


@pytest.mark.db
def test_two_holders_on_one_postgresql_database_only_one_gets_it(advisory_locks, postgres_url):
    first, second = advisory_locks(), advisory_locks()
    assert first.hold()
    assert not second.hold()
    assert first.hold()  # checked in pg_locks, round after round
    assert not second.hold()
    assert len(holders(postgres_url)) == 1
    webhooks = advisory_locks("webhooks")  # another kind of worker, another lock
    assert webhooks.hold()
    assert webhooks.hold()  # its key is negative as an int4: pg_locks shows it unsigned
    first.release()
    assert second.hold()
    assert not first.hold()


@pytest.mark.db
def test_when_the_holders_session_ends_another_takes_over(advisory_locks, postgres_url):
    """The holder's connection cut (a server restart, a network cut ended by keepalives)."""
    first, second = advisory_locks(), advisory_locks()
    assert first.hold()
    assert not second.hold()
    (pid,) = holders(postgres_url)
    engine = create_engine(postgres_url, future=True)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    engine.dispose()
    assert eventually(second.hold)
    assert not first.hold()  # it notices, and does not send
    assert not first.hold()


@pytest.mark.db
def test_when_the_holding_process_dies_another_takes_over(
    advisory_locks, postgres_url, holder_process
):
    process, said = holder_process("outbox", postgres_url)
    assert said == "held"
    mine = advisory_locks()
    assert not mine.hold()
    kill(process)  # SIGKILL: its socket closes, the server ends its session and the lock
    assert eventually(mine.hold)
    _, said = holder_process("outbox", postgres_url)
    assert said == "waiting"


@pytest.mark.db
def test_a_waiting_process_keeps_no_connection_open(advisory_locks, postgres_url):
    first, second = advisory_locks(), advisory_locks()
    assert first.hold() and not second.hold()
    engine = create_engine(postgres_url, future=True)
    with engine.connect() as connection:
        names = connection.execute(
            text("SELECT application_name FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        assert list(names).count("videopro outbox worker") == 1
    engine.dispose()


# -- the outbox loop ---------------------------------------------------------------------------


class SwitchedLock(WorkerLock):
    """A lock the test hands to the loop or takes away."""

    def __init__(self) -> None:
        super().__init__("outbox")
        self.mine = False
        self.released = False
        self.rounds = 0

    def _take(self) -> bool:
        self.rounds += 1
        return self.mine

    def _still_held(self) -> bool:
        self.rounds += 1
        return self.mine

    def _drop(self) -> None:
        self.released = True


def queue(sessions, count: int) -> None:
    with transaction(sessions) as session:
        for index in range(count):
            enqueue(session, f"user{index}@example.com", "Hello", f"message {index}")


def statuses(sessions) -> List[str]:
    with transaction(sessions) as session:
        return sorted(m.status for m in list_messages(session))


async def wait_for(check, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.01)
    return False


@pytest.fixture
def outbox(migrated_sqlite):
    engine = make_engine(migrated_sqlite())
    yield session_factory(engine)
    engine.dispose()


async def test_the_loop_sends_only_while_it_holds_the_lock(outbox):
    sent: List[str] = []
    guard = threading.Lock()

    def send(message) -> None:
        with guard:
            sent.append(message["To"])

    lock = SwitchedLock()
    queue(outbox, 3)
    loop = asyncio.create_task(
        deliver_outbox_forever(0.01, settings=SMTP, sessions=outbox, lock=lock, send=send)
    )
    try:
        await asyncio.sleep(0.3)  # some thirty rounds without the lock
        assert sent == []
        lock.mine = True
        assert await wait_for(lambda: len(sent) == 3)
        lock.mine = False
        assert await wait_for(lambda: not lock.held)
        queue(outbox, 2)
        await asyncio.sleep(0.3)
        assert len(sent) == 3  # lost it: the new messages wait
        lock.mine = True
        assert await wait_for(lambda: statuses(outbox) == ["sent"] * 5)
    finally:
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
    assert lock.released and not lock.held  # given up at shutdown
    assert sorted(sent) == sorted(f"user{i}@example.com" for i in (0, 1, 2, 0, 1))


async def test_two_processes_loops_on_one_sqlite_database_send_from_one(outbox, tmp_path):
    """Two loops with the real file lock (as two web processes would have): one sends
    everything, the other nothing; when the sender stops, the other takes over."""
    url = str(outbox.kw["bind"].url)
    sent = {"a": [], "b": []}

    def sender(name: str):
        return lambda message: sent[name].append(message["To"])

    loops = {
        name: asyncio.create_task(
            deliver_outbox_forever(
                0.01,
                settings=SMTP,
                sessions=outbox,
                lock=worker_lock(OUTBOX_WORKER, url),
                send=sender(name),
            )
        )
        for name in ("a", "b")
    }
    queue(outbox, 5)
    assert await wait_for(lambda: len(sent["a"]) + len(sent["b"]) == 5)
    first = "a" if sent["a"] else "b"
    other = "b" if first == "a" else "a"
    assert sent[other] == []
    loops[first].cancel()
    with pytest.raises(asyncio.CancelledError):
        await loops[first]
    queue(outbox, 2)
    assert await wait_for(lambda: len(sent[other]) == 2)
    loops[other].cancel()
    with pytest.raises(asyncio.CancelledError):
        await loops[other]
    assert len(sent[first]) == 5
    assert Path(f"{outbox.kw['bind'].url.database}.outbox.lock").exists()


async def test_without_smtp_the_loop_ends_and_takes_no_lock(set_env, no_env_file, caplog):
    lock = SwitchedLock()
    with caplog.at_level(logging.INFO, logger="bot.mail.worker"):
        await asyncio.wait_for(deliver_outbox_forever(0.01, lock=lock), 5)
    assert not lock.held
    assert "SMTP is not configured" in caplog.text


async def test_a_failed_round_does_not_stop_the_loop(outbox, caplog):
    calls: List[str] = []

    def send(message) -> None:
        calls.append(message["To"])
        if len(calls) == 1:
            raise RuntimeError("not an SMTP error: the round fails")

    lock = SwitchedLock()
    lock.mine = True
    queue(outbox, 1)
    with caplog.at_level(logging.WARNING, logger="bot.storage.worker_lock"):
        loop = asyncio.create_task(
            deliver_outbox_forever(0.01, settings=SMTP, sessions=outbox, lock=lock, send=send)
        )
        try:
            assert await wait_for(lambda: "The outbox worker's round failed" in caplog.text)
            rounds = lock.rounds
            assert await wait_for(lambda: lock.rounds > rounds + 2)  # and the loop goes on
            assert not loop.done()
        finally:
            loop.cancel()
            with pytest.raises(asyncio.CancelledError):
                await loop
    assert "RuntimeError" in caplog.text
    assert "example.com" not in caplog.text
