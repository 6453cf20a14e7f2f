"""Retention: how long chat data is kept, and the purge that applies it.

`purge` applies the retention period to everything kept only for a while: conversations in the
SQL tracker store (SQLite by default, PostgreSQL when scaled: `bot.retention.trackers`),
verification codes, sent e-mails, the transcripts of closed requests and handoffs, policy gaps
and answer ratings. The request rows, their status
history (`request_events`) and the staff audit log are never purged: they are the record that a
request was made and answered. Each purge also finishes the erasures that a completed deletion
request left pending (`bot.retention.erasure`).

No log line or audit entry here names an e-mail address or quotes a conversation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, List, Optional, Tuple

from sqlalchemy import and_, delete, func, null, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import utcnow
from bot.mail.outbox import FAILED, SENT
from bot.policy.gaps import GapLog
from bot.requests import lifecycle, ratelimit
from bot.requests.delivery import purge_expired
from bot.retention.ages import age_words, plural
from bot.retention.erasure import UNSYNCED, erase_requester_conversations, pending_erasures
from bot.retention.trackers import (
    SqlTracker,
    TrackerAccess,
    TrackerUnavailable,
    tracker_from_environment,
)
from bot.storage.db import session_factory, transaction
from bot.storage.models import (
    Delivery,
    HandoffMessage,
    HandoffTicket,
    OutboxMessage,
    PrivacyRequest,
    VerificationCode,
)
from bot.support.tickets import CLOSED as HANDOFF_CLOSED

__all__ = ["PurgeReport", "describe", "purge"]

log = logging.getLogger(__name__)

CLOSED_STATUSES = (lifecycle.COMPLETED, lifecycle.REJECTED, lifecycle.WITHDRAWN)
# Codes are counted by the rate limits on sending them (`bot.requests.ratelimit`) while in these
# windows.
CODE_RATE_WINDOW = max(ratelimit.CODES_PER_EMAIL_WINDOW, ratelimit.CODES_PER_CONVERSATION_WINDOW)


@dataclass
class PurgeReport:
    """What a purge removed (or, with `dry_run`, would remove)."""

    older_than: timedelta
    cutoff: datetime
    dry_run: bool
    tracker_kind: str  # "sql" (SQLite or PostgreSQL), or "memory" (nothing stored to purge)
    conversations: int = 0
    events: int = 0
    tracker_error: Optional[str] = None
    verification_codes: int = 0
    outbox_messages: int = 0
    transcripts: int = 0
    handoff_tickets: int = 0
    handoff_messages: int = 0
    policy_gaps: int = 0  # masked unanswered questions kept for the legal department
    answer_feedback: int = 0  # visitors' ratings of answers
    delivered_files: int = 0  # access copies past their link's expiry (bot.requests.delivery)
    erasures_done: int = 0
    erasures_pending: int = 0
    erasure_error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.tracker_error is None and (self.dry_run or self.erasures_pending == 0)


def purge(
    older_than: timedelta,
    *,
    engine: Engine,
    gaps: GapLog,
    now: Optional[datetime] = None,
    tracker: Optional[TrackerAccess] = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Apply the retention period to the request database (`engine`) and its policy-gap log
    (`gaps`), both handed in by whoever runs the purge (bot.services builds them). Removed,
    when older than `now - older_than`:

    - tracker store (SQL): whole conversations whose last event is older than the cutoff;
    - verification codes: every code expired before `now` (it can never be used again), and
      consumed ones older than the cutoff, once out of the rate limits' window (an hour), which
      counts the codes sent lately;
    - outbox: e-mails sent before the cutoff, and e-mails given up on (failed) whose last try
      was before it — their content is personal and was delivered or reported;
    - the transcript kept with a request that was closed (completed or rejected) before the
      cutoff: open requests keep theirs, since staff still work from it;
    - the messages and transcript of handoff tickets closed before the cutoff;
    - policy gaps (masked unanswered questions) and answer ratings made before the cutoff
      (bot.policy.gaps): masked as they are, they are chat data all the same;
    - whatever the retention period, the stored file of every access copy whose download link
      has expired (bot.requests.delivery).

    Kept: request rows, their status history and the audit log (the record of what was asked and
    done), and the handoff ticket rows. Also finishes erasures left pending by an unreachable
    tracker store. With `dry_run` everything is counted and nothing deleted."""
    now = now or utcnow()
    own = tracker is None
    tracker = tracker or tracker_from_environment()
    report = PurgeReport(older_than, now - older_than, dry_run, tracker.kind)
    try:
        _purge_tracker(tracker, report)
        sessions = session_factory(engine)
        _purge_request_database(sessions, report, now)
        report.policy_gaps, report.answer_feedback = gaps.purge(
            older_than, now=now, dry_run=dry_run
        )
        _finish_pending_erasures(sessions, tracker, report, now)
    finally:
        if own:
            tracker.close()
    log.info(
        "Purge (cutoff %s%s): %d conversations, %d codes, %d e-mails, %d transcripts, "
        "%d handoff messages, %d policy gaps, %d answer ratings",
        report.cutoff.isoformat(),
        ", dry run" if dry_run else "",
        report.conversations,
        report.verification_codes,
        report.outbox_messages,
        report.transcripts,
        report.handoff_messages,
        report.policy_gaps,
        report.answer_feedback,
    )
    return report


def _purge_tracker(tracker: TrackerAccess, report: PurgeReport) -> None:
    """Only the SQL store holds conversations to purge; Rasa's memory forgets its own. An
    unreachable store is reported, and the rest of the purge still runs."""
    if not isinstance(tracker, SqlTracker):
        return
    try:
        report.conversations, report.events = tracker.purge(report.cutoff, report.dry_run)
    except TrackerUnavailable as error:
        report.tracker_error = str(error)


def _finish_pending_erasures(
    sessions: sessionmaker, tracker: TrackerAccess, report: PurgeReport, now: datetime
) -> None:
    """Erase what completed deletions left pending; a dry run only counts them."""
    pending = pending_erasures(sessions)
    if report.dry_run:
        report.erasures_pending = len(pending)
        return
    for reference in pending:
        result = erase_requester_conversations(sessions, reference, tracker=tracker, now=now)
        if result.pending:
            report.erasures_pending += 1
            report.erasure_error = result.error
        else:
            report.erasures_done += 1


class _Removal:
    """Deletes rows in bulk, or in a dry run counts what it would delete, in one session."""

    def __init__(self, session: Session, dry_run: bool) -> None:
        self.session = session
        self.dry_run = dry_run

    def __call__(self, model: Any, condition: Any) -> int:
        if self.dry_run:
            return self.session.execute(
                select(func.count()).select_from(model).where(condition)
            ).scalar_one()
        return self.session.execute(
            delete(model).where(condition), execution_options=UNSYNCED
        ).rowcount


def _purge_request_database(sessions: sessionmaker, report: PurgeReport, now: datetime) -> None:
    """Everything past retention in the request database, in one transaction."""
    with transaction(sessions) as session:
        remove = _Removal(session, report.dry_run)
        report.verification_codes = _purge_codes(remove, report.cutoff, now)
        report.outbox_messages = _purge_outbox(remove, report.cutoff)
        report.transcripts = _purge_closed_transcripts(session, report.cutoff, report.dry_run)
        report.handoff_tickets, report.handoff_messages = _purge_closed_handoffs(
            session, remove, report.cutoff, report.dry_run
        )
        report.delivered_files = (
            session.execute(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.content.is_not(None), Delivery.expires_at <= now)
            ).scalar_one()
            if report.dry_run
            else purge_expired(session, now)
        )


def _purge_codes(remove: _Removal, cutoff: datetime, now: datetime) -> int:
    return remove(
        VerificationCode,
        and_(
            or_(VerificationCode.expires_at < now, VerificationCode.consumed_at < cutoff),
            # The rate limits on sending codes count the recent ones: keep them in the window.
            VerificationCode.created_at < now - CODE_RATE_WINDOW,
        ),
    )


def _purge_outbox(remove: _Removal, cutoff: datetime) -> int:
    return remove(
        OutboxMessage,
        or_(
            (OutboxMessage.status == SENT)
            & (func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < cutoff),
            # A failed message's last try was due at `next_attempt_at`; it is not moved after.
            (OutboxMessage.status == FAILED) & (OutboxMessage.next_attempt_at < cutoff),
        ),
    )


def _purge_closed_transcripts(session: Session, cutoff: datetime, dry_run: bool) -> int:
    """The transcripts of requests closed before the cutoff (open ones keep theirs)."""
    transcripts = 0
    for row in session.execute(
        select(PrivacyRequest).where(
            PrivacyRequest.status.in_(CLOSED_STATUSES),
            PrivacyRequest.updated_at < cutoff,
            PrivacyRequest.transcript.isnot(None),
        )
    ).scalars():
        if row.transcript:  # a JSON `null` is not a transcript
            transcripts += 1
        if not dry_run:
            row.transcript = null()
    return transcripts


def _purge_closed_handoffs(
    session: Session, remove: _Removal, cutoff: datetime, dry_run: bool
) -> Tuple[int, int]:
    """(tickets with contents, messages) of handoffs closed before the cutoff; the ticket rows
    stay, emptied."""
    tickets = list(
        session.execute(
            select(HandoffTicket).where(
                HandoffTicket.status == HANDOFF_CLOSED, HandoffTicket.closed_at < cutoff
            )
        ).scalars()
    )
    ticket_ids = [t.id for t in tickets]
    with_content = {t.id for t in tickets if t.transcript}
    messages = 0
    if ticket_ids:
        with_content.update(
            session.execute(
                select(HandoffMessage.ticket_id)
                .where(HandoffMessage.ticket_id.in_(ticket_ids))
                .distinct()
            ).scalars()
        )
        messages = remove(HandoffMessage, HandoffMessage.ticket_id.in_(ticket_ids))
    for ticket in tickets:
        if not dry_run and ticket.transcript:
            ticket.transcript = []
    return len(with_content), messages


def describe(report: PurgeReport) -> List[str]:
    """The sentences `python -m bot purge` prints."""
    verb = "Would remove" if report.dry_run else "Removed"
    lines = [
        f"Retention period {age_words(report.older_than)}: cut-off "
        f"{report.cutoff.strftime('%Y-%m-%d %H:%M')} UTC."
    ]
    if report.tracker_kind == "memory":
        lines.append(
            "Conversations are held only in Rasa's memory (endpoints.yml names the "
            "in-memory tracker store): they vanish when Rasa restarts, and Rasa itself "
            "forgets those idle for longer than the retention set in endpoints.yml. "
            "There is nothing stored to purge."
        )
    elif report.tracker_error:
        lines.append(
            f"The tracker store could not be reached ({report.tracker_error}): no "
            "conversations were removed."
        )
    else:
        lines.append(
            f"{verb} {plural(report.conversations, 'conversation')} "
            f"({plural(report.events, 'event')}) from the tracker store."
        )
    lines.append(
        f"{verb} {plural(report.verification_codes, 'expired verification code')}, "
        f"{plural(report.outbox_messages, 'sent or failed e-mail')} from the outbox, "
        f"{plural(report.transcripts, 'transcript')} of closed requests and the contents of "
        f"{plural(report.handoff_tickets, 'closed handoff ticket')} "
        f"({plural(report.handoff_messages, 'message')})."
    )
    lines.append(
        f"{verb} {plural(report.policy_gaps, 'policy gap entry', 'policy gap entries')}"
        f" (masked unanswered questions) and "
        f"{plural(report.answer_feedback, 'answer rating')}."
    )
    if report.delivered_files:
        lines.append(
            f"{verb} {plural(report.delivered_files, 'access copy', 'access copies')} "
            "whose download link had expired."
        )
    if report.erasures_done:
        lines.append(
            f"Erased the conversations of "
            f"{plural(report.erasures_done, 'completed deletion request')} "
            "left pending earlier."
        )
    if report.erasures_pending:
        waiting = plural(report.erasures_pending, "completed deletion request")
        if report.dry_run:
            lines.append(f"Would erase the conversations of {waiting} left pending earlier.")
        else:
            lines.append(
                f"The conversations of {waiting} could not be erased yet "
                f"({report.erasure_error}): the next purge tries again."
            )
    if report.dry_run:
        lines.append("Dry run: nothing was deleted.")
    return lines
