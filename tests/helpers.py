"""Test doubles shared by several modules."""

from datetime import datetime, timezone

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test sets by hand (`clock.now = ...`), for code that takes `clock=`."""

    def __init__(self, now=MONDAY):
        self.now = now

    def __call__(self):
        return self.now
