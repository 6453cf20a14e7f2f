"""The request status lifecycle (due dates: test_deadlines.py)."""

from itertools import product

import pytest

from bot.requests.lifecycle import (
    COMPLETED,
    IN_PROGRESS,
    OPEN_STATUSES,
    RECEIVED,
    REJECTED,
    STATUSES,
    TRANSITIONS,
    UNVERIFIED,
    WITHDRAWN,
    IllegalTransition,
    check_transition,
)

LEGAL = sorted((current, target) for current in STATUSES for target in TRANSITIONS[current])
ILLEGAL = sorted(set(product(STATUSES, STATUSES)) - set(LEGAL))


def test_the_lifecycle_is_the_documented_one():
    assert set(LEGAL) == {
        (UNVERIFIED, RECEIVED),
        (RECEIVED, IN_PROGRESS),
        (IN_PROGRESS, COMPLETED),
        (UNVERIFIED, REJECTED),
        (RECEIVED, REJECTED),
        (IN_PROGRESS, REJECTED),
        (UNVERIFIED, WITHDRAWN),
        (RECEIVED, WITHDRAWN),
        (IN_PROGRESS, WITHDRAWN),
    }
    assert set(TRANSITIONS) == set(STATUSES)
    assert len(ILLEGAL) == len(STATUSES) ** 2 - len(LEGAL) == 27
    assert OPEN_STATUSES == {UNVERIFIED, RECEIVED, IN_PROGRESS}
    # Closed states are final; every open state can be rejected.
    assert all(not TRANSITIONS[s] for s in set(STATUSES) - OPEN_STATUSES)
    assert all(REJECTED in TRANSITIONS[s] for s in OPEN_STATUSES)


@pytest.mark.parametrize("current, target", LEGAL)
def test_legal_transition(current, target):
    assert check_transition(current, target, "the account holder asked") is None


@pytest.mark.parametrize("current, target", [(c, t) for c, t in LEGAL if t != REJECTED])
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
