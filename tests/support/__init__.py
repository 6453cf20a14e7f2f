"""What several test modules share, in one place: no test module imports another.

This package's `__init__` holds the light test doubles (it imports nothing heavy); the rest is in
submodules, each imported only by the tests that need it:

- `tests.support.channels` - our Rasa channels on a small in-process Sanic app (the harness);
- `tests.support.databases` - a scratch PostgreSQL database, and copies of a migrated SQLite one;
- `tests.support.encoders` - the sentence encoder with what it has encoded kept for the session;
- `tests.support.mail` - an SMTP inbox for aiosmtpd;
- `tests.support.near_copies` - when an example or labelled question copies an evaluation one;
- `tests.support.properties` - shared hypothesis strategies, scaled to the hypothesis profile;
- `tests.support.stores` - the request store's submit as the chat makes it, and row counts;
- `tests.support.retention` - the store wired with the eraser, and `python -m bot purge`;
- `tests.support.live` - what the tests of the running stack share.

Fixtures stay in the conftest.py files (tests/ for all, one per directory for its own).
"""

from datetime import datetime, timezone

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test sets by hand (`clock.now = ...`), for code that takes `clock=`."""

    def __init__(self, now=MONDAY):
        self.now = now

    def __call__(self):
        return self.now
