"""The outbox worker: the loop that sends what is due over SMTP, in one process at a time.

Every web process starts it (bot.web.app); only the holder of the "outbox" worker lock
(bot.storage.worker_lock) sends, and the others take over when it goes. `deliver_due` still
claims each message with a conditional UPDATE and a lease, so even two senders at once (a lock
lost mid-round) never send one message twice.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Callable, Optional

from sqlalchemy.orm import sessionmaker

from bot.mail.smtp import SmtpSettings, deliver_due, smtp_settings
from bot.storage.db import make_engine, session_factory
from bot.storage.worker_lock import WorkerLock, work_while_holding, worker_lock

log = logging.getLogger(__name__)

OUTBOX_WORKER = "outbox"
INTERVAL_SECONDS = 10.0


async def deliver_outbox_forever(
    interval: float = INTERVAL_SECONDS,
    *,
    settings: Optional[SmtpSettings] = None,
    sessions: Optional[sessionmaker] = None,
    lock: Optional[WorkerLock] = None,
    send: Optional[Callable[[EmailMessage], None]] = None,
) -> None:
    """Send the outbox every `interval` seconds while this process is the outbox worker, when
    SMTP is configured. The request database, the lock and the SMTP transport are those of the
    settings unless given (tests give their own)."""
    settings = settings or smtp_settings()
    if settings is None:
        log.info("SMTP is not configured: e-mails stay in the outbox (python -m bot outbox list)")
        return
    smtp = settings
    factory = sessions or session_factory(make_engine())
    await work_while_holding(
        lock or worker_lock(OUTBOX_WORKER),
        lambda: deliver_due(factory, smtp, send=send),
        interval,
    )
