"""The request status lifecycle and the working-day due date."""

from datetime import datetime, timedelta, timezone
from itertools import product

import pytest

from bot.requests.lifecycle import (
    COMPLETED,
    DEFAULT_DUE_WORKING_DAYS,
    IN_PROGRESS,
    OPEN_STATUSES,
    RECEIVED,
    REJECTED,
    STATUSES,
    TRANSITIONS,
    UNVERIFIED,
    IllegalTransition,
    add_working_days,
    check_transition,
)

LEGAL = sorted((current, target) for current in STATUSES for target in TRANSITIONS[current])
ILLEGAL = sorted(set(product(STATUSES, STATUSES)) - set(LEGAL))


def test_the_lifecycle_is_the_documented_one():
    assert set(LEGAL) == {
        (UNVERIFIED, RECEIVED), (RECEIVED, IN_PROGRESS), (IN_PROGRESS, COMPLETED),
        (UNVERIFIED, REJECTED), (RECEIVED, REJECTED), (IN_PROGRESS, REJECTED),
    }
    assert set(TRANSITIONS) == set(STATUSES)
    assert len(ILLEGAL) == len(STATUSES) ** 2 - len(LEGAL) == 19
    assert OPEN_STATUSES == {UNVERIFIED, RECEIVED, IN_PROGRESS}
    # Closed states are final; every open state can be rejected.
    assert all(not TRANSITIONS[s] for s in set(STATUSES) - OPEN_STATUSES)
    assert all(REJECTED in TRANSITIONS[s] for s in OPEN_STATUSES)


@pytest.mark.parametrize("current, target", LEGAL)
def test_legal_transition(current, target):
    assert check_transition(current, target, "the account holder asked") is None


@pytest.mark.parametrize("current, target",
                         [(c, t) for c, t in LEGAL if t != REJECTED])
def test_legal_transition_needs_no_note(current, target):
    check_transition(current, target)


@pytest.mark.parametrize("current, target", ILLEGAL)
def test_illegal_transition_raises(current, target):
    with pytest.raises(IllegalTransition) as info:
        check_transition(current, target, "a reason")
    assert current in str(info.value) and target in str(info.value)


def test_illegal_transition_is_a_value_error():
    assert issubclass(IllegalTransition, ValueError)


@pytest.mark.parametrize("target", [RECEIVED, COMPLETED, REJECTED])
def test_unknown_current_status_raises(target):
    with pytest.raises(IllegalTransition):
        check_transition("archived", target, "a reason")


@pytest.mark.parametrize("current", sorted(OPEN_STATUSES))
@pytest.mark.parametrize("note", [None, "", "   ", "\n\t"])
def test_rejection_requires_a_reason(current, note):
    with pytest.raises(IllegalTransition, match="reason"):
        check_transition(current, REJECTED, note)


@pytest.mark.parametrize("current", sorted(OPEN_STATUSES))
def test_rejection_with_a_reason_is_allowed(current):
    check_transition(current, REJECTED, "Identity could not be verified.")


# -- working days -----------------------------------------------------------------------------

MONDAY = datetime(2024, 3, 4, 9, 30)  # a Monday
FRIDAY = datetime(2024, 3, 8, 17, 0)
SATURDAY = datetime(2024, 3, 9, 12, 0)
SUNDAY = datetime(2024, 3, 10, 12, 0)


def test_calendar_of_the_examples():
    assert [d.weekday() for d in (MONDAY, FRIDAY, SATURDAY, SUNDAY)] == [0, 4, 5, 6]


@pytest.mark.parametrize("start, days, expected", [
    (FRIDAY, 1, datetime(2024, 3, 11, 17, 0)),  # Friday + 1 = Monday
    (SATURDAY, 1, datetime(2024, 3, 11, 12, 0)),
    (SUNDAY, 1, datetime(2024, 3, 11, 12, 0)),
    (MONDAY, 1, datetime(2024, 3, 5, 9, 30)),
    (MONDAY, 4, datetime(2024, 3, 8, 9, 30)),  # Friday of the same week
    (MONDAY, 5, datetime(2024, 3, 11, 9, 30)),  # next Monday
    (MONDAY, 15, MONDAY + timedelta(weeks=3)),
    (FRIDAY, 15, FRIDAY + timedelta(weeks=3)),
    (datetime(2024, 2, 28), 2, datetime(2024, 3, 1)),  # across 29 February
    (datetime(2024, 12, 31), 3, datetime(2025, 1, 3)),  # across the year end
])
def test_add_working_days(start, days, expected):
    assert add_working_days(start, days) == expected


@pytest.mark.parametrize("start", [MONDAY, FRIDAY, SATURDAY, SUNDAY])
def test_zero_working_days_is_the_start(start):
    assert add_working_days(start, 0) == start


@pytest.mark.parametrize("start", [MONDAY, FRIDAY, SATURDAY, SUNDAY])
@pytest.mark.parametrize("days", [1, 2, 7, 15, 30])
def test_working_days_never_end_on_a_weekend(start, days):
    due = add_working_days(start, days)
    assert due.weekday() < 5
    weekdays_between = sum(1 for n in range(1, (due - start).days + 1)
                           if (start + timedelta(days=n)).weekday() < 5)
    assert weekdays_between == days


def test_negative_days_raise():
    with pytest.raises(ValueError):
        add_working_days(MONDAY, -1)


def test_time_of_day_and_timezone_are_kept():
    start = datetime(2024, 3, 8, 23, 59, tzinfo=timezone.utc)
    due = add_working_days(start, DEFAULT_DUE_WORKING_DAYS)
    assert due.tzinfo is timezone.utc and (due.hour, due.minute) == (23, 59)
    assert due == start + timedelta(weeks=3)


def test_default_due_is_15_working_days():
    assert DEFAULT_DUE_WORKING_DAYS == 15
