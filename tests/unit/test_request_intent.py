"""A status lookup or a withdrawal only for a request already made; a new request by its kind."""

from __future__ import annotations

from typing import Optional

import pytest

from bot.conversation.request_intent import STATUS, WHICH_REQUEST, WITHDRAW, cues, revised
from bot.core.lexicon import check
from bot.nlu.examples import load_examples


@pytest.mark.parametrize(
    ("intent", "text", "wanted"),
    [
        # a new request, read as a withdrawal or a status lookup: the kind it names
        (WITHDRAW, "is there any way to get a deletion request going", "request_deletion"),
        (WITHDRAW, "where would I send an erasure request", "request_deletion"),
        (STATUS, "how do I put in a correction request", "request_correction"),
        (STATUS, "更正申请在哪里提交", "request_correction"),
        (WITHDRAW, "导出数据的申请怎么弄", "request_access"),
        # no kind named: the question that offers both
        (WITHDRAW, "how do I make a request", WHICH_REQUEST),
        (STATUS, "申请怎么提交", WHICH_REQUEST),
        # withdrawing consent is a suspension
        (WITHDRAW, "I withdraw my consent to the processing", "request_suspension"),
        (WITHDRAW, "我撤回同意", "request_suspension"),
        # about a request already made: kept, or moved between status and withdrawal
        (WITHDRAW, "please withdraw my deletion request", None),
        (WITHDRAW, "withdraw DEL-7K3M9Q", None),
        (WITHDRAW, "can I cancel a request", None),
        (STATUS, "what is the status of COR-8M2Q4T", None),
        (STATUS, "has my account been deleted yet", None),
        (STATUS, "查进度", None),
        (WITHDRAW, "any news on my request ACC-3H6N1T", STATUS),
        (STATUS, "please cancel my request SUS-8B5R2K", WITHDRAW),
        (WITHDRAW, "我上周提交的申请现在进展如何", STATUS),
        # a request intent said of a request already made
        ("request_deletion", "cancel my deletion request", WITHDRAW),
        ("request_deletion", "delete my account", None),
        ("request_deletion", "my request is that you delete everything", None),
        # asking to make a request that names its kind
        (WHICH_REQUEST, "can I put in an export request here", "request_access"),
        (WHICH_REQUEST, "我想提一个更正的申请", "request_correction"),
        (WHICH_REQUEST, "I want to make a request", None),
        # a policy question that asks whether, how or where to do what a request does
        ("ask_not_covered", "could I export the chat logs of my meetings", "request_access"),
        (
            "ask_communications",
            "how can I get off the marketing mailing list",
            "request_unsubscribe",
        ),
        ("ask_not_covered", "我能不能导出我的通话记录", "request_access"),
        ("ask_collection", "how do I know what data you delete", None),
        ("out_of_scope", "how do I download the app", None),
        ("out_of_scope", "can I remove someone from a meeting", None),
        ("out_of_scope", "会议链接怎么复制", None),
        ("ask_not_covered", "how would I complain to a regulator about you", None),
        ("ask_not_covered", "怎么向监管部门投诉你们", None),
        ("ask_use", "can you delete my data without asking me", None),
        # other intents are not this module's business
        ("ask_collection", "what is the status of my data", None),
        (None, "withdraw my request", None),
    ],
)
def test_revised(intent: Optional[str], text: str, wanted: Optional[str]) -> None:
    assert revised(intent, text) == wanted


def test_a_reference_is_a_request_already_made_in_any_case_or_spacing() -> None:
    assert cues("about del 7k3m9q").existing
    assert cues("我的编号是DEL-7K3M9Q。").existing
    assert not cues("about the policy").existing


def test_our_own_status_and_withdrawal_examples_are_left_as_labelled() -> None:
    """The rule agrees with the examples we label ourselves: a message it would move out of
    status or withdrawal is one we ourselves call a request already made (a typo aside)."""
    moved = [
        (intent, text)
        for intent, text in load_examples()
        if intent in (STATUS, WITHDRAW) and revised(intent, text) is not None
    ]
    labelled = sum(1 for intent, _ in load_examples() if intent in (STATUS, WITHDRAW))
    assert labelled > 100
    assert len(moved) <= 1, moved


def test_our_own_policy_examples_are_rarely_taken_for_requests() -> None:
    """Asking how to do what a request does is that request; our own policy and out-of-scope
    examples are, with few exceptions, something else."""
    labelled = [
        (intent, text)
        for intent, text in load_examples()
        if intent.startswith("ask_") or intent == "out_of_scope"
    ]
    moved = [(intent, text) for intent, text in labelled if revised(intent, text) is not None]
    assert len(labelled) > 2000
    assert len(moved) <= len(labelled) // 200, moved


def test_every_language_has_the_request_words() -> None:
    assert check() == []


def test_the_nlu_component_moves_a_new_request_out_of_withdrawal_with_the_belief_in_both() -> None:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa.components import NewOrMadeRequest

    ranking = [
        {"name": WITHDRAW, "confidence": 0.6},
        {"name": STATUS, "confidence": 0.2},
        {"name": "request_deletion", "confidence": 0.1},
    ]

    def message(text: str) -> Message:
        return Message(
            data={
                TEXT: text,
                INTENT: {"name": WITHDRAW, "confidence": 0.6},
                "intent_ranking": ranking,
            }
        )

    new, made = message("how do I submit an erasure request"), message("withdraw DEL-7K3M9Q")
    guard = NewOrMadeRequest.create({}, None, None, ExecutionContext(GraphSchema({}), "test"))
    guard.process([new, made])
    assert new.get(INTENT) == {"name": "request_deletion", "confidence": pytest.approx(0.7)}
    assert new.get("intent_ranking") == [
        {"name": "request_deletion", "confidence": pytest.approx(0.7)},
        {"name": STATUS, "confidence": 0.0},  # no request already made: ruled out
        {"name": WITHDRAW, "confidence": 0.0},
    ]
    assert made.get(INTENT)["name"] == WITHDRAW and made.get("intent_ranking") == ranking


def test_a_new_request_cannot_tie_with_a_withdrawal_or_a_status_lookup() -> None:
    """The fallback reads a tie as an unclear message: for a message that speaks of no request
    already made, withdrawal and status keep no confidence."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa.components import NewOrMadeRequest

    ranking = [
        {"name": "request_correction", "confidence": 0.47},
        {"name": WITHDRAW, "confidence": 0.47},
        {"name": STATUS, "confidence": 0.06},
    ]
    new = Message(
        data={
            TEXT: "where would I send a correction request",
            INTENT: {"name": "request_correction", "confidence": 0.47},
            "intent_ranking": ranking,
        }
    )
    made = Message(
        data={
            TEXT: "withdraw my request COR-8M2Q4T",
            INTENT: {"name": WITHDRAW, "confidence": 0.47},
            "intent_ranking": ranking[1:] + ranking[:1],
        }
    )
    guard = NewOrMadeRequest.create({}, None, None, ExecutionContext(GraphSchema({}), "test"))
    guard.process([new, made])
    assert [(r["name"], r["confidence"]) for r in new.get("intent_ranking")] == [
        ("request_correction", 0.47),
        (WITHDRAW, 0.0),
        (STATUS, 0.0),
    ]
    assert made.get("intent_ranking") == ranking[1:] + ranking[:1]
