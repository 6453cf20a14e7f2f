"""Rate limits on what the chat lets anyone trigger: verification e-mails and new requests.

Counted from the rows themselves (`verification_codes`, `privacy_requests`, by `created_at`) in the
transaction that would add one more, so they hold across processes and need no table of their
own. Each check first takes a lock on what is counted (a PostgreSQL advisory lock; SQLite's one
write lock), so concurrent calls cannot all see room for one more. Staff logins are limited
separately (`bot.staff.accounts`).

Every limit can be changed from the environment or `.env` (0 switches it off): the counts in
force are bot.core.settings' `rate_limit_*`, whose defaults are the numbers below.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional, Sequence, Tuple

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.core.settings import Settings, load_settings

# At most 5 codes to one address per rolling hour, whatever the conversation: nobody can flood
# someone else's mailbox by typing their address into many chats.
CODES_PER_EMAIL = 5
CODES_PER_EMAIL_WINDOW = timedelta(hours=1)
# At most 5 codes from one conversation per rolling hour: one visitor cannot cycle through
# many addresses.
CODES_PER_CONVERSATION = 5
CODES_PER_CONVERSATION_WINDOW = timedelta(hours=1)
# At most 5 new requests from one conversation per rolling 24 hours: one visitor cannot fill the
# legal department's queue. Retries and duplicates return the existing request and do not count.
REQUESTS_PER_CONVERSATION = 5
REQUESTS_PER_CONVERSATION_WINDOW = timedelta(hours=24)

# `RateLimited.what`: which limit was reached.
CODES_PER_EMAIL_WHAT = "verification codes per e-mail address"
CODES_PER_CONVERSATION_WHAT = "verification codes per conversation"
REQUESTS_PER_CONVERSATION_WHAT = "new requests per conversation"

# Environment / .env names that override the counts above (read by bot.core.settings).
ENV_NAMES = {
    CODES_PER_EMAIL_WHAT: "RATE_LIMIT_CODES_PER_EMAIL",
    CODES_PER_CONVERSATION_WHAT: "RATE_LIMIT_CODES_PER_CONVERSATION",
    REQUESTS_PER_CONVERSATION_WHAT: "RATE_LIMIT_REQUESTS_PER_CONVERSATION",
}
_WINDOWS = {
    CODES_PER_EMAIL_WHAT: CODES_PER_EMAIL_WINDOW,
    CODES_PER_CONVERSATION_WHAT: CODES_PER_CONVERSATION_WINDOW,
    REQUESTS_PER_CONVERSATION_WHAT: REQUESTS_PER_CONVERSATION_WINDOW,
}


class RateLimited(Exception):
    """Refused: `what` has reached its limit; one more is possible after `retry_after`."""

    def __init__(self, what: str, retry_after: timedelta, limit: int, window: timedelta) -> None:
        self.what = what
        self.retry_after = retry_after
        self.limit = limit
        self.window = window
        super().__init__(
            f"rate limit reached: {what} (at most {limit} per {window}); "
            f"next one possible in {retry_after}"
        )

    @property
    def retry_after_minutes(self) -> int:
        """`retry_after` rounded up to whole minutes, at least 1 (for telling the visitor)."""
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))


@dataclass(frozen=True)
class Limit:
    what: str
    count: int  # at most this many in any `window`; 0 or less: no limit
    window: timedelta


# One check for `enforce`: (limit, the counted table's created_at column, what counts).
Check = Tuple[Limit, Any, Sequence[Any]]


def limit(what: str, settings: Optional[Settings] = None) -> Limit:
    """The limit in force: the count the settings give (the default, or the environment's /
    `.env`'s number)."""
    count = (settings or load_settings()).value_of(ENV_NAMES[what])
    return Limit(what, count, _WINDOWS[what])


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def lock(session: Session, *keys: str) -> None:
    """Hold, until the transaction ends, a lock on each key: whoever counts and then adds under
    it is alone. PostgreSQL: advisory locks, taken in one order (no deadlock between two calls
    sharing keys). SQLite: its single write lock (a no-op write takes it)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        for key in sorted(set(keys)):
            session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _lock_id(key)})
    elif dialect == "sqlite":
        session.execute(text("UPDATE verification_codes SET id = id WHERE 0"))


def retry_after(
    session: Session, rule: Limit, created_at: Any, conditions: Sequence[Any], now: datetime
) -> Optional[timedelta]:
    """None while there is room for one more under `rule`; otherwise how long until there is.

    `created_at` is the counted table's creation-time column, `conditions` select what counts.
    The wait ends when the `count`-th newest counted row leaves the window (with exactly
    `count` rows: the oldest)."""
    if rule.count <= 0:
        return None
    newest = list(
        session.execute(
            select(created_at)
            .where(*conditions, created_at > now - rule.window)
            .order_by(created_at.desc())
            .limit(rule.count)
        ).scalars()
    )
    if len(newest) < rule.count:
        return None
    return newest[-1] + rule.window - now


def enforce(session: Session, now: datetime, *checks: Check) -> None:
    """Raise `RateLimited` when any of `checks` — (limit, created_at column, conditions) — has
    no room; with several, the one that lasts longest."""
    refused = []
    for rule, created_at, conditions in checks:
        wait = retry_after(session, rule, created_at, conditions, now)
        if wait is not None:
            refused.append((wait, rule))
    if refused:
        wait, rule = max(refused, key=lambda item: item[0])
        raise RateLimited(rule.what, wait, rule.count, rule.window)
