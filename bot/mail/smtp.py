"""Delivers the outbox over SMTP, with retries, and records each delivery.

Without `SMTP_HOST`, `SMTP_PORT` and `SMTP_FROM` (the embedded default) nothing is sent: messages
wait in the outbox, where `python -m bot outbox list` shows them.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Callable, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from bot.core.clock import utcnow
from bot.core.masking import mask_email
from bot.core.settings import Settings, load_settings
from bot.mail.outbox import FAILED, QUEUED, SENT
from bot.storage.db import transaction
from bot.storage.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# 1, 2, 4, 8 ... minutes between tries, at most an hour.
BASE_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
SEND_LEASE = timedelta(minutes=5)  # how long a claimed message is left to its sender


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: Optional[str] = None
    password: Optional[str] = None
    starttls: bool = False
    timeout: float = 20.0


def smtp_settings(settings: Optional[Settings] = None) -> Optional[SmtpSettings]:
    """SMTP delivery as the settings configure it (`SMTP_*`), or None without a host, a port
    and a sender."""
    settings = settings or load_settings()
    if not settings.smtp_host or settings.smtp_port is None or not settings.smtp_from:
        return None
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


def backoff(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, BASE_BACKOFF * (2 ** max(0, attempts - 1)))


def smtp_transport(settings: SmtpSettings) -> Callable[[EmailMessage], None]:
    def send(message: EmailMessage) -> None:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as client:
            if settings.starttls:
                client.starttls()
            if settings.username and settings.password:
                client.login(settings.username, settings.password)
            client.send_message(message)

    return send


def build_message(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = f"<outbox-{row.id}@videopro.privacy-assistant>"
    message.set_content(row.body)
    return message


def deliver_due(
    sessions: sessionmaker,
    settings: SmtpSettings,
    send: Optional[Callable[[EmailMessage], None]] = None,
    now: Optional[datetime] = None,
    limit: int = 100,
) -> int:
    """Send what is due; a failure schedules the next try. Returns how many were sent."""
    send = send or smtp_transport(settings)
    now = now or utcnow()
    with transaction(sessions) as session:
        due = list(
            session.execute(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id)
                .limit(limit)
            ).scalars()
        )
    sent = 0
    for message_id in due:
        # Claim the message first, in its own commit: the conditional UPDATE changes the row for
        # exactly one sender, on SQLite (which ignores FOR UPDATE) as on PostgreSQL. The lease
        # keeps later rounds away while this one talks to the SMTP server; if this process dies
        # mid-send, the message is tried again once the lease runs out.
        with transaction(sessions) as session:
            claimed = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status == QUEUED,
                    OutboxMessage.next_attempt_at <= now,
                )
                .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + SEND_LEASE)
                .execution_options(synchronize_session=False)
            ).rowcount
        if claimed != 1:
            continue  # another sender took it
        with transaction(sessions) as session:
            row = session.get(OutboxMessage, message_id)
            try:
                send(build_message(row, settings.sender))
            except (OSError, smtplib.SMTPException) as error:
                row.last_error = f"{type(error).__name__}: {error}"[:500]
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = FAILED
                    log.error(
                        "Gave up e-mail %s to %s after %d tries",
                        row.id,
                        mask_email(row.to_address),
                        row.attempts,
                    )
                else:
                    row.next_attempt_at = now + backoff(row.attempts)
                    log.warning(
                        "E-mail %s to %s not sent (try %d): %s",
                        row.id,
                        mask_email(row.to_address),
                        row.attempts,
                        type(error).__name__,
                    )
                continue
            row.status = SENT
            row.sent_at = utcnow()
            row.last_error = None
            sent += 1
            log.info("E-mail %s sent to %s", row.id, mask_email(row.to_address))
    return sent
