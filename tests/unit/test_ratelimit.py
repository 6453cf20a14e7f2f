"""Rate limits on verification codes and new requests, on both databases
(`bot.requests.ratelimit`)."""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.requests import ratelimit, verification
from bot.requests.ratelimit import RateLimited
from bot.storage.db import make_engine, session_factory, transaction
from bot.storage.models import OutboxMessage, PrivacyRequest, VerificationCode
from tests.support import MONDAY as START

pytestmark = pytest.mark.usefixtures("default_rate_limits")


def count(store, model, *conditions):
    with transaction(store.sessions) as session:
        return session.execute(
            select(func.count()).select_from(model).where(*conditions)
        ).scalar_one()


def test_the_defaults_are_five_an_hour_and_five_requests_a_day():
    assert ratelimit.limit(ratelimit.CODES_PER_EMAIL_WHAT) == ratelimit.Limit(
        ratelimit.CODES_PER_EMAIL_WHAT, 5, timedelta(hours=1)
    )
    assert ratelimit.limit(ratelimit.CODES_PER_CONVERSATION_WHAT).count == 5
    assert ratelimit.limit(ratelimit.REQUESTS_PER_CONVERSATION_WHAT) == ratelimit.Limit(
        ratelimit.REQUESTS_PER_CONVERSATION_WHAT, 5, timedelta(hours=24)
    )


def test_the_sixth_code_for_one_address_is_refused_across_conversations(store, clock):
    for minute in range(5):
        clock.now = START + timedelta(minutes=minute * 10)  # 09:00, 09:10 ... 09:40
        store.send_code("victim@example.com", "conv-a" if minute % 2 else "conv-b")
    mails = count(store, OutboxMessage)
    assert mails == 5

    clock.now = START + timedelta(minutes=45)
    with pytest.raises(RateLimited) as refused:
        store.send_code("victim@example.com", "conv-c")  # a third conversation: still refused
    assert refused.value.what == ratelimit.CODES_PER_EMAIL_WHAT
    assert refused.value.limit == 5 and refused.value.window == timedelta(hours=1)
    # The 09:00 code leaves the window at 10:00, 15 minutes from 09:45.
    assert refused.value.retry_after == timedelta(minutes=15)
    assert refused.value.retry_after_minutes == 15
    assert count(store, OutboxMessage) == mails  # no e-mail queued
    assert count(store, VerificationCode) == 5  # no code stored
    # The refusal did not spend the earlier codes either: the last one still works.
    assert store.has_active_code("victim@example.com", "conv-b")

    # Another address is not affected.
    store.send_code("someone.else@example.com", "conv-d")


def test_the_sixth_code_in_one_conversation_is_refused_whatever_the_address(store, clock):
    for n in range(5):
        clock.now = START + timedelta(minutes=n)
        store.send_code(f"address{n}@example.com", "cycling")
    clock.now = START + timedelta(minutes=30)
    with pytest.raises(RateLimited) as refused:
        store.send_code("address5@example.com", "cycling")
    assert refused.value.what == ratelimit.CODES_PER_CONVERSATION_WHAT
    assert refused.value.retry_after == timedelta(minutes=30)
    assert count(store, OutboxMessage) == 5
    assert count(store, OutboxMessage, OutboxMessage.to_address == "address5@example.com") == 0
    store.send_code("address5@example.com", "another-conversation")  # that one has room


def test_codes_work_again_once_the_window_has_passed(store, clock):
    for n in range(5):
        clock.now = START + timedelta(minutes=n)
        store.send_code("a@example.com", "c")
    clock.now = START + timedelta(minutes=59, seconds=59)
    with pytest.raises(RateLimited) as refused:
        store.send_code("a@example.com", "c")
    assert refused.value.retry_after == timedelta(seconds=1)
    assert refused.value.retry_after_minutes == 1

    clock.now = START + timedelta(hours=1)  # the first code has left the window: room for one
    store.send_code("a@example.com", "c")
    with pytest.raises(RateLimited) as refused:
        store.send_code("a@example.com", "c")
    assert refused.value.retry_after == timedelta(minutes=1)  # the 09:01 code leaves at 10:01
    clock.now = START + timedelta(hours=2)
    store.send_code("a@example.com", "c")
    assert count(store, VerificationCode) == 7 and count(store, OutboxMessage) == 7


def test_issue_code_itself_is_limited(database_url):
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    try:
        for _ in range(5):
            with transaction(sessions) as session:
                verification.issue_code(session, "s", "a@example.com", "c", START)
        with pytest.raises(RateLimited):
            with transaction(sessions) as session:
                verification.issue_code(session, "s", "a@example.com", "c", START)
        with transaction(sessions) as session:
            verification.issue_code(session, "s", "a@example.com", "c", START + timedelta(hours=1))
    finally:
        engine.dispose()


def test_concurrent_code_requests_cannot_overshoot_the_limit(store):
    """Twelve at once for one address: the counting is serialised, so exactly five get out."""

    def send(n):
        try:
            store.send_code("victim@example.com", f"conv-{n}")
            return "sent"
        except RateLimited:
            return "refused"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(send, range(12)))
    assert outcomes.count("sent") == 5 and outcomes.count("refused") == 7
    assert count(store, OutboxMessage) == 5 and count(store, VerificationCode) == 5


def submit(store, n, conversation="conv", kind="deletion", **kwargs):
    return store.submit(
        kind,
        f"user{n}@example.com",
        verified=True,
        conversation_id=conversation,
        idempotency_key=f"{conversation}:{kind}:m{n}",
        **kwargs,
    )


def test_the_sixth_new_request_in_a_conversation_is_refused(store, clock):
    first = None
    for n in range(5):
        clock.now = START + timedelta(hours=n)
        result = submit(store, n)
        assert result.created
        first = first or result
    clock.now = START + timedelta(hours=10)
    with pytest.raises(RateLimited) as refused:
        submit(store, 5)
    assert refused.value.what == ratelimit.REQUESTS_PER_CONVERSATION_WHAT
    assert refused.value.retry_after == timedelta(hours=14)  # the 09:00 one leaves at 09:00 + 1d
    assert count(store, PrivacyRequest) == 5 and count(store, OutboxMessage) == 5

    # At the limit, a retried call and a duplicate still get the request that exists.
    again = submit(store, 0)
    assert again.reference == first.reference and not again.created
    duplicate = store.submit(
        "deletion",
        "user0@example.com",
        verified=True,
        conversation_id="conv",
        idempotency_key="conv:deletion:other",
    )
    assert duplicate.duplicate and duplicate.reference == first.reference
    assert count(store, PrivacyRequest) == 5

    # Other conversations, and requests without one (made by staff), are unaffected.
    assert submit(store, 6, conversation="other").created
    assert store.submit("access", "walk-in@example.com", verified=True, channel="post").created

    clock.now = START + timedelta(days=1)
    assert submit(store, 7).created  # the first has left the 24-hour window
    with pytest.raises(RateLimited):
        submit(store, 8)


def test_concurrent_retries_at_the_limit_return_the_request(store):
    for n in range(4):
        submit(store, n)
    # The fifth request, its call retried at once: one row, both calls answered with it.
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: submit(store, 4), range(6)))
    assert len({r.reference for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert count(store, PrivacyRequest) == 5


def test_limits_come_from_the_environment_or_env_file(store, clock, set_env, no_env_file):
    no_env_file.write_text("RATE_LIMIT_REQUESTS_PER_CONVERSATION=1\n", encoding="utf-8")
    set_env(RATE_LIMIT_CODES_PER_EMAIL="2")
    store.send_code("a@example.com", "c1")
    store.send_code("a@example.com", "c2")
    with pytest.raises(RateLimited) as refused:
        store.send_code("a@example.com", "c3")
    assert refused.value.limit == 2
    submit(store, 0)
    with pytest.raises(RateLimited):
        submit(store, 1)

    set_env(RATE_LIMIT_CODES_PER_EMAIL="0")  # 0 switches the limit off
    for n in range(4):
        store.send_code("a@example.com", f"c{n + 10}")
    set_env(RATE_LIMIT_CODES_PER_EMAIL="five")
    with pytest.raises(ValueError, match="RATE_LIMIT_CODES_PER_EMAIL"):
        store.send_code("a@example.com", "c99")


def test_refusals_log_no_address(store, caplog):
    for n in range(5):
        store.send_code("jane.doe@example.com", f"c{n}")
    for n in range(5):
        submit(store, n, conversation="busy")
    with caplog.at_level(logging.INFO):
        with pytest.raises(RateLimited):
            store.send_code("jane.doe@example.com", "c9")
        with pytest.raises(RateLimited):
            store.submit("access", "jane.doe@example.com", conversation_id="busy")
    refusals = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(refusals) == 2
    assert "jane.doe@example.com" not in caplog.text and "j***@e***.com" in caplog.text
