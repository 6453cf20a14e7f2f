"""Retention and erasure: `python -m bot purge`, and what completing a deletion request erases.

The in-memory tracker store is reached through Rasa's HTTP API, mocked with httpx. The embedded SQL
tracker store on SQLite is in tests/unit/test_sqlite_tracker_retention.py; on PostgreSQL in
tests/db/test_sql_tracker_retention.py.
"""

import json
from datetime import timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from bot.mail.outbox import FAILED, QUEUED, SENT
from bot.policy.gaps import GapLog
from bot.requests import lifecycle
from bot.requests.store import RequestStore
from bot.retention import erasure
from bot.retention.ages import MAX_AGE, parse_age
from bot.retention.erasure import pending_erasures
from bot.retention.purge import PurgeReport, describe, purge
from bot.retention.trackers import RasaApiTracker, SqlTracker
from bot.storage.db import transaction
from bot.storage.models import (
    AuditEntry,
    HandoffMessage,
    HandoffTicket,
    OutboxMessage,
    PrivacyRequest,
    RequestEvent,
    VerificationCode,
)
from bot.support.tickets import Handoffs
from tests.support import MONDAY as NOW
from tests.support import Clock
from tests.support.properties import examples
from tests.support.retention import DAY, TRANSCRIPT, complete, erasing_store, run_purge

# -- parse_age --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("6w", timedelta(weeks=6)),
        (" 1D ", timedelta(days=1)),
        ("007d", timedelta(days=7)),
    ],
)
def test_parse_age_reads_hours_days_and_weeks(text, expected):
    assert parse_age(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "30", "d", "30m", "30 d", "-3d", "0d", "0h", "1.5d", "3d4h", "٣d", "99999999w", "30days"],
)
def test_parse_age_refuses_anything_else_with_a_sentence(text):
    with pytest.raises(ValueError) as refused:
        parse_age(text)
    assert "age" in str(refused.value)


@hypothesis_settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=20))
def test_parse_age_either_answers_a_sane_age_or_says_value_error(text):
    try:
        age = parse_age(text)
    except ValueError:
        return
    assert timedelta(hours=1) <= age <= MAX_AGE
    assert NOW - age < NOW  # usable as a cut-off without overflowing


@given(st.integers(min_value=1, max_value=5000), st.sampled_from(["h", "d", "w"]))
def test_parse_age_round_trips(count, unit):
    scale = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}[unit]
    assert parse_age(f"{count}{unit}") == count * scale


class NoRasa:
    """A Rasa HTTP API that must not be called (the SQL store is used, or nothing to erase)."""

    def __call__(self, request):
        raise AssertionError(f"unexpected call to Rasa: {request.method} {request.url}")


def rasa_not_called():
    return RasaApiTracker("http://rasa.test", "tok", transport=httpx.MockTransport(NoRasa()))


@pytest.fixture
def store(database_url):
    """Wired as the web app and the action server wire theirs: with bot.retention's eraser."""
    store = erasing_store(database_url)
    yield store
    store.engine.dispose()


def count(store, model, *conditions):
    with transaction(store.sessions) as session:
        return session.execute(
            select(func.count()).select_from(model).where(*conditions)
        ).scalar_one()


def test_an_unreachable_sql_store_is_reported_and_the_rest_still_purged(store):
    tracker = SqlTracker("postgresql://postgres@127.0.0.1:1/nowhere")
    store.send_code("a@example.com", "conv-a")
    report = purge(
        timedelta(days=30),
        now=NOW + 2 * DAY,
        engine=store.engine,
        gaps=GapLog(store.engine),
        tracker=tracker,
    )
    tracker.close()
    assert report.tracker_error == "OperationalError" and not report.ok
    assert report.verification_codes == 1 and count(store, VerificationCode) == 0
    assert "could not be reached (OperationalError)" in " ".join(describe(report))


# -- the request database ---------------------------------------------------------------------


def set_rows(store, model, values, *conditions):
    with transaction(store.sessions) as session:
        session.execute(update(model).where(*conditions).values(**values))


def test_purge_of_the_request_database_follows_the_rules(store):
    clock = store.clock
    # Verification codes: expired long ago, expired but still within the rate limits' hour,
    # live, and used (consumed) long ago.
    clock.now = NOW - 3 * timedelta(hours=1)
    store.send_code("old@example.com", "conv-old")
    clock.now = NOW - timedelta(minutes=30)
    store.send_code("recent@example.com", "conv-recent")
    clock.now = NOW - timedelta(minutes=5)
    store.send_code("live@example.com", "conv-live")
    clock.now = NOW
    # Outbox: sent long ago, sent lately, failed long ago, queued long ago (still to send).
    with transaction(store.sessions) as session:
        for status, age in ((SENT, 40), (SENT, 1), (FAILED, 40), (QUEUED, 40)):
            session.add(
                OutboxMessage(
                    to_address="x@example.com",
                    subject=f"{status} {age}",
                    body="b",
                    status=status,
                    attempts=1,
                    created_at=NOW - age * DAY,
                    next_attempt_at=NOW - age * DAY,
                    sent_at=NOW - age * DAY if status == SENT else None,
                )
            )
    # Requests: completed long ago, rejected lately, open for long: each with a transcript.
    clock.now = NOW - 50 * DAY
    closed_long_ago = store.submit(
        "access", "a@example.com", verified=True, transcript=TRANSCRIPT
    ).reference
    still_open = store.submit(
        "correction", "b@example.com", verified=True, transcript=TRANSCRIPT
    ).reference
    store.transition(closed_long_ago, lifecycle.IN_PROGRESS, "legal:ann")
    store.transition(closed_long_ago, lifecycle.COMPLETED, "legal:ann", "sent the copy")
    clock.now = NOW - 2 * DAY
    closed_lately = store.submit(
        "access", "c@example.com", verified=True, transcript=TRANSCRIPT
    ).reference
    store.transition(closed_lately, lifecycle.REJECTED, "legal:ann", "no such account")
    clock.now = NOW
    # Handoffs: one closed long ago, one closed lately, one still open: each with messages.
    handoffs = Handoffs(store.engine)
    tickets = {}
    for name in ("closed-old", "closed-new", "open-old"):
        ticket = handoffs.create(f"conv-{name}", "asked", TRANSCRIPT, live=True)
        handoffs.open(ticket.id, "sam")
        handoffs.from_visitor(ticket.id, "my phone is 555 123 4567")
        if name.startswith("closed"):
            handoffs.close(ticket.id, "sam")
        tickets[name] = ticket.id
    set_rows(
        store,
        HandoffTicket,
        {"closed_at": NOW - 40 * DAY},
        HandoffTicket.id == tickets["closed-old"],
    )
    set_rows(
        store, HandoffTicket, {"closed_at": NOW - DAY}, HandoffTicket.id == tickets["closed-new"]
    )
    trail = count(store, RequestEvent)
    audit = count(store, AuditEntry)
    requests_before = count(store, PrivacyRequest)

    dry = purge(
        timedelta(days=30),
        now=NOW,
        engine=store.engine,
        gaps=GapLog(store.engine),
        tracker=rasa_not_called(),
        dry_run=True,
    )
    assert (
        dry.verification_codes,
        dry.outbox_messages,
        dry.transcripts,
        dry.handoff_tickets,
        dry.handoff_messages,
    ) == (1, 2, 1, 1, 3)
    assert count(store, VerificationCode) == 3 and count(store, HandoffMessage) == 8

    report = purge(
        timedelta(days=30),
        now=NOW,
        engine=store.engine,
        gaps=GapLog(store.engine),
        tracker=rasa_not_called(),
    )
    assert report.tracker_kind == "memory" and report.ok
    assert (
        report.verification_codes,
        report.outbox_messages,
        report.transcripts,
        report.handoff_tickets,
        report.handoff_messages,
    ) == (1, 2, 1, 1, 3)
    with transaction(store.sessions) as session:
        assert sorted(session.execute(select(VerificationCode.email)).scalars()) == [
            "live@example.com",
            "recent@example.com",
        ]
        subjects = {
            m.subject
            for m in session.execute(select(OutboxMessage)).scalars()
            if m.subject.startswith(("sent", "failed", "queued"))
        }
        assert subjects == {"sent 1", "queued 40"}
        transcripts = {
            r.reference: r.transcript for r in session.execute(select(PrivacyRequest)).scalars()
        }
        by_ticket = {
            t.id: (len(t.messages), t.transcript, t.status)
            for t in session.execute(select(HandoffTicket)).scalars()
        }
    assert transcripts == {closed_long_ago: None, still_open: TRANSCRIPT, closed_lately: TRANSCRIPT}
    assert by_ticket[tickets["closed-old"]] == (0, [], "closed")  # the ticket row stays
    assert by_ticket[tickets["closed-new"]][0] == 3 and by_ticket[tickets["open-old"]][0] == 2
    # The record of what was asked and done is never purged.
    assert count(store, PrivacyRequest) == requests_before
    assert count(store, RequestEvent) == trail and count(store, AuditEntry) == audit
    # A second purge finds nothing more.
    again = purge(
        timedelta(days=30),
        now=NOW,
        engine=store.engine,
        gaps=GapLog(store.engine),
        tracker=rasa_not_called(),
    )
    assert (
        again.verification_codes,
        again.outbox_messages,
        again.transcripts,
        again.handoff_messages,
    ) == (0, 0, 0, 0)


# -- erasure when a deletion request is completed ---------------------------------------------


class FakeRasa:
    """Rasa's HTTP API: records calls; `down` refuses connections, `status` answers with it."""

    def __init__(self):
        self.calls = []
        self.down = False
        self.status = 200

    def __call__(self, request):
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        self.calls.append(
            (
                request.method,
                request.url.path,
                dict(request.url.params),
                json.loads(request.content),
            )
        )
        return httpx.Response(self.status, json={"events": []})


def test_in_memory_erasure_uses_rasas_api_and_a_failure_waits_for_the_next_purge(
    store, monkeypatch
):
    rasa = FakeRasa()

    def make() -> RasaApiTracker:
        return RasaApiTracker("http://rasa.test", "tok", transport=httpx.MockTransport(rasa))

    monkeypatch.setattr(erasure, "tracker_from_environment", lambda transport=None: make())
    reference = store.submit(
        "deletion", "a@example.com", verified=True, conversation_id="conv-a1", transcript=TRANSCRIPT
    ).reference
    store.submit("access", "a@example.com", verified=True, conversation_id="conv-a2")

    rasa.down = True
    assert complete(store, reference) == lifecycle.COMPLETED  # the completion is not undone
    row = store.get(reference)
    assert row.status == "completed" and row.conversations_erased_at is None
    assert row.transcript is None  # what is in the request database went at once
    assert pending_erasures(store.sessions) == [reference]
    notes = [(e.action, e.detail) for e in store_audit(store, reference)]
    assert [a for a, _ in notes].count("erasure_pending") == 1
    assert "ConnectError" in notes[-1][1] and "python -m bot purge" in notes[-1][1]

    # Rasa answers, but refuses (a wrong token): still pending, and not noted twice.
    rasa.down, rasa.status = False, 401
    report = purge(
        timedelta(days=30), now=NOW, engine=store.engine, gaps=GapLog(store.engine), tracker=make()
    )
    assert report.erasures_pending == 1 and report.erasures_done == 0 and not report.ok
    assert "HTTP 401" in report.erasure_error
    assert [a for a, _ in ((e.action, e.detail) for e in store_audit(store, reference))].count(
        "erasure_pending"
    ) == 1

    rasa.calls.clear()
    rasa.status = 200
    dry = purge(
        timedelta(days=30),
        now=NOW,
        engine=store.engine,
        gaps=GapLog(store.engine),
        tracker=make(),
        dry_run=True,
    )
    assert dry.erasures_pending == 1 and rasa.calls == []
    report = purge(
        timedelta(days=30), now=NOW, engine=store.engine, gaps=GapLog(store.engine), tracker=make()
    )
    assert report.erasures_done == 1 and report.erasures_pending == 0 and report.ok
    assert sorted(rasa.calls) == [
        ("PUT", "/conversations/conv-a1/tracker/events", {"token": "tok"}, []),
        ("PUT", "/conversations/conv-a2/tracker/events", {"token": "tok"}, []),
    ]
    assert store.get(reference).conversations_erased_at == NOW
    assert pending_erasures(store.sessions) == []
    assert "conversations_erased" in [e.action for e in store_audit(store, reference)]

    rasa.calls.clear()
    purge(
        timedelta(days=30), now=NOW, engine=store.engine, gaps=GapLog(store.engine), tracker=make()
    )
    assert rasa.calls == []  # done once, not again


def store_audit(store, reference):
    with transaction(store.sessions) as session:
        return list(
            session.execute(
                select(AuditEntry).where(AuditEntry.target == reference).order_by(AuditEntry.id)
            ).scalars()
        )


def test_a_store_without_an_eraser_leaves_the_erasure_to_the_purge(store, monkeypatch):
    """The store itself erases nothing: a deletion completed through a store built without
    the eraser stays pending, and the next purge erases it."""
    rasa = FakeRasa()

    def make() -> RasaApiTracker:
        return RasaApiTracker("http://rasa.test", "tok", transport=httpx.MockTransport(rasa))

    monkeypatch.setattr(erasure, "tracker_from_environment", lambda transport=None: make())
    bare = RequestStore(store.engine, secret="test-secret", working_days=15, clock=Clock())
    reference = bare.submit(
        "deletion", "a@example.com", verified=True, conversation_id="conv-a1", transcript=TRANSCRIPT
    ).reference
    assert complete(bare, reference) == lifecycle.COMPLETED
    assert rasa.calls == [] and bare.get(reference).transcript == TRANSCRIPT
    assert pending_erasures(bare.sessions) == [reference]
    report = purge(
        timedelta(days=30), now=NOW, engine=store.engine, gaps=GapLog(store.engine), tracker=make()
    )
    assert report.erasures_done == 1 and report.ok
    assert [call[1] for call in rasa.calls] == ["/conversations/conv-a1/tracker/events"]
    assert bare.get(reference).transcript is None


def test_the_kinds_erased_are_those_the_registry_marks():
    from bot.requests.registry import KINDS

    assert (
        erasure.ERASING_KINDS
        == tuple(record.kind for record in KINDS if record.erases_conversations)
        == ("deletion",)
    )


def test_other_requests_and_kinds_erase_nothing(store, monkeypatch):
    monkeypatch.setattr(
        erasure, "tracker_from_environment", lambda transport=None: rasa_not_called()
    )
    access = store.submit(
        "access", "a@example.com", verified=True, conversation_id="c1", transcript=TRANSCRIPT
    ).reference
    complete(store, access)
    deletion = store.submit(
        "deletion", "a@example.com", verified=True, conversation_id="c1", transcript=TRANSCRIPT
    ).reference
    store.transition(deletion, lifecycle.REJECTED, "legal:ann", "not the account holder")
    assert store.get(access).transcript == TRANSCRIPT
    assert store.get(deletion).transcript == TRANSCRIPT
    with pytest.raises(ValueError):
        erasure.erase_requester_conversations(store.sessions, deletion)


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli_database(migrated_sqlite):
    return migrated_sqlite("purge.db")


def test_with_the_in_memory_store_the_purge_says_where_conversations_are():
    report = PurgeReport(timedelta(days=30), NOW - 30 * DAY, False, "memory")
    lines = describe(report)
    assert any("held only in Rasa's memory" in line for line in lines)
    assert any("vanish when Rasa restarts" in line for line in lines)
    assert not any("from the tracker store" in line for line in lines)


def test_cli_with_nothing_set_purges_the_embedded_store_and_makes_no_file(cli_database, tmp_path):
    file = tmp_path / "conversations.db"  # Rasa has not run yet: no file
    done = run_purge(cli_database, "--older-than", "30d", CONVERSATIONS_DB=str(file))
    assert done.returncode == 0, done.stderr
    assert "Removed 0 conversations (0 events) from the tracker store." in done.stdout
    assert "Removed 0 expired verification codes" in done.stdout
    assert not file.exists()


@pytest.mark.parametrize("age", ["30", "30x", "0d", "-5d", "1e9w"])
def test_cli_refuses_a_bad_age_with_a_sentence_and_exit_code_2(cli_database, age):
    done = run_purge(cli_database, f"--older-than={age}")
    assert done.returncode == 2
    assert "--older-than" in done.stderr and "Traceback" not in done.stderr
    assert "30d" in done.stderr or "at least 1 hour" in done.stderr
