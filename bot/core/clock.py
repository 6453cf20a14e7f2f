"""The clock every stored moment is read from: aware UTC, so that times from the database, the
outbox and the audit trail compare and subtract without a zone to guess."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
