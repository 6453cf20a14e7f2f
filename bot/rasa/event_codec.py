"""Events back from their stored JSON, without Rasa's per-event class search.

Rasa finds an event's class by walking every subclass of `Event` for each event it reads
(`Event.resolve_by_type`: in a profile of the SQL store's retrieve, most of its CPU). The
classes do not change while the process runs, so the walk is done once per type name, in
Rasa's own order (the first class with the name wins, as there); a name it does not know goes
to Rasa, which decides what to do with it.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional, Type

from rasa.shared.core.events import Event
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

_CLASSES: Dict[str, Type[Event]] = {}


def _class_of(type_name: str) -> Optional[Type[Event]]:
    if not _CLASSES:
        for cls in all_subclasses(Event):
            _CLASSES.setdefault(cls.type_name, cls)
    return _CLASSES.get(type_name)


def event_from_dict(data: Dict[str, Any]) -> Optional[Event]:
    cls = _class_of(str(data.get("event")))
    return Event.from_parameters(data) if cls is None else cls._from_parameters(data)


def tracker_from(
    sender_id: str, stored: Iterable[Dict[str, Any]], slots: Iterable[Slot]
) -> DialogueStateTracker:
    """A tracker rebuilt from its events' dicts (as `Event.as_dict` wrote them)."""
    events: List[Event] = [e for e in map(event_from_dict, stored) if e is not None]
    return DialogueStateTracker.from_events(sender_id, events, slots)


def tracker_from_json(
    sender_id: str, serialised: str, slots: Iterable[Slot]
) -> DialogueStateTracker:
    return tracker_from(sender_id, json.loads(serialised), slots)
