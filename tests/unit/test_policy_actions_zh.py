"""The policy-answering actions in a conversation held in Chinese (slot `language` = "zh"), called
as the action server calls them, without Rasa. English conversations are tests/unit/test_actions.py.
"""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.policy_answers import ActionAnswerPolicy, ActionShowSection, conversation_language
from bot.core.texts import button
from bot.policy.answers import CONNECT, SHOW_SECTION, contact_line
from bot.policy.document import load_policy
from bot.policy.gaps import AnswerRef
from tests.support.gaps import gaps

POLICY = load_policy()
SECRET = "test-app-secret"  # the gap_log fixture's (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("gap_log")
ZH = {"language": "zh"}


def tracker(text, ranking, slots=None):
    intent = {"name": ranking[0][0], "confidence": ranking[0][1]}
    latest = {
        "text": text,
        "intent": intent,
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
    }
    return Tracker(
        sender_id="visitor-zh",
        slots=slots or {},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )


def run(action, text, ranking, slots=None):
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, tracker(text, ranking, slots), {})
    return dispatcher.messages, result


@pytest.mark.parametrize(
    "slots,language",
    [
        ({}, "en"),
        ({"language": None}, "en"),
        ({"language": "en"}, "en"),
        (ZH, "zh"),
        ({"language": "fr"}, "en"),
    ],
)
def test_the_conversations_language_comes_from_the_slot(slots, language):
    assert conversation_language(tracker("x", [("greet", 1.0)], slots)) == language


def test_a_chinese_question_gets_a_chinese_answer_that_cites_the_published_heading(gap_log):
    messages, events = run(
        ActionAnswerPolicy(), "你们会把我的个人信息卖给第三方吗", [("ask_sharing", 0.95)], ZH
    )
    [message] = messages
    assert message["text"].startswith(f"隐私政策\u201c{POLICY.section('sharing').heading}（")
    assert "We do not sell or rent personal information" in message["text"]
    assert "参考译文，以英文原文为准：" in message["text"]
    assert message["buttons"] == [button(SHOW_SECTION, "zh")]
    assert events == [SlotSet("last_section", "sharing")]
    ref = AnswerRef.from_payload(message["custom"]["answer"], SECRET, "visitor-zh")
    assert (ref.kind, ref.language) == ("direct", "zh")
    assert gaps(gap_log) == []


def test_a_chinese_question_on_a_silent_topic_says_the_policy_does_not_and_is_logged_as_zh(gap_log):
    messages, events = run(
        ActionAnswerPolicy(), "你们会获取我的地理位置吗", [("ask_collection", 0.9)], ZH
    )
    text = messages[0]["text"]
    assert "政策没有" in text and "位置信息" in text
    assert contact_line(POLICY) in text
    assert button(CONNECT, "zh") in messages[0]["buttons"]
    [gap] = gaps(gap_log)
    assert (gap.reply_kind, gap.topic, gap.language) == ("not_covered", "location", "zh")
    assert events == []


def test_a_chinese_message_not_understood_is_logged_as_zh(gap_log):
    run(ActionAnswerPolicy(), "嗯嗯啊啊", [("nlu_fallback", 0.3), ("greet", 0.2)], ZH)
    [gap] = gaps(gap_log)
    assert (gap.reply_kind, gap.language) == ("fallback", "zh")


def test_the_whole_section_in_chinese():
    messages, _ = run(
        ActionShowSection(),
        "/tell_more",
        [("tell_more", 1.0)],
        {"language": "zh", "last_section": "storage"},
    )
    assert messages[0]["text"].startswith(f"隐私政策\u201c{POLICY.section('storage').heading}（")
    assert POLICY.section("storage").paragraphs[0] in messages[0]["text"]
    nothing_yet, _ = run(ActionShowSection(), "/tell_more", [("tell_more", 1.0)], ZH)
    english, _ = run(ActionShowSection(), "/tell_more", [("tell_more", 1.0)])
    assert nothing_yet[0]["text"] != english[0]["text"]
