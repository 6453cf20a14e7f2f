"""Handing the visitor to a person: a ticket with the transcript, then a live chat or e-mail."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.replies import language_of, latest_intent, offered_person, send
from actions.store_access import services
from actions.transcripts import transcript_of
from bot.conversation import flows
from bot.conversation import handoff_replies as handoff
from bot.core.masking import mask_email
from bot.policy.document import load_policy
from bot.requests import validators


def handoff_reason(tracker: Tracker) -> str:
    if latest_intent(tracker) == "nlu_fallback":
        return "fallback"
    if offered_person(tracker):
        return "not_covered"
    return "asked"


def hand_over(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str
) -> List[Dict[str, Any]]:
    """Create (or reuse) the ticket, in the conversation's language, and tell the visitor what
    happens next."""
    live = services().directory.support_online()
    language = language_of(tracker)
    services().handoffs.create(
        tracker.sender_id, reason, transcript_of(tracker), live=live, language=language
    )
    if live:
        send(dispatcher, handoff.handing_over(reason, language))
        return []
    send(dispatcher, handoff.nobody_online(reason, language))
    return [FollowupAction("handoff_form")]


class ActionHumanHandoff(Action):
    def name(self) -> str:
        return "action_human_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        return hand_over(dispatcher, tracker, handoff_reason(tracker))


def handle_fallback(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[str, Any]]:
    """Asks to rephrase; when the previous message was not understood either, a person helps."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    previous = (
        ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name")
        if len(users) >= 2
        else None
    )
    if previous == "nlu_fallback":
        return hand_over(dispatcher, tracker, "fallback")
    dispatcher.utter_message(response="utter_please_rephrase")
    dispatcher.utter_message(response="utter_help")
    return []


class ActionAskHandoffEmail(Action):
    def name(self) -> str:
        return "action_ask_handoff_email"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        send(dispatcher, handoff.ask_email(language_of(tracker)))
        return []


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handoff_form"

    async def validate_handoff_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        text = str(value or "")
        if flows.is_skip(text):
            return {"handoff_email": flows.NONE}
        try:
            return {"handoff_email": validators.email(text, language_of(tracker))}
        except validators.Invalid as problem:
            dispatcher.utter_message(text=str(problem))
            return {"handoff_email": None}


class ActionSubmitHandoffContact(Action):
    def name(self) -> str:
        return "action_submit_handoff_contact"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        email = tracker.get_slot("handoff_email")
        language = language_of(tracker)
        if email and email != flows.NONE:
            services().handoffs.set_contact(tracker.sender_id, email)
            send(dispatcher, handoff.will_email(mask_email(email), language))
        else:
            send(dispatcher, handoff.no_email(load_policy(), language))
        return [SlotSet("handoff_email", None)]
