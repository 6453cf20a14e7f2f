"""Every e-mail goes into the outbox table first, in the transaction of what it reports.

A request and its confirmation e-mail are stored together or not at all; delivery happens
afterwards (`bot.mail.smtp`), so an SMTP outage delays mail but never loses a message or a request.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from bot.core.masking import mask_email
from bot.storage.models import OutboxMessage

log = logging.getLogger(__name__)

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"  # gave up after the last retry; kept for a person to look at


def enqueue(
    session: Session,
    to: str,
    subject: str,
    body: str,
    dedupe_key: Optional[str] = None,
    now: Optional[datetime] = None,
) -> OutboxMessage:
    """Add a message to the outbox (in the caller's transaction); a repeated key adds nothing."""
    if dedupe_key is not None:
        existing = session.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    now = now or utcnow()
    message = OutboxMessage(
        to_address=to,
        subject=subject,
        body=body,
        status=QUEUED,
        attempts=0,
        dedupe_key=dedupe_key,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    session.flush()
    log.info("E-mail queued in the outbox for %s: %s", mask_email(to), subject)
    return message


def list_messages(session: Session, to: Optional[str] = None) -> List[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.to_address == to.strip().lower())
    return list(session.execute(query).scalars())
