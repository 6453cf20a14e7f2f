"""Carrying a started request out: its tasks moved by deliveries, answers, callbacks, ticks and
retries, and the request completed when every task is settled.

Every move is one transaction with its audit entry, like the rest of the desk. A task a system
has settled never moves again (a replayed callback or a repeated answer changes nothing), and a
webhook task is claimed with a conditional UPDATE and a lease before it is sent, so two workers
(a lock lost mid-round) never deliver one task at once. The system itself dedupes on the task id
(`Idempotency-Key`), so a delivery whose answer was lost may be repeated without a second effect.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from bot.core.errors import CodedError
from bot.core.settings import load_settings
from bot.requests import lifecycle, tasks
from bot.requests import task_states as states
from bot.requests.delivery import Deliveries, DeliveryError
from bot.requests.store import RequestStore, UnknownRequest
from bot.requests.systems import System, by_name
from bot.staff import audit
from bot.storage.db import session_factory, transaction
from bot.storage.models import FulfilmentTask, PrivacyRequest

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:{name}"  # who settled a task on a system's word
COMPLETER = "fulfilment"  # who completes a request whose tasks are all settled
LEASE = timedelta(minutes=2)  # a delivery under way; longer than any timeout
MAX_BACKOFF = timedelta(hours=1)
MAX_NOTE_CHARS = 2000
TICKS = (states.DONE, states.NOT_APPLICABLE)
REFERENCES_PER_QUERY = 900  # SQLite takes 999 bound parameters in one statement


class FulfilmentError(CodedError):
    """What was asked of a task cannot be done (`errors.fulfilment.<code>`): "no_task",
    "not_open" (the request is not in progress), "not_tickable", "not_failed", "settled",
    "not_waiting", "empty_note", "too_long", "bad_state"."""

    group = "fulfilment"


@dataclass(frozen=True)
class TaskView:
    """A task as the desk, the CLI and the tests see it."""

    id: str
    system: str
    reach: str
    state: str
    attempts: int
    last_error: Optional[str]
    detail: Optional[str]
    settled_by: Optional[str]
    created_at: datetime
    updated_at: datetime
    sent_at: Optional[datetime]
    settled_at: Optional[datetime]
    next_attempt_at: Optional[datetime]

    @classmethod
    def of(cls, task: FulfilmentTask) -> TaskView:
        return cls(**{name: getattr(task, name) for name in cls.__dataclass_fields__})

    def label(self, language: str) -> str:
        return tasks.system_label(self.system, language)

    def as_json(self) -> Dict[str, Any]:
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
        }


@dataclass(frozen=True)
class Claimed:
    """A webhook task claimed for one delivery: what is sent, and to which system."""

    task_id: str
    system: System
    reference: str
    kind: str
    email: str
    details: Dict[str, Any]
    requested_at: datetime
    due: datetime
    attempts: int  # this delivery included
    export_url: Optional[str]  # set: fetch the export (the task was answered already)


def _backoff(attempts: int, base: float) -> timedelta:
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _open_counts(rows: Iterable[Tuple[str, str]]) -> Dict[str, Dict[str, int]]:
    """(key, task state) rows as failed and waiting tasks per key; a key whose tasks are all
    settled has zeros (the desk says "all settled")."""
    counts: Dict[str, Dict[str, int]] = {}
    for key, state in rows:
        entry = counts.setdefault(key, {"failed": 0, "waiting": 0})
        if state == states.FAILED:
            entry["failed"] += 1
        elif state in states.WAITING:
            entry["waiting"] += 1
    return counts


def _clean(note: Optional[str]) -> str:
    note = (note or "").strip()
    if not note:
        raise FulfilmentError("empty_note")
    if len(note) > MAX_NOTE_CHARS:
        raise FulfilmentError("too_long", limit=MAX_NOTE_CHARS)
    return note


class Fulfilment:
    """Tasks on the store's database; completing goes through the store (its e-mail, its
    erasure of a deletion's conversations); exports through the deliveries."""

    def __init__(
        self,
        store: RequestStore,
        deliveries: Deliveries,
        clock: Optional[Callable[[], datetime]] = None,
    ) -> None:
        self.store = store
        self.deliveries = deliveries
        self.sessions = session_factory(store.engine)
        self.clock = clock or store.clock

    # -- reading -------------------------------------------------------------------------------

    def tasks(self, reference: str) -> List[TaskView]:
        """The request's tasks; `UnknownRequest` when there is no such request."""
        with transaction(self.sessions) as session:
            request = self._request(session, reference)
            return [TaskView.of(task) for task in tasks.tasks_of(session, request.id)]

    def task(self, task_id: str) -> Optional[TaskView]:
        with transaction(self.sessions) as session:
            task = session.get(FulfilmentTask, task_id)
            return TaskView.of(task) if task is not None else None

    def open_by_system(self) -> Dict[str, Dict[str, int]]:
        """Failed and waiting tasks of requests in progress, per system (the dashboard)."""
        with transaction(self.sessions) as session:
            rows = session.execute(
                select(FulfilmentTask.system, FulfilmentTask.state)
                .join(PrivacyRequest, PrivacyRequest.id == FulfilmentTask.request_id)
                .where(PrivacyRequest.status == lifecycle.IN_PROGRESS)
            ).all()
        return _open_counts(rows)

    def open_by_request(self, references: List[str]) -> Dict[str, Dict[str, int]]:
        """Failed and waiting tasks of each of these requests (the queue's column): one query
        for a page, in slices of `REFERENCES_PER_QUERY` (under the bound parameters a database
        takes in one query)."""
        rows: List[Tuple[str, str]] = []
        with transaction(self.sessions) as session:
            for start in range(0, len(references), REFERENCES_PER_QUERY):
                rows += session.execute(
                    select(PrivacyRequest.reference, FulfilmentTask.state)
                    .join(FulfilmentTask, PrivacyRequest.id == FulfilmentTask.request_id)
                    .where(
                        PrivacyRequest.reference.in_(
                            references[start : start + REFERENCES_PER_QUERY]
                        )
                    )
                ).all()
        return _open_counts(rows)

    # -- the desk ------------------------------------------------------------------------------

    def start(self, reference: str, actor: str) -> List[TaskView]:
        """What the desk's "start" does: the request goes in progress (the requester is told)
        and its tasks are made in that transaction."""
        self.store.transition(reference, lifecycle.IN_PROGRESS, actor, notify=True)
        return self.tasks(reference)

    def start_many(self, references: List[str], actor: str) -> int:
        """Bulk "start" from the queue: each verified request waiting to start is started (its
        own transaction, as on its page); the others are left as they are. How many."""
        started = 0
        for reference in references:
            try:
                self.store.transition(reference, lifecycle.IN_PROGRESS, actor, notify=True)
            except (lifecycle.IllegalTransition, UnknownRequest):
                continue
            started += 1
        return started

    def tick(
        self,
        reference: str,
        task_id: str,
        actor: str,
        note: Optional[str],
        state: str = states.DONE,
        client: Optional[str] = None,
    ) -> TaskView:
        """A member records a task as done (or not applicable), with a note: a manual task, or
        a webhook task that failed and was carried out by other means."""
        if state not in TICKS:
            raise FulfilmentError("bad_state", state=state)
        note = _clean(note)
        with transaction(self.sessions) as session:
            request, task = self._task_of(session, reference, task_id)
            if task.state in states.SETTLED:
                raise FulfilmentError("settled", system=task.system)
            if task.reach != states.MANUAL and task.state != states.FAILED:
                raise FulfilmentError("not_tickable", system=task.system)
            now = self.clock()
            self._settle(session, task, state, note, actor, now)
            audit.append(
                session, actor, "task_ticked", reference, f"{task.system}: {state}", client, now
            )
            view, complete = TaskView.of(task), self._all_settled(session, request)
        if complete:
            self._complete(reference)
        return view

    def retry(
        self, reference: str, task_id: str, actor: str, client: Optional[str] = None
    ) -> TaskView:
        """A failed webhook task, or one accepted (202) whose callback never came, is
        delivered again, with a fresh count of attempts and the same task id."""
        with transaction(self.sessions) as session:
            _, task = self._task_of(session, reference, task_id)
            if task.state not in (states.FAILED, states.SENT) or task.reach != states.WEBHOOK:
                raise FulfilmentError("not_failed", system=task.system)
            now = self.clock()
            task.state, task.attempts, task.export_url = states.PENDING, 0, None
            task.next_attempt_at, task.claimed_until, task.updated_at = now, None, now
            audit.append(session, actor, "task_retried", reference, task.system, client, now)
            return TaskView.of(task)

    # -- the worker ----------------------------------------------------------------------------

    def claim_due(self, limit: int = 20) -> List[Claimed]:
        """Webhook tasks due for delivery (or with an export to fetch) of requests in progress,
        each claimed with a lease and its attempt counted before it is sent."""
        now = self.clock()
        with transaction(self.sessions) as session:
            candidates = session.execute(
                select(FulfilmentTask.id)
                .join(PrivacyRequest, PrivacyRequest.id == FulfilmentTask.request_id)
                .where(
                    PrivacyRequest.status == lifecycle.IN_PROGRESS,
                    FulfilmentTask.reach == states.WEBHOOK,
                    or_(
                        and_(
                            FulfilmentTask.state == states.PENDING,
                            FulfilmentTask.next_attempt_at <= now,
                        ),
                        and_(
                            FulfilmentTask.state == states.SENT,
                            FulfilmentTask.export_url.is_not(None),
                            FulfilmentTask.next_attempt_at <= now,
                        ),
                    ),
                    or_(FulfilmentTask.claimed_until.is_(None), FulfilmentTask.claimed_until < now),
                )
                .order_by(FulfilmentTask.next_attempt_at)
                .limit(limit)
            ).scalars()
            ids = list(candidates)
        claimed: List[Claimed] = []
        for task_id in ids:
            found = self._claim(task_id, now)
            if found is not None:
                claimed.append(found)
        return claimed

    def _claim(self, task_id: str, now: datetime) -> Optional[Claimed]:
        with transaction(self.sessions) as session:
            taken = session.execute(
                update(FulfilmentTask)
                .where(
                    FulfilmentTask.id == task_id,
                    or_(FulfilmentTask.claimed_until.is_(None), FulfilmentTask.claimed_until < now),
                )
                .values(
                    claimed_until=now + LEASE,
                    attempts=FulfilmentTask.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                return None
            task = session.get(FulfilmentTask, task_id)
            system = by_name(task.system) if task is not None else None
            if task is None or system is None or system.manual:
                if task is not None:  # the system left SYSTEMS_FILE: nobody can deliver it
                    self._attempt_failed(session, task, "the system is not configured", now, True)
                return None
            request = task.request
            if task.export_url is None:
                task.sent_at = now
                audit.append(
                    session,
                    "worker",
                    "task_sent",
                    request.reference,
                    f"{task.system}: attempt {task.attempts}",
                    now=now,
                )
            return Claimed(
                task_id=task.id,
                system=system,
                reference=request.reference,
                kind=request.kind,
                email=request.email,
                details=dict(request.details or {}),
                requested_at=request.created_at,
                due=request.due_at,
                attempts=task.attempts,
                export_url=task.export_url,
            )

    def attempt_failed(self, task_id: str, error: str) -> TaskView:
        """A delivery (or an export's fetch) that did not get an answer to go by: tried again
        after a backoff that doubles, until the attempts run out and the task is `failed`.
        `error` says what went wrong, never with personal data."""
        with transaction(self.sessions) as session:
            task = self._locked(session, task_id)
            now = self.clock()
            self._attempt_failed(session, task, error, now)
            return TaskView.of(task)

    def _attempt_failed(
        self, session: Session, task: FulfilmentTask, error: str, now: datetime, final: bool = False
    ) -> None:
        settings = load_settings()
        task.last_error, task.claimed_until, task.updated_at = error[:500], None, now
        if final or task.attempts >= settings.fulfilment_max_attempts:
            task.state, task.next_attempt_at = states.FAILED, None
            if task.export_url is None:
                task.last_error = f"{error[:400]} (after {task.attempts} attempts)"
        else:
            task.next_attempt_at = now + _backoff(task.attempts, settings.fulfilment_retry_seconds)
        audit.append(
            session,
            "worker",
            "task_attempt_failed",
            task.request.reference,
            f"{task.system}: {task.state}, attempt {task.attempts}: {error[:200]}",
            now=now,
        )

    def answered(
        self,
        task_id: str,
        status: Optional[str],
        detail: str = "",
        export: Optional[Tuple[str, bytes]] = None,
        export_url: Optional[str] = None,
        via: str = "answer",
    ) -> TaskView:
        """The system's word on a task, in its answer to a delivery (`via="answer"`) or in its
        callback (`via="callback"`): `status` "done" or "failed" settles it; None (a 202) leaves
        it sent, waiting for the callback. An access export comes as a file, stored as the
        requester's download, or as a URL the worker fetches before the task is done.

        A task that is settled already, or (for a callback) was never delivered, is refused with
        `FulfilmentError` ("settled", "not_waiting") and nothing changes: that is what makes a
        replayed callback harmless."""
        if status is not None and status not in states.ANSWERS:
            raise FulfilmentError("bad_state", state=status)
        with transaction(self.sessions) as session:
            task = self._locked(session, task_id)
            request = task.request
            if task.state not in states.WAITING:
                raise FulfilmentError("settled", system=task.system)
            if via == "callback" and task.attempts == 0:
                raise FulfilmentError("not_waiting", system=task.system)
            reference, kind, system = request.reference, request.kind, task.system
            if request.status != lifecycle.IN_PROGRESS:
                raise FulfilmentError("not_open", reference=reference, status=request.status)
        if status == states.DONE and export is not None and kind == "access":
            self._deliver_export(reference, system, export)
        with transaction(self.sessions) as session:
            task = self._locked(session, task_id)
            request = task.request
            if task.state not in states.WAITING:  # settled meanwhile (a concurrent callback)
                raise FulfilmentError("settled", system=task.system)
            now = self.clock()
            actor = SYSTEM_ACTOR.format(name=task.system)
            task.claimed_until, task.updated_at = None, now
            if status == states.DONE and export_url and kind == "access" and not export:
                task.state, task.export_url, task.detail = states.SENT, export_url, detail or None
                task.next_attempt_at, task.attempts = now, 0
                note = "done, export to fetch"
            elif status is None:
                task.state, task.next_attempt_at = states.SENT, None
                note = "accepted, answer to follow"
            else:
                self._settle(session, task, status, detail, actor, now)
                note = status
            audit.append(
                session, actor, f"task_{via}", request.reference, f"{task.system}: {note}", now=now
            )
            view, complete = TaskView.of(task), self._all_settled(session, request)
        if complete:
            self._complete(reference)
        return view

    def export_fetched(self, task_id: str, filename: str, content: bytes) -> TaskView:
        """The worker fetched the export a system pointed to: the download, then done."""
        with transaction(self.sessions) as session:
            task = self._locked(session, task_id)
            reference, detail, system = task.request.reference, task.detail or "", task.system
        self._deliver_export(reference, system, (filename, content))
        return self.answered(task_id, states.DONE, detail)  # settling clears the URL

    # -- inside ---------------------------------------------------------------------------------

    def _deliver_export(self, reference: str, system: str, export: Tuple[str, bytes]) -> None:
        """The requester's download and its e-mail, as when legal attaches a file."""
        filename, content = export
        actor = SYSTEM_ACTOR.format(name=system)
        try:
            self.deliveries.attach(reference, filename, content, actor, load_settings().site_origin)
        except DeliveryError as problem:
            raise FulfilmentError("bad_export", reason=problem.reason) from None

    @staticmethod
    def _settle(
        session: Session, task: FulfilmentTask, state: str, detail: str, actor: str, now: datetime
    ) -> None:
        task.state, task.detail, task.settled_by = state, (detail or "").strip() or None, actor
        task.settled_at = now if state in states.SETTLED else None
        task.updated_at, task.next_attempt_at, task.claimed_until = now, None, None
        task.export_url = None
        if state == states.FAILED:
            task.last_error = (detail or "").strip()[:500] or None

    @staticmethod
    def _all_settled(session: Session, request: PrivacyRequest) -> bool:
        session.flush()
        return request.status == lifecycle.IN_PROGRESS and tasks.all_settled(
            tasks.tasks_of(session, request.id)
        )

    def _complete(self, reference: str) -> None:
        """Every task settled: the request completes, through the store (its e-mail says what
        each system did; a deletion's conversations are erased). Two last settlements at once
        both get here; the second finds it completed already."""
        try:
            self.store.transition(reference, lifecycle.COMPLETED, COMPLETER, notify=True)
        except lifecycle.IllegalTransition:
            log.info("Request %s was completed already", reference)

    @staticmethod
    def _request(session: Session, reference: str) -> PrivacyRequest:
        request = session.execute(
            select(PrivacyRequest).where(PrivacyRequest.reference == reference)
        ).scalar_one_or_none()
        if request is None:
            raise UnknownRequest(reference)
        return request

    def _task_of(
        self, session: Session, reference: str, task_id: str
    ) -> Tuple[PrivacyRequest, FulfilmentTask]:
        request = self._request(session, reference)
        task = self._locked(session, task_id)
        if task.request_id != request.id:
            raise FulfilmentError("no_task", task=task_id[:8])
        if request.status != lifecycle.IN_PROGRESS:
            raise FulfilmentError("not_open", reference=reference, status=request.status)
        return request, task

    @staticmethod
    def _locked(session: Session, task_id: str) -> FulfilmentTask:
        task = session.execute(
            select(FulfilmentTask).where(FulfilmentTask.id == task_id).with_for_update()
        ).scalar_one_or_none()
        if task is None:
            raise FulfilmentError("no_task", task=task_id[:8])
        return task
