"""The request store on both databases: lifecycle, idempotency, duplicates, verification."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from bot.requests import lifecycle, verification
from bot.requests.references import REFERENCE_PATTERN
from bot.storage.db import transaction
from bot.storage.models import OutboxMessage, PrivacyRequest, RequestEvent, VerificationCode
from tests.support import MONDAY


def count(store, model):
    with transaction(store.sessions) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_migrations_create_the_tables_and_not_rasas(store):
    tables = set(inspect(store.engine).get_table_names())
    assert {"privacy_requests", "request_events", "verification_codes", "outbox"} <= tables
    assert "events" not in tables  # Rasa's SQL tracker store table name stays free


def test_a_verified_request_is_received_with_reference_due_date_trail_and_mail(store):
    result = store.submit(
        "deletion",
        "jane@example.com",
        details={"scope": "all"},
        verified=True,
        conversation_id="c1",
        idempotency_key="c1:deletion:m1",
    )
    assert result.created and not result.duplicate
    assert REFERENCE_PATTERN.match(result.reference) and result.reference.startswith("DEL-")
    assert result.status == lifecycle.RECEIVED
    # 15 PRC working days (no holiday in between) = 3 weeks; due at the end of that day in Beijing.
    assert result.due_at == (MONDAY + timedelta(days=21)).replace(hour=15, minute=59, second=59)
    row = store.get(result.reference)
    assert row.verified_at is not None and row.details == {"scope": "all"}
    assert [(e.from_status, e.to_status, e.actor) for e in row.events] == [
        (None, "received", "assistant")
    ]
    with transaction(store.sessions) as session:
        mail = session.execute(select(OutboxMessage)).scalars().all()
    assert [(m.to_address, m.status) for m in mail] == [("jane@example.com", "queued")]
    assert result.reference in mail[0].body and "21 December 2026" in mail[0].body


def test_an_unverified_request_says_so(store):
    result = store.submit("access", "a@example.com", verified=False, conversation_id="c")
    assert result.status == lifecycle.UNVERIFIED
    assert "not verified" in store.get(result.reference).events[0].note


def test_unsubscribe_takes_effect_at_once(store):
    result = store.submit("unsubscribe", "a@example.com", conversation_id="c")
    assert result.status == lifecycle.COMPLETED
    assert [e.to_status for e in store.get(result.reference).events] == [
        "received",
        "in_progress",
        "completed",
    ]


def test_a_retried_submit_stores_one_row(store):
    first = store.submit(
        "correction", "a@example.com", idempotency_key="c1:correction:m9", verified=True
    )
    again = store.submit(
        "correction", "a@example.com", idempotency_key="c1:correction:m9", verified=True
    )
    assert again.reference == first.reference and not again.created
    assert count(store, PrivacyRequest) == 1 and count(store, OutboxMessage) == 1


def test_a_second_open_request_of_the_same_kind_returns_the_first(store):
    first = store.submit("deletion", "a@example.com", idempotency_key="c1:x", verified=True)
    second = store.submit("deletion", "a@example.com", idempotency_key="c2:x", verified=True)
    assert second.duplicate and second.reference == first.reference
    other_kind = store.submit("access", "a@example.com", idempotency_key="c3:x", verified=True)
    other_address = store.submit("deletion", "b@example.com", idempotency_key="c4:x")
    assert other_kind.created and other_address.created
    store.transition(first.reference, lifecycle.IN_PROGRESS, "legal:ann")
    store.transition(first.reference, lifecycle.COMPLETED, "legal:ann", "deleted")
    third = store.submit("deletion", "a@example.com", idempotency_key="c5:x", verified=True)
    assert third.created and third.reference != first.reference  # the first is closed


def test_concurrent_retries_of_one_confirmation_store_one_row(store):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(
                lambda _: store.submit(
                    "suspension",
                    "a@example.com",
                    reason="surveys",
                    idempotency_key="c1:suspension:m1",
                    verified=True,
                ),
                range(16),
            )
        )
    assert len({r.reference for r in results}) == 1
    assert count(store, PrivacyRequest) == 1


def test_lifecycle_is_enforced_and_audited(store):
    reference = store.submit("access", "a@example.com", verified=False).reference
    with pytest.raises(lifecycle.IllegalTransition):
        store.transition(reference, lifecycle.COMPLETED, "legal:ann")
    store.transition(reference, lifecycle.RECEIVED, "legal:ann", "identity checked by phone")
    store.transition(reference, lifecycle.IN_PROGRESS, "legal:ann")
    with pytest.raises(lifecycle.IllegalTransition, match="reason"):
        store.transition(reference, lifecycle.REJECTED, "legal:ann", "  ")
    store.transition(reference, lifecycle.REJECTED, "legal:ann", "the account does not exist")
    row = store.get(reference)
    assert row.status == "rejected" and row.rejection_reason == "the account does not exist"
    assert row.verified_at is not None
    assert [e.to_status for e in row.events] == [
        "unverified",
        "received",
        "in_progress",
        "rejected",
    ]
    assert {e.actor for e in row.events[1:]} == {"legal:ann"}


def test_status_needs_the_matching_email(store):
    reference = store.submit("deletion", "a@example.com", verified=True).reference
    answer = store.status_for(reference, "a@example.com")
    assert answer.status == "received" and answer.kind == "deletion"
    assert store.status_for(reference, "b@example.com") is None
    assert store.status_for("DEL-2222222", "a@example.com") is None


def test_verification_code_right_wrong_expired_and_locked(store, clock):
    store.send_code("a@example.com", "conv")
    with transaction(store.sessions) as session:
        row = session.execute(select(VerificationCode)).scalar_one()
        mail = session.execute(select(OutboxMessage)).scalar_one()
    assert len(row.code_hash) == 64 and row.code_hash not in mail.body  # stored hashed
    code = mail.body.split("code is ")[1][:6]
    assert code.isdigit() and code not in row.code_hash
    wrong = "000000" if code != "000000" else "111111"
    assert store.check_code("a@example.com", "conv", wrong).attempts_left == 4
    assert store.check_code("a@example.com", "other-conv", code).outcome == verification.MISSING
    assert store.check_code("a@example.com", "conv", code).ok
    assert store.check_code("a@example.com", "conv", code).outcome == verification.MISSING

    store.send_code("a@example.com", "conv")
    clock.now += verification.CODE_TTL + timedelta(seconds=1)
    with transaction(store.sessions) as session:
        body = (
            session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
            .scalars()
            .first()
            .body
        )
    assert (
        store.check_code("a@example.com", "conv", body.split("code is ")[1][:6]).outcome
        == verification.EXPIRED
    )

    store.send_code("a@example.com", "conv")
    outcomes = [store.check_code("a@example.com", "conv", wrong).outcome for _ in range(6)]
    assert outcomes == ["wrong"] * 4 + ["locked", "locked"]


def test_a_new_code_replaces_the_old_one(store):
    store.send_code("a@example.com", "conv")
    store.send_code("a@example.com", "conv")
    with transaction(store.sessions) as session:
        bodies = [m.body for m in session.execute(select(OutboxMessage)).scalars()]
    first = bodies[0].split("code is ")[1][:6]
    second = bodies[1].split("code is ")[1][:6]
    if first != second:
        assert not store.check_code("a@example.com", "conv", first).ok
    assert store.check_code("a@example.com", "conv", second).ok
    assert store.has_active_code("a@example.com", "conv") is False


def test_nothing_half_written_when_the_transaction_fails(store, monkeypatch):
    import bot.requests.store as store_module

    def broken_enqueue(*args, **kwargs):
        raise RuntimeError("mail table unavailable")

    monkeypatch.setattr(store_module, "enqueue", broken_enqueue)
    with pytest.raises(RuntimeError):
        store.submit("deletion", "a@example.com", verified=True, idempotency_key="k")
    assert count(store, PrivacyRequest) == 0 and count(store, RequestEvent) == 0


def test_unknown_kind_is_refused(store):
    with pytest.raises(ValueError):
        store.submit("teleport", "a@example.com")
