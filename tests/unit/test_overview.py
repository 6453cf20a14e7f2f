"""The legal desk's overview (bot.requests.overview), on SQLite and PostgreSQL, with requests
made, completed, held and rejected at known dates: open by status and kind, overdue and due this
week, the median working days to complete per kind over 12 weeks, requests per week; and the
queue's days left with its states."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.requests import deadlines
from bot.requests.casework import Casework
from bot.requests.overview import DUE_SOON, ON_TIME, OVERDUE, days_left, overview

PRC = deadlines.JURISDICTIONS["prc"]


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=timezone.utc)


@pytest.fixture
def made(store, clock, default_rate_limits, set_env):
    """Requests at known dates (2026, Beijing working days: no holidays in Nov/Dec before
    New Year), the clock then set to Thursday 3 December 2026, 10:00 UTC."""
    set_env(REQUEST_JURISDICTION="prc")
    desk = Casework(store.engine, clock=clock)

    def submit(day, kind, email, verified=True):
        clock.now = at(day)
        return store.submit(kind, email, verified=verified).reference

    def complete(reference, day):
        clock.now = at(day, 10)
        store.transition(reference, "in_progress", "lena")
        store.transition(reference, "completed", "lena", "carried out")

    refs = {}
    refs["old"] = submit("2026-08-03", "access", "old@example.com")  # done outside the window
    complete(refs["old"], "2026-08-10")
    refs["b"] = submit("2026-11-16", "access", "b@example.com")
    complete(refs["b"], "2026-11-30")  # 10 working days
    refs["c"] = submit("2026-11-23", "access", "c@example.com")
    complete(refs["c"], "2026-11-30")  # 5 working days
    refs["a"] = submit("2026-11-30", "deletion", "a@example.com")
    complete(refs["a"], "2026-12-03")  # 3 working days
    refs["overdue"] = submit("2026-11-02", "deletion", "d@example.com")  # due 23 Nov
    refs["this_week"] = submit("2026-11-13", "correction", "e@example.com", verified=False)
    refs["rejected"] = submit("2026-11-25", "correction", "r@example.com")
    store.transition(refs["rejected"], "rejected", "lena", "no such account")
    refs["held"] = submit("2026-12-01", "suspension", "f@example.com")
    store.transition(refs["held"], "in_progress", "lena")
    desk.hold(refs["held"], "clarification", "which account?", True, "lena")
    refs["unsubscribe"] = submit("2026-12-02", "unsubscribe", "u@example.com")  # done at once
    clock.now = at("2026-12-03", 10)
    return refs


def test_open_requests_by_status_and_kind_with_holds(store, clock, made):
    seen = overview(store.sessions, clock(), where=PRC)
    assert seen.open_by_status == {"unverified": 1, "received": 1, "in_progress": 1}
    assert seen.open_total == 3
    assert seen.open_by_kind == {
        "deletion": 1,
        "correction": 1,
        "suspension": 1,
        "access": 0,
        "unsubscribe": 0,
        "complaint": 0,
    }
    assert seen.on_hold == 1


def test_overdue_and_due_this_week(store, clock, made):
    assert store.get(made["this_week"]).due_at.date() == date(2026, 12, 4)
    seen = overview(store.sessions, clock(), where=PRC)
    assert (seen.overdue, seen.due_this_week, seen.week_ends) == (1, 1, date(2026, 12, 6))
    # A week later the correction is overdue too, and nothing is due that week.
    later = overview(store.sessions, at("2026-12-10"), where=PRC)
    assert (later.overdue, later.due_this_week) == (2, 0)


def test_median_working_days_to_complete_per_kind_over_twelve_weeks(store, clock, made):
    seen = {
        k.kind: (k.completed, k.median)
        for k in overview(store.sessions, clock(), where=PRC).completion
    }
    assert seen == {
        "access": (2, 7.5),  # 10 and 5; the one from August is out of the window
        "deletion": (1, 3.0),
        "unsubscribe": (1, 0.0),
        "correction": (0, None),
        "suspension": (0, None),
        "complaint": (0, None),
    }


def test_requests_per_week_for_twelve_weeks_the_current_last(store, clock, made):
    seen = overview(store.sessions, clock(), where=PRC)
    assert len(seen.weeks) == 12
    assert seen.weeks[-1].start == date(2026, 11, 30) and seen.weeks[-1].iso_week == "2026-W49"
    assert seen.weeks[0].start == date(2026, 9, 14) == seen.since.date()
    counts = {w.start.isoformat(): w.count for w in seen.weeks if w.count}
    assert counts == {
        "2026-11-02": 1,
        "2026-11-09": 1,
        "2026-11-16": 1,
        "2026-11-23": 2,
        "2026-11-30": 3,
    }
    assert seen.received_in_window == 8


def test_an_empty_database_has_zeros_and_no_medians(store, clock, set_env):
    set_env(REQUEST_JURISDICTION="prc")
    seen = overview(store.sessions, clock(), where=PRC)
    assert seen.open_total == seen.overdue == seen.due_this_week == seen.received_in_window == 0
    assert all(k.median is None for k in seen.completion)


# -- days left in the queue -------------------------------------------------------------------

THURSDAY = at("2026-12-03", 2)  # 10:00 in Beijing


@pytest.mark.parametrize(
    "due_day,days,state",
    [
        ("2026-12-21", 12, ON_TIME),
        ("2026-12-09", 4, ON_TIME),
        ("2026-12-08", 3, DUE_SOON),  # three working days: Fri, Mon, Tue
        ("2026-12-03", 0, DUE_SOON),  # due today, until midnight in Beijing
        ("2026-12-02", -1, OVERDUE),  # due yesterday: one working day (today) since
        ("2026-11-27", -4, OVERDUE),
    ],
)
def test_days_left_are_working_days_and_say_how_urgent(due_day, days, state):
    due = datetime.combine(date.fromisoformat(due_day), datetime.min.time()).replace(
        hour=15, minute=59, second=59, tzinfo=timezone.utc
    )  # 23:59:59 in Beijing
    left = days_left("received", due, THURSDAY, PRC)
    assert (left.days, left.state) == (days, state)
    assert left.overdue == (state == OVERDUE) and left.due_soon == (state == DUE_SOON)


def test_a_request_due_on_friday_is_overdue_at_the_weekend_with_no_working_day_since():
    friday_end = at("2026-12-04", 15).replace(minute=59, second=59)
    left = days_left("in_progress", friday_end, friday_end + timedelta(hours=12), PRC)
    assert (left.days, left.state) == (0, OVERDUE)


def test_closed_requests_have_no_days_left():
    for status in ("completed", "rejected", "withdrawn"):
        assert days_left(status, THURSDAY, THURSDAY, PRC) is None
