"""Erasing a requester's chat data once their deletion request is completed.

`erase_requester_conversations` runs when a deletion request is completed. What it cannot do at
once (Rasa unreachable) stays marked as pending on the request (`conversations_erased_at`
empty) and the next `purge` does it (`pending_erasures`), so nothing is lost. The request rows,
their status history (`request_events`) and the staff audit log are kept: they are the record
that a request was made and answered.

No log line or audit entry here names an e-mail address or quotes a conversation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional, Set, Tuple

from sqlalchemy import delete, func, null, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import utcnow
from bot.requests import lifecycle
from bot.requests.registry import KINDS
from bot.retention.ages import plural
from bot.retention.trackers import (
    TrackerAccess,
    TrackerErasure,
    TrackerUnavailable,
    tracker_from_environment,
)
from bot.staff import audit
from bot.storage.db import transaction
from bot.storage.models import (
    AuditEntry,
    HandoffMessage,
    HandoffTicket,
    PrivacyRequest,
    VerificationCode,
)

log = logging.getLogger(__name__)

ACTOR = "retention"  # who the audit log names for what this module does
# The kinds of request whose completion erases the requester's conversations (the registry's
# `erases_conversations`).
ERASING_KINDS = tuple(record.kind for record in KINDS if record.erases_conversations)
# Bulk deletes: the rows are not in the session, so there is nothing there to keep in step.
UNSYNCED = {"synchronize_session": False}


@dataclass(frozen=True)
class ErasureReport:
    """What erasing one requester's chat data did, for the caller (and the purge's count)."""

    reference: str
    conversations: int  # conversations of the requester found in the request database
    tracker_events: Optional[int]  # events deleted from the SQL store (None: in memory / pending)
    transcripts: int
    handoff_tickets: int
    handoff_messages: int
    verification_codes: int
    pending: bool  # the tracker store part is still to do; `purge` retries it
    error: Optional[str] = None


@dataclass(frozen=True)
class _DatabaseErasure:
    """What was erased from the request database, the part that never waits on Rasa."""

    transcripts: int
    tickets: int
    messages: int
    emptied: int  # handoff tickets whose transcript was emptied
    codes: int

    def parts(self) -> List[str]:
        return [
            plural(self.transcripts, "request transcript"),
            f"{plural(self.tickets, 'handoff ticket')} emptied "
            f"({plural(self.messages, 'message')})",
            plural(self.codes, "verification code"),
        ]

    @property
    def did_something(self) -> bool:
        return bool(self.transcripts or self.messages or self.codes or self.emptied)


def requester_conversations(session: Session, request: PrivacyRequest) -> Set[str]:
    """The conversations of a requester: their requests' (by address, this one's included) and
    the handoffs in which they left the same address for a reply."""
    email = request.email.strip().lower()
    ids: Set[str] = {request.conversation_id} if request.conversation_id else set()
    ids.update(
        session.execute(
            select(PrivacyRequest.conversation_id).where(
                func.lower(PrivacyRequest.email) == email,
                PrivacyRequest.conversation_id.isnot(None),
            )
        ).scalars()
    )
    ids.update(
        session.execute(
            select(HandoffTicket.conversation_id).where(
                func.lower(HandoffTicket.contact_email) == email
            )
        ).scalars()
    )
    return ids


def erase_requester_conversations(
    sessions: sessionmaker,
    reference: str,
    *,
    tracker: Optional[TrackerAccess] = None,
    now: Optional[datetime] = None,
) -> ErasureReport:
    """Erase the chat data of the requester of a completed deletion request.

    Removed: their conversations from the tracker store; the transcripts kept with their requests
    (and with any request made in those conversations); the messages and transcripts of handoff
    tickets of those conversations; the verification codes sent to their address.
    Kept: the request rows, their status history and the audit log, which prove the request was
    made and answered; the handoff ticket rows, without their contents.

    The tracker store is called between two short transactions, never inside one. When it cannot
    be reached the rest is still done now, and the request stays marked pending
    (`conversations_erased_at` empty) for `purge` to finish it."""
    now = now or utcnow()
    email, conversation_ids = _requester_of(sessions, reference)
    erased, error = _erase_from_tracker(tracker, conversation_ids)
    with transaction(sessions) as session:
        done = _erase_from_database(session, email, conversation_ids)
        request = session.execute(
            select(PrivacyRequest).where(PrivacyRequest.reference == reference)
        ).scalar_one()
        if erased is not None:
            request.conversations_erased_at = now
            _note_erased(session, reference, erased, done, now)
            log.info("Erased the conversations of %s (%d)", reference, len(conversation_ids))
        else:
            _note_pending(session, reference, done, error, len(conversation_ids), now)
            log.warning("Erasing the conversations of %s is pending: %s", reference, error)
    return ErasureReport(
        reference,
        len(conversation_ids),
        erased.events if erased is not None else None,
        done.transcripts,
        done.tickets,
        done.messages,
        done.codes,
        pending=erased is None,
        error=error,
    )


def _requester_of(sessions: sessionmaker, reference: str) -> Tuple[str, List[str]]:
    """The requester's address and conversations; only a completed deletion is erased."""
    with transaction(sessions) as session:
        request = session.execute(
            select(PrivacyRequest).where(PrivacyRequest.reference == reference)
        ).scalar_one()
        if request.kind not in ERASING_KINDS or request.status != lifecycle.COMPLETED:
            raise ValueError(f"{reference} is not a completed deletion request")
        return request.email.strip().lower(), sorted(requester_conversations(session, request))


def _erase_from_tracker(
    tracker: Optional[TrackerAccess], conversation_ids: List[str]
) -> Tuple[Optional[TrackerErasure], Optional[str]]:
    """(what the tracker store erased, None) or (None, why it could not be reached). A store
    opened here from the environment is closed here."""
    own = tracker is None
    tracker = tracker or tracker_from_environment()
    try:
        return tracker.erase(conversation_ids), None
    except TrackerUnavailable as problem:
        return None, str(problem)
    finally:
        if own:
            tracker.close()


def _erase_from_database(
    session: Session, email: str, conversation_ids: List[str]
) -> _DatabaseErasure:
    """Transcripts of the requester's requests, their handoffs' contents, their codes."""
    transcripts = 0
    for row in session.execute(
        select(PrivacyRequest).where(
            or_(
                func.lower(PrivacyRequest.email) == email,
                PrivacyRequest.conversation_id.in_(conversation_ids),
            ),
            PrivacyRequest.transcript.isnot(None),
        )
    ).scalars():
        if row.transcript:
            transcripts += 1
        row.transcript = null()
    tickets = list(
        session.execute(
            select(HandoffTicket).where(HandoffTicket.conversation_id.in_(conversation_ids))
        ).scalars()
    )
    ticket_ids = [t.id for t in tickets]
    messages = 0
    if ticket_ids:
        messages = session.execute(
            delete(HandoffMessage).where(HandoffMessage.ticket_id.in_(ticket_ids)),
            execution_options=UNSYNCED,
        ).rowcount
    emptied = 0
    for ticket in tickets:
        if ticket.transcript:
            emptied += 1
            ticket.transcript = []
    codes = session.execute(
        delete(VerificationCode).where(func.lower(VerificationCode.email) == email),
        execution_options=UNSYNCED,
    ).rowcount
    return _DatabaseErasure(transcripts, len(tickets), messages, emptied, codes)


def _note_erased(
    session: Session, reference: str, erased: TrackerErasure, done: _DatabaseErasure, now: datetime
) -> None:
    where = (
        f"removed from the tracker store ({plural(erased.events, 'event')})"
        if erased.events is not None
        else "emptied in Rasa's memory"
    )
    detail = (
        f"Chat data erased: {plural(erased.conversations, 'conversation')} "
        f"{where}; " + ", ".join(done.parts()) + "."
    )
    _audit(session, "conversations_erased", reference, detail, now)


def _note_pending(
    session: Session,
    reference: str,
    done: _DatabaseErasure,
    error: Optional[str],
    conversations: int,
    now: datetime,
) -> None:
    """Audited when something was erased now, or the first time it is pending: a purge that
    retries every day does not add an entry a day."""
    if done.did_something or not _already_noted(session, reference):
        detail = (
            f"Chat data erased: {', '.join(done.parts())}. The tracker store could not "
            f"be reached ({error}): {plural(conversations, 'conversation')} "
            "will be erased by the next `python -m bot purge`."
        )
        _audit(session, "erasure_pending", reference, detail, now)


def _audit(session: Session, action: str, reference: str, detail: str, now: datetime) -> None:
    audit.append(session, ACTOR, action, reference, detail, now=now)


def _already_noted(session: Session, reference: str) -> bool:
    return (
        session.execute(
            select(AuditEntry.id).where(
                AuditEntry.target == reference, AuditEntry.action == "erasure_pending"
            )
        ).first()
        is not None
    )


def pending_erasures(sessions: sessionmaker) -> List[str]:
    """References of completed deletion requests whose conversations are still to be erased."""
    with transaction(sessions) as session:
        return list(
            session.execute(
                select(PrivacyRequest.reference)
                .where(
                    PrivacyRequest.kind.in_(ERASING_KINDS),
                    PrivacyRequest.status == lifecycle.COMPLETED,
                    PrivacyRequest.conversations_erased_at.is_(None),
                )
                .order_by(PrivacyRequest.id)
            ).scalars()
        )
