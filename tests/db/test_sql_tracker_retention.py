"""Retention and erasure with Rasa's own SQL tracker store, on PostgreSQL: `python -m bot purge`
and what completing a deletion request erases.

`rasa.core.tracker_store.SQLTrackerStore` creates the `events` table in a fresh PostgreSQL
database and saves real trackers into it, so the rows purged here are the rows Rasa writes. The
request database is SQLite and PostgreSQL in turn, as elsewhere; every test here needs
PostgreSQL (marked `db`; skipped, saying why, where it does not answer). The rest of retention is
in tests/unit/test_retention.py.
"""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bot.mail.outbox import SENT
from bot.policy.gaps import GapLog
from bot.requests import lifecycle
from bot.requests.store import RequestStore
from bot.retention.erasure import pending_erasures
from bot.retention.purge import purge
from bot.retention.trackers import SqlTracker
from bot.storage.db import make_engine, transaction
from bot.storage.models import (
    AuditEntry,
    HandoffTicket,
    OutboxMessage,
    PrivacyRequest,
    RequestEvent,
    VerificationCode,
)
from bot.support.tickets import Handoffs
from tests.support import MONDAY as NOW
from tests.support.databases import drop_postgres_database, postgres_database
from tests.support.retention import (
    DAY,
    TRANSCRIPT,
    complete,
    erasing_store,
    run_purge,
    save_conversation,
)

pytestmark = pytest.mark.db


@pytest.fixture
def store(database_url):
    """Wired as the web app and the action server wire theirs: with bot.retention's eraser."""
    store = erasing_store(database_url)
    yield store
    store.engine.dispose()


@pytest.fixture
def cli_database(migrated_sqlite):
    return migrated_sqlite("purge.db")


@pytest.fixture(scope="module")
def tracker_url():
    """A fresh PostgreSQL database with Rasa's `events` table, made by Rasa itself."""
    admin, name, url = postgres_database()  # skips, saying why, without PostgreSQL
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    parts = make_url(url)
    store = SQLTrackerStore(
        domain=Domain.empty(),
        dialect="postgresql",
        host=parts.host,
        port=parts.port or 5432,
        db=parts.database,
        username=parts.username,
        password=parts.password,
    )
    store.engine.dispose()
    yield url
    drop_postgres_database(admin, name)


@pytest.fixture
def rasa_store(tracker_url):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    parts = make_url(tracker_url)
    store = SQLTrackerStore(
        domain=Domain.empty(),
        dialect="postgresql",
        host=parts.host,
        port=parts.port or 5432,
        db=parts.database,
        username=parts.username,
        password=parts.password,
    )
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM events"))
    yield store
    store.engine.dispose()


def tracker_events(tracker_url):
    engine = create_engine(tracker_url, future=True)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT sender_id, count(*) FROM events GROUP BY sender_id")
        ).all()
    engine.dispose()
    return dict(rows)


# -- the purge ------------------------------------------------------------------------------


def test_purge_removes_idle_conversations_whole_and_keeps_live_ones(store, rasa_store, tracker_url):
    old = save_conversation(rasa_store, "old-visitor", NOW - 45 * DAY, NOW - 40 * DAY)
    save_conversation(rasa_store, "recent-visitor", NOW - 2 * DAY)
    long_running = save_conversation(rasa_store, "long-visitor", NOW - 60 * DAY, NOW - 1 * DAY)
    tracker = SqlTracker(tracker_url)
    try:
        dry = purge(
            timedelta(days=30),
            now=NOW,
            engine=store.engine,
            gaps=GapLog(store.engine),
            tracker=tracker,
            dry_run=True,
        )
        assert (dry.conversations, dry.events) == (1, old)
        assert set(tracker_events(tracker_url)) == {"old-visitor", "recent-visitor", "long-visitor"}

        report = purge(
            timedelta(days=30),
            now=NOW,
            engine=store.engine,
            gaps=GapLog(store.engine),
            tracker=tracker,
        )
    finally:
        tracker.close()
    assert report.tracker_kind == "sql" and report.tracker_error is None
    assert (report.conversations, report.events) == (1, old)
    remaining = tracker_events(tracker_url)
    assert set(remaining) == {"recent-visitor", "long-visitor"}
    # Started 60 days ago but spoken in yesterday: kept whole, old first lines included.
    assert remaining["long-visitor"] == long_running
    kept = asyncio.run(rasa_store.retrieve_full_tracker("long-visitor"))
    assert len(kept.events) == long_running
    assert asyncio.run(rasa_store.retrieve_full_tracker("old-visitor")) is None


# -- erasure when a deletion request is completed ---------------------------------------------


def test_completing_a_deletion_erases_the_requesters_conversations(
    store, rasa_store, tracker_url, set_env
):
    set_env(TRACKER_STORE_URL=tracker_url)  # what the eraser reads
    for sender in ("conv-a1", "conv-a2", "conv-a3", "conv-b", "conv-x"):
        save_conversation(rasa_store, sender, NOW - DAY, NOW - DAY / 2)
    deletion = store.submit(
        "deletion", "a@example.com", verified=True, conversation_id="conv-a1", transcript=TRANSCRIPT
    ).reference
    access = store.submit(
        "access", "a@example.com", verified=True, conversation_id="conv-a2", transcript=TRANSCRIPT
    ).reference
    other = store.submit(
        "deletion", "b@example.com", verified=True, conversation_id="conv-b", transcript=TRANSCRIPT
    ).reference
    handoffs = Handoffs(store.engine)
    ticket = handoffs.create("conv-a1", "asked", TRANSCRIPT, live=True)
    handoffs.from_visitor(ticket.id, "please hurry")
    by_mail = handoffs.create(
        "conv-a3", "asked", TRANSCRIPT, live=False, contact_email="a@example.com"
    )
    handoffs.from_visitor(by_mail.id, "reply by e-mail please")
    other_ticket = handoffs.create("conv-b", "asked", TRANSCRIPT, live=True)
    handoffs.from_visitor(other_ticket.id, "hi")
    store.send_code("a@example.com", "conv-a1")
    store.send_code("b@example.com", "conv-b")

    assert complete(store, deletion) == lifecycle.COMPLETED

    assert set(tracker_events(tracker_url)) == {"conv-b", "conv-x"}
    with transaction(store.sessions) as session:
        requests = {r.reference: r for r in session.execute(select(PrivacyRequest)).scalars()}
        tickets = {
            t.id: (len(t.messages), t.transcript)
            for t in session.execute(select(HandoffTicket)).scalars()
        }
        codes = list(session.execute(select(VerificationCode.email)).scalars())
        trail = [
            e.to_status
            for e in session.execute(
                select(RequestEvent).where(RequestEvent.request_id == requests[deletion].id)
            ).scalars()
        ]
        entries = list(
            session.execute(select(AuditEntry).where(AuditEntry.target == deletion)).scalars()
        )
    assert set(requests) == {deletion, access, other}  # the rows stay
    assert requests[deletion].transcript is None and requests[access].transcript is None
    assert requests[other].transcript == TRANSCRIPT
    assert requests[deletion].conversations_erased_at == NOW
    assert tickets == {ticket.id: (0, []), by_mail.id: (0, []), other_ticket.id: (1, TRANSCRIPT)}
    assert codes == ["b@example.com"]
    assert trail == ["received", "in_progress", "completed"]
    erased = [e for e in entries if e.action == "conversations_erased"]
    assert len(erased) == 1 and erased[0].actor == "retention"
    assert "3 conversations removed from the tracker store (12 events)" in erased[0].detail
    for secret in ("a@example.com", "conv-a1", "please hurry"):
        assert secret not in erased[0].detail
    assert pending_erasures(store.sessions) == []


# -- the command line -------------------------------------------------------------------------


def test_cli_purges_the_sql_tracker_store_and_dry_run_deletes_nothing(
    cli_database, rasa_store, tracker_url
):
    now = datetime.now(timezone.utc)
    save_conversation(rasa_store, "old-visitor", now - 40 * DAY)
    save_conversation(rasa_store, "new-visitor", now - DAY)
    engine = make_engine(cli_database)
    with transaction(RequestStore(engine, secret="s").sessions) as session:
        session.add(
            OutboxMessage(
                to_address="x@example.com",
                subject="s",
                body="b",
                status=SENT,
                attempts=1,
                created_at=now - 40 * DAY,
                next_attempt_at=now - 40 * DAY,
                sent_at=now - 40 * DAY,
            )
        )
    engine.dispose()

    dry = run_purge(cli_database, "--older-than", "30d", "--dry-run", TRACKER_STORE_URL=tracker_url)
    assert dry.returncode == 0, dry.stderr
    assert "Would remove 1 conversation (2 events) from the tracker store" in dry.stdout
    assert "1 sent or failed e-mail from the outbox" in dry.stdout
    assert "nothing was deleted" in dry.stdout
    assert set(tracker_events(tracker_url)) == {"old-visitor", "new-visitor"}

    done = run_purge(cli_database, "--older-than", "4w", TRACKER_STORE_URL=tracker_url)
    assert done.returncode == 0, done.stderr
    assert "Retention period 4 weeks" in done.stdout
    assert "Removed 1 conversation (2 events) from the tracker store" in done.stdout
    assert set(tracker_events(tracker_url)) == {"new-visitor"}
    assert "jane@example.com" not in done.stdout + done.stderr
