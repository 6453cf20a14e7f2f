"""The request store as the chat uses it, for the fault tests (tests/unit/test_store_faults.py on
SQLite and PostgreSQL, tests/db/test_store_network_faults.py through a proxy to PostgreSQL):
a request confirmed as the submit action confirms it, and the rows each table holds."""

from __future__ import annotations

import socket

from sqlalchemy import func, select

from bot.requests.store import RequestStore
from bot.storage.db import make_engine, session_factory, transaction
from bot.storage.models import OutboxMessage, PrivacyRequest, RequestEvent, VerificationCode

KINDS = ("deletion", "correction", "suspension", "access")

NOTHING = {"privacy_requests": 0, "request_events": 0, "outbox": 0, "verification_codes": 0}
ONE_REQUEST = {"privacy_requests": 1, "request_events": 1, "outbox": 1, "verification_codes": 0}


def new_store(url, **kwargs):
    return RequestStore(make_engine(url), secret="test-secret", working_days=15, **kwargs)


def counts(url_or_store):
    """Rows in each table the submit writes, read over a connection of their own."""
    engine = make_engine(url_or_store) if isinstance(url_or_store, str) else url_or_store.engine
    try:
        with transaction(session_factory(engine)) as session:
            return {
                model.__tablename__: session.execute(
                    select(func.count()).select_from(model)
                ).scalar_one()
                for model in (PrivacyRequest, RequestEvent, OutboxMessage, VerificationCode)
            }
    finally:
        if isinstance(url_or_store, str):
            engine.dispose()


def confirm(store, n, **kwargs):
    """Request n's confirmation, as the chat's submit action makes it."""
    kind = KINDS[n % len(KINDS)]
    return store.submit(
        kind,
        f"visitor{n}@example.com",
        details={"n": n},
        verified=True,
        conversation_id=f"conv-{n}",
        idempotency_key=f"conv-{n}:{kind}:msg-1",
        **kwargs,
    )


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the probe is: nothing listens
