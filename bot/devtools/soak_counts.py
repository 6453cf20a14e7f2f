"""What a soak counts, from what its visitors saw and what the database holds afterwards.

Kept apart from the running of it so that the verdict can be checked on recorded outcomes
without a stack. The words are the promise of "a stack that heals": a request the visitor was
given a reference for is stored, exactly once; a request that could not be finished was
*told* so, with a "Try again" that later worked; nothing is stored behind a visitor's back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple


@dataclass
class Outcome:
    """One request, as its visitor lived it."""

    kind: str
    email: str
    reference: Optional[str] = None  # the reference the visitor was given, if any
    told_to_retry: int = 0  # replies that apologised with a "Try again" button
    errors: int = 0  # HTTP errors and unanswered messages
    untold_errors: int = 0  # of those, the ones that gave the visitor no message at all
    messages: int = 0
    abandoned: bool = False  # the conversation went where the visitor could not follow
    cut_off: bool = False  # the soak ended before the request did
    began: float = 0.0  # seconds from the start of the soak
    ended: Optional[float] = None


@dataclass
class Fault:
    """One fault as it happened; times in seconds from the start of the soak."""

    kind: str  # "kill", "hang" or "lock"
    started: float
    ended: float
    detail: str = ""
    healthy_after: Optional[float] = None  # fault end -> the action server's /health answers
    recovered_after: Optional[float] = None  # fault end -> the first successful answer
    skipped: bool = False
    under_way: int = 0  # requests begun and not finished when the fault began
    carried_on: int = 0  # of those, the ones that got their reference (or row) in the end


@dataclass
class Answer:
    """When one visitor message was sent and answered, and whether the answer was a good one
    (not an error, not an apology): what recovery is timed by."""

    sent: float
    received: float
    ok: bool


@dataclass
class Tally:
    started: int = 0
    stored: int = 0
    announced: int = 0
    duplicates: int = 0
    lost: int = 0
    told_to_retry: int = 0  # apologies with "Try again", in all
    requests_told: int = 0  # requests that had at least one
    recovered: int = 0  # of those, the requests that ended with a reference or a stored row
    unresolved: int = 0  # told to retry, and still nothing stored when the soak ended
    untold: int = 0  # requests that ended with nothing, the visitor never told why
    errors: int = 0
    untold_errors: int = 0
    abandoned: int = 0
    cut_off: int = 0
    lost_detail: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """0 lost, 0 duplicates, and every failure told, and retried with success."""
        return not (
            self.lost or self.duplicates or self.unresolved or self.untold or self.untold_errors
        )

    def as_dict(self) -> Dict[str, object]:
        figures = asdict(self)
        figures["ok"] = self.ok
        return figures


def tally(outcomes: Sequence[Outcome], rows: Mapping[str, Sequence[str]]) -> Tally:
    """`rows`: the references stored for each of the soak's e-mail addresses (only those with
    at least one row need be there). Each request had an address of its own, so more than one
    row for an address is a duplicate, and a row for an address no visitor used is lost."""
    result = Tally(started=len(outcomes))
    result.stored = sum(len(refs) for refs in rows.values())
    result.duplicates = sum(max(0, len(refs) - 1) for refs in rows.values())
    known = {outcome.email for outcome in outcomes}
    for email, refs in rows.items():
        if email not in known and refs:
            result.lost += 1
            result.lost_detail.append(f"stored for no visitor of this soak: {', '.join(refs)}")
    for outcome in outcomes:
        stored = list(rows.get(outcome.email, ()))
        result.told_to_retry += outcome.told_to_retry
        result.errors += outcome.errors
        result.untold_errors += outcome.untold_errors
        result.abandoned += outcome.abandoned
        result.cut_off += outcome.cut_off
        if outcome.told_to_retry:
            result.requests_told += 1
        if outcome.reference:
            result.announced += 1
            if outcome.reference not in stored:
                result.lost += 1
                result.lost_detail.append(f"{outcome.reference} announced, not stored")
        elif stored and not outcome.told_to_retry:
            result.lost += 1
            result.lost_detail.append(f"{stored[0]} stored, the visitor never told")
        if outcome.told_to_retry:
            if outcome.reference or stored:
                result.recovered += 1
            else:
                result.unresolved += 1
        elif not outcome.reference and not stored:
            result.untold += 1
    return result


def caught_in(
    fault: Fault, outcomes: Iterable[Outcome], rows: Mapping[str, Sequence[str]]
) -> Tuple[int, int]:
    """(requests half-way through their form when the fault began, how many of them were then
    finished): a visitor caught by a fault is to carry on where they were."""
    caught = [
        o
        for o in outcomes
        if o.began < fault.started and (o.ended is None or o.ended > fault.started)
    ]
    return len(caught), sum(1 for o in caught if o.reference or rows.get(o.email))


def recovery_after(end: float, answers: Iterable[Answer]) -> Optional[float]:
    """Seconds from a fault's end to the first good answer to a message sent after it; None
    when there was none."""
    received = [a.received for a in answers if a.ok and a.sent >= end]
    return min(received) - end if received else None


def verdict(result: Tally) -> str:
    if result.ok:
        return "OK: 0 lost, 0 duplicates, every failure told and retried with success"
    problems = [
        f"{count} {what}"
        for count, what in (
            (result.lost, "lost"),
            (result.duplicates, "duplicates"),
            (result.unresolved, "told to retry but never stored"),
            (result.untold, "ended with nothing and never told"),
            (result.untold_errors, "messages left unanswered"),
        )
        if count
    ]
    return "FAILED: " + ", ".join(problems)
