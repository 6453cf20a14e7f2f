"""The policy-answering actions, called as the action server calls them, without Rasa."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.policy_answers import (
    ActionAnswerInform,
    ActionAnswerPolicy,
    ActionAnswerYes,
    ActionShowSection,
)
from bot.conversation.routing import load_thresholds
from bot.core.texts import button
from bot.policy.answers import CONNECT, contact_line
from bot.policy.document import load_policy
from bot.policy.gaps import AnswerRef
from bot.requests.store import RequestStore
from tests.support.gaps import gaps

POLICY = load_policy()
CONNECT_BUTTON = button(CONNECT)
SECRET = "test-app-secret"  # the gap_log fixture's (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("gap_log")


def tracker(text, ranking, slots=None, events=None):
    intent = {"name": ranking[0][0], "confidence": ranking[0][1]}
    latest = {
        "text": text,
        "intent": intent,
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
    }
    return Tracker(
        sender_id="visitor-1",
        slots=slots or {},
        latest_message=latest,
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )


def run(action, text, ranking, slots=None, events=None):
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, tracker(text, ranking, slots, events), {})
    return dispatcher.messages, result


@pytest.mark.parametrize("section", [s for s in POLICY.sections])
def test_a_button_for_a_section_cites_it_and_remembers_it(section, gap_log):
    messages, events = run(ActionAnswerPolicy(), f"/ask_{section.id}", [(f"ask_{section.id}", 1.0)])
    assert len(messages) == 1
    assert section.heading in messages[0]["text"]
    assert messages[0]["buttons"] == [{"title": "Show the whole section", "payload": "/tell_more"}]
    assert events == [SlotSet("last_section", section.id)]
    assert gaps(gap_log) == []  # a direct answer is no gap


def test_the_answer_carries_a_signed_reference_for_feedback():
    messages, _ = run(ActionAnswerPolicy(), "who do you share my data with", [("ask_sharing", 0.9)])
    payload = messages[0]["custom"]["answer"]
    ref = AnswerRef.from_payload(payload, SECRET, "visitor-1")
    assert (ref.kind, ref.sections, ref.question) == (
        "direct",
        ("sharing",),
        "who do you share my data with",
    )
    with pytest.raises(ValueError):
        AnswerRef.from_payload(payload, SECRET, "another-visitor")


def test_a_silent_topic_says_so_offers_a_person_and_is_logged_masked(gap_log):
    question = "do you track my location? mail me at jane.doe@example.com"
    messages, events = run(ActionAnswerPolicy(), question, [("ask_collection", 0.9)])
    text = messages[0]["text"]
    assert "the policy does not say anything about location data" in text
    assert contact_line(POLICY) in text and CONNECT_BUTTON in messages[0]["buttons"]
    assert not any(s.heading in text for s in POLICY.sections)
    assert events == []
    [gap] = gaps(gap_log)
    assert (gap.reply_kind, gap.topic, gap.language) == ("not_covered", "location", "en")
    assert "jane.doe@example.com" not in gap.question and "location" in gap.question


def test_an_unsure_question_gets_the_closest_the_policy_comes(gap_log):
    calibrated = load_thresholds()
    between = (calibrated.closest + calibrated.direct) / 2  # sure enough to quote, not to answer
    rest = (1 - between) / 2  # below `between`, whatever the thresholds
    messages, events = run(
        ActionAnswerPolicy(),
        "what happens with my stuff",
        [("ask_use", between), ("ask_sharing", rest), ("ask_storage", rest)],
    )
    text = messages[0]["text"]
    assert "The policy does not address exactly what you asked" in text
    assert POLICY.section("use").heading in text
    assert events == [SlotSet("last_section", "use")]
    assert [g.reply_kind for g in gaps(gap_log)] == ["closest"]


def test_out_of_scope_stays_out_of_scope():
    messages, events = run(
        ActionAnswerPolicy(), "how do I mute my microphone", [("out_of_scope", 0.95)]
    )
    assert [m["response"] for m in messages] == ["utter_out_of_scope", "utter_help"]
    assert events == []


def test_a_privacy_question_read_as_out_of_scope_is_answered_honestly():
    messages, _ = run(
        ActionAnswerPolicy(), "can the app see me through my camera", [("out_of_scope", 0.8)]
    )
    assert "the policy does not say anything about access to your camera" in messages[0]["text"]


def test_a_message_not_understood_asks_to_rephrase_and_is_logged(gap_log):
    messages, _ = run(
        ActionAnswerPolicy(), "blorp zing", [("nlu_fallback", 0.3), ("greet", 0.2), ("thank", 0.1)]
    )
    assert [m["response"] for m in messages] == ["utter_please_rephrase", "utter_help"]
    assert [g.reply_kind for g in gaps(gap_log)] == ["fallback"]


@pytest.mark.parametrize(
    "language, said, kept",
    [
        ("en", "jane.doe@example.com, 13800138000", "[e-mail], [phone]"),
        ("zh", "我叫张伟，DEL-7K3M9Q", "我叫[name]，[reference]"),
    ],
)
def test_an_answer_with_no_question_asked_asks_to_rephrase_and_is_logged(
    gap_log, language, said, kept
):
    """Issue 23: a message read as `inform` outside a form got the rephrase prompt but never
    reached /staff/gaps; it is logged as a fallback is, masked the same way."""
    messages, events = run(
        ActionAnswerInform(), said, [("inform", 0.9)], slots={"language": language}
    )
    assert [m["response"] for m in messages] == ["utter_please_rephrase", "utter_help"]
    assert events == []
    [gap] = gaps(gap_log)
    assert (gap.reply_kind, gap.language, gap.question) == ("fallback", language, kept)


def test_a_button_read_as_inform_is_not_logged(gap_log):
    messages, _ = run(ActionAnswerInform(), "/inform", [("inform", 1.0)])
    assert [m["response"] for m in messages] == ["utter_please_rephrase", "utter_help"]
    assert gaps(gap_log) == []


def test_inform_outside_a_form_goes_to_the_action_that_logs_it():
    import yaml

    from bot.core.paths import ROOT

    rules = yaml.safe_load((ROOT / "data/rules/smalltalk.yml").read_text())["rules"]
    steps = [r["steps"] for r in rules if {"intent": "inform"} in r["steps"]]
    assert steps == [[{"intent": "inform"}, {"action": "action_answer_inform"}]]


def test_a_gap_log_that_fails_does_not_cost_the_answer(served, gap_log):
    class Broken:
        def record(self, **_):
            raise RuntimeError("database down")

    served(RequestStore(gap_log, secret=SECRET)).gaps = Broken()
    messages, _ = run(ActionAnswerPolicy(), "do you use cookies", [("ask_not_covered", 0.9)])
    assert "the policy does not say anything about cookies" in messages[0]["text"]


def test_show_section_shows_the_last_section_in_full():
    messages, _ = run(
        ActionShowSection(), "tell me more", [("tell_more", 0.9)], {"last_section": "minors"}
    )
    for paragraph in POLICY.section("minors").paragraphs:
        assert paragraph in messages[0]["text"]


def test_show_section_without_a_previous_answer_asks_which():
    messages, _ = run(ActionShowSection(), "tell me more", [("tell_more", 0.9)])
    assert "Which part of the policy" in messages[0]["text"]


def test_yes_without_an_offer_shows_the_menu():
    events = [{"event": "bot", "text": "The policy section ... says", "data": {"buttons": []}}]
    messages, result = run(ActionAnswerYes(), "yes", [("affirm", 0.9)], events=events)
    assert [m.get("response") for m in messages] == ["utter_help"] and result == []
