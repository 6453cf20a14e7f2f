"""The legal desk's overview: the numbers the dashboard (`/staff/`) shows, and how urgent each
open request of the queue is, read from the request database alone (so they are tested without
the web app).

- Open requests by status and by kind; how many are on hold.
- Overdue (open, past the due date) and due this week (open, not overdue, due by the end of the
  current week, Sunday, in the jurisdiction's time zone: the desk's week).
- The median working days from receipt to completion per kind, over the requests completed in
  the last `WEEKS` weeks (working days as the jurisdiction counts them:
  `deadlines.working_days_left`, so a request completed the day it came in took 0).
- Requests received per ISO week (UTC) over the last `WEEKS` weeks, the current week last.

`days_left` is the queue's column: working days to the due date, and whether the request is
overdue, due soon (within `DUE_SOON_WORKING_DAYS` working days) or neither.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import utcnow
from bot.policy.gaps import WeekCount, week_start, weekly_counts
from bot.requests import deadlines, lifecycle
from bot.requests.registry import NAMES as KINDS
from bot.storage.db import transaction
from bot.storage.models import PrivacyRequest, RequestEvent

WEEKS = 12
DUE_SOON_WORKING_DAYS = 3
OVERDUE, DUE_SOON, ON_TIME = "overdue", "due_soon", "on_time"
OPEN_ORDER = tuple(s for s in lifecycle.STATUSES if s in lifecycle.OPEN_STATUSES)


@dataclass(frozen=True)
class DaysLeft:
    """An open request's time left: working days after today up to the due day (0 on the due
    day, negative once overdue) and what that makes it."""

    days: int
    state: str  # OVERDUE, DUE_SOON or ON_TIME

    @property
    def overdue(self) -> bool:
        return self.state == OVERDUE

    @property
    def due_soon(self) -> bool:
        return self.state == DUE_SOON


def days_left(
    status: str, due_at: datetime, now: datetime, where: Optional[deadlines.Jurisdiction] = None
) -> Optional[DaysLeft]:
    """How much time an open request has left; None for a closed one. Overdue once the due
    moment (the end of the due day) has passed, whatever the count of working days says (a
    request due on Friday is overdue on Saturday with 0 working days since)."""
    if status not in lifecycle.OPEN_STATUSES:
        return None
    due = due_at if due_at.tzinfo else due_at.replace(tzinfo=timezone.utc)
    left = deadlines.working_days_left(due, now, where)
    if due < now:
        return DaysLeft(min(left, 0), OVERDUE)
    return DaysLeft(left, DUE_SOON if left <= DUE_SOON_WORKING_DAYS else ON_TIME)


@dataclass(frozen=True)
class KindTime:
    """How long one kind of request took to complete in the window."""

    kind: str
    completed: int  # requests of the kind completed in the window
    median: Optional[float]  # their median working days from receipt; None when none


@dataclass(frozen=True)
class Overview:
    open_by_status: Dict[str, int]  # the open statuses, in lifecycle order
    open_by_kind: Dict[str, int]  # every kind, in the registry's order
    on_hold: int  # open requests on hold
    overdue: int
    due_this_week: int  # not overdue, due by the end of `week_ends`
    week_ends: date  # the Sunday the current week ends on (the jurisdiction's zone)
    completion: Tuple[KindTime, ...]  # every kind, in the registry's order
    weeks: Tuple[WeekCount, ...]  # requests received per week, oldest first
    since: datetime  # the window's start (the Monday `WEEKS - 1` weeks before this week's)
    generated_at: datetime = field(default_factory=utcnow)

    @property
    def open_total(self) -> int:
        return sum(self.open_by_status.values())

    @property
    def received_in_window(self) -> int:
        return sum(w.count for w in self.weeks)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _completion(
    session: Session, since: datetime, where: deadlines.Jurisdiction
) -> Tuple[KindTime, ...]:
    completed_at = func.max(RequestEvent.created_at)
    rows = session.execute(
        select(PrivacyRequest.kind, PrivacyRequest.created_at, completed_at)
        .join(RequestEvent, RequestEvent.request_id == PrivacyRequest.id)
        .where(
            PrivacyRequest.status == lifecycle.COMPLETED,
            RequestEvent.to_status == lifecycle.COMPLETED,
        )
        .group_by(PrivacyRequest.id, PrivacyRequest.kind, PrivacyRequest.created_at)
        .having(completed_at >= since)
    ).all()
    taken: Dict[str, List[int]] = {kind: [] for kind in KINDS}
    for kind, received, done in rows:
        # Working days after the day it came in, up to the day it was completed.
        days = deadlines.working_days_left(_aware(done), _aware(received), where)
        taken.setdefault(kind, []).append(max(0, days))
    return tuple(
        KindTime(kind, len(days), float(statistics.median(days)) if days else None)
        for kind, days in taken.items()
    )


def overview(
    sessions: sessionmaker,
    now: Optional[datetime] = None,
    weeks: int = WEEKS,
    where: Optional[deadlines.Jurisdiction] = None,
) -> Overview:
    """The dashboard's numbers at `now` (the store's clock by default: UTC now)."""
    now = _aware(now or utcnow())
    where = where or deadlines.jurisdiction()
    zone = ZoneInfo(where.zone)
    today = now.astimezone(zone).date()
    week_ends = today + timedelta(days=6 - today.weekday())
    end_of_week = datetime.combine(week_ends, time(23, 59, 59), tzinfo=zone)
    since = datetime.combine(
        week_start(now) - timedelta(weeks=weeks - 1), time(0), tzinfo=timezone.utc
    )
    by_status = {status: 0 for status in OPEN_ORDER}
    by_kind = {kind: 0 for kind in KINDS}
    on_hold = overdue = due_this_week = 0
    with transaction(sessions) as session:
        for kind, status, due, held in session.execute(
            select(
                PrivacyRequest.kind,
                PrivacyRequest.status,
                PrivacyRequest.due_at,
                PrivacyRequest.held_at,
            ).where(PrivacyRequest.status.in_(lifecycle.OPEN_STATUSES))
        ):
            by_status[status] += 1
            by_kind[kind] = by_kind.get(kind, 0) + 1
            on_hold += held is not None
            due = _aware(due)
            if due < now:
                overdue += 1
            elif due <= end_of_week:
                due_this_week += 1
        completion = _completion(session, since, where)
        counted = weekly_counts(session, PrivacyRequest.created_at, now, weeks)
    return Overview(
        by_status,
        by_kind,
        on_hold,
        overdue,
        due_this_week,
        week_ends,
        completion,
        counted,
        since,
        generated_at=now,
    )
