"""The request store: what the chat's forms and the legal department do to privacy requests.

Every write is one transaction that also writes the audit trail and the outbox, so a request is
never stored without its history or its confirmation e-mail, and never half-written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Tuple

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.clock import utcnow
from bot.core.language import or_default
from bot.core.masking import mask_email
from bot.core.settings import app_secret, load_settings
from bot.mail.outbox import enqueue
from bot.requests import deadlines, lifecycle, ratelimit, tasks, verification
from bot.requests.notifications import status_email
from bot.requests.references import new_reference
from bot.requests.registry import BY_KIND, NAMES
from bot.staff import audit
from bot.storage.db import in_conversation, make_engine, session_factory, transaction
from bot.storage.models import PrivacyRequest, RequestEvent

log = logging.getLogger(__name__)

KINDS = NAMES  # the kinds' names (bot.requests.registry), for filters and checks
ASSISTANT = "assistant"

# Erases a requester's conversations once their request is completed, for the kinds whose
# record says so (`erases_conversations`): called as `eraser(sessions, reference, now=now)`
# after the completion is committed. bot.retention has it (`erase_requester_conversations`);
# whoever builds a store for serving hands it in, since the store sits below bot.retention.
Eraser = Callable[..., Any]


class UnknownRequest(LookupError):
    """No request has this reference (the argument)."""


@dataclass(frozen=True)
class Submitted:
    reference: str
    kind: str
    status: str
    due_at: datetime
    created: bool  # False: an existing request was returned (retry or duplicate)
    duplicate: bool = False  # an open request of the same kind for the same address existed


@dataclass(frozen=True)
class StatusAnswer:
    reference: str
    kind: str
    status: str
    due_at: datetime
    # Each system's part, (system, state), once legal has started the request (bot.fulfilment).
    tasks: Tuple[Tuple[str, str], ...] = ()


def due_working_days() -> int:
    return load_settings().request_due_working_days


class RequestStore:
    def __init__(
        self,
        engine: Optional[Engine] = None,
        secret: Optional[str] = None,
        working_days: Optional[int] = None,
        clock: Callable[[], datetime] = utcnow,
        eraser: Optional[Eraser] = None,
    ) -> None:
        """`eraser`: what completing a request of a kind that erases conversations runs
        (`Eraser`); without one, those erasures wait for `python -m bot purge`."""
        self.engine = engine or make_engine()
        self.sessions = session_factory(self.engine)
        self._secret = secret
        self.working_days = due_working_days() if working_days is None else working_days
        self.clock = clock
        self.eraser = eraser

    @property
    def secret(self) -> str:
        if self._secret is None:
            self._secret = app_secret()
        return self._secret

    # -- requests -------------------------------------------------------------------------

    def submit(
        self,
        kind: str,
        email: str,
        *,
        details: Optional[Dict[str, Any]] = None,
        reason: Optional[str] = None,
        verified: bool = False,
        requester_role: str = "self",
        channel: str = "chat",
        conversation_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        transcript: Optional[List[Dict[str, Any]]] = None,
        language: str = texts.DEFAULT_LANGUAGE,
    ) -> Submitted:
        """Store a request once. A retried call with the same key, or a second open request of
        the same kind for the same address (for a kind that has one open per address: the
        registry's `one_open_per_address`), returns the request that exists. `language` is the
        conversation's: the request keeps it, and its e-mails (this confirmation and every later
        status e-mail) are written in it.

        Raises `ratelimit.RateLimited` (storing nothing) when a new request would exceed the
        conversation's limit; retries and duplicates are answered even then."""
        if kind not in KINDS:
            raise ValueError(f"unknown request kind {kind!r}")
        for attempt in range(5):
            try:
                return self._submit_once(
                    kind,
                    email,
                    details or {},
                    reason,
                    verified,
                    requester_role,
                    channel,
                    conversation_id,
                    idempotency_key,
                    transcript,
                    or_default(language),
                )
            except IntegrityError:
                # A concurrent submit won the race for the key or the reference: look again.
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _submit_once(
        self,
        kind: str,
        email: str,
        details: Dict[str, Any],
        reason: Optional[str],
        verified: bool,
        requester_role: str,
        channel: str,
        conversation_id: Optional[str],
        idempotency_key: Optional[str],
        transcript: Optional[List[Dict[str, Any]]],
        language: str,
    ) -> Submitted:
        now = self.clock()
        with transaction(self.sessions) as session:
            if conversation_id:
                # Count and add alone: concurrent calls of one conversation cannot all see room,
                # and a retry waiting here finds the request its first call stored.
                ratelimit.lock(session, f"requests-conversation:{conversation_id}")
            if idempotency_key:
                existing = session.execute(
                    select(PrivacyRequest).where(PrivacyRequest.idempotency_key == idempotency_key)
                ).scalar_one_or_none()
                if existing is not None:
                    return self._submitted(existing, created=False)
            duplicate = None
            if BY_KIND[kind].one_open_per_address:
                duplicate = self._open_request(session, kind, email)
            if duplicate is not None:
                return self._submitted(duplicate, created=False, duplicate=True)
            if conversation_id:
                try:
                    ratelimit.enforce(
                        session,
                        now,
                        (
                            ratelimit.limit(ratelimit.REQUESTS_PER_CONVERSATION_WHAT),
                            PrivacyRequest.created_at,
                            [PrivacyRequest.conversation_id == conversation_id],
                        ),
                    )
                except ratelimit.RateLimited as refused:
                    log.warning(
                        "Did not store a %s request for %s: %s", kind, mask_email(email), refused
                    )
                    raise

            at_once = BY_KIND[kind].at_once
            status = lifecycle.RECEIVED if verified or at_once else lifecycle.UNVERIFIED
            request = PrivacyRequest(
                reference=new_reference(kind),
                kind=kind,
                status=status,
                email=email,
                verified_at=now if verified else None,
                details=details,
                reason=reason,
                made_by_or_for_minor=requester_role != "self",
                requester_role=requester_role,
                channel=channel,
                conversation_id=conversation_id,
                idempotency_key=idempotency_key,
                transcript=transcript,
                created_at=now,
                due_at=deadlines.due_date(now, self.working_days).due,
                updated_at=now,
                language=language,
            )
            session.add(request)
            session.flush()
            note = "made in the chat" + ("" if verified or at_once else "; identity not verified")
            session.add(
                RequestEvent(
                    request_id=request.id,
                    from_status=None,
                    to_status=status,
                    actor=ASSISTANT,
                    note=note,
                    created_at=now,
                )
            )
            if at_once:
                # Takes effect at once, without verification (the policy's own "unsubscribe").
                for target in (lifecycle.IN_PROGRESS, lifecycle.COMPLETED):
                    self._move(session, request, target, ASSISTANT, at_once.note, now)
            enqueue(
                session,
                email,
                texts.text("email.request_subject", language, reference=request.reference),
                self._confirmation_body(request),
                dedupe_key=f"confirm:{request.reference}",
                now=now,
            )
            log.info(
                "Stored %s request %s for %s (%s)",
                kind,
                request.reference,
                mask_email(email),
                request.status,
            )
            return self._submitted(request, created=True)

    @staticmethod
    def _open_request(session: Session, kind: str, email: str) -> Optional[PrivacyRequest]:
        """The address's oldest open request of the kind, if any."""
        return (
            session.execute(
                select(PrivacyRequest)
                .where(
                    PrivacyRequest.kind == kind,
                    PrivacyRequest.email == email,
                    PrivacyRequest.status.in_(lifecycle.OPEN_STATUSES),
                )
                .order_by(PrivacyRequest.id)
            )
            .scalars()
            .first()
        )

    @staticmethod
    def _confirmation_body(request: PrivacyRequest) -> str:
        """The e-mail that confirms a stored request (texts: `email.confirmation.*`), in the
        request's language."""
        kind = BY_KIND[request.kind]
        language = or_default(request.language)
        if kind.at_once:
            return kind.wording("done_email", language, reference=request.reference)
        due = texts.text("format.date", language, date=request.due_at)
        body = texts.text(
            "email.confirmation.body",
            language,
            title=kind.wording("title", language),
            reference=request.reference,
            due=due,
        )
        if request.status == lifecycle.UNVERIFIED:
            body += "\n" + texts.text("email.confirmation.unverified", language)
        return body

    @staticmethod
    def _submitted(request: PrivacyRequest, created: bool, duplicate: bool = False) -> Submitted:
        return Submitted(
            reference=request.reference,
            kind=request.kind,
            status=request.status,
            due_at=request.due_at,
            created=created,
            duplicate=duplicate,
        )

    def _move(
        self,
        session: Session,
        request: PrivacyRequest,
        target: str,
        actor: str,
        note: Optional[str],
        now: datetime,
    ) -> None:
        lifecycle.check_transition(request.status, target, note)
        if target == lifecycle.COMPLETED and not (note and note.strip()):
            if tasks.unsettled(tasks.tasks_of(session, request.id)):
                # Closing by hand what the systems have not finished: the reason is the record.
                raise lifecycle.IllegalTransition(
                    "tasks_open", current=request.status, target=target
                )
        session.add(
            RequestEvent(
                request_id=request.id,
                from_status=request.status,
                to_status=target,
                actor=actor,
                note=note,
                created_at=now,
            )
        )
        request.status = target
        request.updated_at = now
        if target == lifecycle.RECEIVED and request.verified_at is None and actor != ASSISTANT:
            request.verified_at = now
        if target == lifecycle.REJECTED:
            request.rejection_reason = note
        if target == lifecycle.IN_PROGRESS:
            # Started: one task per system that takes this kind, in this same transaction.
            tasks.open_tasks(session, request, actor, now)

    def transition(
        self,
        reference: str,
        target: str,
        actor: str,
        note: Optional[str] = None,
        notify: bool = False,
    ) -> str:
        """Move a request along its lifecycle; illegal moves raise `IllegalTransition`, an
        unknown reference `UnknownRequest`. With `notify`, the requester's e-mail about it is
        queued in the same transaction."""
        with transaction(self.sessions) as session:
            request = session.execute(
                select(PrivacyRequest)
                .where(PrivacyRequest.reference == reference)
                .with_for_update()
            ).scalar_one_or_none()
            if request is None:
                raise UnknownRequest(reference)
            now = self.clock()
            self._move(session, request, target, actor, note, now)
            audit.append(
                session,
                actor,
                "status_change",
                reference,
                f"{target}: {note}" if note else target,
                now=now,
            )
            mail = status_email(request, target, note) if notify else None
            if mail:
                enqueue(session, request.email, mail[0], mail[1], now=now)
            status, kind = request.status, request.kind
        if BY_KIND[kind].erases_conversations and status == lifecycle.COMPLETED:
            # After the commit, best effort: what fails stays pending for `python -m bot purge`.
            if self.eraser is None:
                log.info(
                    "The conversations of %s are left for `python -m bot purge` to erase", reference
                )
                return status
            try:
                self.eraser(self.sessions, reference, now=now)
            except Exception as error:  # noqa: BLE001 - the completion itself has been stored
                log.error(
                    "Erasing the conversations of %s failed (%s); `python -m bot purge` retries it",
                    reference,
                    type(error).__name__,
                )
        return status

    def search(
        self,
        kind: Optional[str] = None,
        status: Optional[str] = None,
        overdue: bool = False,
        minor: bool = False,
        text: Optional[str] = None,
    ) -> List[PrivacyRequest]:
        """The legal queue: newest first, filtered."""
        query = select(PrivacyRequest).order_by(PrivacyRequest.due_at, PrivacyRequest.id)
        if kind:
            query = query.where(PrivacyRequest.kind == kind)
        if status:
            query = query.where(PrivacyRequest.status == status)
        if overdue:
            query = query.where(
                PrivacyRequest.due_at < self.clock(),
                PrivacyRequest.status.in_(lifecycle.OPEN_STATUSES),
            )
        if minor:
            query = query.where(PrivacyRequest.made_by_or_for_minor.is_(True))
        if text and text.strip():
            needle = text.strip()
            query = query.where(
                or_(
                    PrivacyRequest.reference == needle.upper(),
                    PrivacyRequest.email.ilike(f"%{needle.lower()}%"),
                )
            )
        with transaction(self.sessions) as session:
            return list(session.execute(query).scalars())

    def counts(self) -> Dict[str, int]:
        with transaction(self.sessions) as session:
            rows = session.execute(
                select(PrivacyRequest.status, func.count()).group_by(PrivacyRequest.status)
            ).all()
        found = {status: count for status, count in rows}
        return {status: found.get(status, 0) for status in lifecycle.STATUSES}

    def status_for(self, reference: str, email: str) -> Optional[StatusAnswer]:
        """The status only when reference and e-mail both match: nothing leaks otherwise."""
        with transaction(self.sessions) as session:
            request = session.execute(
                select(PrivacyRequest).where(
                    PrivacyRequest.reference == reference, PrivacyRequest.email == email
                )
            ).scalar_one_or_none()
            if request is None:
                return None
            parts = tuple((task.system, task.state) for task in tasks.tasks_of(session, request.id))
            return StatusAnswer(
                request.reference, request.kind, request.status, request.due_at, parts
            )

    def get(self, reference: str) -> Optional[PrivacyRequest]:
        with transaction(self.sessions) as session:
            request = session.execute(
                select(PrivacyRequest).where(PrivacyRequest.reference == reference)
            ).scalar_one_or_none()
            if request is not None:
                list(request.events)  # load the audit trail before the session closes
            return request

    def references_in_conversation(self, conversation_id: Optional[str]) -> List[str]:
        return in_conversation(self.sessions, PrivacyRequest.reference, conversation_id)

    def all_requests(self) -> List[PrivacyRequest]:
        with transaction(self.sessions) as session:
            return list(
                session.execute(select(PrivacyRequest).order_by(PrivacyRequest.id)).scalars()
            )

    # -- verification ---------------------------------------------------------------------

    def send_code(
        self, email: str, conversation_id: str, language: str = texts.DEFAULT_LANGUAGE
    ) -> None:
        """Queue a new code for the address, the e-mail in the conversation's `language`;
        `ratelimit.RateLimited` when it has had enough."""
        with transaction(self.sessions) as session:
            verification.issue_code(
                session, self.secret, email, conversation_id, self.clock(), language=language
            )

    def has_active_code(self, email: str, conversation_id: str) -> bool:
        with transaction(self.sessions) as session:
            return (
                verification.active_code(session, email, conversation_id, self.clock()) is not None
            )

    def check_code(
        self, email: str, conversation_id: str, code: str, retried: bool = False
    ) -> verification.CheckResult:
        """`retried`: read again by "try again" (`verification.check_code`)."""
        with transaction(self.sessions) as session:
            return verification.check_code(
                session, self.secret, email, conversation_id, code, self.clock(), retried
            )
