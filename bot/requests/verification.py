"""One-time codes that prove a requester can read the account's mailbox.

Six digits, valid 15 minutes, 5 tries; at most 5 an hour per address and per conversation
(`bot.requests.ratelimit`). Only an HMAC of the code is stored (keyed with the installation's secret
and a per-code salt), so a copy of the database does not reveal live codes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.core.clock import utcnow
from bot.core.language import or_default
from bot.core.masking import mask_email
from bot.core.texts import DEFAULT_LANGUAGE, text
from bot.mail.outbox import enqueue
from bot.requests import ratelimit
from bot.storage.models import VerificationCode

log = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=15)
MAX_ATTEMPTS = 5

OK = "ok"
WRONG = "wrong"
EXPIRED = "expired"
LOCKED = "locked"  # too many wrong tries
MISSING = "missing"  # no code was sent, or it was already used


@dataclass(frozen=True)
class CheckResult:
    outcome: str
    attempts_left: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == OK


def _digest(secret: str, salt: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def _unused_codes(email: str, conversation_id: str) -> Select:
    """Codes of this address in this conversation not yet used or replaced, newest first."""
    return (
        select(VerificationCode)
        .where(
            VerificationCode.email == email,
            VerificationCode.conversation_id == conversation_id,
            VerificationCode.consumed_at.is_(None),
        )
        .order_by(VerificationCode.id.desc())
    )


def active_code(
    session: Session, email: str, conversation_id: str, now: Optional[datetime] = None
) -> Optional[VerificationCode]:
    now = now or utcnow()
    for row in session.execute(_unused_codes(email, conversation_id)).scalars():
        if row.expires_at > now and row.attempts < MAX_ATTEMPTS:
            return row
    return None


def issue_code(
    session: Session,
    secret: str,
    email: str,
    conversation_id: str,
    now: Optional[datetime] = None,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """Create a code and queue the e-mail that carries it, in the conversation's `language`;
    earlier codes stop working.

    Raises `ratelimit.RateLimited`, having created and queued nothing, when this address or this
    conversation has had its share of codes for now."""
    now = now or utcnow()
    ratelimit.lock(session, f"codes-email:{email}", f"codes-conversation:{conversation_id}")
    try:
        ratelimit.enforce(
            session,
            now,
            (
                ratelimit.limit(ratelimit.CODES_PER_EMAIL_WHAT),
                VerificationCode.created_at,
                [VerificationCode.email == email],
            ),
            (
                ratelimit.limit(ratelimit.CODES_PER_CONVERSATION_WHAT),
                VerificationCode.created_at,
                [VerificationCode.conversation_id == conversation_id],
            ),
        )
    except ratelimit.RateLimited as refused:
        log.warning("No verification code sent to %s: %s", mask_email(email), refused)
        raise
    for row in session.execute(_unused_codes(email, conversation_id)).scalars():
        row.consumed_at = now
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(16)
    session.add(
        VerificationCode(
            email=email,
            conversation_id=conversation_id,
            code_hash=_digest(secret, salt, code),
            salt=salt,
            attempts=0,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    language = or_default(language)
    enqueue(
        session,
        email,
        text("email.verification.subject", language),
        text(
            "email.verification.body",
            language,
            code=code,
            minutes=int(CODE_TTL.total_seconds() // 60),
        ),
        now=now,
    )
    return code


def _spent_by_a_match(
    session: Session, secret: str, email: str, conversation_id: str, code: str, now: datetime
) -> bool:
    """Is `code` the latest code of this address in this conversation, still within its
    lifetime, and already spent by a check that matched? A code replaced by a newer one is
    never the latest (issuing adds the new row), so the latest row, if spent, was spent by
    a match."""
    latest = session.execute(
        select(VerificationCode)
        .where(
            VerificationCode.email == email,
            VerificationCode.conversation_id == conversation_id,
        )
        .order_by(VerificationCode.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return (
        latest is not None
        and latest.consumed_at is not None
        and latest.expires_at > now
        and hmac.compare_digest(latest.code_hash, _digest(secret, latest.salt, code))
    )


def check_code(
    session: Session,
    secret: str,
    email: str,
    conversation_id: str,
    code: str,
    now: Optional[datetime] = None,
    retried: bool = False,
) -> CheckResult:
    """`retried`: the visitor's "try again" re-reads an answer whose check may have run after
    Rasa gave up waiting for it (a hung action server). That check spent the code and its
    verdict was lost, so the same code, still within its lifetime and not replaced, proves the
    address again in the same conversation instead of being called expired."""
    now = now or utcnow()
    row = session.execute(_unused_codes(email, conversation_id).with_for_update()).scalars().first()
    if row is None:
        if retried and _spent_by_a_match(session, secret, email, conversation_id, code, now):
            return CheckResult(OK)
        return CheckResult(MISSING)
    if row.attempts >= MAX_ATTEMPTS:
        return CheckResult(LOCKED)
    if row.expires_at <= now:
        return CheckResult(EXPIRED)
    row.attempts += 1
    if hmac.compare_digest(row.code_hash, _digest(secret, row.salt, code)):
        row.consumed_at = now
        return CheckResult(OK)
    left = MAX_ATTEMPTS - row.attempts
    return CheckResult(LOCKED if left <= 0 else WRONG, attempts_left=left)
