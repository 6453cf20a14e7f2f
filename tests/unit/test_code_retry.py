"""'Try again' at the code step after the action server failed: the code the visitor typed is
read again and still proves the address, even when the call Rasa gave up on had already
checked (and so spent) it; no new code is e-mailed (issue 23)."""

import re
from datetime import timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ActionAskVerificationCode, ValidateDeletionForm
from bot.conversation import faults, flows
from bot.core import texts
from tests.support.actions import DOMAIN, SENDER, outbox, tracker, validate

LANGUAGES = ("en", "zh")


@pytest.fixture(autouse=True)
def serving(store, served):
    served(store)


def at_code_step(language: str) -> dict:
    return {
        "account_email": "jane@example.com",
        "deletion_scope": "all",
        "request_reason": flows.NONE,
        "confirm_request": True,
        "verification_code": None,
        "language": language,
    }


def code_sent(store, slots) -> str:
    ActionAskVerificationCode().run(CollectingDispatcher(), tracker("deletion_form", slots), DOMAIN)
    [mail] = outbox(store)
    return re.search(r"(?:code is|验证码是) (\d{6})", mail[2]).group(1)


def failed_code_turn(code: str, language: str) -> list:
    """The visitor typed the code; Rasa gave up waiting for the form's validation and
    apologised (bot.rasa.entry.apology_events), its answer left unread."""
    return [
        {"event": "slot", "name": "requested_slot", "value": "verification_code"},
        {"event": "user", "text": code, "parse_data": {"intent": {"name": "inform"}}},
        {
            "event": "bot",
            "text": faults.not_done(language),
            "metadata": faults.failure_metadata("validate_deletion_form"),
        },
    ]


async def try_again(slots, code, language):
    return await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "verification_code",
        "/retry",
        slots=slots,
        intent=faults.RETRY_INTENT,
        events=failed_code_turn(code, language),
        message_id="m-retry",
    )


@pytest.mark.parametrize("language", LANGUAGES)
async def test_try_again_after_a_lost_check_keeps_the_typed_code(store, language):
    """The hung server did check the code (spending it) after Rasa had given up: "try again"
    must not call it expired and e-mail another one."""
    slots = at_code_step(language)
    code = code_sent(store, slots)
    lost, _, _ = await validate(
        ValidateDeletionForm(), "deletion_form", "verification_code", code, slots=slots
    )
    assert lost["verification_code"] == flows.VERIFIED  # the answer Rasa never read

    values, said, _ = await try_again(slots, code, language)
    assert values["verification_code"] == flows.VERIFIED
    assert said == []  # not "that code has expired"
    assert texts.text("flow.code.expired", language) not in said
    assert len(outbox(store)) == 1  # no new code e-mailed


@pytest.mark.parametrize("language", LANGUAGES)
async def test_try_again_before_the_check_ran_verifies_once(store, language):
    slots = at_code_step(language)
    code = code_sent(store, slots)
    values, said, _ = await try_again(slots, code, language)
    assert values["verification_code"] == flows.VERIFIED and said == []
    assert len(outbox(store)) == 1


async def test_a_spent_code_typed_again_outside_a_retry_is_still_one_time(store):
    """Only "try again" re-reads a spent code: typed as a new answer it is used up."""
    slots = at_code_step("en")
    code = code_sent(store, slots)
    await validate(ValidateDeletionForm(), "deletion_form", "verification_code", code, slots=slots)
    values, said, _ = await validate(
        ValidateDeletionForm(), "deletion_form", "verification_code", code, slots=slots
    )
    assert values["verification_code"] is None
    assert said == [texts.text("flow.code.expired", "en")]
    assert len(outbox(store)) == 2


async def test_try_again_with_a_wrong_code_is_still_wrong(store):
    slots = at_code_step("en")
    code = code_sent(store, slots)
    wrong = "111111" if code != "111111" else "222222"
    values, said, _ = await try_again(slots, wrong, "en")
    assert values["verification_code"] is None and "4 more tries" in said[0]
    assert len(outbox(store)) == 1


async def test_a_code_replaced_by_a_newer_one_is_not_accepted_on_retry(store):
    """A code the visitor had a new one sent for stopped working then, retry or not."""
    slots = at_code_step("en")
    old = code_sent(store, slots)
    await validate(ValidateDeletionForm(), "deletion_form", "verification_code", old, slots=slots)
    store.send_code("jane@example.com", SENDER)
    new = re.search(r"code is (\d{6})", outbox(store)[-1][2]).group(1)
    if new == old:
        pytest.skip("the new code happens to be the old one")
    values, said, _ = await try_again(slots, old, "en")
    assert values["verification_code"] is None and "4 more tries" in said[0]


async def test_try_again_after_the_code_expired_sends_a_new_one(store, clock):
    slots = at_code_step("en")
    code = code_sent(store, slots)
    await validate(ValidateDeletionForm(), "deletion_form", "verification_code", code, slots=slots)
    clock.now += timedelta(minutes=16)
    values, said, _ = await try_again(slots, code, "en")
    assert values["verification_code"] is None
    assert said == [texts.text("flow.code.expired", "en")]
    assert len(outbox(store)) == 2


async def test_try_again_at_the_withdrawal_code_keeps_the_typed_code(store):
    from actions.withdraw import AskWithdrawCode, ValidateWithdrawForm
    from bot.conversation import withdrawal

    reference = store.submit("deletion", "wang.li@example.com", verified=True).reference
    slots = {
        "withdraw_reference": reference,
        "withdraw_email": "wang.li@example.com",
        "withdraw_confirm": True,
    }
    AskWithdrawCode().run(CollectingDispatcher(), tracker(withdrawal.FORM, slots), DOMAIN)
    code = re.search(r"code is (\d{6})", outbox(store)[-1][2]).group(1)
    mails = len(outbox(store))
    lost, _, _ = await validate(
        ValidateWithdrawForm(), withdrawal.FORM, "withdraw_code", code, slots=slots
    )
    assert lost["withdraw_code"] == flows.VERIFIED
    turn = failed_code_turn(code, "en")
    turn[0]["value"] = "withdraw_code"
    turn[2]["metadata"] = faults.failure_metadata("validate_withdraw_form")
    values, said, _ = await validate(
        ValidateWithdrawForm(),
        withdrawal.FORM,
        "withdraw_code",
        "/retry",
        slots=slots,
        intent=faults.RETRY_INTENT,
        events=turn,
    )
    assert values["withdraw_code"] == flows.VERIFIED and said == []
    assert len(outbox(store)) == mails
