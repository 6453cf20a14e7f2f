"""Staff accounts, their passwords, and the audit log of what staff do.

Passwords are hashed with scrypt (memory-hard, in the standard library, so no extra dependency
to pin beside rasa's); there are no default accounts: an admin is made with the CLI.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from bot.staff import audit, two_factor
from bot.storage.db import make_engine, session_factory, transaction
from bot.storage.models import AuditEntry, StaffUser

log = logging.getLogger(__name__)

ROLES = ("legal", "support", "admin")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12

# scrypt cost: 2**15 x 8 x 1 takes ~32 MiB and ~0.1 s per check on this machine class.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1

# Failed logins in this window, per username and per client, before logins are refused.
FAILED_LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILED_LOGINS = 5
ONLINE_WINDOW = timedelta(seconds=45)


class StaffError(ValueError):
    """A staff command that cannot be carried out, with a sentence saying why."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 * 1024 * 1024
    )

    def encode(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt)}${encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash to check against when the username does not exist, so a wrong username takes as long
# as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


# What a sign-in comes to (StaffDirectory.sign_in).
OK, ENROL, CODE_NEEDED, BAD_CODE, REFUSED = "ok", "enrol", "code_needed", "bad_code", "refused"


@dataclass(frozen=True)
class Login:
    outcome: str
    member: Optional[StaffMember] = None


@dataclass(frozen=True)
class StaffMember:
    id: int
    username: str
    role: str
    disabled: bool

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


PERMISSIONS = {
    "read_requests": ("legal", "admin", "support"),
    "change_requests": ("legal", "admin"),
    "export_requests": ("legal", "admin"),
    "handle_handoffs": ("support", "admin"),
    # What the policy leaves unanswered (/staff/gaps): input for the next version of the policy.
    "review_gaps": ("legal", "admin"),
    "manage_staff": ("admin",),
}


def _member(row: StaffUser) -> StaffMember:
    return StaffMember(row.id, row.username, row.role, row.disabled)


class StaffDirectory:
    def __init__(self, engine: Optional[Engine] = None) -> None:
        self.engine = engine or make_engine()
        self.sessions = session_factory(self.engine)

    def add(self, username: str, role: str, password: str) -> StaffMember:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise StaffError(
                "A username is 2-64 characters: lower-case letters, digits, dots, "
                "dashes and underscores."
            )
        if role not in ROLES:
            raise StaffError(f"The role must be one of: {', '.join(ROLES)}.")
        if len(password) < MIN_PASSWORD:
            raise StaffError(f"The password must have at least {MIN_PASSWORD} characters.")
        with transaction(self.sessions) as session:
            if session.execute(select(StaffUser).where(StaffUser.username == username)).first():
                raise StaffError(f"There is already a staff member called {username}.")
            row = StaffUser(
                username=username,
                role=role,
                password_hash=hash_password(password),
                disabled=False,
                created_at=utcnow(),
            )
            session.add(row)
            audit.append(session, "cli", "staff_added", username, role)
            session.flush()
            return _member(row)

    def list(self) -> List[StaffMember]:
        with transaction(self.sessions) as session:
            return [
                _member(r)
                for r in session.execute(select(StaffUser).order_by(StaffUser.username)).scalars()
            ]

    def disable(self, username: str) -> None:
        with transaction(self.sessions) as session:
            row = session.execute(
                select(StaffUser).where(StaffUser.username == username.strip().lower())
            ).scalar_one_or_none()
            if row is None:
                raise StaffError(f"There is no staff member called {username}.")
            row.disabled = True
            audit.append(session, "cli", "staff_disabled", row.username)

    def get(self, staff_id: int) -> Optional[StaffMember]:
        with transaction(self.sessions) as session:
            row = session.get(StaffUser, staff_id)
            return _member(row) if row is not None else None

    def recent_failures(self, username: str, client: str) -> int:
        since = utcnow() - FAILED_LOGIN_WINDOW
        with transaction(self.sessions) as session:
            by_user = session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.action == "login_failed",
                    AuditEntry.target == username,
                    AuditEntry.created_at >= since,
                )
            ).scalar_one()
            by_client = session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.action == "login_failed",
                    AuditEntry.client == client,
                    AuditEntry.created_at >= since,
                )
            ).scalar_one()
        return max(by_user, by_client)

    def sign_in(
        self, username: str, password: str, client: str, code: Optional[str] = None
    ) -> Login:
        """Password, then (where enrolled) a TOTP or recovery code; every try audited, and a
        wrong code counts toward the login limits like a wrong password."""
        username = username.strip().lower()[:64]
        with transaction(self.sessions) as session:
            row = session.execute(
                select(StaffUser).where(StaffUser.username == username).with_for_update()
            ).scalar_one_or_none()
            good = verify_password(password, row.password_hash if row else _DUMMY_HASH)
            if row is None or row.disabled or not good:
                audit.append(session, username or "?", "login_failed", username, client=client)
                log.warning("Failed staff login from %s", client)
                return Login(REFUSED)
            if row.totp_enabled:
                if not (code or "").strip():
                    return Login(CODE_NEEDED)
                used = two_factor.check(session, row, code or "")
                if used is None:
                    audit.append(
                        session,
                        row.username,
                        "login_failed",
                        username,
                        "wrong second factor",
                        client=client,
                    )
                    log.warning("Failed staff login (second factor) from %s", client)
                    return Login(BAD_CODE)
            else:
                used = None
            row.last_seen_at = utcnow()
            audit.append(
                session,
                row.username,
                "login",
                row.username,
                f"with a {used} code" if used else None,
                client=client,
            )
            enrol = not row.totp_enabled and two_factor.required(row)
            return Login(ENROL if enrol else OK, _member(row))

    def authenticate(
        self, username: str, password: str, client: str, code: Optional[str] = None
    ) -> Optional[StaffMember]:
        """The member when `sign_in` lets them in (an admin still to enrol included: the web
        app then asks for enrolment before anything else); None otherwise."""
        login = self.sign_in(username, password, client, code)
        return login.member if login.outcome in (OK, ENROL) else None

    def _row(self, session: Session, username: str) -> StaffUser:
        row = session.execute(
            select(StaffUser)
            .where(StaffUser.username == username.strip().lower())
            .with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise StaffError(f"There is no staff member called {username}.")
        return row

    def begin_two_factor(self, username: str) -> two_factor.Enrolment:
        """A new TOTP secret for the account, in force once `confirm_two_factor` sees a code."""
        with transaction(self.sessions) as session:
            try:
                return two_factor.begin(session, self._row(session, username))
            except two_factor.TwoFactorError as problem:
                raise StaffError(f"{problem}.") from None

    def pending_two_factor(self, username: str) -> Optional[two_factor.Enrolment]:
        """The enrolment begun and waiting for its first code, if there is one."""
        with transaction(self.sessions) as session:
            return two_factor.pending(session, self._row(session, username))

    def confirm_two_factor(
        self, username: str, code: str, actor: str, moment: Optional[float] = None
    ) -> Optional[List[str]]:
        """The recovery codes once the first code checks (None: a wrong code)."""
        with transaction(self.sessions) as session:
            row = self._row(session, username)
            try:
                codes = two_factor.confirm(session, row, code, moment)
            except two_factor.TwoFactorError as problem:
                raise StaffError(f"{problem}.") from None
            if codes is not None:
                audit.append(session, actor, "two_factor_enrolled", row.username)
            return codes

    def disable_two_factor(self, username: str, actor: str) -> None:
        with transaction(self.sessions) as session:
            row = self._row(session, username)
            two_factor.disable(session, row)
            audit.append(session, actor, "two_factor_disabled", row.username)

    def has_two_factor(self, username: str) -> bool:
        with transaction(self.sessions) as session:
            row = session.execute(
                select(StaffUser).where(StaffUser.username == username.strip().lower())
            ).scalar_one_or_none()
            return bool(row and row.totp_enabled)

    def seen(self, staff_id: int) -> None:
        with transaction(self.sessions) as session:
            row = session.get(StaffUser, staff_id)
            if row is not None:
                row.last_seen_at = utcnow()

    def support_online(self) -> bool:
        """Someone who handles handoffs has had a staff page open in the last moments."""
        since = utcnow() - ONLINE_WINDOW
        with transaction(self.sessions) as session:
            return (
                session.execute(
                    select(StaffUser.id).where(
                        StaffUser.role.in_(PERMISSIONS["handle_handoffs"]),
                        StaffUser.disabled.is_(False),
                        StaffUser.last_seen_at >= since,
                    )
                ).first()
                is not None
            )

    def audit(
        self,
        actor: str,
        action: str,
        target: Optional[str] = None,
        detail: Optional[str] = None,
        client: Optional[str] = None,
    ) -> None:
        with transaction(self.sessions) as session:
            audit.append(session, actor, action, target, detail, client)

    def audit_for(self, target: str) -> List[AuditEntry]:
        with transaction(self.sessions) as session:
            return list(
                session.execute(
                    select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.id)
                ).scalars()
            )
