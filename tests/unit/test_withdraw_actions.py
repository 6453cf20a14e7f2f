"""Withdrawing a request from the chat, as the action server runs it: a real store and casework,
real Trackers and the real domain. Only a yes and a fresh code that matched withdraw anything;
a reference and address that do not match get the status lookup's neutral reply."""

import re

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.submit import ActionCancelRequest, ActionCheckStatus
from actions.withdraw import (
    ActionWithdrawRequest,
    AskWithdrawCode,
    AskWithdrawConfirm,
    ValidateWithdrawForm,
)
from bot.conversation import flows, withdrawal
from bot.core import texts
from bot.requests.casework import Casework
from bot.requests.store import RequestStore
from bot.storage.db import make_engine
from tests.support.actions import DOMAIN, outbox, tracker, validate

FORM = withdrawal.FORM
EMAIL = "wang.li@example.com"


@pytest.fixture
def store(database_url, served):
    store = RequestStore(make_engine(database_url), secret="s", working_days=15)
    served(store)
    yield store
    store.engine.dispose()


async def required(slots):
    return await ValidateWithdrawForm().required_slots(
        [], CollectingDispatcher(), tracker(FORM, slots), DOMAIN
    )


def finish(slots, language="en"):
    dispatcher = CollectingDispatcher()
    events = ActionWithdrawRequest().run(
        dispatcher, tracker(None, {**slots, "language": language}), DOMAIN
    )
    return [m["text"] for m in dispatcher.messages], events


def status_of(store, reference):
    return next(r.status for r in store.all_requests() if r.reference == reference)


async def test_reference_address_yes_and_a_fresh_code_withdraw_the_request(store):
    reference = store.submit("deletion", EMAIL, verified=True).reference
    received = len(outbox(store))  # the request's own confirmation
    values, _, _ = await validate(
        ValidateWithdrawForm(), FORM, "withdraw_reference", f" {reference.lower()} "
    )
    assert values["withdraw_reference"] == reference
    slots = {"withdraw_reference": reference}
    values, said, _ = await validate(
        ValidateWithdrawForm(), FORM, "withdraw_email", " Wang.Li@Example.com ", slots=slots
    )
    assert values["withdraw_email"] == EMAIL and "request_abandoned" not in values
    assert said == []
    slots["withdraw_email"] = EMAIL
    assert await required(slots) == ["withdraw_reference", "withdraw_email", "withdraw_confirm"]

    dispatcher = CollectingDispatcher()
    AskWithdrawConfirm().run(dispatcher, tracker(FORM, slots), DOMAIN)
    [question] = dispatcher.messages
    assert reference in question["text"] and "can't be undone" in question["text"]
    assert [b["payload"] for b in question["buttons"]] == ["yes", "no"]
    assert len(outbox(store)) == received  # no code before the yes

    values, _, _ = await validate(
        ValidateWithdrawForm(), FORM, "withdraw_confirm", "yes", intent="affirm", slots=slots
    )
    slots["withdraw_confirm"] = values["withdraw_confirm"]
    assert slots["withdraw_confirm"] is True
    assert "withdraw_code" in await required(slots)

    AskWithdrawCode().run(CollectingDispatcher(), tracker(FORM, slots), DOMAIN)
    [(to, _, body)] = outbox(store)[received:]
    code = re.search(r"code is (\d{6})", body).group(1)
    assert to == EMAIL
    wrong = "111111" if code != "111111" else "222222"
    values, said, _ = await validate(
        ValidateWithdrawForm(), FORM, "withdraw_code", wrong, slots=slots
    )
    assert values["withdraw_code"] is None and "more tries" in said[0]
    assert status_of(store, reference) == "received"  # a wrong code withdraws nothing
    values, _, _ = await validate(ValidateWithdrawForm(), FORM, "withdraw_code", code, slots=slots)
    slots["withdraw_code"] = values["withdraw_code"]
    assert slots["withdraw_code"] == flows.VERIFIED

    said, events = finish(slots)
    assert status_of(store, reference) == "withdrawn"
    assert said == [texts.text("flow.withdraw.done", reference=reference)]
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    assert set(withdrawal.SLOTS) <= cleared
    assert any("withdrawn" in body for _, _, body in outbox(store)[received + 1 :])


async def test_the_wrong_address_gets_the_neutral_reply_and_ends_the_form(store):
    reference = store.submit("correction", EMAIL, verified=True).reference
    values, said, _ = await validate(
        ValidateWithdrawForm(),
        FORM,
        "withdraw_email",
        "someone.else@example.com",
        slots={"withdraw_reference": reference},
    )
    assert values["request_abandoned"] is True
    assert said == [texts.text("flow.status.not_found")]  # same words as an unknown reference
    assert await required({"withdraw_reference": reference, **values}) == []
    said, _ = finish({"withdraw_reference": reference, **values})
    assert said == [] and status_of(store, reference) == "received"


async def test_a_closed_request_cannot_be_withdrawn(store):
    reference = store.submit("deletion", EMAIL, verified=True).reference
    Casework(store.engine).withdraw(reference, EMAIL)
    values, said, _ = await validate(
        ValidateWithdrawForm(),
        FORM,
        "withdraw_email",
        EMAIL,
        slots={"withdraw_reference": reference},
    )
    assert values["request_abandoned"] is True
    assert "already withdrawn" in said[0] and "nothing to withdraw" in said[0]


async def test_no_keeps_the_request_and_sends_no_code(store):
    reference = store.submit("suspension", EMAIL, verified=True).reference
    received = len(outbox(store))
    slots = {"withdraw_reference": reference, "withdraw_email": EMAIL}
    values, _, _ = await validate(
        ValidateWithdrawForm(), FORM, "withdraw_confirm", "no, keep it", intent="deny", slots=slots
    )
    slots.update(values)
    assert slots["withdraw_confirm"] is False and "withdraw_code" not in await required(slots)
    said, _ = finish(slots)
    assert said == [texts.text("flow.withdraw.kept", reference=reference)]
    assert status_of(store, reference) == "received" and len(outbox(store)) == received


async def test_an_unclear_answer_to_the_question_is_asked_again(store):
    values, said, _ = await validate(
        ValidateWithdrawForm(),
        FORM,
        "withdraw_confirm",
        "purple",
        slots={"withdraw_reference": "DEL-ABC123", "withdraw_email": EMAIL},
    )
    assert values["withdraw_confirm"] is None
    assert said == [texts.text("flow.withdraw.yes_or_no")]


async def test_not_a_reference_is_explained(store):
    values, said, _ = await validate(
        ValidateWithdrawForm(), FORM, "withdraw_reference", "my deletion one"
    )
    assert values["withdraw_reference"] is None
    assert said == [texts.text("validation.reference")]


async def test_a_code_locked_after_too_many_tries_withdraws_nothing(store):
    reference = store.submit("access", EMAIL, verified=True).reference
    slots = {
        "withdraw_reference": reference,
        "withdraw_email": EMAIL,
        "withdraw_confirm": True,
        "withdraw_code": flows.UNVERIFIED,
    }
    said, _ = finish(slots)
    assert said == [texts.text("flow.withdraw.locked")]
    assert status_of(store, reference) == "received"


async def test_chinese_conversation_is_answered_in_chinese(store):
    reference = store.submit("deletion", EMAIL, verified=True).reference
    slots = {"withdraw_reference": reference, "withdraw_email": EMAIL, "language": "zh"}
    dispatcher = CollectingDispatcher()
    AskWithdrawConfirm().run(dispatcher, tracker(FORM, slots), DOMAIN)
    assert "确定撤回吗" in dispatcher.messages[0]["text"]
    values, _, _ = await validate(
        ValidateWithdrawForm(), FORM, "withdraw_confirm", "是的", slots=slots
    )
    assert values["withdraw_confirm"] is True


def test_the_status_answer_shows_what_legal_wrote_to_the_requester(store):
    reference = store.submit("access", EMAIL, verified=True).reference
    casework = Casework(store.engine)
    casework.add_note(reference, "lawyer", "internal: check the billing system")
    casework.send_message(reference, "lawyer", "Which meetings should the copy cover?")
    dispatcher = CollectingDispatcher()
    ActionCheckStatus().run(
        dispatcher, tracker(None, {"status_reference": reference, "status_email": EMAIL}), DOMAIN
    )
    [answer] = [m["text"] for m in dispatcher.messages]
    assert "is received" in answer
    assert texts.text("flow.status.messages_heading") in answer
    assert "Which meetings should the copy cover?" in answer
    assert "internal" not in answer  # notes stay internal


async def test_no_way_to_receive_the_code_ends_without_withdrawing(store):
    reference = store.submit("deletion", EMAIL, verified=True).reference
    slots = {"withdraw_reference": reference, "withdraw_email": EMAIL, "withdraw_confirm": True}
    values, said, _ = await validate(
        ValidateWithdrawForm(),
        FORM,
        "withdraw_code",
        "I can't receive email there anymore",
        slots=slots,
    )
    assert values["request_abandoned"] is True
    assert said == [texts.text("flow.withdraw.cannot_receive")]
    assert finish({**slots, **values})[0] == [] and status_of(store, reference) == "received"


def test_stop_while_withdrawing_says_the_request_is_unchanged(store):
    started = [{"event": "active_loop", "name": FORM}, {"event": "active_loop", "name": None}]
    dispatcher = CollectingDispatcher()
    events = ActionCancelRequest().run(
        dispatcher,
        tracker(
            None,
            {"withdraw_reference": "DEL-7K3M9Q"},
            text="stop",
            intent="stop",
            events=started,
            latest_action="action_deactivate_loop",
        ),
        DOMAIN,
    )
    assert [m["text"] for m in dispatcher.messages] == [texts.text("flow.withdraw.stopped")]
    assert {"event": "slot", "name": "withdraw_reference", "value": None, "timestamp": None} in [
        {**e, "timestamp": None} for e in events
    ]


async def test_a_policy_question_while_withdrawing_is_answered_and_the_form_goes_on(store):
    values, said, _ = await validate(
        ValidateWithdrawForm(),
        FORM,
        "withdraw_email",
        "do you sell my data?",
        intent="ask_sharing",
        slots={"withdraw_reference": "DEL-7K3M9Q"},
    )
    assert values["withdraw_email"] is None and "request_abandoned" not in values
    assert "Share your personal information" in said[0]
    assert said[-1] == texts.text("flow.withdraw.back")
