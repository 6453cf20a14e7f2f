"""Working a request on the legal desk: assignment, internal notes and messages to the requester,
one extension, holds, bulk closing, and the requester's own withdrawal.

Everything here is recorded twice, as the privacy teams who buy request platforms ask: as an
event of the request (what the requester's history shows) where the requester is concerned, and
in the audit trail (who did it; `bot.staff.audit`). What the requester must hear of (a message,
an extension, a hold, a withdrawal) is e-mailed through the outbox in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Callable, Iterable, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from bot.core.errors import CodedError
from bot.core.texts import text
from bot.mail.outbox import enqueue
from bot.requests import deadlines, lifecycle
from bot.staff import audit
from bot.storage.db import session_factory, transaction
from bot.storage.models import PrivacyRequest, RequestEvent, RequestNote

NOTE, MESSAGE = "note", "message"
HOLD_REASONS = ("clarification", "legal_hold")
CLOSE_AS = ("duplicate", "spam")
REQUESTER = "requester"
MAX_NOTE_CHARS = 5000


class CaseworkError(CodedError):
    """What the desk asked cannot be done, and why (`errors.casework.<code>`): "no_request",
    "not_open", "empty_note", "empty_message", "empty_reason", "empty_hold_note", "too_long",
    "extended_once", "not_later", "beyond_max", "hold_reason", "held_already", "not_held",
    "close_as"."""

    group = "casework"


@dataclass(frozen=True)
class Message:
    """A message from the legal department, as the requester sees it in the chat."""

    body: str
    at: datetime


def _language(request: PrivacyRequest) -> str:
    return getattr(request, "language", None) or "en"


def _mail(
    session: Session, request: PrivacyRequest, key: str, now: datetime, **values: str
) -> None:
    language = _language(request)
    subject = text("email.request_subject", language, reference=request.reference)
    body = text(f"casework.email.{key}", language, reference=request.reference, **values)
    enqueue(session, request.email, subject, body, now=now)


def _due_text(request: PrivacyRequest, due: datetime) -> str:
    zone = ZoneInfo(deadlines.jurisdiction().zone)
    return text("format.date", _language(request), date=due.astimezone(zone))


def _clean(body: Optional[str], empty: str) -> str:
    """What the member wrote, trimmed; CaseworkError `empty` (the code for what is missing)
    or "too_long"."""
    body = (body or "").strip()
    if not body:
        raise CaseworkError(empty)
    if len(body) > MAX_NOTE_CHARS:
        raise CaseworkError("too_long", limit=MAX_NOTE_CHARS)
    return body


class Casework:
    """The desk's operations on the request database (the store's engine and clock)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = session_factory(engine)
        self.clock = clock

    def _locked(self, session: Session, reference: str) -> PrivacyRequest:
        request = session.execute(
            select(PrivacyRequest).where(PrivacyRequest.reference == reference).with_for_update()
        ).scalar_one_or_none()
        if request is None:
            raise CaseworkError("no_request", reference=reference)
        return request

    @staticmethod
    def _open(request: PrivacyRequest) -> None:
        if request.status not in lifecycle.OPEN_STATUSES:
            raise CaseworkError("not_open", reference=request.reference, status=request.status)

    @staticmethod
    def _event(
        session: Session, request: PrivacyRequest, actor: str, note: str, now: datetime
    ) -> None:
        session.add(
            RequestEvent(
                request_id=request.id,
                from_status=request.status,
                to_status=request.status,
                actor=actor,
                note=note,
                created_at=now,
            )
        )
        request.updated_at = now

    # -- assignment ---------------------------------------------------------------------------

    def assign(self, references: Iterable[str], assignee: Optional[str], actor: str) -> int:
        """Give requests to a staff member (None: to nobody); how many changed."""
        changed = 0
        with transaction(self.sessions) as session:
            now = self.clock()
            for reference in references:
                request = self._locked(session, reference)
                if request.assignee == assignee:
                    continue
                request.assignee, request.updated_at = assignee, now
                audit.append(session, actor, "assign", reference, assignee or "(nobody)", now=now)
                changed += 1
        return changed

    # -- notes and messages -------------------------------------------------------------------

    def add_note(self, reference: str, author: str, body: str) -> None:
        """An internal note: for the desk only, never sent."""
        self._add(reference, author, body, NOTE)

    def send_message(self, reference: str, author: str, body: str) -> None:
        """A message to the requester: e-mailed, and shown when they look the request up."""
        self._add(reference, author, body, MESSAGE)

    def _add(self, reference: str, author: str, body: str, kind: str) -> None:
        body = _clean(body, "empty_note" if kind == NOTE else "empty_message")
        with transaction(self.sessions) as session:
            now = self.clock()
            request = self._locked(session, reference)
            session.add(
                RequestNote(
                    request_id=request.id, kind=kind, author=author, body=body, created_at=now
                )
            )
            request.updated_at = now
            audit.append(session, author, kind, reference, now=now)
            if kind == MESSAGE:
                _mail(session, request, "message", now, body=body)

    def notes(self, reference: str) -> List[RequestNote]:
        with transaction(self.sessions) as session:
            request = session.execute(
                select(PrivacyRequest).where(PrivacyRequest.reference == reference)
            ).scalar_one_or_none()
            return list(request.notes) if request is not None else []

    def messages_for(self, reference: str, email: str) -> List[Message]:
        """What the legal department wrote to the requester: only with the reference *and*
        the e-mail address, like the status."""
        with transaction(self.sessions) as session:
            request = session.execute(
                select(PrivacyRequest).where(
                    PrivacyRequest.reference == reference, PrivacyRequest.email == email
                )
            ).scalar_one_or_none()
            if request is None:
                return []
            return [Message(n.body, n.created_at) for n in request.notes if n.kind == MESSAGE]

    # -- the deadline -------------------------------------------------------------------------

    def extend(self, reference: str, new_due: date, reason: str, actor: str) -> datetime:
        """Extend once, with a reason, to a day no later than the jurisdiction allows; the
        requester is told why and until when. (Checked in the order the desk's form reads:
        once only, then the reason, then the date.)"""
        with transaction(self.sessions) as session:
            now = self.clock()
            request = self._locked(session, reference)
            self._open(request)
            if request.original_due_at is not None:
                raise CaseworkError("extended_once", reference=reference)
            reason = _clean(reason, "empty_reason")
            where = deadlines.jurisdiction()
            zone = ZoneInfo(where.zone)
            due = datetime.combine(new_due, time(23, 59, 59), tzinfo=zone)
            latest = deadlines.latest_extension(request.due_at, where).due
            if due <= request.due_at:
                current = request.due_at.astimezone(zone).date()
                raise CaseworkError("not_later", due=current.isoformat())
            if due > latest:
                raise CaseworkError("beyond_max", latest=latest.astimezone(zone).date().isoformat())
            request.original_due_at, request.due_at = request.due_at, due
            request.extension_reason = reason
            self._event(
                session, request, actor, f"extended to {new_due.isoformat()}: {reason}", now
            )
            audit.append(
                session, actor, "extend", reference, f"{new_due.isoformat()}: {reason}", now=now
            )
            _mail(session, request, "extended", now, due=_due_text(request, due), reason=reason)
            return due

    def hold(self, reference: str, reason: str, note: str, stops_clock: bool, actor: str) -> None:
        """Put an open request on hold (needs clarification, a legal hold), saying whether its
        time limit stops meanwhile."""
        if reason not in HOLD_REASONS:
            raise CaseworkError("hold_reason", reason=reason)
        note = _clean(note, "empty_hold_note")
        with transaction(self.sessions) as session:
            now = self.clock()
            request = self._locked(session, reference)
            self._open(request)
            if request.held_at is not None:
                raise CaseworkError("held_already", reference=reference)
            request.held_at, request.hold_reason = now, reason
            request.hold_note, request.hold_stops_clock = note, stops_clock
            clock = "stops" if stops_clock else "runs"
            self._event(session, request, actor, f"on hold ({reason}; clock {clock}): {note}", now)
            audit.append(session, actor, "hold", reference, f"{reason}; clock {clock}", now=now)
            language = _language(request)
            _mail(
                session,
                request,
                "held",
                now,
                note=note,
                reason=text(f"casework.hold_reason.{reason}", language),
                clock=text(f"casework.clock.{clock}", language),
            )

    def resume(self, reference: str, actor: str) -> datetime:
        """Take a request off hold; a stopped clock moves the due date on by the working
        days it was held. The new due date."""
        with transaction(self.sessions) as session:
            now = self.clock()
            request = self._locked(session, reference)
            if request.held_at is None:
                raise CaseworkError("not_held", reference=reference)
            if request.hold_stops_clock:
                request.due_at = deadlines.add_working_days_held(
                    request.due_at, request.held_at, now
                )
            request.held_at = request.hold_reason = request.hold_note = None
            request.hold_stops_clock = None
            self._event(session, request, actor, "resumed", now)
            audit.append(session, actor, "resume", reference, now=now)
            return request.due_at

    # -- closing ------------------------------------------------------------------------------

    def close(self, references: Iterable[str], how: str, reason: str, actor: str) -> int:
        """Bulk: reject open requests with one reason, or close them as duplicates or spam
        (rejected too, marked so: a spam request is not e-mailed). How many were closed."""
        from bot.requests.notifications import status_email

        if how not in ("rejected", *CLOSE_AS):
            raise CaseworkError("close_as", how=how)
        reason = _clean(reason, "empty_reason")
        closed = 0
        with transaction(self.sessions) as session:
            now = self.clock()
            for reference in references:
                request = self._locked(session, reference)
                if request.status not in lifecycle.OPEN_STATUSES:
                    continue
                lifecycle.check_transition(request.status, lifecycle.REJECTED, reason)
                session.add(
                    RequestEvent(
                        request_id=request.id,
                        from_status=request.status,
                        to_status=lifecycle.REJECTED,
                        actor=actor,
                        note=reason,
                        created_at=now,
                    )
                )
                request.status, request.updated_at = lifecycle.REJECTED, now
                request.rejection_reason = reason
                request.closed_as = None if how == "rejected" else how
                audit.append(
                    session,
                    actor,
                    "status_change",
                    reference,
                    f"{lifecycle.REJECTED} ({how}): {reason}",
                    now=now,
                )
                mail = status_email(request, lifecycle.REJECTED, reason) if how != "spam" else None
                if mail:
                    enqueue(session, request.email, mail[0], mail[1], now=now)
                closed += 1
        return closed

    def withdraw(self, reference: str, email: str) -> bool:
        """The requester withdraws an open request (after proving the address with a fresh
        code, which the chat checks first). False when no open request matches both."""
        with transaction(self.sessions) as session:
            request = session.execute(
                select(PrivacyRequest)
                .where(PrivacyRequest.reference == reference, PrivacyRequest.email == email)
                .with_for_update()
            ).scalar_one_or_none()
            if request is None or request.status not in lifecycle.OPEN_STATUSES:
                return False
            now = self.clock()
            session.add(
                RequestEvent(
                    request_id=request.id,
                    from_status=request.status,
                    to_status=lifecycle.WITHDRAWN,
                    actor=REQUESTER,
                    note="withdrawn by the requester",
                    created_at=now,
                )
            )
            request.status, request.updated_at = lifecycle.WITHDRAWN, now
            request.held_at = None
            audit.append(
                session, REQUESTER, "status_change", reference, lifecycle.WITHDRAWN, now=now
            )
            _mail(session, request, "withdrawn", now)
            return True
