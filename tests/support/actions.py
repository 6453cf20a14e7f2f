"""Running the form actions as the action server does, for the tests of actions/: rasa_sdk's
CollectingDispatcher, real Trackers as Rasa sends them, the real domain."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.core.paths import ROOT
from bot.storage.db import transaction
from bot.storage.models import OutboxMessage

DOMAIN = Domain.load(str(ROOT / "domain.yml")).as_dict()
SENDER = "conversation-1"


def tracker(
    form: Optional[str],
    slots: Optional[Dict[str, Any]] = None,
    text: str = "",
    intent: str = "inform",
    confidence: float = 0.95,
    set_slot: Optional[str] = None,
    message_id: str = "m1",
    events: Optional[List[Dict[str, Any]]] = None,
    latest_action: str = "action_listen",
) -> Tracker:
    """A tracker as Rasa sends it to a form's validation action: the user's message, then the
    slot candidate extracted from it."""
    trail = list(events or []) + [{"event": "user", "text": text}]
    if set_slot:
        trail.append({"event": "slot", "name": set_slot, "value": text})
    return Tracker(
        sender_id=SENDER,
        slots={**(slots or {}), "requested_slot": set_slot},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "message_id": message_id,
        },
        events=trail,
        paused=False,
        followup_action=None,
        active_loop={"name": form} if form else {},
        latest_action_name=latest_action,
    )


async def validate(
    action: Any,
    form: str,
    slot: str,
    text: str,
    slots: Optional[Dict[str, Any]] = None,
    **kwargs: Any,
):
    """What a validation action makes of `text` as the answer to `slot`: the slots it sets,
    what it says, and the dispatcher."""
    dispatcher = CollectingDispatcher()
    events = await action.run(
        dispatcher, tracker(form, slots, text, set_slot=slot, **kwargs), DOMAIN
    )
    values = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return values, [m.get("text") or m.get("response") for m in dispatcher.messages], dispatcher


def outbox(store: Any) -> List[Tuple[str, str, str]]:
    """Every queued e-mail of the store, oldest first, as (to, subject, body)."""
    with transaction(store.sessions) as session:
        messages = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars()
        return [(m.to_address, m.subject, m.body) for m in messages]
