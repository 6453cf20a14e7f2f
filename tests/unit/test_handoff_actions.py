"""Handing over to a person, as the action server does it: ticket, transcript, live or e-mail."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import (
    ActionHumanHandoff,
    ActionSubmitHandoffContact,
    ValidateHandoffForm,
    handle_fallback,
)
from actions.policy_answers import ActionAnswerYes
from bot.core.texts import button
from bot.policy.answers import CONNECT
from bot.requests.store import RequestStore
from bot.staff.accounts import StaffDirectory
from bot.storage.db import make_engine


class Staff:
    def __init__(self, online):
        self.online = online

    def support_online(self):
        return self.online


@pytest.fixture
def services(database_url, served):
    store = RequestStore(make_engine(database_url), secret="s")
    yield served(store)
    store.engine.dispose()


@pytest.fixture
def handoffs(services):
    return services.handoffs


def conversation(intents, slots=None):
    events = []
    for text, intent in intents:
        events.append(
            {
                "event": "user",
                "text": text,
                "timestamp": 1764380000.0,
                "parse_data": {"intent": {"name": intent, "confidence": 0.9}},
            }
        )
        events.append({"event": "bot", "text": f"reply to {text}", "timestamp": 1764380001.0})
    text, intent = intents[-1]
    return Tracker(
        "visitor-7",
        slots or {},
        {"text": text, "intent": {"name": intent}},
        events,
        False,
        None,
        {},
        "action_listen",
    )


@pytest.mark.parametrize("online", [True, False])
def test_asking_for_a_person_makes_a_ticket_with_the_transcript(handoffs, services, online):
    services.directory = Staff(online)
    dispatcher = CollectingDispatcher()
    events = ActionHumanHandoff().run(
        dispatcher, conversation([("hi", "greet"), ("a person please", "human_handoff")]), {}
    )
    [ticket] = handoffs.list()
    assert ticket.reason == "asked" and ticket.live is online
    assert [line["text"] for line in ticket.transcript] == [
        "hi",
        "reply to hi",
        "a person please",
        "reply to a person please",
    ]
    if online:
        assert "join this conversation" in dispatcher.messages[0]["text"] and events == []
        assert handoffs.routed_ticket("visitor-7") == ticket.id
    else:
        assert "No one from our support team is online" in dispatcher.messages[0]["text"]
        assert events == [FollowupAction("handoff_form")]
        assert handoffs.routed_ticket("visitor-7") is None  # the visitor keeps the assistant


def test_asking_twice_reuses_the_ticket(handoffs, services):
    services.directory = Staff(True)
    for _ in range(2):
        ActionHumanHandoff().run(
            CollectingDispatcher(), conversation([("person", "human_handoff")]), {}
        )
    assert len(handoffs.list()) == 1


def test_a_second_fallback_in_a_row_hands_over(handoffs, services):
    services.directory = Staff(True)
    dispatcher = CollectingDispatcher()
    handle_fallback(dispatcher, conversation([("blorp", "nlu_fallback")]))
    assert [m.get("response") for m in dispatcher.messages] == [
        "utter_please_rephrase",
        "utter_help",
    ]
    assert handoffs.list() == []
    dispatcher = CollectingDispatcher()
    handle_fallback(dispatcher, conversation([("blorp", "nlu_fallback"), ("zzkq", "nlu_fallback")]))
    assert handoffs.list()[0].reason == "fallback"
    assert "trouble understanding" in dispatcher.messages[0]["text"]


def test_yes_to_the_offer_of_a_person_hands_over_for_a_topic_the_policy_is_silent_on(
    handoffs, services
):
    services.directory = Staff(True)
    tracker = conversation([("do you use cookies", "ask_not_covered"), ("yes", "affirm")])
    tracker.events.pop()  # the action is what answers "yes"
    tracker.events[-2]["data"] = {"buttons": [button(CONNECT)]}  # the not-covered reply's offer
    dispatcher = CollectingDispatcher()
    ActionAnswerYes().run(dispatcher, tracker, {})
    assert handoffs.list()[0].reason == "not_covered"


def test_an_address_for_an_offline_handoff(handoffs):
    handoffs.create("visitor-7", "asked", [], live=False)
    form = ValidateHandoffForm()
    dispatcher = CollectingDispatcher()
    tracker = conversation([("not an address", "inform")])
    assert await_(form.validate_handoff_email("not an address", dispatcher, tracker, {})) == {
        "handoff_email": None
    }
    assert await_(form.validate_handoff_email("V@Example.com", dispatcher, tracker, {})) == {
        "handoff_email": "v@example.com"
    }
    dispatcher = CollectingDispatcher()
    ActionSubmitHandoffContact().run(
        dispatcher,
        conversation([("v@example.com", "inform")], {"handoff_email": "v@example.com"}),
        {},
    )
    assert handoffs.list()[0].contact_email == "v@example.com"
    assert "v***@e***.com" in dispatcher.messages[0]["text"]


def test_a_handoff_in_chinese_makes_a_chinese_ticket_and_replies_in_chinese(handoffs, services):
    services.directory = Staff(False)
    dispatcher = CollectingDispatcher()
    events = ActionHumanHandoff().run(
        dispatcher, conversation([("转人工", "human_handoff")], {"language": "zh"}), {}
    )
    assert events == [FollowupAction("handoff_form")]
    [ticket] = handoffs.list()
    assert ticket.language == "zh"
    assert "支持团队" in dispatcher.messages[0]["text"]
    # Full-width ＠ and letters typed on a Chinese keyboard; "跳过" skips.
    form = ValidateHandoffForm()
    tracker = conversation([("ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ", "inform")], {"language": "zh"})
    assert await_(
        form.validate_handoff_email("ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ", dispatcher, tracker, {})
    ) == {"handoff_email": "wang@example.cn"}
    assert await_(form.validate_handoff_email("跳过", dispatcher, tracker, {})) == {
        "handoff_email": "none"
    }
    dispatcher = CollectingDispatcher()
    await_(form.validate_handoff_email("不是地址", dispatcher, tracker, {}))
    assert "电子邮件地址" in dispatcher.messages[0]["text"]
    dispatcher = CollectingDispatcher()
    ActionSubmitHandoffContact().run(
        dispatcher,
        conversation([("跳过", "inform")], {"language": "zh", "handoff_email": "none"}),
        {},
    )
    assert "法务部" in dispatcher.messages[0]["text"]


def test_a_chinese_ticket_speaks_chinese_on_the_support_side(handoffs):
    ticket = handoffs.create("visitor-8", "asked", [], live=True, language="zh")
    handoffs.set_contact("visitor-8", "wang@example.cn")
    opened = handoffs.open(ticket.id, "sam")
    assert "已加入对话" in opened.messages[-1]["text"]
    assert handoffs.reply(ticket.id, "sam", "您好") == "email"
    closed = handoffs.close(ticket.id, "sam")
    assert "人工客服对话已结束" in closed.messages[-1]["text"]
    english = handoffs.create("visitor-9", "asked", [], live=True)
    assert english.language == "en"


def await_(coroutine):
    import asyncio

    return asyncio.new_event_loop().run_until_complete(coroutine)


def test_support_counts_as_online_only_while_a_page_is_open(database_url):
    directory = StaffDirectory(make_engine(database_url))
    member = directory.add("sam", "support", "a long enough password")
    directory.add("lena", "legal", "a long enough password")
    assert directory.support_online() is False
    directory.seen(member.id)
    assert directory.support_online() is True
