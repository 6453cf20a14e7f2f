"""Ages as people type and read them: `30d` for the retention period, "30 days" back.

Kept apart from the purge, and free of the database and HTTP imports, because the command line
checks `--older-than` while parsing its arguments and the in-memory tracker store reads
`CONVERSATION_RETENTION` inside Rasa: neither should pull in what the purge needs.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Optional

_AGE = re.compile(r"([0-9]{1,9})([hdw])", re.ASCII)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_AGE = timedelta(days=100 * 366)  # beyond this a typo is likelier than a policy
AGE_HELP = "a whole number followed by h (hours), d (days) or w (weeks), e.g. 30d, 12h or 6w"


def parse_age(text: str) -> timedelta:
    """`30d` -> 30 days. Only Nh, Nd and Nw: an age is typed by a person running a cleanup, so
    anything else (0, negative, fractions, other units, a runaway number) is refused with a
    sentence saying what to write rather than guessed at."""
    if not isinstance(text, str):
        raise ValueError(f"An age is {AGE_HELP}.")
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        shown = text.strip()[:40]
        raise ValueError(f"{shown!r} is not an age: write {AGE_HELP}.")
    count, unit = int(match.group(1)), match.group(2)
    if count == 0:
        raise ValueError("The age must be at least 1 hour: nothing would be kept otherwise.")
    if count * _UNITS[unit] > MAX_AGE:
        raise ValueError("The age must be at most 100 years.")
    return count * _UNITS[unit]


def plural(count: int, word: str, plural_form: Optional[str] = None) -> str:
    """`3 events`, `1 event`: the reports of the purge and the erasure are read by people."""
    return f"{count} {word if count == 1 else (plural_form or word + 's')}"


def age_words(age: timedelta) -> str:
    """An age in the largest whole unit it was given in: 6 weeks, 30 days, 12 hours."""
    hours = int(age.total_seconds() // 3600)
    if hours % (24 * 7) == 0:
        return plural(hours // (24 * 7), "week")
    if hours % 24 == 0:
        return plural(hours // 24, "day")
    return plural(hours, "hour")
