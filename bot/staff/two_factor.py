"""Two-factor sign-in for staff: enrolment (by the CLI or at a first login), the check of a TOTP
code or a recovery code, and the rule that admins must have it.

The TOTP secret is sealed with APP_SECRET (bot.core.sealing) so that the request database alone
does not give the second factor away; recovery codes are kept as hashes, each usable once. A
code is checked inside the sign-in's own transaction, with the account row locked, so the same
code cannot be used twice by two requests at once.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from bot.core.sealing import seal, unseal
from bot.core.settings import MissingSecret, app_secret
from bot.staff import totp
from bot.storage.models import RecoveryCode, StaffUser

PURPOSE = b"totp"
REQUIRED_FOR = ("admin",)
RECOVERY_CODES = 10


class TwoFactorError(ValueError):
    """Enrolment cannot go on (the message says why)."""


@dataclass(frozen=True)
class Enrolment:
    secret: str  # to type into the app, shown once
    uri: str  # otpauth://, for a QR code


def _secret() -> str:
    """APP_SECRET, its absence told as a refusal of the enrolment (the CLI says it, the sign-in
    page refuses)."""
    try:
        return app_secret()
    except MissingSecret as missing:
        raise TwoFactorError(str(missing)) from None


def _context(row: StaffUser) -> bytes:
    return f"staff:{row.id}".encode()


def required(row: StaffUser) -> bool:
    return row.role in REQUIRED_FOR


def begin(session: Session, row: StaffUser) -> Enrolment:
    """A new secret for the account, not in force until `confirm` sees a code from it. An
    account that has two-factor already keeps it (disable first, to re-enrol)."""
    if row.totp_enabled:
        raise TwoFactorError(f"{row.username} has two-factor sign-in already")
    secret = totp.new_secret()
    row.totp_secret = seal(secret.encode(), _secret(), PURPOSE, _context(row))
    return Enrolment(secret, totp.provisioning_uri(secret, row.username))


def pending(session: Session, row: StaffUser) -> Optional[Enrolment]:
    """The enrolment waiting for its first code (begun, not confirmed), to show again: the
    sign-in page asks again after a wrong first code without making a new secret."""
    if row.totp_enabled or row.totp_secret is None:
        return None
    secret = unseal(row.totp_secret, _secret(), PURPOSE, _context(row)).decode()
    return Enrolment(secret, totp.provisioning_uri(secret, row.username))


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(("".join(code.split()).lower()).encode()).hexdigest()


def confirm(
    session: Session, row: StaffUser, code: str, moment: Optional[float] = None
) -> Optional[List[str]]:
    """Put the enrolment in force with a first code; the recovery codes (shown once), or None
    for a wrong code."""
    if row.totp_enabled or row.totp_secret is None:
        raise TwoFactorError("there is no enrolment waiting for a first code")
    secret = unseal(row.totp_secret, _secret(), PURPOSE, _context(row)).decode()
    step = totp.matching_step(secret, code, moment)
    if step is None:
        return None
    row.totp_enabled, row.totp_last_step = True, step
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    for old in session.execute(
        select(RecoveryCode).where(RecoveryCode.user_id == row.id)
    ).scalars():
        session.delete(old)
    session.add_all(RecoveryCode(user_id=row.id, code_hash=_recovery_hash(c)) for c in codes)
    return codes


def check(
    session: Session, row: StaffUser, code: str, moment: Optional[float] = None
) -> Optional[str]:
    """ "totp" or "recovery" when the code lets the account in (and is used up), else None."""
    if not row.totp_enabled or row.totp_secret is None or not code.strip():
        return None
    secret = unseal(row.totp_secret, _secret(), PURPOSE, _context(row)).decode()
    step = totp.matching_step(
        secret, code, time.time() if moment is None else moment, after=row.totp_last_step
    )
    if step is not None:
        row.totp_last_step = step
        return "totp"
    spare = session.execute(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == row.id,
            RecoveryCode.code_hash == _recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    ).scalar_one_or_none()
    if spare is not None:
        spare.used_at = utcnow()
        return "recovery"
    return None


def disable(session: Session, row: StaffUser) -> None:
    row.totp_enabled, row.totp_secret, row.totp_last_step = False, None, None
    for old in session.execute(
        select(RecoveryCode).where(RecoveryCode.user_id == row.id)
    ).scalars():
        session.delete(old)


def recovery_codes_left(session: Session, row: StaffUser) -> int:
    return len(
        session.execute(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == row.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )
