"""Working a request (bot.requests.casework), on SQLite and PostgreSQL: assignment, notes and
messages, one extension within the limit, holds that stop the clock or not, bulk closing, and
the requester's withdrawal; each recorded in the request's history and the audit trail."""

from __future__ import annotations

from datetime import date, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.requests import lifecycle
from bot.requests.casework import Casework, CaseworkError
from bot.staff.audit import verify
from bot.storage.db import transaction
from bot.storage.models import AuditEntry, OutboxMessage

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def desk(store, clock, default_rate_limits, set_env):
    set_env(REQUEST_JURISDICTION="prc", REQUEST_MAX_EXTENSION_WORKING_DAYS="15")
    return Casework(store.engine, clock=clock)


def new_request(store, email="ann@example.com", kind="deletion"):
    return store.submit(kind, email, verified=True, details={"scope": "all"}).reference


def mails(store, to="ann@example.com"):
    with transaction(store.sessions) as session:
        return [
            m.body
            for m in session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.to_address == to)
                .order_by(OutboxMessage.id)
            ).scalars()
        ]


def audit_actions(store, reference):
    with transaction(store.sessions) as session:
        return [
            e.action
            for e in session.execute(
                select(AuditEntry).where(AuditEntry.target == reference).order_by(AuditEntry.id)
            ).scalars()
        ]


def local(moment):
    return moment.astimezone(BEIJING).date()


def test_assign_to_someone_then_nobody_counts_only_changes(store, desk):
    refs = [new_request(store, f"p{i}@example.com") for i in range(3)]
    assert desk.assign(refs, "legal1", "admin1") == 3
    assert desk.assign(refs[:2], "legal1", "admin1") == 0
    assert store.get(refs[0]).assignee == "legal1"
    assert desk.assign(refs[:1], None, "legal1") == 1 and store.get(refs[0]).assignee is None
    assert audit_actions(store, refs[0]) == ["assign", "assign"]


def test_a_note_stays_internal_and_a_message_is_mailed_and_shown_with_the_address(store, desk):
    reference = new_request(store)
    before = len(mails(store))
    desk.add_note(reference, "legal1", "Checked the account: two meetings recorded.")
    assert len(mails(store)) == before
    desk.send_message(reference, "legal1", "Which phone number is on the account?")
    assert "Which phone number is on the account?" in mails(store)[-1]
    assert [n.kind for n in desk.notes(reference)] == ["note", "message"]
    assert [m.body for m in desk.messages_for(reference, "ann@example.com")] == [
        "Which phone number is on the account?"
    ]
    assert desk.messages_for(reference, "someone@example.com") == []
    with pytest.raises(CaseworkError):
        desk.add_note(reference, "legal1", "   ")
    assert verify_trail(store)


def verify_trail(store):
    with transaction(store.sessions) as session:
        return verify(session).intact


def test_one_extension_within_the_limit_mailed_with_its_reason(store, desk, clock):
    reference = new_request(store)  # Monday 30 Nov 2026: due Monday 21 Dec
    due = store.get(reference).due_at
    assert local(due) == date(2026, 12, 21)
    with pytest.raises(CaseworkError, match="longest extension"):
        desk.extend(reference, date(2027, 3, 1), "complex request", "legal1")
    with pytest.raises(CaseworkError, match="after the current"):
        desk.extend(reference, date(2026, 12, 18), "complex request", "legal1")
    new_due = desk.extend(reference, date(2027, 1, 8), "several systems hold the data", "legal1")
    request = store.get(reference)
    assert local(new_due) == local(request.due_at) == date(2027, 1, 8)
    assert request.original_due_at == due and request.extension_reason
    assert "08 January 2027" in mails(store)[-1] and "several systems" in mails(store)[-1]
    with pytest.raises(CaseworkError, match="once"):
        desk.extend(reference, date(2027, 1, 11), "again", "legal1")


def test_a_hold_that_stops_the_clock_moves_the_due_date_on_resume(store, desk, clock):
    reference = new_request(store)
    due = store.get(reference).due_at
    desk.hold(reference, "clarification", "Please tell us which account.", True, "legal1")
    assert "paused" in mails(store)[-1] and "clarification" in mails(store)[-1]
    with pytest.raises(CaseworkError, match="already"):
        desk.hold(reference, "legal_hold", "x", False, "legal1")
    clock.now += timedelta(days=7)  # Monday to Monday: five working days
    new_due = desk.resume(reference, "legal1")
    assert local(new_due) == local(due) + timedelta(days=7)
    request = store.get(reference)
    assert request.held_at is None and request.status == lifecycle.RECEIVED
    with pytest.raises(CaseworkError, match="not on hold"):
        desk.resume(reference, "legal1")


def test_a_hold_whose_clock_runs_keeps_the_due_date(store, desk, clock):
    reference = new_request(store)
    due = store.get(reference).due_at
    desk.hold(reference, "legal_hold", "Litigation hold on this account.", False, "legal1")
    assert "keeps running" in mails(store)[-1]
    clock.now += timedelta(days=7)
    assert desk.resume(reference, "legal1") == due
    with pytest.raises(CaseworkError, match="reason"):
        desk.hold(reference, "because", "x", False, "legal1")


def test_bulk_close_rejects_open_requests_and_does_not_mail_spam(store, desk):
    spam = [new_request(store, f"s{i}@example.com") for i in range(2)]
    dup = new_request(store, "d@example.com", kind="access")
    assert desk.close(spam, "spam", "automated submissions", "legal1") == 2
    assert desk.close(spam, "spam", "again", "legal1") == 0  # closed already
    assert all(
        store.get(r).closed_as == "spam" and store.get(r).status == lifecycle.REJECTED for r in spam
    )
    assert not any("could not carry out" in body for body in mails(store, "s0@example.com"))
    assert desk.close([dup], "duplicate", "Same as ACC-ABC123.", "legal1") == 1
    assert "Same as ACC-ABC123." in mails(store, "d@example.com")[-1]
    with pytest.raises(CaseworkError):
        desk.close([dup], "rejected", "", "legal1")


def test_the_requester_withdraws_an_open_request_with_its_address_only(store, desk):
    reference = new_request(store)
    assert not desk.withdraw(reference, "other@example.com")
    assert desk.withdraw(reference, "ann@example.com")
    assert store.get(reference).status == lifecycle.WITHDRAWN
    assert "withdrawn" in mails(store)[-1]
    assert not desk.withdraw(reference, "ann@example.com")  # closed now
    with pytest.raises(CaseworkError, match="no longer open"):
        desk.extend(reference, date(2027, 1, 8), "x", "legal1")
    assert verify_trail(store)


def test_an_unknown_reference_is_a_clear_error(desk):
    with pytest.raises(CaseworkError, match="no request DEL-000000"):
        desk.add_note("DEL-000000", "legal1", "x")
