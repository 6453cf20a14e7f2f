"""Retention and erasure with the embedded tracker store: Rasa's SQL store on SQLite, as Rasa
builds it from endpoints.yml. With nothing configured, `python -m bot purge` and the erasure of
a completed deletion request find its file (CONVERSATIONS_DB) and delete its rows, without
calling Rasa. The same on PostgreSQL is tests/db/test_sql_tracker_retention.py.
"""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy import select, text

from bot.core.paths import ENDPOINTS_FILE, ROOT
from bot.policy.gaps import GapLog
from bot.rasa.tracker_store import BoundedSQLTrackerStore
from bot.requests import lifecycle
from bot.retention.erasure import pending_erasures
from bot.retention.purge import purge
from bot.retention.trackers import TRACKER_DB_KEYS, SqlTracker
from bot.storage.db import transaction
from bot.storage.models import AuditEntry, PrivacyRequest
from tests.support import MONDAY as NOW
from tests.support.retention import (
    DAY,
    TRANSCRIPT,
    complete,
    erasing_store,
    run_purge,
    save_conversation,
)

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def conversations_file(set_env, no_env_file, tmp_path):
    """Nothing configured but the file (in this test's folder): TRACKER_STORE_URL and
    TRACKER_DB_* unset, as on an embedded installation."""
    file = tmp_path / "var" / "conversations.db"
    set_env(
        CONVERSATIONS_DB=str(file),
        TRACKER_STORE_URL=None,
        RASA_URL="http://127.0.0.1:9",  # nothing there: Rasa's API must not be needed
        **{key: None for key in TRACKER_DB_KEYS},
    )
    return file


@pytest.fixture
def rasa_store(conversations_file):
    """The tracker store Rasa builds from endpoints.yml."""
    store = TrackerStore.create(read_endpoint_config(str(ENDPOINTS_FILE), "tracker_store"), DOMAIN)
    assert isinstance(store, BoundedSQLTrackerStore)
    store.retention = None  # no sweep of its own here: what is deleted is the purge's doing
    yield store
    store.engine.dispose()


@pytest.fixture
def store(database_url):
    store = erasing_store(database_url)
    yield store
    store.engine.dispose()


def stored(store):
    with store.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT sender_id, count(*) FROM events GROUP BY sender_id")
        ).all()
    return dict(rows)


def test_purge_finds_the_embedded_store_and_removes_idle_conversations(store, rasa_store):
    old = save_conversation(rasa_store, "old-visitor", NOW - 45 * DAY, NOW - 40 * DAY)
    save_conversation(rasa_store, "recent-visitor", NOW - 2 * DAY)
    long_running = save_conversation(rasa_store, "long-visitor", NOW - 60 * DAY, NOW - DAY)

    dry = purge(
        timedelta(days=30), now=NOW, engine=store.engine, gaps=GapLog(store.engine), dry_run=True
    )
    assert dry.tracker_kind == "sql" and (dry.conversations, dry.events) == (1, old)
    assert set(stored(rasa_store)) == {"old-visitor", "recent-visitor", "long-visitor"}

    report = purge(timedelta(days=30), now=NOW, engine=store.engine, gaps=GapLog(store.engine))
    assert report.ok and (report.conversations, report.events) == (1, old)
    assert stored(rasa_store) == {"recent-visitor": 2, "long-visitor": long_running}
    assert asyncio.run(rasa_store.retrieve("old-visitor")) is None
    assert asyncio.run(rasa_store.retrieve("long-visitor")) is not None


def test_completing_a_deletion_deletes_the_requesters_rows(store, rasa_store):
    for sender in ("conv-a1", "conv-a2", "conv-b"):
        save_conversation(rasa_store, sender, NOW - DAY, NOW - DAY / 2)
    deletion = store.submit(
        "deletion", "a@example.com", verified=True, conversation_id="conv-a1", transcript=TRANSCRIPT
    ).reference
    store.submit(
        "access", "a@example.com", verified=True, conversation_id="conv-a2", transcript=TRANSCRIPT
    )

    assert complete(store, deletion) == lifecycle.COMPLETED

    assert stored(rasa_store) == {"conv-b": 4}
    with transaction(store.sessions) as session:
        request = session.execute(
            select(PrivacyRequest).where(PrivacyRequest.reference == deletion)
        ).scalar_one()
        details = list(
            session.execute(
                select(AuditEntry.detail).where(
                    AuditEntry.target == deletion, AuditEntry.action == "conversations_erased"
                )
            ).scalars()
        )
    assert request.conversations_erased_at is not None
    assert len(details) == 1
    assert "2 conversations removed from the tracker store (8 events)" in details[0]
    assert pending_erasures(store.sessions) == []


def test_before_rasa_made_the_file_there_is_nothing_to_delete_and_no_file_is_made(
    conversations_file,
):
    tracker = SqlTracker(f"sqlite:///{conversations_file}")
    try:
        assert tracker.purge(NOW) == (0, 0)
        erased = tracker.erase(["conv-a"])
        assert (erased.conversations, erased.events) == (0, 0)
    finally:
        tracker.close()
    assert not conversations_file.exists()


def test_cli_purges_the_embedded_store_and_dry_run_deletes_nothing(
    migrated_sqlite, rasa_store, conversations_file
):
    now = datetime.now(timezone.utc)
    save_conversation(rasa_store, "old-visitor", now - 40 * DAY)
    save_conversation(rasa_store, "new-visitor", now - DAY)
    database = migrated_sqlite("purge.db")
    where = {"CONVERSATIONS_DB": str(conversations_file)}

    dry = run_purge(database, "--older-than", "30d", "--dry-run", **where)
    assert dry.returncode == 0, dry.stderr
    assert "Would remove 1 conversation (2 events) from the tracker store" in dry.stdout
    assert set(stored(rasa_store)) == {"old-visitor", "new-visitor"}

    done = run_purge(database, "--older-than", "30d", **where)
    assert done.returncode == 0, done.stderr
    assert "Removed 1 conversation (2 events) from the tracker store" in done.stdout
    assert set(stored(rasa_store)) == {"new-visitor"}
    assert "jane@example.com" not in done.stdout + done.stderr
