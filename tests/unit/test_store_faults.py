"""The request store under faults: many confirmations at once, the database away or failing in
the middle of a write, and SMTP down. On SQLite and PostgreSQL (the PostgreSQL half is marked
`db`); the database cut off through a proxy, which only PostgreSQL has, is in
tests/db/test_store_network_faults.py.

Covered elsewhere, so not repeated here: a single outbox message retried after a fake SMTP
failure and then sent (tests/unit/test_mail.py), and a failing enqueue leaving no request
(tests/unit/test_store.py). Here: the store end to end, real refused connections, the backoff over
several rounds, recovery, and the exact counts.
"""

import smtplib
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

import bot.requests.store as store_module
import bot.storage.db
from bot.mail.smtp import SmtpSettings, backoff, deliver_due
from bot.requests import lifecycle, ratelimit
from bot.storage.db import transaction
from bot.storage.models import OutboxMessage, PrivacyRequest, RequestEvent
from tests.support import MONDAY as T0
from tests.support import Clock
from tests.support.mail import Inbox
from tests.support.stores import (
    KINDS,
    NOTHING,
    ONE_REQUEST,
    closed_port,
    confirm,
    counts,
    new_store,
)

pytestmark = pytest.mark.usefixtures("default_rate_limits")


@pytest.fixture
def store(database_url):
    store = new_store(database_url)
    yield store
    store.engine.dispose()


# -- many at once -----------------------------------------------------------------------------


def test_200_confirmations_at_once_each_retried_store_one_row_each(store):
    """200 requests confirmed concurrently, every call made twice at the same time (a retried
    action call): one row, one reference, one initial event and one e-mail per request."""
    calls = [n for n in range(200) for _ in range(2)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(lambda n: (n, confirm(store, n)), calls))
    elapsed = time.monotonic() - started

    by_request = {}
    for n, result in results:
        by_request.setdefault(n, []).append(result)
    assert all(len(pair) == 2 for pair in by_request.values()) and len(by_request) == 200
    for n, (first, second) in by_request.items():
        assert first.reference == second.reference, n
        assert sorted([first.created, second.created]) == [False, True], n  # one stored it
        assert first.kind == KINDS[n % len(KINDS)] and first.status == lifecycle.RECEIVED

    with transaction(store.sessions) as session:
        rows = session.execute(select(PrivacyRequest)).scalars().all()
        events = session.execute(select(RequestEvent)).scalars().all()
        mail = session.execute(select(OutboxMessage)).scalars().all()
    references = {pair[0].reference for pair in by_request.values()}
    assert len(rows) == 200 and len(references) == 200
    assert {row.reference for row in rows} == references
    assert {row.conversation_id for row in rows} == {f"conv-{n}" for n in range(200)}

    initial = {}
    for event in events:
        assert event.from_status is None and event.to_status == lifecycle.RECEIVED
        initial[event.request_id] = initial.get(event.request_id, 0) + 1
    assert len(events) == 200 and set(initial.values()) == {1}
    assert set(initial) == {row.id for row in rows}

    assert len(mail) == 200
    assert sorted(m.dedupe_key for m in mail) == sorted(f"confirm:{r}" for r in references)
    assert {m.to_address for m in mail} == {f"visitor{n}@example.com" for n in range(200)}
    assert elapsed < 60, f"400 submits took {elapsed:.1f} s"


# -- the database away ------------------------------------------------------------------------


def test_an_unreachable_postgresql_fails_fast_with_a_database_error():
    store = new_store(f"postgresql://postgres@127.0.0.1:{closed_port()}/requests?connect_timeout=2")
    try:
        for call in (
            lambda: confirm(store, 1),
            lambda: store.send_code("a@example.com", "c"),
            lambda: store.status_for("DEL-2222222", "a@example.com"),
        ):
            started = time.monotonic()
            with pytest.raises(OperationalError) as error:
                call()
            assert isinstance(error.value, SQLAlchemyError)  # what actions/submit.py catches
            assert time.monotonic() - started < 3
    finally:
        store.engine.dispose()


def test_a_postgresql_server_that_never_answers_times_out(monkeypatch):
    """A server that takes the TCP connection but never replies (a hung or firewalled host)
    must not hang the chat: connections give up after bot.storage.db's connect timeout."""
    monkeypatch.setattr(bot.storage.db, "POSTGRES_CONNECT_TIMEOUT", 1)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes handshakes; nobody ever reads or replies
    store = new_store(f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/requests")
    outcome = []

    def call():
        try:
            confirm(store, 1)
        except Exception as error:  # noqa: BLE001 - the test looks at what it was
            outcome.append(error)

    worker = threading.Thread(target=call, daemon=True)
    try:
        worker.start()
        worker.join(timeout=6)
        assert not worker.is_alive(), "still waiting for the database after 6 s"
        [error] = outcome
        assert isinstance(error, OperationalError) and "timeout" in str(error)
    finally:
        silent.close()  # also ends a connection attempt that is still waiting
        worker.join(timeout=5)
        store.engine.dispose()


def test_an_unopenable_sqlite_file_fails_with_a_database_error(tmp_path):
    (tmp_path / "requests.db").mkdir()  # the database path is a directory
    store = new_store(f"sqlite:///{tmp_path / 'requests.db'}")
    try:
        with pytest.raises(OperationalError):
            confirm(store, 1)
    finally:
        store.engine.dispose()


def test_a_failure_after_the_outbox_row_rolls_back_everything_then_the_retry_stores_one(
    store, monkeypatch
):
    """The last write of the transaction fails (here: after the e-mail is queued): no request,
    no event, no e-mail is left; the same call then stores exactly one of each."""
    real_enqueue = store_module.enqueue
    failures = []

    def enqueue_then_fail(session, *args, **kwargs):
        message = real_enqueue(session, *args, **kwargs)  # flushed: the row is in the database
        failures.append(message.id)
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(store_module, "enqueue", enqueue_then_fail)
    with pytest.raises(OperationalError):
        confirm(store, 3)
    assert failures and counts(store) == NOTHING

    monkeypatch.setattr(store_module, "enqueue", real_enqueue)
    first = confirm(store, 3)
    again = confirm(store, 3)  # and the action's own retry still finds it
    assert first.created and not again.created and again.reference == first.reference
    assert counts(store) == ONE_REQUEST


def test_a_refused_code_or_request_writes_nothing_either(store):
    """A rate-limit refusal happens inside the transaction: nothing of the call remains."""
    for n in range(5):
        store.send_code("a@example.com", f"c{n}")
    before = counts(store)
    with pytest.raises(ratelimit.RateLimited):
        store.send_code("a@example.com", "c9")
    assert counts(store) == before


# -- SMTP down --------------------------------------------------------------------------------


def test_smtp_down_keeps_every_message_and_delivers_each_once_when_back(database_url):
    """Requests made while the mail server refuses connections are stored as usual; their
    e-mails wait, retried on the backoff schedule, and go out exactly once when it is back."""
    store = new_store(database_url, clock=Clock(T0))
    port = closed_port()
    settings = SmtpSettings(
        host="127.0.0.1", port=port, sender="privacy@videopro.example", timeout=5
    )
    try:
        references = [confirm(store, n).reference for n in range(5)]
        store.send_code("visitor9@example.com", "conv-9")
        statuses = {ref: store.get(ref).status for ref in references}
        assert set(statuses.values()) == {lifecycle.RECEIVED}

        # Round 1: connection refused for every message (the real SMTP transport).
        assert deliver_due(store.sessions, settings, now=T0) == 0
        rows = outbox(store)
        assert len(rows) == 6
        for row in rows:
            assert row.status == "queued" and row.attempts == 1
            assert row.last_error.startswith("ConnectionRefusedError")
            assert row.next_attempt_at == T0 + backoff(1)

        # Not due yet: no try at all.
        assert deliver_due(store.sessions, settings, now=T0 + backoff(1) / 2) == 0
        assert {row.attempts for row in outbox(store)} == {1}

        # Round 2, still down: the wait doubles.
        second = T0 + backoff(1)
        assert deliver_due(store.sessions, settings, now=second) == 0
        for row in outbox(store):
            assert row.status == "queued" and row.attempts == 2
            assert row.next_attempt_at == second + backoff(2)

        # The requests themselves are untouched by all this.
        for ref in references:
            request = store.get(ref)
            assert request.status == statuses[ref] and len(request.events) == 1

        # The mail server is back, on the same address.
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            third = second + backoff(2)
            assert deliver_due(store.sessions, settings, now=third) == 6
            assert deliver_due(store.sessions, settings, now=third + timedelta(days=1)) == 0
        finally:
            controller.stop()
        recipients = sorted(rcpt for rcpts, _ in inbox.messages for rcpt in rcpts)
        assert recipients == sorted(
            [f"visitor{n}@example.com" for n in range(5)] + ["visitor9@example.com"]
        )  # each exactly once
        subjects = {message["Subject"] for _, message in inbox.messages}
        assert {f"Your privacy request {ref}" for ref in references} < subjects
        for row in outbox(store):
            assert row.status == "sent" and row.attempts == 3 and row.last_error is None
        assert counts(store)["privacy_requests"] == 5
    finally:
        store.engine.dispose()


def test_an_smtp_error_reply_is_retried_like_a_refused_connection(database_url):
    store = new_store(database_url, clock=Clock(T0))
    settings = SmtpSettings(host="127.0.0.1", port=25, sender="privacy@videopro.example")
    try:
        reference = confirm(store, 1).reference

        def rejecting(message):
            raise smtplib.SMTPDataError(451, b"4.3.0 try again later")

        assert deliver_due(store.sessions, settings, send=rejecting, now=T0) == 0
        [row] = outbox(store)
        assert row.status == "queued" and row.attempts == 1 and "451" in row.last_error
        sent = []
        assert deliver_due(store.sessions, settings, send=sent.append, now=T0 + backoff(1)) == 1
        assert [m["Subject"] for m in sent] == [f"Your privacy request {reference}"]
        assert store.get(reference).status == lifecycle.RECEIVED
    finally:
        store.engine.dispose()


def outbox(store):
    with transaction(store.sessions) as session:
        return session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
