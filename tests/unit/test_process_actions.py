"""Questions about how requests are handled here, as the action server answers them (without
Rasa): action_answer_process in the conversation's language, the policy router's silence giving
way to the fact, a question in the middle of a request, and the domain and rules that lead
there."""

from __future__ import annotations

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.digressions import answer_digression, is_digression
from actions.policy_answers import ActionAnswerPolicy
from actions.process_answers import ActionAnswerProcess
from bot.core.paths import ROOT
from bot.core.texts import text
from tests.support.gaps import gaps


def tracker(message, ranking, slots=None, active_loop=None):
    return Tracker(
        sender_id="visitor",
        slots=slots or {},
        latest_message={
            "text": message,
            "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name=None,
    )


def run(action, message, ranking, slots=None):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker(message, ranking, slots), {})
    return dispatcher.messages, events


def test_a_deadline_question_gets_the_deadline_in_english():
    messages, events = run(
        ActionAnswerProcess(), "how long does a deletion take", [("ask_process", 0.9)]
    )
    [message] = messages
    assert message["text"].startswith(text("process.heading", "en"))
    assert "15 working days" in message["text"]
    assert "The policy does not set a deadline for requests." in message["text"]
    assert events == []


def test_a_handler_question_in_chinese_names_the_legal_department():
    messages, _ = run(
        ActionAnswerProcess(), "谁负责处理申请", [("ask_process", 0.8)], {"language": "zh"}
    )
    assert messages[0]["text"].startswith(text("process.heading", "zh"))
    assert "法务部" in messages[0]["text"] and "政策没有" in messages[0]["text"]


def test_a_button_without_words_gets_the_overview():
    messages, _ = run(ActionAnswerProcess(), "/ask_process", [("ask_process", 1.0)])
    said = messages[0]["text"]
    assert text("process.overview.ask", "en") in said and "15 working days" in said


def test_a_request_question_the_router_finds_the_policy_silent_on_gets_the_fact(gap_log):
    messages, events = run(
        ActionAnswerPolicy(),
        "申请删除以后要多久才能删干净",
        [("ask_not_covered", 0.8), ("request_deletion", 0.1)],
        {"language": "zh"},
    )
    [message] = messages
    assert message["text"].startswith(text("process.heading", "zh"))
    assert "15个工作日" in message["text"] and "政策没有" in message["text"]
    assert gaps(gap_log) == [] and events == []


def test_a_retention_question_is_still_the_policy_s_silence(gap_log):
    messages, _ = run(
        ActionAnswerPolicy(), "how long do you keep my data", [("ask_not_covered", 0.9)]
    )
    assert (
        "the policy does not say anything about how long personal data is kept"
        in (messages[0]["text"])
    )
    assert not messages[0]["text"].startswith(text("process.heading", "en"))
    [gap] = gaps(gap_log)
    assert (gap.reply_kind, gap.topic) == ("not_covered", "retention")


def test_a_process_question_in_the_middle_of_a_request_is_answered_in_passing():
    asked = tracker(
        "how long will this take?",
        [("ask_process", 0.9)],
        active_loop={"name": "deletion_form"},
    )
    assert is_digression(asked)
    dispatcher = CollectingDispatcher()
    answer_digression(dispatcher, asked)
    [message] = dispatcher.messages
    assert "15 working days" in message["text"] and not message.get("buttons")


def test_the_domain_knows_the_intent_and_a_rule_sends_it_to_its_action():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert "ask_process" in domain["intents"]
    assert "action_answer_process" in domain["actions"]
    rules = [
        rule
        for path in sorted((ROOT / "data" / "rules").glob("*.yml"))
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    ]
    assert any(
        [step.get("intent") or step.get("action") for step in rule["steps"]]
        == ["ask_process", "action_answer_process"]
        for rule in rules
    )
