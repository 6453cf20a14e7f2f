"""A conversation's events stay bounded in the tracker stores (bot/rasa/bounded.py): however
long the visitor types, what is loaded, replayed and sent on stays the same size, and what the
dialogue reads (slots, the last turns, a running form) is what it was."""

from __future__ import annotations

import asyncio
import time
from typing import Any, List

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.core.paths import ROOT
from bot.rasa.bounded import Bounds, bounded
from bot.rasa.tracker_store import BoundedSQLTrackerStore, RetainingInMemoryTrackerStore
from tests.support.databases import drop_postgres_database, postgres_database

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
BOUNDS = {"max_events": 40, "keep_turns": 3}
CLOCK = [1_800_000_000.0]


def _at() -> float:
    CLOCK[0] += 1.0
    return CLOCK[0]


def question(number: int) -> List[Event]:
    """One policy question and its answer, as Rasa logs them."""
    return [
        UserUttered(f"question {number}", {"name": "ask_sharing"}, timestamp=_at()),
        ActionExecuted("action_answer_policy", timestamp=_at()),
        BotUttered(f"answer {number}", timestamp=_at()),
        ActionExecuted("action_listen", timestamp=_at()),
    ]


async def say(store: Any, sender: str, events: List[Event]) -> Any:
    """A message as Rasa handles it: load (or start) the conversation, add the turn, save."""
    tracker = await store.retrieve(sender)
    if tracker is None:
        tracker = await store.create_tracker(sender)
    for event in events:
        tracker.update(event)
    await store.save(tracker)
    return tracker


def user_texts(tracker: Any) -> List[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.db)])
def store(request, tmp_path):
    if request.param == "memory":
        yield RetainingInMemoryTrackerStore(DOMAIN, **BOUNDS)
        return
    if request.param == "sqlite":
        yield BoundedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"), **BOUNDS)
        return
    admin, name, url = postgres_database()  # its own: Rasa's `events` table is not ours
    made = BoundedSQLTrackerStore(DOMAIN, dialect="postgresql", host=url, **BOUNDS)
    yield made
    made.engine.dispose()
    drop_postgres_database(admin, name)


def stored_rows(store: Any, sender: str) -> int:
    if isinstance(store, RetainingInMemoryTrackerStore):
        return len(asyncio.run(store.retrieve(sender)).events)
    with store.engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
        ).scalar_one()


def test_a_long_conversation_stays_bounded_and_keeps_what_the_dialogue_reads(store):
    sender = "long-visitor"
    asyncio.run(say(store, sender, [SlotSet("language", "zh", timestamp=_at())]))
    sizes = []
    for number in range(1, 121):
        asyncio.run(say(store, sender, question(number)))
        sizes.append(stored_rows(store, sender))
    assert max(sizes) <= BOUNDS["max_events"]
    assert min(sizes[40:]) < max(sizes[40:])  # continued in new sessions, not just capped
    tracker = asyncio.run(store.retrieve(sender))
    assert tracker.get_slot("language") == "zh"  # set once, at the start, 120 turns ago
    assert user_texts(tracker)[-3:] == ["question 118", "question 119", "question 120"]
    assert tracker.latest_message.text == "question 120"
    assert tracker.latest_action_name == "action_listen"


def test_no_cut_while_a_form_runs_and_the_form_start_is_kept(store):
    sender = "form-visitor"
    for number in range(1, 9):
        asyncio.run(say(store, sender, question(number)))
    start = ActiveLoop("deletion_form", timestamp=_at())
    asyncio.run(
        say(
            store,
            sender,
            [
                UserUttered("delete my account", {"name": "request_deletion"}, timestamp=_at()),
                ActionExecuted("deletion_form", timestamp=_at()),
                start,
                SlotSet("requested_slot", "account_email", timestamp=_at()),
                ActionExecuted("action_listen", timestamp=_at()),
            ],
        )
    )
    for number in range(30):  # a visitor who keeps typing something else inside the form
        asyncio.run(
            say(
                store,
                sender,
                [
                    UserUttered(f"not an address {number}", {"name": "inform"}, timestamp=_at()),
                    ActionExecuted("deletion_form", timestamp=_at()),
                    BotUttered("Which e-mail address?", timestamp=_at()),
                    ActionExecuted("action_listen", timestamp=_at()),
                ],
            )
        )
    tracker = asyncio.run(store.retrieve(sender))
    assert tracker.active_loop_name == "deletion_form"
    assert tracker.get_slot("requested_slot") == "account_email"
    starts = [e for e in tracker.events if isinstance(e, ActiveLoop) and e.name]
    assert starts and starts[-1].timestamp == start.timestamp  # the idempotency key's source
    assert "delete my account" in user_texts(tracker)


def test_no_cut_while_a_failed_submission_waits_for_try_again():
    tracker = asyncio.run(_long_tracker_with(SlotSet("pending_submission", "deletion")))
    events, rewritten = bounded(tracker, Bounds(**BOUNDS))
    assert not rewritten and len(events) == len(tracker.events)


async def _long_tracker_with(event: Event) -> Any:
    store = RetainingInMemoryTrackerStore(DOMAIN, max_events=10_000, keep_turns=3)
    tracker = await store.create_tracker("waiting")
    tracker.update(event)
    for number in range(30):
        for turn_event in question(number):
            tracker.update(turn_event)
    return tracker


def test_an_earlier_session_is_dropped_when_a_new_one_starts(store):
    sender = "returning-visitor"
    for number in range(3):
        asyncio.run(say(store, sender, question(number)))
    asyncio.run(
        say(
            store,
            sender,
            [
                ActionExecuted("action_session_start", timestamp=_at()),
                SessionStarted(timestamp=_at()),
                ActionExecuted("action_listen", timestamp=_at()),
                *question(99),
            ],
        )
    )
    assert user_texts(asyncio.run(store.retrieve(sender))) == ["question 99"]
    assert stored_rows(store, sender) == 7


def test_the_sql_store_keeps_conversations_across_a_restart(tmp_path):
    path = str(tmp_path / "conversations.db")
    first = BoundedSQLTrackerStore(DOMAIN, dialect="sqlite", db=path, **BOUNDS)
    asyncio.run(say(first, "visitor", [SlotSet("language", "zh", timestamp=_at())]))
    for number in range(50):
        asyncio.run(say(first, "visitor", question(number)))
    first.engine.dispose()
    again = BoundedSQLTrackerStore(DOMAIN, dialect="sqlite", db=path, **BOUNDS)
    tracker = asyncio.run(again.retrieve("visitor"))
    assert tracker.get_slot("language") == "zh"
    assert user_texts(tracker)[-1] == "question 49"


def _transactions(admin: Any, database: str) -> int:
    """What the server counted for `database` (each autocommit statement is a transaction),
    asked from another database so that asking adds nothing."""
    with admin.connect() as connection:
        connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        return connection.execute(
            sa.text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :d"),
            {"d": database},
        ).scalar_one()


def _settled(admin: Any, database: str) -> int:
    """The count once the store's sessions have ended (a backend reports at its exit)."""
    seen = -1
    for _ in range(50):
        time.sleep(0.1)
        now = _transactions(admin, database)
        if now == seen:
            return now
        seen = now
    return seen


@pytest.mark.db
def test_a_message_costs_the_postgresql_store_two_round_trips():
    """Counted by the server: a SELECT to load the session and one INSERT of the new events,
    each in autocommit (no BEGIN, no ROLLBACK, no SET to restore an isolation level): not one
    statement per event, nor a count first."""
    admin, name, url = postgres_database()
    try:
        store = BoundedSQLTrackerStore(
            DOMAIN, dialect="postgresql", host=url, max_events=10_000, keep_turns=3
        )
        asyncio.run(say(store, "counted", question(0)))
        store.engine.dispose()
        store.events.autocommit.dispose()
        before = _settled(admin, name)
        for number in range(1, 41):
            asyncio.run(say(store, "counted", question(number)))
        store.engine.dispose()
        store.events.autocommit.dispose()
        after = _settled(admin, name)
    finally:
        drop_postgres_database(admin, name)
    # 40 messages, 2 each; the new connection's own setup (its `SET synchronous_commit`, the
    # isolation level asked) adds a fixed few. A SET to restore the isolation level after
    # every use made it 160.
    assert 80 <= after - before <= 83


@pytest.mark.db
def test_the_postgresql_store_commits_without_waiting_for_the_disk():
    """Rasa's SQL calls block its event loop: a commit that waits for the disk stops every
    conversation behind it. The tracker store's sessions say so; nothing else's do."""
    admin, name, url = postgres_database()
    try:
        store = BoundedSQLTrackerStore(DOMAIN, dialect="postgresql", host=url, **BOUNDS)
        with store.events.autocommit.connect() as connection:
            assert connection.execute(sa.text("SHOW synchronous_commit")).scalar_one() == "off"
        store.engine.dispose()
        with sa.create_engine(url).connect() as other:
            assert other.execute(sa.text("SHOW synchronous_commit")).scalar_one() == "on"
    finally:
        drop_postgres_database(admin, name)
