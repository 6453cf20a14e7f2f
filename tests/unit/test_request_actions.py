"""The request forms' actions as the action server runs them: rasa_sdk's CollectingDispatcher,
real Trackers, the real domain, and a real request store."""

import re

import pytest
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

import actions.submit as submit_module
from actions.forms import (
    ActionAskAccountEmail,
    ActionAskConfirmRequest,
    ActionAskVerificationCode,
    ValidateCorrectionForm,
    ValidateDeletionForm,
    ValidateSuspensionForm,
    ValidateUnsubscribeForm,
)
from actions.submit import (
    FLOW_SLOTS,
    ActionCancelRequest,
    ActionCheckStatus,
    ActionRetry,
    SubmitDeletion,
    SubmitUnsubscribe,
    ValidateStatusForm,
)
from bot.conversation import faults, flows
from bot.core import texts
from bot.requests.store import RequestStore
from bot.storage.db import make_engine
from bot.support.tickets import Handoffs
from tests.support.actions import DOMAIN, outbox, tracker, validate
from tests.support.fulfilment import systems_yaml, use_systems


@pytest.fixture
def store(database_url, served):
    store = RequestStore(make_engine(database_url), secret="s", working_days=15)
    served(store)
    yield store
    store.engine.dispose()


def test_every_domain_action_is_served_and_every_served_action_is_in_the_domain():
    executor = ActionExecutor()
    executor.register_package("actions")
    custom = {a for a in DOMAIN["actions"] if not a.startswith("utter_")}
    assert set(executor.actions) == custom


async def test_email_is_normalised_or_explained(store):
    values, said, _ = await validate(
        ValidateDeletionForm(), "deletion_form", "account_email", " Jane.Doe@Example.COM "
    )
    assert values["account_email"] == "jane.doe@example.com"
    values, said, _ = await validate(
        ValidateDeletionForm(), "deletion_form", "account_email", "my email is jane at example"
    )
    assert values["account_email"] is None and "e-mail address" in said[0]


async def test_two_invalid_answers_explain_and_offer_to_stop_and_four_end_the_form(store):
    form = ValidateDeletionForm()
    values, said, _ = await validate(form, "deletion_form", "account_email", "nope")
    assert values["invalid_attempts"] == "account_email:1"
    values, said, dispatcher = await validate(
        form,
        "deletion_form",
        "account_email",
        "nope",
        slots={"invalid_attempts": "account_email:1"},
    )
    assert "What I need here is" in said[0] and "stop" in said[0]
    assert dispatcher.messages[0]["buttons"] == [{"title": "Stop this request", "payload": "/stop"}]
    values, said, _ = await validate(
        form,
        "deletion_form",
        "account_email",
        "nope",
        slots={"invalid_attempts": "account_email:3"},
    )
    assert values["request_abandoned"] is True and "nothing has been stored" in said[0]
    dispatcher = CollectingDispatcher()
    required = await form.required_slots(
        [], dispatcher, tracker("deletion_form", {"request_abandoned": True}), DOMAIN
    )
    assert required == []  # the form ends; it never loops


async def test_a_policy_question_mid_form_is_answered_and_the_slot_asked_again(store):
    values, said, _ = await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "account_email",
        "do you sell my data?",
        intent="ask_sharing",
    )
    assert values["account_email"] is None
    assert "Share your personal information" in said[0]
    assert said[-1] == "Now, back to your request."
    assert "invalid_attempts" not in values  # a question is not a wrong answer


async def test_a_question_is_not_taken_as_a_free_text_reason(store):
    values, said, _ = await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "request_reason",
        "where is my data stored?",
        intent="ask_storage",
        confidence=0.6,
    )
    assert values["request_reason"] is None and "Transmission and storage" in said[0]
    values, _, _ = await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "request_reason",
        "I stored too much there",
        intent="ask_storage",
        confidence=0.6,
    )
    assert values["request_reason"] == "I stored too much there"


async def test_scope_decides_whether_items_are_asked(store):
    form = ValidateDeletionForm()
    values, _, _ = await validate(form, "deletion_form", "deletion_scope", "only specific data")
    assert values["deletion_scope"] == "specific"
    dispatcher = CollectingDispatcher()
    base = {"account_email": "a@example.com"}
    assert "deletion_items" in await form.required_slots(
        [], dispatcher, tracker("deletion_form", {**base, "deletion_scope": "specific"}), DOMAIN
    )
    assert "deletion_items" not in await form.required_slots(
        [], dispatcher, tracker("deletion_form", {**base, "deletion_scope": "all"}), DOMAIN
    )


async def test_correction_value_is_validated_by_kind(store):
    form = ValidateCorrectionForm()
    values, said, _ = await validate(
        form, "correction_form", "correction_value", "12345", slots={"correction_item": "email"}
    )
    assert values["correction_value"] is None and "e-mail" in said[0]
    values, _, _ = await validate(
        form,
        "correction_form",
        "correction_value",
        "+86 138 0013 8000",
        slots={"correction_item": "phone"},
    )
    assert values["correction_value"] == "+8613800138000"
    values, said, _ = await validate(
        form, "correction_form", "correction_value", "Li 4", slots={"correction_item": "name"}
    )
    assert values["correction_value"] is None and "no digits" in said[0]


async def test_suspension_needs_a_reason_deletion_does_not(store):
    values, said, _ = await validate(
        ValidateSuspensionForm(), "suspension_form", "request_reason", "skip"
    )
    assert values["request_reason"] is None and "reason" in said[0]
    values, _, _ = await validate(ValidateDeletionForm(), "deletion_form", "request_reason", "skip")
    assert values["request_reason"] == flows.NONE


async def test_a_minor_is_told_what_the_policy_says_and_recorded(store):
    values, said, _ = await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "account_email",
        "kid@example.com, it's my son's account",
    )
    assert values["requester_role"] == "guardian"
    assert "Protection of minors" in said[0] and "guardian" in said[0]


async def test_opening_a_flow_quotes_the_policy_once(store):
    dispatcher = CollectingDispatcher()
    events = ActionAskAccountEmail().run(dispatcher, tracker("deletion_form"), DOMAIN)
    assert "Collection of personal information" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[-1]["text"].startswith("What is the e-mail address")
    assert {"event": "slot", "name": "intro_shown", "value": True, "timestamp": None} in events
    dispatcher = CollectingDispatcher()
    ActionAskAccountEmail().run(dispatcher, tracker("deletion_form", {"intro_shown": True}), DOMAIN)
    assert len(dispatcher.messages) == 1


async def test_summary_then_code_then_stored_once(store):
    slots = {
        "account_email": "jane@example.com",
        "deletion_scope": "all",
        "request_reason": flows.NONE,
    }
    dispatcher = CollectingDispatcher()
    ActionAskConfirmRequest().run(dispatcher, tracker("deletion_form", slots), DOMAIN)
    assert "Account e-mail: jane@example.com" in dispatcher.messages[0]["text"]
    assert outbox(store) == []  # nothing is sent before the confirmation

    values, _, _ = await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "confirm_request",
        "yes",
        intent="affirm",
        slots=slots,
    )
    assert values["confirm_request"] is True
    slots["confirm_request"] = True

    dispatcher = CollectingDispatcher()
    ActionAskVerificationCode().run(dispatcher, tracker("deletion_form", slots), DOMAIN)
    ActionAskVerificationCode().run(dispatcher, tracker("deletion_form", slots), DOMAIN)
    assert "j***@e***.com" in dispatcher.messages[0]["text"]
    mails = outbox(store)
    assert len(mails) == 1  # asking again does not send another code
    code = re.search(r"code is (\d{6})", mails[0][2]).group(1)

    values, said, _ = await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "verification_code",
        "999999" if code != "999999" else "111111",
        slots=slots,
    )
    assert values["verification_code"] is None and "4 more tries" in said[0]
    values, _, _ = await validate(
        ValidateDeletionForm(), "deletion_form", "verification_code", code, slots=slots
    )
    assert values["verification_code"] == flows.VERIFIED
    slots["verification_code"] = flows.VERIFIED

    for _ in range(2):  # the action server retries the same call
        dispatcher = CollectingDispatcher()
        events = SubmitDeletion().run(
            dispatcher, tracker(None, slots, text=code, message_id="m-confirm"), DOMAIN
        )
    reference = re.search(r"DEL-[0-9A-Z]{6}", dispatcher.messages[0]["text"]).group(0)
    assert "15 working days" in dispatcher.messages[0]["text"]
    rows = store.all_requests()
    assert [(r.reference, r.status, r.details) for r in rows] == [
        (reference, "received", {"scope": "all"})
    ]
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    assert set(flows.PII_SLOTS) & set(FLOW_SLOTS) <= cleared


async def test_cannot_receive_the_code_is_stored_unverified(store):
    slots = {"account_email": "a@example.com", "request_reason": "surveys", "confirm_request": True}
    values, said, _ = await validate(
        ValidateSuspensionForm(),
        "suspension_form",
        "verification_code",
        "I can't receive email there anymore",
        slots=slots,
    )
    assert values["verification_code"] == flows.UNVERIFIED and "not yet verified" in said[0]
    assert "support team will also contact you" in said[1]  # nobody online: by e-mail
    [ticket] = Handoffs(store.engine).list()
    assert ticket.reason == "verification_failed"
    slots["verification_code"] = flows.UNVERIFIED
    dispatcher = CollectingDispatcher()
    submit_module.SubmitSuspension().run(dispatcher, tracker(None, slots), DOMAIN)
    assert store.all_requests()[0].status == "unverified"
    assert "not yet verified" in dispatcher.messages[0]["text"]


async def test_no_at_the_summary_stores_nothing(store):
    dispatcher = CollectingDispatcher()
    SubmitDeletion().run(
        dispatcher,
        tracker(None, {"account_email": "a@example.com", "confirm_request": False}),
        DOMAIN,
    )
    assert "Nothing was stored" in dispatcher.messages[0]["text"]
    assert store.all_requests() == []


async def test_unsubscribe_needs_no_code_and_explains_service_mail(store):
    form = ValidateUnsubscribeForm()
    dispatcher = CollectingDispatcher()
    slots = {"account_email": "a@example.com", "confirm_request": True}
    assert "verification_code" not in await form.required_slots(
        [], dispatcher, tracker("unsubscribe_form", slots), DOMAIN
    )
    SubmitUnsubscribe().run(dispatcher, tracker(None, slots), DOMAIN)
    assert "may not be able to cancel" in dispatcher.messages[0]["text"]
    assert store.all_requests()[0].status == "completed"


async def test_cancel_stores_nothing_and_forgets_the_answers(store):
    dispatcher = CollectingDispatcher()
    events = ActionCancelRequest().run(
        dispatcher,
        tracker(None, {"account_email": "a@b.co"}, latest_action="action_deactivate_loop"),
        DOMAIN,
    )
    assert "Nothing was stored" in dispatcher.messages[0]["text"]
    assert {"event": "slot", "name": "account_email", "value": None, "timestamp": None} in events


def test_stop_after_a_failed_save_drops_it_so_try_again_stores_nothing(store):
    pending = {**CONFIRMED, "confirm_request": None, "pending_submission": "deletion"}
    dispatcher = CollectingDispatcher()
    events = ActionCancelRequest().run(
        dispatcher, tracker(None, pending, text="stop", intent="stop"), DOMAIN
    )
    assert dispatcher.messages[0]["text"] == faults.dropped()
    slots = slots_after(events, pending)
    assert slots["pending_submission"] is None and slots["account_email"] is None
    retry = CollectingDispatcher()
    ActionRetry().run(retry, tracker(None, slots, text="try again", intent="retry"), DOMAIN)
    assert retry.messages[0]["text"] == texts.text("fault.nothing_pending")
    assert store.all_requests() == []
    idle = CollectingDispatcher()
    ActionCancelRequest().run(idle, tracker(None, {}, text="stop", intent="stop"), DOMAIN)
    assert idle.messages[0]["response"] == "utter_anything_else"


async def test_status_answers_only_a_matching_reference_and_email(store):
    reference = store.submit("deletion", "a@example.com", verified=True).reference
    form = ValidateStatusForm()
    values, _, _ = await validate(form, "status_form", "status_reference", reference.lower())
    assert values["status_reference"] == reference

    def ask(email):
        dispatcher = CollectingDispatcher()
        ActionCheckStatus().run(
            dispatcher,
            tracker(None, {"status_reference": reference, "status_email": email}),
            DOMAIN,
        )
        return dispatcher.messages[0]["text"]

    assert "is received" in ask("a@example.com")
    neutral = ask("b@example.com")
    other = ask("a@example.com".replace("a@", "c@"))
    assert neutral == other and "couldn't find" in neutral and reference not in neutral


async def test_a_started_requests_status_says_where_each_system_stands(store, set_env, tmp_path):
    use_systems(set_env, tmp_path, systems_yaml())
    reference = store.submit("deletion", "a@example.com", verified=True).reference
    store.transition(reference, "in_progress", "lena")
    dispatcher = CollectingDispatcher()
    slots = {"status_reference": reference, "status_email": "a@example.com"}
    ActionCheckStatus().run(dispatcher, tracker(None, slots), DOMAIN)
    said = dispatcher.messages[0]["text"]
    assert "is in progress" in said
    assert said.endswith(
        "Where it stands in our systems:\n- Account service: waiting\n- Legal department: waiting"
    )


# -- failures at submit time and "try again" --------------------------------------------------

CONFIRMED = {
    "account_email": "jane@example.com",
    "deletion_scope": "all",
    "request_reason": None,
    "verification_code": flows.VERIFIED,
    "confirm_request": True,
}
FORM_RUN = [
    {"event": "user", "text": "delete my account"},
    {"event": "active_loop", "name": "deletion_form", "timestamp": 1700000000.5},
]


def slots_after(events, slots):
    kept = dict(slots)
    kept.update({e["name"]: e["value"] for e in events if e["event"] == "slot"})
    return kept


def test_request_database_down_at_submit_keeps_answers_and_try_again_stores_once(store, served):
    down = RequestStore(
        make_engine("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2"),
        secret="s",
        working_days=15,
    )
    served(down)
    dispatcher = CollectingDispatcher()
    events = SubmitDeletion().run(
        dispatcher, tracker(None, CONFIRMED, text="yes", events=FORM_RUN), DOMAIN
    )
    assert dispatcher.messages[0]["text"] == faults.not_saved()
    assert dispatcher.messages[0]["buttons"] == [faults.retry_button()]
    assert dispatcher.messages[0][faults.FAILURE_MARK] == "action_submit_deletion"
    slots = slots_after(events, CONFIRMED)
    assert slots["pending_submission"] == "deletion"
    assert slots["account_email"] == "jane@example.com"  # nothing the visitor said is lost
    assert store.all_requests() == []

    served(store)  # the database is back
    history = FORM_RUN + [
        {"event": "user", "text": "yes"},
        {
            "event": "bot",
            "text": faults.not_saved(),
            "metadata": {faults.FAILURE_MARK: "action_submit_deletion"},
        },
    ]
    dispatcher = CollectingDispatcher()
    events = ActionRetry().run(
        dispatcher, tracker(None, slots, text="try again", intent="retry", events=history), DOMAIN
    )
    slots = slots_after(events, slots)
    [row] = store.all_requests()
    assert row.reference in dispatcher.messages[0]["text"]
    assert slots["pending_submission"] is None and slots["account_email"] is None
    # a second "try again" finds nothing left to do, and stores nothing more
    dispatcher = CollectingDispatcher()
    ActionRetry().run(dispatcher, tracker(None, slots, text="try again", intent="retry"), DOMAIN)
    assert dispatcher.messages[0]["text"] == texts.text("fault.nothing_pending")
    assert len(store.all_requests()) == 1


def test_a_submit_whose_reply_was_lost_is_found_again_by_try_again(store):
    """The action server stored the request but Rasa gave up waiting: the retry returns it."""
    first = CollectingDispatcher()
    SubmitDeletion().run(
        first, tracker(None, CONFIRMED, text="yes", events=FORM_RUN, message_id="m-yes"), DOMAIN
    )
    reference = re.search(r"DEL-[0-9A-Z]{6}", first.messages[0]["text"]).group(0)
    pending = {**CONFIRMED, "confirm_request": None, "pending_submission": "deletion"}
    retry = CollectingDispatcher()
    ActionRetry().run(
        retry,
        tracker(
            None, pending, text="try again", intent="retry", events=FORM_RUN, message_id="m-retry"
        ),
        DOMAIN,
    )
    assert reference in retry.messages[0]["text"]
    assert "already" not in retry.messages[0]["text"]  # the same request, not a duplicate
    assert [r.reference for r in store.all_requests()] == [reference]


def test_try_again_with_nothing_pending_says_so(store):
    dispatcher = CollectingDispatcher()
    ActionRetry().run(dispatcher, tracker(None, {}, text="try again", intent="retry"), DOMAIN)
    assert dispatcher.messages[0]["text"] == texts.text("fault.nothing_pending")
    assert store.all_requests() == []


def failed_turn(text, intent, action):
    return [
        {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}},
        {"event": "bot", "text": faults.not_done(), "metadata": {faults.FAILURE_MARK: action}},
    ]


async def test_try_again_in_a_form_reads_the_answer_that_failed(store):
    values, said, _ = await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "confirm_request",
        "try again",
        slots=CONFIRMED,
        intent="retry",
        events=failed_turn("yes please", "affirm", "validate_deletion_form"),
    )
    assert values["confirm_request"] is True and said == []
    values, said, _ = await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "account_email",
        "try again",
        intent="retry",
        events=failed_turn(" Jane@Example.com", "inform", "validate_deletion_form"),
    )
    assert values["account_email"] == "jane@example.com" and said == []
    values, said, _ = await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "account_email",
        "try again",
        intent="retry",
        events=failed_turn("no idea", "inform", "validate_deletion_form"),
    )
    assert values["account_email"] is None and "e-mail address" in said[0]


async def test_try_again_after_the_next_question_failed_asks_it_again(store):
    """The answer before the failure was read (it was asking the next question that failed):
    "try again" must not read it once more as the answer to that question. A "skip" for the
    reason, read again at the confirmation, stopped the request."""
    values, said, _ = await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "confirm_request",
        "/retry",
        slots={**CONFIRMED, "confirm_request": None, "verification_code": None},
        intent="retry",
        events=failed_turn("skip", "deny", "action_ask_confirm_request"),
    )
    assert values["confirm_request"] is None and said == []
    # without an apology before it, "try again" is just an answer that does not fit
    values, said, _ = await validate(
        ValidateDeletionForm(),
        "deletion_form",
        "confirm_request",
        "try again",
        slots=CONFIRMED,
        intent="retry",
    )
    assert values["confirm_request"] is None and said


async def test_too_many_codes_are_refused_with_a_way_forward(store, set_env):
    set_env(RATE_LIMIT_CODES_PER_EMAIL="1")
    slots = {**CONFIRMED, "verification_code": None}
    first = CollectingDispatcher()
    ActionAskVerificationCode().run(first, tracker("deletion_form", slots), DOMAIN)
    values, said, _ = await validate(
        ValidateDeletionForm(), "deletion_form", "verification_code", "resend", slots=slots
    )
    assert values["verification_code"] is None
    assert "won't send another" in said[0] and "can't receive e-mail" in said[0]
    assert len(outbox(store)) == 1


def test_too_many_requests_from_one_conversation_are_refused(store, set_env):
    set_env(RATE_LIMIT_REQUESTS_PER_CONVERSATION="1")
    SubmitDeletion().run(CollectingDispatcher(), tracker(None, CONFIRMED, events=FORM_RUN), DOMAIN)
    dispatcher = CollectingDispatcher()
    other = {"account_email": "other@example.com", "confirm_request": True}
    SubmitUnsubscribe().run(dispatcher, tracker(None, other, message_id="m2"), DOMAIN)
    assert "can't take another one here" in dispatcher.messages[0]["text"]
    assert len(store.all_requests()) == 1


async def test_a_policy_question_during_the_status_question_is_answered(store):
    values, said, _ = await validate(
        ValidateStatusForm(),
        "status_form",
        "status_reference",
        "do you sell my data?",
        intent="ask_sharing",
    )
    assert values["status_reference"] is None
    assert "Share your personal information" in said[0]
    assert said[-1] == "Now, back to your status question."
