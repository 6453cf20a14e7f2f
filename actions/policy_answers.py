"""Answers about the policy: one section from the intent, the whole section, silent topics."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import latest_intent, question_text, send
from bot.answers import answer_from_section, full_section, no_section_yet, not_covered
from bot.policy import load_policy
from bot.topics import silent_topic

INTENT_PREFIX = "ask_"


class ActionAnswerPolicy(Action):
    """Answers `ask_<section id>` from that section, and remembers it for "tell me more"."""

    def name(self) -> Text:
        return "action_answer_policy"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        policy = load_policy()
        section_id = latest_intent(tracker)[len(INTENT_PREFIX):]
        if not policy.has_section(section_id):
            dispatcher.utter_message(response="utter_please_rephrase")
            return []
        send(dispatcher, answer_from_section(policy, section_id, question_text(tracker)))
        return [SlotSet("last_section", section_id)]


class ActionShowSection(Action):
    """Shows the full text of the section last answered from."""

    def name(self) -> Text:
        return "action_show_section"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        policy = load_policy()
        section_id = tracker.get_slot("last_section")
        if not section_id or not policy.has_section(section_id):
            send(dispatcher, no_section_yet())
            return []
        send(dispatcher, full_section(policy, section_id))
        return []


class ActionAnswerNotCovered(Action):
    """Says the policy is silent on the topic, and offers a person and the postal address."""

    def name(self) -> Text:
        return "action_answer_not_covered"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        send(dispatcher, not_covered(load_policy(), silent_topic(question_text(tracker))))
        return []
