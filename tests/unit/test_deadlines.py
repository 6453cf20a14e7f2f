"""Due dates by jurisdiction (bot.requests.deadlines): the PRC statutory calendar of working days,
a year the calendar does not know yet, local days, one calendar month, and days left."""

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.requests.deadlines import (
    JURISDICTIONS,
    Jurisdiction,
    due_date,
    jurisdiction,
    prc_working_day,
    unknown_years,
    weekday,
    working_days_left,
)

PRC, GDPR = JURISDICTIONS["prc"], JURISDICTIONS["gdpr"]
WEEKDAYS = Jurisdiction("weekdays", "Monday to Friday", "UTC", working_day=weekday)
BEIJING = timezone(timedelta(hours=8))


def local_day(deadline, zone=BEIJING):
    return deadline.due.astimezone(zone).date()


def at_beijing(year, month, day, hour=10):
    return datetime(year, month, day, hour, tzinfo=BEIJING).astimezone(timezone.utc)


def test_the_calendar_knows_the_2026_spring_festival_and_its_make_up_saturdays():
    assert prc_working_day(date(2026, 2, 14)) is True  # Saturday, a make-up working day
    assert prc_working_day(date(2026, 2, 16)) is False  # Monday, Spring Festival
    assert prc_working_day(date(2026, 10, 1)) is False  # National Day
    assert prc_working_day(date(2027, 1, 4)) is None  # not published (yet) in this release


def test_fifteen_working_days_across_the_spring_festival():
    # Counted by hand from the State Council's 2026 notice: Feb 12, 13, 14 (Sat, worked), then
    # Feb 24-28 (28 a Saturday worked), Mar 2-6, Mar 9, 10. Monday to Friday would say Mar 4.
    deadline = due_date(at_beijing(2026, 2, 11), 15, PRC)
    assert local_day(deadline) == date(2026, 3, 10) and not deadline.estimated
    assert local_day(due_date(at_beijing(2026, 2, 11), 15, WEEKDAYS), timezone.utc) == date(
        2026, 3, 4
    )


def test_fifteen_working_days_across_mid_autumn_and_national_day_2026():
    # Received Monday 28 September: Sep 29, 30, then Oct 1-7 off, Oct 8, 9, 10 (a Saturday
    # worked), 12-16, 19-23. Monday to Friday would give 16 October.
    deadline = due_date(at_beijing(2026, 9, 28), 15, PRC)
    assert local_day(deadline) == date(2026, 10, 23)
    assert (
        prc_working_day(date(2026, 9, 20)) is True and prc_working_day(date(2026, 9, 25)) is False
    )  # a Sunday worked before Mid-Autumn, which is a Friday off


def test_across_the_new_year_2026_with_its_sunday_worked():
    # Dec 25, 26, 29, 30, 31; Jan 1-3 off; Jan 4 (a Sunday worked), 5-9, 12-15.
    deadline = due_date(at_beijing(2025, 12, 24), 15, PRC)
    assert local_day(deadline) == date(2026, 1, 15) and not deadline.estimated


def test_the_due_date_is_the_end_of_the_last_local_day():
    deadline = due_date(at_beijing(2026, 11, 30), 1, PRC)
    assert deadline.due.astimezone(BEIJING).replace(tzinfo=None) == datetime(
        2026, 12, 1, 23, 59, 59
    )


def test_days_are_counted_where_the_jurisdiction_is():
    # 23:30 UTC on Thursday 3 December is Friday morning in Beijing: one working day later is
    # Monday 7 December there, not Friday 4.
    late = datetime(2026, 12, 3, 23, 30, tzinfo=timezone.utc)
    assert local_day(due_date(late, 1, PRC)) == date(2026, 12, 7)


def test_a_year_the_calendar_does_not_know_is_counted_monday_to_friday_and_says_so():
    deadline = due_date(at_beijing(2026, 12, 20), 15, PRC)
    # Dec 21-25, 28-31 (9), then 2027 as Monday to Friday: Jan 1, 4, 5, 6, 7, 8.
    assert local_day(deadline) == date(2027, 1, 8)
    assert deadline.estimated and deadline.unknown_years == (2027,)
    assert not due_date(at_beijing(2026, 11, 2), 15, PRC).estimated


@pytest.mark.parametrize(
    "received, due",
    [
        (date(2026, 1, 31), date(2026, 2, 28)),  # no 31 February: the month's last day
        (date(2024, 1, 31), date(2024, 2, 29)),
        (date(2026, 3, 15), date(2026, 4, 15)),
        (date(2026, 12, 20), date(2027, 1, 20)),
    ],
)
def test_the_gdpr_counts_one_calendar_month(received, due):
    brussels = timezone(timedelta(hours=1))
    start = datetime.combine(received, datetime.min.time().replace(hour=12), tzinfo=brussels)
    deadline = due_date(start, where=GDPR)
    assert deadline.due.astimezone(brussels).date() == due and not deadline.estimated


def test_zero_days_is_the_day_received_and_negative_days_are_refused():
    assert local_day(due_date(at_beijing(2026, 12, 2), 0, PRC)) == date(2026, 12, 2)
    with pytest.raises(ValueError):
        due_date(at_beijing(2026, 12, 2), -1, PRC)


def test_the_jurisdiction_is_a_setting(set_env, no_env_file):
    set_env(REQUEST_JURISDICTION="GDPR")
    assert jurisdiction() is GDPR
    set_env(REQUEST_JURISDICTION=None)
    assert jurisdiction() is PRC
    with pytest.raises(ValueError, match="unknown jurisdiction"):
        jurisdiction("mars")


def test_the_default_number_of_working_days_comes_from_the_settings(set_env, no_env_file):
    set_env(REQUEST_DUE_WORKING_DAYS="3")
    assert local_day(due_date(at_beijing(2026, 11, 30), where=PRC)) == date(2026, 12, 3)


@pytest.mark.parametrize(
    "today, left",
    [
        (date(2026, 12, 4), 0),  # the due day itself (a Friday)
        (date(2026, 12, 3), 1),
        (date(2026, 11, 30), 4),
        (date(2026, 12, 5), 0),  # Saturday after: no working day has passed since
        (date(2026, 12, 7), -1),  # Monday after: one working day late
        (date(2026, 12, 9), -3),
    ],
)
def test_working_days_left_count_the_days_after_today(today, left):
    due = due_date(at_beijing(2026, 12, 3), 1, PRC).due
    now = datetime.combine(today, datetime.min.time().replace(hour=9), tzinfo=BEIJING)
    assert working_days_left(due, now, PRC) == left


def test_days_left_skip_the_holidays_of_the_calendar():
    due = due_date(at_beijing(2026, 2, 11), 15, PRC).due
    # From Friday 13 February: 14 (Sat, worked), 24-28, Mar 2-6, 9, 10 = 13 working days.
    assert working_days_left(due, at_beijing(2026, 2, 13), PRC) == 13


def test_the_years_a_request_spans_that_the_calendar_does_not_know():
    assert unknown_years(at_beijing(2026, 3, 2), at_beijing(2026, 3, 23), PRC) == ()
    assert unknown_years(at_beijing(2026, 12, 20), at_beijing(2027, 1, 8), PRC) == (2027,)
    # A request received in Beijing on 1 January 2027 (still 31 December in UTC).
    assert unknown_years(at_beijing(2027, 1, 1, 2), at_beijing(2027, 1, 20), PRC) == (2027,)
    assert unknown_years(at_beijing(2026, 12, 20), at_beijing(2027, 1, 20), GDPR) == ()
