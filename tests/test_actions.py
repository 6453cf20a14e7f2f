"""The custom actions, called as the action server calls them, without Rasa."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.policy_answers import ActionAnswerNotCovered, ActionAnswerPolicy, ActionShowSection
from bot.answers import contact_line
from bot.policy import load_policy

POLICY = load_policy()


def tracker(text, intent, slots=None):
    return Tracker(
        sender_id="test", slots=slots or {}, latest_message={"text": text, "intent": {"name": intent}},
        events=[], paused=False, followup_action=None, active_loop={}, latest_action_name=None,
    )


def run(action, text, intent, slots=None):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker(text, intent, slots), {})
    return dispatcher.messages, events


@pytest.mark.parametrize("section", [s for s in POLICY.sections])
def test_answer_policy_cites_the_section_of_the_intent_and_remembers_it(section):
    messages, events = run(ActionAnswerPolicy(), "tell me about this", f"ask_{section.id}")
    assert len(messages) == 1
    assert section.heading in messages[0]["text"]
    assert messages[0]["buttons"] == [{"title": "Show the whole section", "payload": "/tell_more"}]
    assert events == [SlotSet("last_section", section.id)]


def test_a_button_payload_is_not_taken_as_the_question():
    messages, _ = run(ActionAnswerPolicy(), "/ask_security", "ask_security")
    assert "Security of your personal information" in messages[0]["text"]


def test_answer_policy_with_an_unknown_intent_asks_to_rephrase():
    messages, events = run(ActionAnswerPolicy(), "hm", "ask_weather")
    assert messages[0]["response"] == "utter_please_rephrase" and events == []


def test_show_section_shows_the_last_section_in_full():
    messages, _ = run(ActionShowSection(), "tell me more", "tell_more", {"last_section": "minors"})
    for paragraph in POLICY.section("minors").paragraphs:
        assert paragraph in messages[0]["text"]


def test_show_section_without_a_previous_answer_asks_which():
    messages, _ = run(ActionShowSection(), "tell me more", "tell_more")
    assert "Which part of the policy" in messages[0]["text"]


def test_not_covered_names_the_topic():
    messages, _ = run(ActionAnswerNotCovered(), "do you use cookies", "ask_not_covered")
    assert "the policy does not say anything about cookies" in messages[0]["text"]
    assert contact_line(POLICY) in messages[0]["text"]
