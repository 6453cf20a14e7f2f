"""Retention and erasure: how long chat data is kept, and how a requester's chats are erased.

Conversations live in Rasa's tracker store. Rasa 3.6 has no API that deletes a conversation, so:

- With the SQL tracker store (the scaled stack, `endpoints.scaled.yml`), a conversation is the
  rows of the `events` table with its `sender_id`; they are deleted there, directly.
- With the default in-memory tracker store, conversations live only inside the Rasa process and
  vanish when it restarts. There is nothing on disk to purge; a single conversation is emptied
  through Rasa's HTTP API (`PUT /conversations/<id>/tracker/events` with `[]`, which replaces
  the tracker's events). That call does not delete rows of the SQL store, which is why the SQL
  path deletes rows itself.

`purge` applies the retention period to everything kept only for a while; the request rows, their
status history (`request_events`) and the staff audit log are never purged: they are the record
that a request was made and answered. `erase_requester_conversations` runs when a deletion
request is completed. What it cannot do at once (Rasa unreachable) stays marked as pending on the
request (`conversations_erased_at` empty) and the next `purge` does it, so nothing is lost.

No log line or audit entry here names an e-mail address or quotes a conversation.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Mapping, Optional, Sequence, Set, Tuple, Union
from urllib.parse import quote

import httpx
from sqlalchemy import (Column, Float, Integer, MetaData, String, Table, Text, create_engine,
                        and_, delete, func, inspect, null, or_, select)
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from bot.requests import lifecycle

from bot.requests import ratelimit
from bot.storage.db import make_engine, session_factory, transaction
from bot.policy.gaps import GapLog
from bot.support.tickets import CLOSED as HANDOFF_CLOSED
from bot.storage.models import (AuditEntry, HandoffMessage, HandoffTicket, OutboxMessage, PrivacyRequest,
                        VerificationCode)
from bot.mail.outbox import FAILED, SENT, utcnow
from bot.core.settings import load_settings, read_env_file

log = logging.getLogger(__name__)

ACTOR = "retention"  # who the audit log names for what this module does
CLOSED_STATUSES = (lifecycle.COMPLETED, lifecycle.REJECTED)
# Bulk deletes: the rows are not in the session, so there is nothing there to keep in step.
UNSYNCED = {"synchronize_session": False}
# Codes are counted by the rate limits on sending them (`bot.requests.ratelimit`) while in these windows.
CODE_RATE_WINDOW = max(ratelimit.CODES_PER_EMAIL_WINDOW, ratelimit.CODES_PER_CONVERSATION_WINDOW)

# -- the retention period ---------------------------------------------------------------------

_AGE = re.compile(r"([0-9]{1,9})([hdw])", re.ASCII)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_AGE = timedelta(days=100 * 366)  # beyond this a typo is likelier than a policy
AGE_HELP = "a whole number followed by h (hours), d (days) or w (weeks), e.g. 30d, 12h or 6w"


def parse_age(text: str) -> timedelta:
    """`30d` -> 30 days. Only Nh, Nd and Nw: an age is typed by a person running a cleanup, so
    anything else (0, negative, fractions, other units, a runaway number) is refused with a
    sentence saying what to write rather than guessed at."""
    if not isinstance(text, str):
        raise ValueError(f"An age is {AGE_HELP}.")
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        shown = text.strip()[:40]
        raise ValueError(f"{shown!r} is not an age: write {AGE_HELP}.")
    count, unit = int(match.group(1)), match.group(2)
    if count == 0:
        raise ValueError("The age must be at least 1 hour: nothing would be kept otherwise.")
    if count * _UNITS[unit] > MAX_AGE:
        raise ValueError("The age must be at most 100 years.")
    return count * _UNITS[unit]


# -- the tracker store ----------------------------------------------------------------------

# Rasa's `SQLTrackerStore.SQLEvent`, declared here without importing Rasa (the web app and the
# CLI do not load it). Never created from here: only Rasa creates its table.
_TRACKER_METADATA = MetaData()
EVENTS = Table(
    "events", _TRACKER_METADATA,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

TRACKER_DB_KEYS = ("TRACKER_DB_HOST", "TRACKER_DB_PORT", "TRACKER_DB_NAME", "TRACKER_DB_USER",
                   "TRACKER_DB_PASSWORD")


class TrackerUnavailable(RuntimeError):
    """The tracker store could not be reached or refused; what was asked is still to be done."""


@dataclass(frozen=True)
class TrackerErasure:
    conversations: int
    events: Optional[int]  # None where the store does not say (Rasa's in-memory store)


def tracker_store_url(env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The SQLAlchemy URL of Rasa's SQL tracker store, or None for the in-memory default.

    Read from the variables `endpoints.scaled.yml` uses (`TRACKER_DB_*`, from the environment or
    `.env`), with the scaled stack's defaults for those not set, or from `TRACKER_STORE_URL`.
    None of them set means the stack keeps conversations in Rasa's memory."""
    values = {**read_env_file(), **os.environ} if env is None else dict(env)
    if values.get("TRACKER_STORE_URL"):
        return values["TRACKER_STORE_URL"]
    if not any(values.get(key) for key in TRACKER_DB_KEYS):
        return None
    from bot.devtools.stack import scaled_environment

    defaults = scaled_environment(load_settings(), 1)
    pick = {key: values.get(key) or defaults[key] for key in TRACKER_DB_KEYS}
    return URL.create("postgresql", username=pick["TRACKER_DB_USER"] or None,
                      password=pick["TRACKER_DB_PASSWORD"] or None,
                      host=pick["TRACKER_DB_HOST"], port=int(pick["TRACKER_DB_PORT"]),
                      database=pick["TRACKER_DB_NAME"]).render_as_string(hide_password=False)


class SqlTracker:
    """Rasa's SQL tracker store, reached directly: whole conversations are deleted as rows."""

    kind = "sql"

    def __init__(self, url: str, engine: Optional[Engine] = None) -> None:
        self.engine = engine or create_engine(url, future=True, pool_pre_ping=True)

    def _has_table(self, connection) -> bool:  # noqa: ANN001
        # Rasa creates `events` when it first starts with this store; before that, none exist.
        return inspect(connection).has_table("events")

    def purge(self, cutoff: datetime, dry_run: bool = False) -> Tuple[int, int]:
        """Delete every conversation whose LAST event is older than `cutoff`; returns
        (conversations, events). A conversation still going on is never cut in half: its old
        first messages stay with it until the whole conversation has been idle long enough."""
        stale = (select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id)
                 .having(func.max(EVENTS.c.timestamp) < cutoff.timestamp()))
        try:
            with self.engine.begin() as connection:
                if not self._has_table(connection):
                    return 0, 0
                counted = select(func.count(func.distinct(EVENTS.c.sender_id)), func.count()).where(
                    EVENTS.c.sender_id.in_(stale.scalar_subquery()))
                conversations, events = connection.execute(counted).one()
                if not dry_run and conversations:
                    # The staleness is checked again by the DELETE itself, so a visitor who
                    # came back since the count keeps the conversation.
                    events = connection.execute(delete(EVENTS).where(
                        EVENTS.c.sender_id.in_(stale.scalar_subquery()))).rowcount
        except SQLAlchemyError as error:
            raise TrackerUnavailable(type(error).__name__) from error
        return int(conversations), int(events)

    def erase(self, conversation_ids: Sequence[str]) -> TrackerErasure:
        """Delete every event of these conversations, all their sessions included."""
        ids = sorted(set(conversation_ids))
        if not ids:
            return TrackerErasure(0, 0)
        try:
            with self.engine.begin() as connection:
                if not self._has_table(connection):
                    return TrackerErasure(0, 0)
                conversations = connection.execute(
                    select(func.count(func.distinct(EVENTS.c.sender_id))).where(
                        EVENTS.c.sender_id.in_(ids))).scalar_one()
                events = connection.execute(
                    delete(EVENTS).where(EVENTS.c.sender_id.in_(ids))).rowcount
        except SQLAlchemyError as error:
            raise TrackerUnavailable(type(error).__name__) from error
        return TrackerErasure(int(conversations), int(events))

    def close(self) -> None:
        self.engine.dispose()


class RasaApiTracker:
    """Rasa's in-memory tracker store, reached through Rasa's HTTP API (the only way in)."""

    kind = "memory"

    def __init__(self, rasa_url: str, token: str,
                 transport: Optional[httpx.BaseTransport] = None, timeout: float = 5.0) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.client = httpx.Client(transport=transport, timeout=timeout)

    def erase(self, conversation_ids: Sequence[str]) -> TrackerErasure:
        """Replace each conversation's events with none. Rasa unreachable, or refusing (a wrong
        token, say), raises `TrackerUnavailable`, so the caller keeps the erasure pending."""
        ids = sorted(set(conversation_ids))
        params = {"token": self.token} if self.token else {}
        for conversation_id in ids:
            url = f"{self.rasa_url}/conversations/{quote(conversation_id, safe='')}/tracker/events"
            try:
                response = self.client.put(url, params=params, json=[])
            except httpx.HTTPError as error:
                raise TrackerUnavailable(type(error).__name__) from error
            if response.status_code != 200:
                raise TrackerUnavailable(f"Rasa answered HTTP {response.status_code}")
        return TrackerErasure(len(ids), None)

    def close(self) -> None:
        self.client.close()


TrackerAccess = Union[SqlTracker, RasaApiTracker]


def tracker_from_environment(transport: Optional[httpx.BaseTransport] = None) -> TrackerAccess:
    """The tracker store this installation's Rasa uses: SQL when configured, else Rasa's memory
    through its HTTP API (RASA_URL, RASA_API_TOKEN)."""
    url = tracker_store_url()
    if url:
        return SqlTracker(url)
    settings = load_settings()
    return RasaApiTracker(settings.rasa_url, settings.rasa_api_token, transport=transport)


# -- erasure after a completed deletion request ------------------------------------------------

@dataclass(frozen=True)
class ErasureReport:
    reference: str
    conversations: int  # conversations of the requester found in the request database
    tracker_events: Optional[int]  # events deleted from the SQL store (None: in memory / pending)
    transcripts: int
    handoff_tickets: int
    handoff_messages: int
    verification_codes: int
    pending: bool  # the tracker store part is still to do; `purge` retries it
    error: Optional[str] = None


def _plural(count: int, word: str, plural: Optional[str] = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def requester_conversations(session, request: PrivacyRequest) -> Set[str]:  # noqa: ANN001
    """The conversations of a requester: their requests' (by address, this one's included) and
    the handoffs in which they left the same address for a reply."""
    email = request.email.strip().lower()
    ids: Set[str] = {request.conversation_id} if request.conversation_id else set()
    ids.update(session.execute(select(PrivacyRequest.conversation_id).where(
        func.lower(PrivacyRequest.email) == email,
        PrivacyRequest.conversation_id.isnot(None))).scalars())
    ids.update(session.execute(select(HandoffTicket.conversation_id).where(
        func.lower(HandoffTicket.contact_email) == email)).scalars())
    return ids


def erase_requester_conversations(sessions: sessionmaker, reference: str, *,
                                  tracker: Optional[TrackerAccess] = None,
                                  now: Optional[datetime] = None) -> ErasureReport:
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
    with transaction(sessions) as session:
        request = session.execute(select(PrivacyRequest).where(
            PrivacyRequest.reference == reference)).scalar_one()
        if request.kind != "deletion" or request.status != lifecycle.COMPLETED:
            raise ValueError(f"{reference} is not a completed deletion request")
        email = request.email.strip().lower()
        conversation_ids = sorted(requester_conversations(session, request))

    own = tracker is None
    tracker = tracker or tracker_from_environment()
    erased: Optional[TrackerErasure] = None
    error: Optional[str] = None
    try:
        erased = tracker.erase(conversation_ids)
    except TrackerUnavailable as problem:
        error = str(problem)
    finally:
        if own:
            tracker.close()

    with transaction(sessions) as session:
        transcripts = 0
        for row in session.execute(select(PrivacyRequest).where(or_(
                func.lower(PrivacyRequest.email) == email,
                PrivacyRequest.conversation_id.in_(conversation_ids)),
                PrivacyRequest.transcript.isnot(None))).scalars():
            if row.transcript:
                transcripts += 1
            row.transcript = null()
        tickets = list(session.execute(select(HandoffTicket).where(
            HandoffTicket.conversation_id.in_(conversation_ids))).scalars())
        ticket_ids = [t.id for t in tickets]
        messages = 0
        if ticket_ids:
            messages = session.execute(delete(HandoffMessage).where(
                HandoffMessage.ticket_id.in_(ticket_ids)), execution_options=UNSYNCED).rowcount
        emptied = 0
        for ticket in tickets:
            if ticket.transcript:
                emptied += 1
                ticket.transcript = []
        codes = session.execute(delete(VerificationCode).where(
            func.lower(VerificationCode.email) == email), execution_options=UNSYNCED).rowcount

        request = session.execute(select(PrivacyRequest).where(
            PrivacyRequest.reference == reference)).scalar_one()
        parts = [_plural(transcripts, "request transcript"),
                 f"{_plural(len(tickets), 'handoff ticket')} emptied "
                 f"({_plural(messages, 'message')})",
                 _plural(codes, "verification code")]
        if erased is not None:
            request.conversations_erased_at = now
            where = (f"removed from the tracker store ({_plural(erased.events, 'event')})"
                     if erased.events is not None else "emptied in Rasa's memory")
            detail = (f"Chat data erased: {_plural(erased.conversations, 'conversation')} "
                      f"{where}; " + ", ".join(parts) + ".")
            _audit(session, "conversations_erased", reference, detail, now)
            log.info("Erased the conversations of %s (%d)", reference, len(conversation_ids))
        else:
            did_something = transcripts or messages or codes or emptied
            if did_something or not _already_noted(session, reference):
                detail = (f"Chat data erased: {', '.join(parts)}. The tracker store could not "
                          f"be reached ({error}): {_plural(len(conversation_ids), 'conversation')} "
                          "will be erased by the next `python -m bot purge`.")
                _audit(session, "erasure_pending", reference, detail, now)
            log.warning("Erasing the conversations of %s is pending: %s", reference, error)
    return ErasureReport(reference, len(conversation_ids),
                         erased.events if erased is not None else None, transcripts,
                         len(tickets), messages, codes, pending=erased is None, error=error)


def _audit(session, action: str, reference: str, detail: str,  # noqa: ANN001
           now: datetime) -> None:
    from bot.staff.accounts import record

    record(session, ACTOR, action, reference, detail, now=now)


def _already_noted(session, reference: str) -> bool:  # noqa: ANN001
    return session.execute(select(AuditEntry.id).where(
        AuditEntry.target == reference, AuditEntry.action == "erasure_pending")).first() is not None


def pending_erasures(sessions: sessionmaker) -> List[str]:
    """References of completed deletion requests whose conversations are still to be erased."""
    with transaction(sessions) as session:
        return list(session.execute(select(PrivacyRequest.reference).where(
            PrivacyRequest.kind == "deletion", PrivacyRequest.status == lifecycle.COMPLETED,
            PrivacyRequest.conversations_erased_at.is_(None)).order_by(PrivacyRequest.id)
        ).scalars())


# -- purge ------------------------------------------------------------------------------------

@dataclass
class PurgeReport:
    """What a purge removed (or, with `dry_run`, would remove)."""

    older_than: timedelta
    cutoff: datetime
    dry_run: bool
    tracker_kind: str  # "sql", or "memory" (Rasa's in-memory store: nothing stored to purge)
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
    erasures_done: int = 0
    erasures_pending: int = 0
    erasure_error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.tracker_error is None and (self.dry_run or self.erasures_pending == 0)


def purge(older_than: timedelta, *, now: Optional[datetime] = None,
          engine: Optional[Engine] = None, tracker: Optional[TrackerAccess] = None,
          dry_run: bool = False) -> PurgeReport:
    """Apply the retention period. Removed, when older than `now - older_than`:

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
      (bot.policy.gaps): masked as they are, they are chat data all the same.

    Kept: request rows, their status history and the audit log (the record of what was asked and
    done), and the handoff ticket rows. Also finishes erasures left pending by an unreachable
    tracker store. With `dry_run` everything is counted and nothing deleted."""
    now = now or utcnow()
    cutoff = now - older_than
    engine_here = engine is None
    engine = engine or make_engine()
    own = tracker is None
    tracker = tracker or tracker_from_environment()
    report = PurgeReport(older_than, cutoff, dry_run, tracker.kind)
    try:
        if isinstance(tracker, SqlTracker):
            try:
                report.conversations, report.events = tracker.purge(cutoff, dry_run)
            except TrackerUnavailable as error:
                report.tracker_error = str(error)
        sessions = session_factory(engine)
        _purge_request_database(sessions, report, now)
        report.policy_gaps, report.answer_feedback = GapLog(engine).purge(
            older_than, now=now, dry_run=dry_run)
        pending = pending_erasures(sessions)
        if dry_run:
            report.erasures_pending = len(pending)
        for reference in [] if dry_run else pending:
            result = erase_requester_conversations(sessions, reference, tracker=tracker, now=now)
            if result.pending:
                report.erasures_pending += 1
                report.erasure_error = result.error
            else:
                report.erasures_done += 1
    finally:
        if own:
            tracker.close()
        if engine_here:
            engine.dispose()
    log.info("Purge (cutoff %s%s): %d conversations, %d codes, %d e-mails, %d transcripts, "
             "%d handoff messages, %d policy gaps, %d answer ratings", cutoff.isoformat(),
             ", dry run" if dry_run else "", report.conversations, report.verification_codes,
             report.outbox_messages, report.transcripts, report.handoff_messages,
             report.policy_gaps, report.answer_feedback)
    return report


def _purge_request_database(sessions: sessionmaker, report: PurgeReport, now: datetime) -> None:
    cutoff, dry_run = report.cutoff, report.dry_run
    with transaction(sessions) as session:
        def remove(model, condition) -> int:  # noqa: ANN001
            if dry_run:
                return session.execute(select(func.count()).select_from(model).where(
                    condition)).scalar_one()
            return session.execute(delete(model).where(condition),
                                   execution_options=UNSYNCED).rowcount

        report.verification_codes = remove(VerificationCode, and_(
            or_(VerificationCode.expires_at < now, VerificationCode.consumed_at < cutoff),
            # The rate limits on sending codes count the recent ones: keep them in the window.
            VerificationCode.created_at < now - CODE_RATE_WINDOW))
        report.outbox_messages = remove(OutboxMessage, or_(
            (OutboxMessage.status == SENT) & (func.coalesce(OutboxMessage.sent_at,
                                                            OutboxMessage.created_at) < cutoff),
            # A failed message's last try was due at `next_attempt_at`; it is not moved after.
            (OutboxMessage.status == FAILED) & (OutboxMessage.next_attempt_at < cutoff)))

        for row in session.execute(select(PrivacyRequest).where(
                PrivacyRequest.status.in_(CLOSED_STATUSES), PrivacyRequest.updated_at < cutoff,
                PrivacyRequest.transcript.isnot(None))).scalars():
            if row.transcript:  # a JSON `null` is not a transcript
                report.transcripts += 1
            if not dry_run:
                row.transcript = null()

        tickets = list(session.execute(select(HandoffTicket).where(
            HandoffTicket.status == HANDOFF_CLOSED, HandoffTicket.closed_at < cutoff)).scalars())
        ticket_ids = [t.id for t in tickets]
        with_content = {t.id for t in tickets if t.transcript}
        if ticket_ids:
            with_content.update(session.execute(select(HandoffMessage.ticket_id).where(
                HandoffMessage.ticket_id.in_(ticket_ids)).distinct()).scalars())
            report.handoff_messages = remove(HandoffMessage,
                                             HandoffMessage.ticket_id.in_(ticket_ids))
        report.handoff_tickets = len(with_content)
        for ticket in tickets:
            if not dry_run and ticket.transcript:
                ticket.transcript = []


def describe(report: PurgeReport) -> List[str]:
    """The sentences `python -m bot purge` prints."""
    verb = "Would remove" if report.dry_run else "Removed"
    lines = [f"Retention period {_age_words(report.older_than)}: cut-off "
             f"{report.cutoff.strftime('%Y-%m-%d %H:%M')} UTC."]
    if report.tracker_kind == "memory":
        lines.append("Conversations are held only in Rasa's memory (no SQL tracker store is "
                     "configured: TRACKER_DB_HOST or TRACKER_STORE_URL): they vanish when Rasa "
                     "restarts, and Rasa itself forgets those idle for longer than the "
                     "retention set in endpoints.yml. There is nothing stored to purge.")
    elif report.tracker_error:
        lines.append(f"The tracker store could not be reached ({report.tracker_error}): no "
                     "conversations were removed.")
    else:
        lines.append(f"{verb} {_plural(report.conversations, 'conversation')} "
                     f"({_plural(report.events, 'event')}) from the tracker store.")
    lines.append(
        f"{verb} {_plural(report.verification_codes, 'expired verification code')}, "
        f"{_plural(report.outbox_messages, 'sent or failed e-mail')} from the outbox, "
        f"{_plural(report.transcripts, 'transcript')} of closed requests and the contents of "
        f"{_plural(report.handoff_tickets, 'closed handoff ticket')} "
        f"({_plural(report.handoff_messages, 'message')}).")
    lines.append(f"{verb} {_plural(report.policy_gaps, 'policy gap entry', 'policy gap entries')}"
                 f" (masked unanswered questions) and "
                 f"{_plural(report.answer_feedback, 'answer rating')}.")
    if report.erasures_done:
        lines.append(f"Erased the conversations of "
                     f"{_plural(report.erasures_done, 'completed deletion request')} "
                     "left pending earlier.")
    if report.erasures_pending:
        waiting = _plural(report.erasures_pending, "completed deletion request")
        if report.dry_run:
            lines.append(f"Would erase the conversations of {waiting} left pending earlier.")
        else:
            lines.append(f"The conversations of {waiting} could not be erased yet "
                         f"({report.erasure_error}): the next purge tries again.")
    if report.dry_run:
        lines.append("Dry run: nothing was deleted.")
    return lines


def _age_words(age: timedelta) -> str:
    hours = int(age.total_seconds() // 3600)
    if hours % (24 * 7) == 0:
        return _plural(hours // (24 * 7), "week")
    if hours % 24 == 0:
        return _plural(hours // 24, "day")
    return _plural(hours, "hour")
