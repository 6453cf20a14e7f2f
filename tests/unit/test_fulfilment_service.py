"""Starting a request makes its tasks; tasks move by ticks, answers, callbacks, failed attempts
and retries; the request completes only when every task is settled (bot.fulfilment.service).
On SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.fulfilment.service import Fulfilment, FulfilmentError
from bot.requests import lifecycle
from bot.requests import task_states as states
from bot.requests.delivery import Deliveries
from bot.storage.db import session_factory
from bot.storage.models import AuditEntry, Delivery, OutboxMessage
from tests.support.fulfilment import systems_yaml, use_systems


@pytest.fixture
def fulfilment(store):
    return Fulfilment(store, Deliveries(store.engine, store.secret, store.clock))


@pytest.fixture
def two_systems(set_env, tmp_path):
    return use_systems(set_env, tmp_path, systems_yaml())


def verified(store, kind="deletion", email="jane@example.com"):
    return store.submit(kind, email, verified=True).reference


def state_of(views):
    return {view.system: view.state for view in views}


def actions(store):
    with session_factory(store.engine)() as session:
        return [entry.action for entry in session.execute(select(AuditEntry)).scalars()]


def mails(store):
    with session_factory(store.engine)() as session:
        return [m.body for m in session.execute(select(OutboxMessage)).scalars()]


def test_without_a_systems_file_legal_ticks_one_task_and_that_completes_it(
    store, fulfilment, set_env
):
    set_env(SYSTEMS_FILE=None)
    reference = verified(store)
    [task] = fulfilment.start(reference, "lee")
    assert (task.system, task.reach, task.state) == ("legal", "manual", states.PENDING)
    assert store.get(reference).status == lifecycle.IN_PROGRESS
    with pytest.raises(FulfilmentError) as refused:
        fulfilment.tick(reference, task.id, "lee", "  ")
    assert refused.value.code == "empty_note"
    fulfilment.tick(reference, task.id, "lee", "Account removed in the admin console")
    assert store.get(reference).status == lifecycle.COMPLETED
    body = mails(store)[-1]
    assert "the legal department: done (Account removed in the admin console)" in body
    assert {"fulfilment_started", "task_ticked"} <= set(actions(store))


def test_one_task_per_system_that_takes_the_kind(store, fulfilment, two_systems):
    deletion, access = verified(store), verified(store, "access", "ann@example.com")
    complaint = verified(store, "complaint", "bob@example.com")
    assert state_of(fulfilment.start(deletion, "lee")) == {
        "accounts": "pending",
        "legal": "pending",
    }
    assert state_of(fulfilment.start(access, "lee")) == {"accounts": "pending"}
    assert fulfilment.start(complaint, "lee") == []  # no system takes it: closed by hand
    store.transition(complaint, lifecycle.COMPLETED, "lee")
    assert store.get(complaint).status == lifecycle.COMPLETED


def test_the_request_completes_only_when_every_task_is_settled(store, fulfilment, two_systems):
    reference = verified(store)
    views = {view.system: view for view in fulfilment.start(reference, "lee")}
    [claimed] = fulfilment.claim_due()
    assert claimed.task_id == views["accounts"].id and claimed.attempts == 1
    fulfilment.answered(claimed.task_id, None)  # 202: accepted, answer to follow
    assert state_of(fulfilment.tasks(reference))["accounts"] == states.SENT
    fulfilment.answered(claimed.task_id, "done", "account deleted", via="callback")
    assert store.get(reference).status == lifecycle.IN_PROGRESS  # legal's task is open
    fulfilment.tick(reference, views["legal"].id, "lee", "Backups flagged for expiry")
    assert store.get(reference).status == lifecycle.COMPLETED
    body = mails(store)[-1]
    assert "Account service: done (account deleted)" in body
    assert "Legal department: done (Backups flagged for expiry)" in body


def test_a_replayed_callback_changes_nothing(store, fulfilment, two_systems):
    reference = verified(store, "suspension")
    [task] = fulfilment.start(reference, "lee")
    with pytest.raises(FulfilmentError) as early:
        fulfilment.answered(task.id, "done", via="callback")  # never delivered
    assert early.value.code == "not_waiting"
    fulfilment.claim_due()
    fulfilment.answered(task.id, "failed", "account locked by an admin", via="callback")
    before = fulfilment.tasks(reference)
    with pytest.raises(FulfilmentError) as replay:
        fulfilment.answered(task.id, "done", via="callback")
    assert replay.value.code == "settled"
    assert fulfilment.tasks(reference) == before
    assert store.get(reference).status == lifecycle.IN_PROGRESS  # failed keeps it open


def test_failed_deliveries_back_off_then_fail_and_can_be_retried(
    store, fulfilment, two_systems, set_env, clock
):
    set_env(FULFILMENT_MAX_ATTEMPTS="3", FULFILMENT_RETRY_SECONDS="10")
    reference = verified(store, "correction")
    [task] = fulfilment.start(reference, "lee")
    waits = []
    for attempt in (1, 2, 3):
        [claimed] = fulfilment.claim_due()
        assert claimed.attempts == attempt and fulfilment.claim_due() == []  # leased
        view = fulfilment.attempt_failed(task.id, "no answer (ConnectError)")
        if view.next_attempt_at:
            waits.append((view.next_attempt_at - clock.now).total_seconds())
            assert fulfilment.claim_due() == []  # not before the backoff
            clock.now = view.next_attempt_at
    assert waits == [10, 20]
    assert view.state == states.FAILED and "after 3 attempts" in view.last_error
    assert fulfilment.open_by_system() == {"accounts": {"failed": 1, "waiting": 0}}
    fulfilment.retry(reference, task.id, "lee")
    [again] = fulfilment.claim_due()
    assert again.attempts == 1
    fulfilment.answered(task.id, "done", "phone number corrected")
    assert store.get(reference).status == lifecycle.COMPLETED
    assert {"task_sent", "task_attempt_failed", "task_retried", "task_answer"} <= set(
        actions(store)
    )


def test_closing_by_hand_with_open_tasks_needs_a_reason(store, fulfilment, two_systems):
    reference = verified(store)
    fulfilment.start(reference, "lee")
    with pytest.raises(lifecycle.IllegalTransition) as refused:
        store.transition(reference, lifecycle.COMPLETED, "lee")
    assert refused.value.code == "tasks_open"
    store.transition(reference, lifecycle.COMPLETED, "lee", "done in the old admin tool")
    assert store.get(reference).status == lifecycle.COMPLETED
    assert fulfilment.claim_due() == []  # nothing is delivered for a closed request


def test_a_manual_task_cannot_be_answered_as_a_system_nor_a_webhook_task_ticked(
    store, fulfilment, two_systems
):
    reference = verified(store)
    views = {view.system: view for view in fulfilment.start(reference, "lee")}
    with pytest.raises(FulfilmentError) as refused:
        fulfilment.tick(reference, views["accounts"].id, "lee", "did it")
    assert refused.value.code == "not_tickable"
    with pytest.raises(FulfilmentError):
        fulfilment.retry(reference, views["legal"].id, "lee")


def test_an_access_export_in_the_answer_becomes_the_requesters_download(
    store, fulfilment, two_systems
):
    reference = verified(store, "access")
    [task] = fulfilment.start(reference, "lee")
    fulfilment.claim_due()
    fulfilment.answered(task.id, "done", "exported", export=("account.json", b'{"name": "Jane"}'))
    assert store.get(reference).status == lifecycle.COMPLETED
    with session_factory(store.engine)() as session:
        [delivery] = session.execute(select(Delivery)).scalars()
        assert delivery.filename == "account.json" and delivery.size == 16
    assert any("/download/" in body for body in mails(store))


def test_an_export_url_is_fetched_before_the_task_is_done(store, fulfilment, two_systems, clock):
    reference = verified(store, "access")
    [task] = fulfilment.start(reference, "lee")
    fulfilment.claim_due()
    fulfilment.answered(task.id, "done", export_url="http://127.0.0.1:9/export/1")
    assert state_of(fulfilment.tasks(reference)) == {"accounts": states.SENT}
    [fetch] = fulfilment.claim_due()
    assert fetch.export_url == "http://127.0.0.1:9/export/1"
    fulfilment.export_fetched(task.id, "account.json", b"{}")
    assert store.get(reference).status == lifecycle.COMPLETED


def test_a_withdrawn_request_is_no_longer_delivered(store, fulfilment, two_systems, clock):
    reference = verified(store, "suspension")
    [task] = fulfilment.start(reference, "lee")
    store.transition(reference, lifecycle.WITHDRAWN, "requester")
    assert fulfilment.claim_due() == []
    with pytest.raises(FulfilmentError) as refused:
        fulfilment.tick(reference, task.id, "lee", "x")
    assert refused.value.code == "not_open"
    clock.now += timedelta(hours=2)
    assert fulfilment.claim_due() == []
