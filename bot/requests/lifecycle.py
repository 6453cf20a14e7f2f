"""The status lifecycle of a privacy request (its due date: bot.requests.deadlines).

unverified -> received -> in_progress -> completed | rejected. A request may be rejected from any
open state, always with a reason: China's PIPL (Art. 50) requires reasons for refusing a
request. The requester may withdraw it while it is open. Anything else is an illegal transition
and raises.
"""

from __future__ import annotations

from typing import Dict, FrozenSet

from bot.core.errors import CodedError

UNVERIFIED = "unverified"
RECEIVED = "received"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"

STATUSES = (UNVERIFIED, RECEIVED, IN_PROGRESS, COMPLETED, REJECTED, WITHDRAWN)
OPEN_STATUSES: FrozenSet[str] = frozenset({UNVERIFIED, RECEIVED, IN_PROGRESS})

TRANSITIONS: Dict[str, FrozenSet[str]] = {
    UNVERIFIED: frozenset({RECEIVED, REJECTED, WITHDRAWN}),
    RECEIVED: frozenset({IN_PROGRESS, REJECTED, WITHDRAWN}),
    IN_PROGRESS: frozenset({COMPLETED, REJECTED, WITHDRAWN}),
    COMPLETED: frozenset(),
    REJECTED: frozenset(),
    WITHDRAWN: frozenset(),
}


class IllegalTransition(CodedError):
    """A move the lifecycle refuses: "cannot_become" (not one of `TRANSITIONS`) or
    "reason_required" (a rejection without a reason), with the `current` and `target`
    statuses."""

    group = "lifecycle"


def check_transition(current: str, target: str, note: str | None = None) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition("cannot_become", current=current, target=target)
    if target == REJECTED and not (note and note.strip()):
        raise IllegalTransition("reason_required", current=current, target=target)
