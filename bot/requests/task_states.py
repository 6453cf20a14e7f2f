"""The states of a fulfilment task (one system's part in carrying a request out).

pending -> sent -> done | failed; a webhook task is `pending` until delivered (and again after a
delivery that did not get through, until its attempts run out: `failed`); a manual task is
`pending` until a member ticks it `done` or `not_applicable`. A failed task may be retried
(back to `pending`). A request completes when every task is settled.
"""

from __future__ import annotations

from typing import FrozenSet

PENDING = "pending"
SENT = "sent"
DONE = "done"
FAILED = "failed"
NOT_APPLICABLE = "not_applicable"

STATES = (PENDING, SENT, DONE, FAILED, NOT_APPLICABLE)
SETTLED: FrozenSet[str] = frozenset({DONE, NOT_APPLICABLE})
WAITING: FrozenSet[str] = frozenset({PENDING, SENT})
# What a system's answer or callback may settle a task as.
ANSWERS: FrozenSet[str] = frozenset({DONE, FAILED})

WEBHOOK = "webhook"
MANUAL = "manual"
