"""Staff accounts, their passwords, and the audit log of what staff do.

Passwords are hashed with scrypt (memory-hard, in the standard library, so no extra dependency
to pin beside rasa's); there are no default accounts: an admin is made with the CLI.

Sessions are revocable: each member has a session generation (`session_epoch`) that every
session cookie carries; logging out, disabling the account, a new password and two-factor
turned off bump it, so every session of theirs ends at once, on every web worker.

Failed logins are counted from the audit log (so every worker process sees the same counts) for
the username and client address together: a stranger's wrong passwords from one address never
keep the member out from another. One address is also limited across every username it tries,
and every failure, counted by username too, costs a growing delay.
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
from typing import Any, List, Optional

from sqlalchemy import func, select, text
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

# Failed logins in this window before logins are refused: for one username from one client
# address, and from one client address whatever the usernames (one address trying many names).
# None per username alone: that would let anyone lock a named member out.
FAILED_LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILED_LOGINS = 5
MAX_FAILED_LOGINS_PER_CLIENT = 10
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
THROTTLED = "throttled"


@dataclass(frozen=True)
class Failures:
    """Failed logins in the window: for this username from this client (`pair`), from this
    client under any username (`client`), and for this username from anywhere (`username`)."""

    pair: int = 0
    client: int = 0
    username: int = 0

    @property
    def throttled(self) -> bool:
        """Refused for now. The username's own count never refuses (only slows, `most`): it
        grows with a stranger's tries as much as with the member's."""
        return self.pair >= MAX_FAILED_LOGINS or self.client >= MAX_FAILED_LOGINS_PER_CLIENT

    @property
    def most(self) -> int:
        """What the delay of one more failure grows with: a guesser spread over many
        addresses is slowed by the username's count, one spraying names by the client's."""
        return max(self.pair, self.client, self.username)


@dataclass(frozen=True)
class Login:
    outcome: str
    member: Optional[StaffMember] = None
    # Counted before this try (a failure's delay grows with them).
    failures: Failures = Failures()


@dataclass(frozen=True)
class StaffMember:
    id: int
    username: str
    role: str
    disabled: bool
    # The session generation a session must carry to be let in (`session_epoch`).
    epoch: int = 0

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
    return StaffMember(row.id, row.username, row.role, row.disabled, row.session_epoch or 0)


def _end_sessions(row: StaffUser) -> None:
    """Every session the member has stops being let in, on its next request."""
    row.session_epoch = (row.session_epoch or 0) + 1


def _lock_logins(session: Session, client: str) -> None:
    """Hold, until the transaction ends, the lock under which one client's failures are counted
    and added: concurrent tries cannot all see room for one more. PostgreSQL: an advisory lock
    per client address; SQLite: its one write lock (a no-op write takes it)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        key = hashlib.sha256(f"staff login from {client}".encode()).digest()[:8]
        session.execute(
            text("SELECT pg_advisory_xact_lock(:id)"),
            {"id": int.from_bytes(key, "big", signed=True)},
        )
    elif dialect == "sqlite":
        session.execute(text("UPDATE staff_users SET id = id WHERE 0"))


def _failures(session: Session, username: str, client: str) -> Failures:
    since = utcnow() - FAILED_LOGIN_WINDOW
    failed = (AuditEntry.action == "login_failed", AuditEntry.created_at >= since)

    def count(*where: Any) -> int:
        query = select(func.count()).select_from(AuditEntry).where(*failed, *where)
        return int(session.execute(query).scalar_one())

    return Failures(
        pair=count(AuditEntry.target == username, AuditEntry.client == client),
        client=count(AuditEntry.client == client),
        username=count(AuditEntry.target == username),
    )


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
            _end_sessions(row)
            audit.append(session, "cli", "staff_disabled", row.username)

    def set_password(self, username: str, password: str, actor: str) -> None:
        """A new password (a reset from the CLI): every session of the member ends, so whoever
        held the old password and logged in with it is out too."""
        if len(password) < MIN_PASSWORD:
            raise StaffError(f"The password must have at least {MIN_PASSWORD} characters.")
        with transaction(self.sessions) as session:
            row = self._row(session, username)
            row.password_hash = hash_password(password)
            _end_sessions(row)
            audit.append(session, actor, "password_changed", row.username)

    def end_sessions(self, username: str, actor: str) -> None:
        """Log the member out everywhere (a lost laptop, a cookie that may have been copied)."""
        with transaction(self.sessions) as session:
            row = self._row(session, username)
            _end_sessions(row)
            audit.append(session, actor, "sessions_ended", row.username)

    def log_out(self, staff_id: int, client: str) -> None:
        """The member's own logout: it ends every session of theirs, not only this browser's,
        so a copy of the cookie is worth nothing afterwards."""
        with transaction(self.sessions) as session:
            row = session.get(StaffUser, staff_id, with_for_update=True)
            if row is None:
                return
            _end_sessions(row)
            audit.append(session, row.username, "logout", row.username, client=client)

    def get(self, staff_id: int) -> Optional[StaffMember]:
        with transaction(self.sessions) as session:
            row = session.get(StaffUser, staff_id)
            return _member(row) if row is not None else None

    def recent_failures(self, username: str, client: str) -> Failures:
        with transaction(self.sessions) as session:
            return _failures(session, username.strip().lower()[:64], client)

    def sign_in(
        self, username: str, password: str, client: str, code: Optional[str] = None
    ) -> Login:
        """Password, then (where enrolled) a TOTP or recovery code; every try audited, and a
        wrong code counts toward the login limits like a wrong password.

        The limits are checked before the password (a throttled try costs no scrypt) and again
        after it, under the client's lock, before the outcome is told or recorded: of a burst
        of concurrent tries only those within the limit get an answer, the rest are throttled
        whether their password was right or not. Nothing here depends on whether the username
        exists."""
        username = username.strip().lower()[:64]
        failures = self.recent_failures(username, client)
        if failures.throttled:
            return Login(THROTTLED, failures=failures)
        with transaction(self.sessions) as session:
            row = session.execute(
                select(StaffUser).where(StaffUser.username == username).with_for_update()
            ).scalar_one_or_none()
            good = verify_password(password, row.password_hash if row else _DUMMY_HASH)
            _lock_logins(session, client)
            failures = _failures(session, username, client)
            if failures.throttled:
                return Login(THROTTLED, failures=failures)
            if row is None or row.disabled or not good:
                audit.append(session, username or "?", "login_failed", username, client=client)
                log.warning("Failed staff login from %s", client)
                return Login(REFUSED, failures=failures)
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
                    return Login(BAD_CODE, failures=failures)
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
            return Login(ENROL if enrol else OK, _member(row), failures)

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
            _end_sessions(row)
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
