"""The audit trail's hash chain (bot.staff.audit), on SQLite and PostgreSQL: intact after entries
written the usual ways, broken, at the right entry, by an edit, a deletion, a swap or a truncation
made directly in the database, and `python -m bot audit verify` saying which."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, text, update

from bot.core.paths import ROOT
from bot.staff import audit
from bot.staff.accounts import StaffDirectory
from bot.storage.db import make_engine, session_factory, transaction
from bot.storage.models import AuditEntry

SECRET = "audit-test-secret"


@pytest.fixture
def sessions(database_url, set_env, no_env_file):
    set_env(APP_SECRET=SECRET, DATABASE_URL=database_url)
    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


def write(sessions, n=5):
    for i in range(n):
        with transaction(sessions) as session:
            audit.append(session, "legal1", "status_change", f"DEL-00000{i}", f"note {i}: 中文 ok")


def verdict(sessions, secret=None):
    with transaction(sessions) as session:
        return audit.verify(session, secret)


def ids(sessions):
    with transaction(sessions) as session:
        return [e.id for e in session.query(AuditEntry).order_by(AuditEntry.id)]


def test_an_empty_and_a_written_trail_verify(sessions):
    assert verdict(sessions).intact
    write(sessions)
    StaffDirectory(sessions.kw["bind"]).add("admin1", "admin", "a long enough password")
    found = verdict(sessions)
    assert found.intact and found.entries == 6 and str(found) == "audit trail intact: 6 entries"


def test_the_key_is_the_app_secret(sessions):
    write(sessions, 2)
    assert not verdict(sessions, secret="another secret").intact


def test_an_edited_entry_is_named(sessions):
    write(sessions)
    third = ids(sessions)[2]
    with transaction(sessions) as session:
        session.execute(
            update(AuditEntry).where(AuditEntry.id == third).values(detail="nothing happened")
        )
    found = verdict(sessions)
    assert not found.intact and found.broken_at == third and "changed" in found.reason


def test_a_deleted_entry_breaks_the_one_after_it(sessions):
    write(sessions)
    second, third = ids(sessions)[1:3]
    with transaction(sessions) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == second))
    found = verdict(sessions)
    assert not found.intact and found.broken_at == third and "removed" in found.reason


def test_two_entries_swapped_in_place_are_found(sessions):
    write(sessions)
    a, b = ids(sessions)[1:3]
    with transaction(sessions) as session:
        rows = {e.id: e for e in session.query(AuditEntry).filter(AuditEntry.id.in_([a, b]))}
        fields = ("actor", "action", "target", "detail", "created_at", "prev_hash", "entry_hash")
        values = {i: {f: getattr(rows[i], f) for f in fields} for i in (a, b)}
        session.execute(update(AuditEntry).where(AuditEntry.id == a).values(**values[b]))
        session.execute(update(AuditEntry).where(AuditEntry.id == b).values(**values[a]))
    found = verdict(sessions)
    assert not found.intact and found.broken_at == a


def test_removing_the_last_entries_shows_at_the_end(sessions):
    write(sessions)
    last = ids(sessions)[-1]
    with transaction(sessions) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == last))
    found = verdict(sessions)
    assert not found.intact and found.broken_at is None and "last entries" in found.reason


def test_an_entry_inserted_outside_the_trail_is_found(sessions):
    write(sessions, 2)
    with transaction(sessions) as session:
        session.execute(
            text(
                "INSERT INTO audit_log (actor, action, created_at) "
                "VALUES ('x', 'login', CURRENT_TIMESTAMP)"
            )
        )
    assert not verdict(sessions).intact


def test_concurrent_writers_still_make_one_chain(sessions):
    def one(i):
        with transaction(sessions) as session:
            audit.append(session, f"staff{i % 3}", "view", f"ACC-{i:06d}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(40)))
    found = verdict(sessions)
    assert found.intact and found.entries == 40


def test_the_command_exits_0_when_intact_and_1_naming_the_entry(sessions, database_url):
    write(sessions, 3)
    env = {"APP_SECRET": SECRET, "DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}

    def run():
        return subprocess.run(
            [sys.executable, "-m", "bot", "audit", "verify"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = run()
    assert done.returncode == 0 and "intact: 3 entries" in done.stdout
    second = ids(sessions)[1]
    with transaction(sessions) as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == second).values(actor="x"))
    done = run()
    assert done.returncode == 1 and f"entry #{second}" in done.stdout
