"""The sixth kind of request, a complaint (`file_complaint`, `complaint_form`, `CMP-`): its
record, how its answers are read, the flow as the action server runs it (rasa_sdk's
CollectingDispatcher, real trackers, a real store on SQLite and PostgreSQL) in English and
Chinese, stored verified or, when the code cannot be had, unverified with the postal contact;
its due date, the export's `type`, and the dashboard's counts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import (
    ActionAskAccountEmail,
    ActionAskConfirmRequest,
    ActionAskVerificationCode,
    AskComplaintAbout,
    AskComplaintDetails,
    ValidateComplaintForm,
)
from actions.submit import FLOW_SLOTS, ActionCancelRequest, SubmitComplaint
from bot.cli.data import request_rows
from bot.conversation import flows
from bot.core.paths import ROOT
from bot.core.settings import load_settings
from bot.policy.answers import contact_line
from bot.policy.document import load_policy
from bot.requests import deadlines, lifecycle, references, validators
from bot.requests.overview import overview
from bot.requests.registry import BY_INTENT, BY_KIND, BY_PREFIX
from bot.requests.store import RequestStore
from bot.storage.db import make_engine
from bot.support.tickets import Handoffs
from tests.support.actions import DOMAIN, outbox, tracker, validate

FORM = "complaint_form"
EMAIL = "jane.doe@example.com"
WHAT = "I unsubscribed in May and you still send me promotions every week"
ABOUT = "UNS-7K3M9Q"
POLICY = load_policy()


@pytest.fixture
def store(database_url, served, clock):
    store = RequestStore(make_engine(database_url), secret="s", working_days=15, clock=clock)
    served(store)
    yield store
    store.engine.dispose()


def said(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


# -- the record ---------------------------------------------------------------------------------


def test_the_record_names_its_intent_form_prefix_and_slots():
    complaint = BY_KIND["complaint"]
    assert (complaint.intent, complaint.form, complaint.prefix) == (
        "file_complaint",
        "complaint_form",
        "CMP",
    )
    assert BY_INTENT["file_complaint"] is complaint and BY_PREFIX["CMP"] is complaint
    assert complaint.slots == (
        "account_email",
        "complaint_details",
        "complaint_about",
        "confirm_request",
        "verification_code",
    )
    assert complaint.verify and not complaint.at_once and not complaint.erases_conversations
    assert not complaint.one_open_per_address
    assert all(BY_KIND[k].one_open_per_address for k in BY_KIND if k != "complaint")
    reference = references.new_reference("complaint")
    assert re.fullmatch(r"CMP-[0-9A-HJKMNP-TV-Z]{6}", reference)
    assert references.kind_of(reference) == "complaint"


def test_what_reads_intents_from_the_registry_knows_file_complaint():
    from bot.devtools.eval import form_of
    from bot.rasa.components import HowLongIsAQuestion

    assert form_of("file_complaint") == "complaint_form"
    assert form_of("request_complaint") is None
    assert "file_complaint" in HowLongIsAQuestion({"intent": "ask_not_covered"}).requests
    assert "file_complaint" in DOMAIN["intents"]


def test_the_right_it_quotes_is_the_policys_questions_or_comments():
    intro = flows.intro(POLICY, "complaint")
    section = POLICY.section("contact")
    assert f"\u201c{section.heading}\u201d" in intro
    quoted = re.findall(r"^\u201c(.+)\u201d$", intro, re.M)
    assert quoted and all(q in {s.text for s in section.sentences} for q in quoted)
    assert any("comment on this privacy policy" in q for q in quoted)
    assert any("Legal department" in q for q in quoted)
    assert "6-digit code" in intro
    chinese = flows.intro(POLICY, "complaint", "zh")
    assert "法务部" in chinese and "6位验证码" in chinese


# -- reading the answers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, stored",
    [
        ("DEL-7K3M9Q", "DEL-7K3M9Q"),
        ("del 7k3m9q", "DEL-7K3M9Q"),
        ("it's about acc-7k3m9q, the copy I asked for", "ACC-7K3M9Q"),
        ("关于ＣＭＰ－７Ｋ３Ｍ９Ｑ那次投诉", "CMP-7K3M9Q"),
        ("skip", flows.NONE),
        ("no", flows.NONE),
        ("跳过", flows.NONE),
    ],
)
def test_the_request_a_complaint_is_about_is_a_reference_or_skipped(answer, stored):
    assert flows.validate_complaint_about(answer) == stored
    assert flows.validate_complaint_about(stored) == stored  # what is stored reads as itself


@pytest.mark.parametrize(
    "answer",
    ["my deletion last week", "XYZ-7K3M9Q", "DEL-7K3M9Q or ACC-7K3M9Q", "del 7k3m9q and more"],
)
def test_anything_else_is_explained_with_the_way_out(answer):
    with pytest.raises(validators.Invalid) as english:
        flows.validate_complaint_about(answer)
    assert "DEL-7K3M9Q" in str(english.value) and "skip" in str(english.value)
    with pytest.raises(validators.Invalid) as chinese:
        flows.validate_complaint_about(answer, "zh")
    assert "跳过" in str(chinese.value)


def test_what_happened_takes_any_words_up_to_a_whole_chat_message():
    longest = load_settings().max_message_chars
    assert longest > 500  # longer than the other free-text answers
    assert flows.validate_complaint_details("  you   shared my number ") == "you shared my number"
    assert flows.validate_complaint_details("do you sell my data?") == "do you sell my data?"
    assert len(flows.validate_complaint_details("x" * longest)) == longest
    with pytest.raises(validators.Invalid):
        flows.validate_complaint_details("x" * (longest + 1))
    with pytest.raises(validators.Invalid):
        flows.validate_complaint_details("   ")


def test_slots_asked_and_details_kept():
    flow = flows.FLOWS["complaint"]
    assert flow.required_slots({}) == [
        "account_email",
        "complaint_details",
        "complaint_about",
        "confirm_request",
    ]
    assert flow.required_slots({"confirm_request": True})[-1] == "verification_code"
    values = {"complaint_details": WHAT, "complaint_about": ABOUT}
    assert flows.details_for("complaint", values) == {
        "what_happened": WHAT,
        "about_request": ABOUT,
    }
    skipped = {"complaint_details": WHAT, "complaint_about": flows.NONE}
    assert flows.details_for("complaint", skipped) == {"what_happened": WHAT}
    assert flows.reason_for("complaint", {"request_reason": "stray"}) is None


def test_the_summary_shows_what_happened_and_the_request_it_is_about():
    values = {"account_email": EMAIL, "complaint_details": WHAT, "complaint_about": ABOUT}
    english = flows.summary("complaint", values, None).splitlines()
    assert english == [
        "Request: A complaint about how your personal data was handled",
        f"Account e-mail: {EMAIL}",
        f"What happened: {WHAT}",
        f"About request: {ABOUT}",
    ]
    chinese = flows.summary("complaint", {**values, "complaint_about": flows.NONE}, None, "zh")
    assert chinese.splitlines() == [
        "申请：就个人信息的处理提出投诉",
        f"账号电子邮件地址：{EMAIL}",
        f"事情经过：{WHAT}",
    ]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_its_questions_have_words_and_purposes_in_each_language(language):
    text, buttons = flows.question("complaint_details", "complaint", language)
    assert text and buttons == ()
    text, buttons = flows.question("complaint_about", "complaint", language)
    assert "DEL-7K3M9Q" in text and len(buttons) == 1
    assert flows.validate_complaint_about(buttons[0][1]) == flows.NONE  # the Skip button
    for slot in ("complaint_details", "complaint_about"):
        assert flows.slot_purpose(slot, language)
    assert flows.account_email_question("complaint", language) != flows.account_email_question(
        "deletion", language
    )


# -- the flow, as the action server runs it -----------------------------------------------------


async def test_a_complaint_from_start_to_a_verified_reference(store, clock):
    dispatcher = CollectingDispatcher()
    ActionAskAccountEmail().run(dispatcher, tracker(FORM), DOMAIN)
    assert "Questions or comments" in said(dispatcher)
    assert "Legal department" in dispatcher.messages[-1]["text"]  # its own e-mail question

    form = ValidateComplaintForm()
    values, _, _ = await validate(form, FORM, "account_email", " Jane.Doe@Example.com ")
    assert values["account_email"] == EMAIL
    slots = {"account_email": EMAIL}
    dispatcher = CollectingDispatcher()
    AskComplaintDetails().run(dispatcher, tracker(FORM, slots), DOMAIN)
    assert "what happened" in said(dispatcher).lower()
    # A complaint speaks of what the policy covers: taken as the complaint, not answered.
    values, words, _ = await validate(
        form, FORM, "complaint_details", WHAT, slots=slots, intent="ask_communications"
    )
    assert values["complaint_details"] == WHAT and words == []
    slots["complaint_details"] = WHAT
    dispatcher = CollectingDispatcher()
    AskComplaintAbout().run(dispatcher, tracker(FORM, slots), DOMAIN)
    assert dispatcher.messages[0]["buttons"] == [{"title": "Skip", "payload": "skip"}]
    values, words, _ = await validate(form, FORM, "complaint_about", "the one I sent", slots=slots)
    assert values["complaint_about"] is None and "skip" in words[0]
    values, _, _ = await validate(
        form, FORM, "complaint_about", f"it is about {ABOUT.lower()}", slots=slots
    )
    assert values["complaint_about"] == ABOUT
    slots["complaint_about"] = ABOUT

    dispatcher = CollectingDispatcher()
    ActionAskConfirmRequest().run(dispatcher, tracker(FORM, slots), DOMAIN)
    assert f"What happened: {WHAT}" in said(dispatcher) and f"About request: {ABOUT}" in said(
        dispatcher
    )
    values, _, _ = await validate(
        form, FORM, "confirm_request", "yes", slots=slots, intent="affirm"
    )
    slots["confirm_request"] = values["confirm_request"]
    assert slots["confirm_request"] is True

    ActionAskVerificationCode().run(CollectingDispatcher(), tracker(FORM, slots), DOMAIN)
    code = re.search(r"code is (\d{6})", outbox(store)[-1][2]).group(1)
    values, _, _ = await validate(form, FORM, "verification_code", code, slots=slots)
    assert values["verification_code"] == flows.VERIFIED
    slots["verification_code"] = flows.VERIFIED

    dispatcher = CollectingDispatcher()
    events = SubmitComplaint().run(dispatcher, tracker(None, slots, text=code), DOMAIN)
    reply = said(dispatcher)
    reference = re.search(r"CMP-[0-9A-Z]{6}", reply).group(0)
    assert "complaint" in reply and "15 working days" in reply
    [row] = store.all_requests()
    assert (row.reference, row.kind, row.status) == (reference, "complaint", "received")
    assert row.details == {"what_happened": WHAT, "about_request": ABOUT}
    assert row.verified_at is not None
    assert row.due_at == deadlines.due_date(row.created_at, 15).due
    to, _, body = outbox(store)[-1]
    assert to == EMAIL and reference in body and "a review of your complaint" in body
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    assert {"complaint_details", "complaint_about", "account_email"} <= cleared
    assert "complaint_details" in flows.PII_SLOTS and set(flows.PII_SLOTS) & set(FLOW_SLOTS)


async def test_a_complainant_who_cannot_receive_the_code_is_recorded_unverified(store):
    slots = {
        "account_email": EMAIL,
        "complaint_details": WHAT,
        "complaint_about": flows.NONE,
        "confirm_request": True,
    }
    values, words, _ = await validate(
        ValidateComplaintForm(),
        FORM,
        "verification_code",
        "I can't receive email at that address",
        slots=slots,
    )
    assert values["verification_code"] == flows.UNVERIFIED and "not yet verified" in words[0]
    [ticket] = Handoffs(store.engine).list()
    assert ticket.reason == "verification_failed"
    slots["verification_code"] = flows.UNVERIFIED
    dispatcher = CollectingDispatcher()
    SubmitComplaint().run(dispatcher, tracker(None, slots), DOMAIN)
    reply = said(dispatcher)
    assert "not yet verified" in reply and contact_line(POLICY) in reply
    assert "Aolin Jiatai building" in reply  # the policy's postal address
    [row] = store.all_requests()
    assert (row.kind, row.status, row.verified_at) == ("complaint", "unverified", None)
    assert row.details == {"what_happened": WHAT}
    assert "could not be verified" in outbox(store)[-1][2]


async def test_a_complainant_out_of_tries_is_recorded_unverified_too(store):
    slots = {"account_email": EMAIL, "complaint_details": WHAT, "confirm_request": True}
    ActionAskVerificationCode().run(CollectingDispatcher(), tracker(FORM, slots), DOMAIN)
    code = re.search(r"code is (\d{6})", outbox(store)[-1][2]).group(1)
    wrong = "111111" if code != "111111" else "222222"
    for _ in range(4):
        values, _, _ = await validate(
            ValidateComplaintForm(), FORM, "verification_code", wrong, slots=slots
        )
        assert values["verification_code"] is None
    values, words, _ = await validate(
        ValidateComplaintForm(), FORM, "verification_code", wrong, slots=slots
    )
    assert values["verification_code"] == flows.UNVERIFIED and "last try" in words[0]
    dispatcher = CollectingDispatcher()
    SubmitComplaint().run(
        dispatcher, tracker(None, {**slots, "verification_code": flows.UNVERIFIED}), DOMAIN
    )
    assert store.all_requests()[0].status == lifecycle.UNVERIFIED
    assert contact_line(POLICY) in said(dispatcher)


async def test_a_complaint_in_chinese(store):
    zh = {"language": "zh"}
    dispatcher = CollectingDispatcher()
    ActionAskAccountEmail().run(dispatcher, tracker(FORM, zh), DOMAIN)
    assert "法务部" in said(dispatcher)
    form = ValidateComplaintForm()
    what = "上个月我发现我的手机号被你们给了广告公司"
    values, _, _ = await validate(form, FORM, "complaint_details", what, slots=zh)
    assert values["complaint_details"] == what
    values, _, _ = await validate(form, FORM, "complaint_about", "跳过", slots=zh)
    assert values["complaint_about"] == flows.NONE
    values, words, _ = await validate(form, FORM, "complaint_about", "上周那个", slots=zh)
    assert values["complaint_about"] is None and "跳过" in words[0]
    slots = {
        **zh,
        "account_email": "wang@example.cn",
        "complaint_details": what,
        "complaint_about": flows.NONE,
    }
    dispatcher = CollectingDispatcher()
    ActionAskConfirmRequest().run(dispatcher, tracker(FORM, slots), DOMAIN)
    assert f"事情经过：{what}" in said(dispatcher) and "涉及的申请" not in said(dispatcher)
    values, _, _ = await validate(form, FORM, "confirm_request", "是的", slots=slots)
    slots["confirm_request"] = values["confirm_request"]
    ActionAskVerificationCode().run(CollectingDispatcher(), tracker(FORM, slots), DOMAIN)
    code = re.search(r"(\d{6})", outbox(store)[-1][2]).group(1)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in code)  # typed with a Chinese input method
    values, _, _ = await validate(form, FORM, "verification_code", wide, slots=slots)
    slots["verification_code"] = values["verification_code"]
    assert slots["verification_code"] == flows.VERIFIED
    dispatcher = CollectingDispatcher()
    SubmitComplaint().run(dispatcher, tracker(None, slots), DOMAIN)
    reply = said(dispatcher)
    assert "投诉" in reply and "15个工作日" in reply and re.search(r"CMP-[0-9A-Z]{6}", reply)
    [row] = store.all_requests()
    assert (row.language, row.details) == ("zh", {"what_happened": what})
    assert "处理投诉" in outbox(store)[-1][2]


async def test_stop_in_a_complaint_stores_nothing(store):
    values, words, _ = await validate(
        ValidateComplaintForm(), FORM, "complaint_details", "cancel", slots={"account_email": EMAIL}
    )
    assert values["request_abandoned"] is True and "Nothing was stored" in words[0]
    dispatcher = CollectingDispatcher()
    ActionCancelRequest().run(
        dispatcher,
        tracker(None, {"account_email": EMAIL}, latest_action="action_deactivate_loop"),
        DOMAIN,
    )
    assert "Nothing was stored" in said(dispatcher) and store.all_requests() == []


# -- the store, the export, the dashboard -------------------------------------------------------


def test_two_complaints_from_one_address_are_two_but_a_deletion_is_still_one(store):
    first = store.submit("complaint", EMAIL, details={"what_happened": "one"})
    second = store.submit("complaint", EMAIL, details={"what_happened": "two"})
    assert first.created and second.created and not second.duplicate
    assert first.reference != second.reference
    assert {r.details["what_happened"] for r in store.all_requests()} == {"one", "two"}
    deletion = store.submit("deletion", EMAIL)
    again = store.submit("deletion", EMAIL)
    assert again.duplicate and again.reference == deletion.reference
    # A retried submit of the same complaint is still stored once.
    key = store.submit("complaint", EMAIL, idempotency_key="k", details={"what_happened": "3"})
    assert store.submit("complaint", EMAIL, idempotency_key="k").reference == key.reference
    assert len(store.all_requests()) == 4


def test_the_due_date_is_fifteen_working_days_on_the_statutory_calendar(store, clock, set_env):
    set_env(REQUEST_JURISDICTION="prc")
    clock.now = datetime(2026, 9, 28, 2, tzinfo=timezone.utc)  # before the National Day week
    made = store.submit("complaint", EMAIL, verified=True)
    assert made.due_at == deadlines.due_date(clock.now, 15).due
    assert made.due_at == store.get(made.reference).due_at
    # The National Day holidays are not counted: Friday 23 October in Beijing, where counting
    # Monday to Friday alone would give the 19th.
    assert made.due_at.astimezone(ZoneInfo("Asia/Shanghai")).date() == date(2026, 10, 23)


def exported(database_url: str) -> list:
    """What `python -m bot requests export --format json` prints, as a lawyer would run it."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "requests", "export", "--format", "json"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_export_names_a_complaint_by_its_type(store, database_url):
    reference = store.submit("complaint", EMAIL, details={"what_happened": WHAT}).reference
    [row] = request_rows(store)
    assert (row["reference"], row["type"]) == (reference, "complaint")
    rows = exported(database_url)
    assert [(r["reference"], r["type"], r["status"]) for r in rows] == [
        (reference, "complaint", "unverified")
    ]
    assert rows[0]["details"] == {"what_happened": WHAT}


def test_the_dashboard_counts_complaints(store, clock):
    clock.now = datetime(2026, 11, 30, 2, tzinfo=timezone.utc)
    open_one = store.submit("complaint", "a@example.com", verified=True).reference
    done = store.submit("complaint", "b@example.com", verified=True).reference
    store.submit("deletion", "c@example.com", verified=True)
    clock.now = datetime(2026, 12, 2, 2, tzinfo=timezone.utc)
    store.transition(done, "in_progress", "lena")
    store.transition(done, "completed", "lena", "We have spoken to the team.", notify=True)
    seen = overview(store.sessions, clock(), where=deadlines.JURISDICTIONS["prc"])
    assert seen.open_by_kind["complaint"] == 1 and seen.open_by_kind["deletion"] == 1
    assert list(seen.open_by_kind)[-1] == "complaint"  # the registry's order
    completion = {k.kind: (k.completed, k.median) for k in seen.completion}
    assert completion["complaint"] == (1, 2.0)
    assert store.get(open_one).status == lifecycle.RECEIVED
    # The completion e-mail says the complaint was looked into, with the Legal department's note.
    assert outbox(store)[-1][2] == (
        f"Your request {done} is complete. We have finished looking into your complaint."
        "\n\nNote from our legal department: We have spoken to the team."
    )
