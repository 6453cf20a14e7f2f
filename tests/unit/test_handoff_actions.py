"""Handing over to a person, as the action server does it: ticket, transcript, live or e-mail."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff as handoff_module
from actions.handoff import (
    ActionHumanHandoff,
    ActionSubmitHandoffContact,
    ValidateHandoffForm,
    handle_fallback,
)
from actions.policy_answers import ActionAnswerYes
from bot.core.texts import button
from bot.policy.answers import CONNECT
from bot.staff.accounts import StaffDirectory
from bot.storage.db import make_engine
from bot.support.tickets import Handoffs


class Staff:
    def __init__(self, online):
        self.online = online

    def support_online(self):
        return self.online


@pytest.fixture
def handoffs(database_url, monkeypatch):
    engine = make_engine(database_url)
    handoffs = Handoffs(engine)
    monkeypatch.setattr(handoff_module, "get_handoffs", lambda: handoffs)
    yield handoffs
    engine.dispose()


def conversation(intents, slots=None):
    events = []
    for text, intent in intents:
        events.append({"event": "user", "text": text, "timestamp": 1764380000.0,
                       "parse_data": {"intent": {"name": intent, "confidence": 0.9}}})
        events.append({"event": "bot", "text": f"reply to {text}", "timestamp": 1764380001.0})
    text, intent = intents[-1]
    return Tracker("visitor-7", slots or {}, {"text": text, "intent": {"name": intent}}, events,
                   False, None, {}, "action_listen")


@pytest.mark.parametrize("online", [True, False])
def test_asking_for_a_person_makes_a_ticket_with_the_transcript(handoffs, monkeypatch, online):
    monkeypatch.setattr(handoff_module, "get_staff", lambda: Staff(online))
    dispatcher = CollectingDispatcher()
    events = ActionHumanHandoff().run(dispatcher, conversation(
        [("hi", "greet"), ("a person please", "human_handoff")]), {})
    [ticket] = handoffs.list()
    assert ticket.reason == "asked" and ticket.live is online
    assert [line["text"] for line in ticket.transcript] == [
        "hi", "reply to hi", "a person please", "reply to a person please"]
    if online:
        assert "join this conversation" in dispatcher.messages[0]["text"] and events == []
        assert handoffs.routed_ticket("visitor-7") == ticket.id
    else:
        assert "No one from our support team is online" in dispatcher.messages[0]["text"]
        assert events == [FollowupAction("handoff_form")]
        assert handoffs.routed_ticket("visitor-7") is None  # the visitor keeps the assistant


def test_asking_twice_reuses_the_ticket(handoffs, monkeypatch):
    monkeypatch.setattr(handoff_module, "get_staff", lambda: Staff(True))
    for _ in range(2):
        ActionHumanHandoff().run(CollectingDispatcher(), conversation(
            [("person", "human_handoff")]), {})
    assert len(handoffs.list()) == 1


def test_a_second_fallback_in_a_row_hands_over(handoffs, monkeypatch):
    monkeypatch.setattr(handoff_module, "get_staff", lambda: Staff(True))
    dispatcher = CollectingDispatcher()
    handle_fallback(dispatcher, conversation([("blorp", "nlu_fallback")]))
    assert [m.get("response") for m in dispatcher.messages] == ["utter_please_rephrase",
                                                                "utter_help"]
    assert handoffs.list() == []
    dispatcher = CollectingDispatcher()
    handle_fallback(dispatcher, conversation(
        [("blorp", "nlu_fallback"), ("zzkq", "nlu_fallback")]))
    assert handoffs.list()[0].reason == "fallback"
    assert "trouble understanding" in dispatcher.messages[0]["text"]


def test_yes_to_the_offer_of_a_person_hands_over_for_a_topic_the_policy_is_silent_on(
        handoffs, monkeypatch):
    monkeypatch.setattr(handoff_module, "get_staff", lambda: Staff(True))
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
    assert (await_(form.validate_handoff_email("not an address", dispatcher, None, {}))
            == {"handoff_email": None})
    assert await_(form.validate_handoff_email("V@Example.com", dispatcher, None, {})) == {
        "handoff_email": "v@example.com"}
    dispatcher = CollectingDispatcher()
    ActionSubmitHandoffContact().run(dispatcher, conversation(
        [("v@example.com", "inform")], {"handoff_email": "v@example.com"}), {})
    assert handoffs.list()[0].contact_email == "v@example.com"
    assert "v***@e***.com" in dispatcher.messages[0]["text"]


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
