"""When a request is due: the statutory time limit of the jurisdiction the desk works under.

PIPL (PRC) practice gives 15 *working* days, and the PRC's working days are not Monday to
Friday: each year the State Council's notice moves public holidays and makes some Saturdays and
Sundays working days ("调休"). Those notices are tracked by the `chinese-calendar` package
(one release per notice), not typed in here. Once the calendar does not know a year yet (a
release for it has not been made, or not installed), days of that year are counted Monday to
Friday and the deadline says so (`Deadline.estimated`), so the desk can tell the visitor and the
portal can show it on every affected request.

The GDPR (Art. 12(3)) counts one calendar month instead; it is here as the second jurisdiction
that shows the rule is configuration (`REQUEST_JURISDICTION`), not code.
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Dict, Optional, Tuple
from zoneinfo import ZoneInfo

import chinese_calendar

from bot.core.settings import load_settings

# 15 working days: the limit China's app rules set for correction, deletion and cancellation.
DEFAULT_WORKING_DAYS = 15

WorkingDay = Callable[[date], Optional[bool]]  # None: the calendar does not know that day


def prc_working_day(day: date) -> Optional[bool]:
    """The PRC statutory calendar: holidays off, make-up weekend days on; None past its data."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # "no available data for year 2027"
        return None


def weekday(day: date) -> bool:
    return day.weekday() < 5


@dataclass(frozen=True)
class Jurisdiction:
    """How one jurisdiction counts the time a request may take."""

    key: str
    label: str  # shown on the desk beside the due date
    zone: str  # whose days count: a request in at 23:30 UTC is in the next day in Beijing
    working_day: Optional[WorkingDay] = None  # counts working days (REQUEST_DUE_WORKING_DAYS)
    months: int = 0  # or, without working_day, calendar months
    # The most one extension may add: calendar months, or (0) REQUEST_MAX_EXTENSION_WORKING_DAYS.
    extension_months: int = 0


JURISDICTIONS: Dict[str, Jurisdiction] = {
    "prc": Jurisdiction(
        "prc", "PRC statutory working days (PIPL)", "Asia/Shanghai", working_day=prc_working_day
    ),
    "gdpr": Jurisdiction(
        "gdpr",
        "one calendar month (GDPR Art. 12(3))",
        "Europe/Brussels",
        months=1,
        extension_months=2,
    ),
}


@dataclass(frozen=True)
class Deadline:
    due: datetime
    jurisdiction: str
    # Years whose days were counted Monday to Friday because the calendar does not know them.
    unknown_years: Tuple[int, ...] = ()

    @property
    def estimated(self) -> bool:
        return bool(self.unknown_years)


def jurisdiction(key: Optional[str] = None) -> Jurisdiction:
    chosen = (key or load_settings().request_jurisdiction).lower()
    if chosen not in JURISDICTIONS:
        raise ValueError(f"unknown jurisdiction {chosen!r}; known: {', '.join(JURISDICTIONS)}")
    return JURISDICTIONS[chosen]


def _add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day where it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def due_date(
    start: datetime, working_days: Optional[int] = None, where: Optional[Jurisdiction] = None
) -> Deadline:
    """When a request received at `start` is due: the end (23:59:59 local time) of the last
    day it may take, as an aware UTC datetime."""
    where = where or jurisdiction()
    zone = ZoneInfo(where.zone)
    received = (start if start.tzinfo else start.replace(tzinfo=timezone.utc)).astimezone(zone)
    day, unknown = received.date(), set()
    if where.working_day is None:
        day = _add_months(day, where.months)
    else:
        remaining = (
            load_settings().request_due_working_days if working_days is None else working_days
        )
        if remaining < 0:
            raise ValueError("working days must not be negative")
        while remaining:
            day += timedelta(days=1)
            known = where.working_day(day)
            if known is None:
                unknown.add(day.year)
                known = weekday(day)
            remaining -= known
    end = datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(timezone.utc)
    return Deadline(end, where.key, tuple(sorted(unknown)))


def unknown_years(
    start: datetime, end: datetime, where: Optional[Jurisdiction] = None
) -> Tuple[int, ...]:
    """The years from `start` to `end` (local days) whose working days the calendar does not
    know, and so counts Monday to Friday: what a request's page warns of."""
    where = where or jurisdiction()
    if where.working_day is None:
        return ()
    zone = ZoneInfo(where.zone)
    first, last = (moment.astimezone(zone).year for moment in (start, end))
    return tuple(
        year
        for year in range(first, max(first, last) + 1)
        if where.working_day(date(year, 1, 1)) is None
    )


def working_days_left(due: datetime, now: datetime, where: Optional[Jurisdiction] = None) -> int:
    """Working days after today up to the due day: 0 on the due day itself; negative once the
    request is overdue (minus the working days since the due day, today included). Days the
    calendar does not know count Monday to Friday."""
    where = where or jurisdiction()
    zone = ZoneInfo(where.zone)
    today = now.astimezone(zone).date()
    last = (due if due.tzinfo else due.replace(tzinfo=timezone.utc)).astimezone(zone).date()

    def working(day: date) -> int:
        known = where.working_day(day) if where.working_day else weekday(day)
        return int(weekday(day) if known is None else known)

    low, high, sign = (today, last, 1) if last >= today else (last, today, -1)
    return sign * sum(working(low + timedelta(days=n)) for n in range(1, (high - low).days + 1))


def latest_extension(original_due: datetime, where: Optional[Jurisdiction] = None) -> Deadline:
    """The latest date one extension may set: two further months under the GDPR
    (Art. 12(3)); under a working-day jurisdiction REQUEST_MAX_EXTENSION_WORKING_DAYS more."""
    where = where or jurisdiction()
    if where.working_day is None:
        months = Jurisdiction(where.key, where.label, where.zone, months=where.extension_months)
        return due_date(original_due, where=months)
    return due_date(original_due, load_settings().request_max_extension_working_days, where)


def add_working_days_held(
    due: datetime, held_from: datetime, resumed: datetime, where: Optional[Jurisdiction] = None
) -> datetime:
    """The due date moved on by the working days a request spent on hold with its clock
    stopped (the working days after the day it was put on hold, up to the day it resumed)."""
    where = where or jurisdiction()
    held = max(0, working_days_left(resumed, held_from, where))
    return due_date(due, held, where).due if held else due
