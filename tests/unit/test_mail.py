"""The outbox and its SMTP sender, against a real SMTP server on localhost (aiosmtpd)."""

import logging
import smtplib
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.core.clock import utcnow
from bot.mail.outbox import enqueue, list_messages
from bot.mail.smtp import MAX_ATTEMPTS, SmtpSettings, backoff, deliver_due, smtp_settings
from bot.storage.db import make_engine, session_factory, transaction
from bot.storage.models import OutboxMessage
from tests.support.mail import Inbox


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as probe:  # a free port: aiosmtpd checks readiness by connecting to it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


def queue(sessions, to="jane@example.com", subject="Hello", body="Body text", key=None):
    with transaction(sessions) as session:
        return enqueue(session, to, subject, body, dedupe_key=key).id


def test_delivers_over_real_smtp_and_records_it(sessions, smtp_server):
    inbox, port = smtp_server
    queue(sessions, body="Your verification code is 123456")
    settings = SmtpSettings(host="127.0.0.1", port=port, sender="privacy@videopro.example")
    assert deliver_due(sessions, settings) == 1
    [(recipients, message)] = inbox.messages
    assert recipients == ["jane@example.com"]
    assert message["Subject"] == "Hello" and message["From"] == "privacy@videopro.example"
    assert "Your verification code is 123456" in message.get_payload()
    with transaction(sessions) as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1
    assert deliver_due(sessions, settings) == 0  # sent once only


def test_smtp_down_keeps_the_message_and_retries_later(sessions, smtp_server):
    inbox, port = smtp_server
    queue(sessions)
    calls = []

    def refuse(message):
        calls.append(message)
        raise smtplib.SMTPServerDisconnected("down")

    settings = SmtpSettings(host="127.0.0.1", port=port, sender="p@videopro.example")
    now = utcnow()
    assert deliver_due(sessions, settings, send=refuse, now=now) == 0
    with transaction(sessions) as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
        assert row.status == "queued" and row.attempts == 1 and "down" in row.last_error
    assert deliver_due(sessions, settings, send=refuse, now=now) == 0  # not due yet
    assert len(calls) == 1
    assert deliver_due(sessions, settings, now=now + backoff(1) + timedelta(seconds=1)) == 1
    assert len(inbox.messages) == 1


def test_gives_up_after_the_last_try_but_keeps_the_message(sessions):
    queue(sessions)
    settings = SmtpSettings(host="127.0.0.1", port=1, sender="p@videopro.example")
    now = utcnow()
    for attempt in range(MAX_ATTEMPTS):
        deliver_due(sessions, settings, now=now + timedelta(days=attempt + 1))
    with transaction(sessions) as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS


def test_backoff_grows_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff(30) == timedelta(hours=1)


def test_a_repeated_dedupe_key_queues_one_message(sessions):
    assert queue(sessions, key="confirm:DEL-AAAAAA") == queue(sessions, key="confirm:DEL-AAAAAA")
    with transaction(sessions) as session:
        assert len(list_messages(session)) == 1


def test_list_filters_by_recipient(sessions):
    queue(sessions, to="a@example.com")
    queue(sessions, to="b@example.com")
    with transaction(sessions) as session:
        assert [m.to_address for m in list_messages(session, "B@example.com")] == ["b@example.com"]


def test_queueing_logs_a_masked_address(sessions, caplog):
    with caplog.at_level(logging.INFO, logger="bot.mail.outbox"):
        queue(sessions, to="jane.doe@example.com")
    assert "queued" in caplog.text
    assert "jane.doe@example.com" not in caplog.text and "j***@e***.com" in caplog.text


def test_smtp_settings_need_host_port_and_sender(set_env, no_env_file):
    set_env(
        SMTP_HOST=None,
        SMTP_PORT=None,
        SMTP_FROM=None,
        SMTP_USERNAME=None,
        SMTP_PASSWORD=None,
        SMTP_STARTTLS=None,
    )
    assert smtp_settings() is None
    set_env(SMTP_HOST="127.0.0.1", SMTP_PORT="2525")
    assert smtp_settings() is None
    set_env(SMTP_FROM="privacy@videopro.example")
    assert smtp_settings() == SmtpSettings("127.0.0.1", 2525, "privacy@videopro.example")
    set_env(SMTP_STARTTLS="yes", SMTP_USERNAME="relay", SMTP_PASSWORD="pw")
    assert smtp_settings() == SmtpSettings(
        "127.0.0.1",
        2525,
        "privacy@videopro.example",
        username="relay",
        password="pw",
        starttls=True,
    )


def test_senders_running_at_once_send_each_message_exactly_once(sessions):
    """The web app's sender loop and `python -m bot outbox deliver` may overlap."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    for index in range(20):
        queue(sessions, to=f"user{index}@example.com", body=f"message {index}")
    sent, lock = [], threading.Lock()

    def slow_send(message):
        with lock:
            sent.append(message["To"])
        threading.Event().wait(0.01)  # a real SMTP conversation takes a while

    settings = SmtpSettings(host="127.0.0.1", port=1, sender="p@videopro.example")
    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(lambda _: deliver_due(sessions, settings, send=slow_send), range(4)))
    assert sorted(sent) == sorted(f"user{i}@example.com" for i in range(20))
    assert sum(counts) == 20
    with transaction(sessions) as session:
        assert {m.status for m in list_messages(session)} == {"sent"}
