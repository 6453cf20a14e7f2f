"""Fulfilment tasks (bot.fulfilment) on the request database, in the caller's transaction.

The request store calls `open_tasks` in the very transaction that moves a request to
`in_progress` (on the desk, in bulk or from the CLI), so a started request never lacks its tasks
and a task never exists for a request that was not started. Everything else that moves a task
(a delivery, an answer, a callback, a tick, a retry) is in bot.fulfilment.service, above the
store.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Iterable, List, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.texts import text
from bot.requests import task_states as states
from bot.requests.systems import System, by_name, taking
from bot.staff import audit
from bot.storage.models import FulfilmentTask, PrivacyRequest


def new_task_id() -> str:
    """Unguessable: a system's callback names its task by this id."""
    return secrets.token_hex(16)


def tasks_of(session: Session, request_id: int) -> List[FulfilmentTask]:
    return list(
        session.execute(
            select(FulfilmentTask)
            .where(FulfilmentTask.request_id == request_id)
            .order_by(FulfilmentTask.created_at, FulfilmentTask.system)
        ).scalars()
    )


def open_tasks(
    session: Session, request: PrivacyRequest, actor: str, now: datetime
) -> List[FulfilmentTask]:
    """One task per system that takes the request's kind; a webhook task is due at once."""
    have = {task.system for task in tasks_of(session, request.id)}
    made: List[FulfilmentTask] = []
    for system in taking(request.kind):
        if system.name in have:
            continue
        made.append(_task(request, system, now))
    session.add_all(made)
    if made:
        audit.append(
            session,
            actor,
            "fulfilment_started",
            request.reference,
            ", ".join(f"{task.system} ({task.reach})" for task in made),
            now=now,
        )
    return made


def _task(request: PrivacyRequest, system: System, now: datetime) -> FulfilmentTask:
    return FulfilmentTask(
        id=new_task_id(),
        request_id=request.id,
        system=system.name,
        reach=system.reach,
        state=states.PENDING,
        attempts=0,
        created_at=now,
        updated_at=now,
        next_attempt_at=now if not system.manual else None,
    )


def all_settled(tasks: Sequence[FulfilmentTask]) -> bool:
    """Every task done or not applicable (and there is at least one)."""
    return bool(tasks) and all(task.state in states.SETTLED for task in tasks)


def unsettled(tasks: Iterable[FulfilmentTask]) -> List[FulfilmentTask]:
    return [task for task in tasks if task.state not in states.SETTLED]


def system_label(name: str, language: str) -> str:
    """A system's label; a system no longer in SYSTEMS_FILE keeps its name."""
    system = by_name(name)
    return system.label(language) if system else name


def state_label(state: str, language: str) -> str:
    return text(f"fulfilment.state.{state}", language)


def what_each_did(tasks: Sequence[FulfilmentTask], language: str) -> str:
    """The lines of the completion e-mail: each system, its state and what it said."""
    lines = []
    for task in tasks:
        said = (task.detail or "").strip()
        lines.append(
            text(
                "fulfilment.email.line_detail" if said else "fulfilment.email.line",
                language,
                system=system_label(task.system, language),
                state=state_label(task.state, language),
                detail=said,
            )
        )
    return text("fulfilment.email.heading", language) + "\n" + "\n".join(lines)
