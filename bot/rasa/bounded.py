"""A conversation's events, bounded: what the tracker stores keep of a conversation.

Rasa replays every stored event of a conversation's session on each message, runs its policies
over them and sends them all to the action server, so a message cost more the longer the
conversation had gone on (22 ms at turn 1, 221 ms at turn 350). The stores keep instead only the
latest session, and once it holds more than `max_events` events they continue it in a new session
that carries the slots as they were and the last `keep_turns` turns of the visitor, which is all
the policies (max_history 3), the fallback (the previous message) and the forms read. A cut is
never made while a form runs or a failed submission waits for "try again": the form's start and
its idempotency key stay in the events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.conversation.faults import PENDING_SLOT


@dataclass(frozen=True)
class Bounds:
    max_events: int = 60
    keep_turns: int = 3


def latest_session(events: Sequence[Event]) -> List[Event]:
    """The events of the latest session: from its `action_session_start` (or its
    `SessionStarted` where that action is not logged) to the end."""
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], SessionStarted):
            before = events[index - 1] if index else None
            if (
                isinstance(before, ActionExecuted)
                and before.action_name == ACTION_SESSION_START_NAME
            ):
                index -= 1
            return list(events[index:])
    return list(events)


def _waiting(tracker: DialogueStateTracker) -> bool:
    """A form runs, or a failed submission waits for "try again"."""
    return bool(tracker.active_loop_name) or bool(tracker.get_slot(PENDING_SLOT))


def compacted(
    tracker: DialogueStateTracker, events: Sequence[Event], bounds: Bounds
) -> Optional[List[Event]]:
    """`events` (the tracker's latest session) continued in a new session when there are more
    than `bounds.max_events` of them; None when they are within bounds or no cut can be made."""
    if len(events) <= bounds.max_events or _waiting(tracker):
        return None
    turns = [i for i, event in enumerate(events) if isinstance(event, UserUttered)]
    keep = max(1, bounds.keep_turns)
    if len(turns) <= keep:
        return None
    latest_cut, starts = turns[-keep], set(turns)
    # One replay up to the latest cut that keeps `keep` turns: the last turn's start before it
    # where no form ran is where the new session takes over, with the slots as they were there.
    replay = DialogueStateTracker(tracker.sender_id, tracker.slots.values())
    cut, state = 0, {}
    for index in range(latest_cut + 1):
        if index in starts and not _waiting(replay):
            cut, state = index, replay.current_slot_values()
        if index < latest_cut:
            replay.update(events[index])
    if not cut:
        return None
    at = events[cut].timestamp
    initial = {name: slot.initial_value for name, slot in tracker.slots.items()}
    head: List[Event] = [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=at),
        SessionStarted(timestamp=at),
        *(
            SlotSet(name, value, timestamp=at)
            for name, value in state.items()
            if value != initial.get(name)
        ),
        ActionExecuted(ACTION_LISTEN_NAME, timestamp=at),
    ]
    shorter = head + list(events[cut:])
    # Worth a new session only when it frees a quarter of the room: never one per message.
    return shorter if len(shorter) <= bounds.max_events * 3 // 4 else None


def bounded(tracker: DialogueStateTracker, bounds: Bounds) -> Tuple[List[Event], bool]:
    """What a store keeps of `tracker`, and whether that is not simply what it kept before plus
    the new events (an earlier session dropped, or the session continued in a new one)."""
    events = list(tracker.events)
    session = latest_session(events)
    shorter = compacted(tracker, session, bounds)
    if shorter is not None:
        return shorter, True
    return session, len(session) != len(events)
