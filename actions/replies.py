"""Shared glue between `bot` replies and rasa_sdk's dispatcher."""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.conversation.routing import Reading
from bot.core.language import or_default
from bot.core.texts import button
from bot.policy.answers import CONNECT, Reply

LANGUAGE_SLOT = "language"  # domain.yml: filled from the `language` entity NLU adds


def language_of(tracker: Tracker) -> str:
    """The conversation's language, a registered language: every reply an action makes is in it. The
    slot is set from the latest message before any action runs, so a first message in Chinese
    is answered in Chinese; unset (or anything else) is English."""
    return or_default(tracker.get_slot(LANGUAGE_SLOT))


def send(
    dispatcher: CollectingDispatcher, reply: Reply, custom: Optional[Dict[str, Any]] = None
) -> None:
    dispatcher.utter_message(
        text=reply.text, buttons=[dict(b) for b in reply.buttons], json_message=custom
    )


def question_text(tracker: Tracker) -> str:
    """The visitor's words; a button payload such as `/ask_security` carries no question."""
    text = (tracker.latest_message or {}).get("text") or ""
    return "" if text.startswith("/") else text


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def last_bot_message(tracker: Tracker) -> Dict[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return event
    return {}


def offered_person(tracker: Tracker) -> bool:
    """The assistant's last message offered to connect the visitor with a person."""
    buttons = (last_bot_message(tracker).get("data") or {}).get("buttons") or []
    return any(b.get("payload") == button(CONNECT)["payload"] for b in buttons)


def reading_of(tracker: Tracker) -> Reading:
    """What NLU made of the latest message, for the router."""
    reading = Reading.from_parse(tracker.latest_message or {})
    # A button payload (`/ask_security`) carries no question words of its own.
    return Reading(question_text(tracker), reading.ranking, reading.evidence)
