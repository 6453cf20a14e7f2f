"""Verification codes masked in the transcripts kept with requests and tickets (issue 23): what
the visitor typed at the code step, in both languages, when the transcript is made and when an
older one is shown; never a request reference or another number."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import hand_over_verification
from actions.submit import SubmitDeletion
from actions.transcripts import CODE_SLOTS, transcript_of
from bot.conversation import flows
from bot.core import texts
from bot.core.reference_shape import REFERENCE_ALPHABET
from bot.requests.code_masking import (
    CODE_PLACEHOLDER,
    asks_for_code,
    mask_codes,
    mask_transcript,
)
from bot.support.tickets import Handoffs
from tests.support.actions import DOMAIN
from tests.support.actions import tracker as form_tracker
from tests.support.properties import FAST

# -- one message -------------------------------------------------------------------------------


def test_a_code_as_visitors_type_it_is_masked():
    for typed, masked in [
        ("123456", "[code]"),
        (" 123456 ", " [code] "),
        ("123 456", "[code]"),
        ("12-34-56", "[code]"),
        ("1 2 3 4 5 6", "[code]"),
        ("the code is 654321, thanks", "the code is [code], thanks"),
        ("我的验证码是１２３４５６", "我的验证码是[code]"),  # full-width, glued to Chinese
        ("验证码：123456。", "验证码：[code]。"),
        ("123456 2 minutes ago", "[code] 2 minutes ago"),
    ]:
        assert mask_codes(typed) == masked, typed


def test_references_and_other_numbers_stay():
    for typed in [
        "DEL-6C8F4M",
        "DEL-123456",  # a reference may be all digits
        "it is about COR-123456 please",
        "DEL123456",
        "DEL 123456",
        "+86 138 0013 8000",
        "13800138000",
        "2024-01-05",
        "12345",
        "1234567",
        "我的编号是DEL-7K3M9Q。",
    ]:
        assert mask_codes(typed) == typed, typed


def test_the_prompts_for_a_code_are_known_in_every_language():
    for language in texts.languages():
        assert asks_for_code(texts.text("flow.code.sent", language, email="j***@e***.com"))
        assert asks_for_code(texts.text("flow.code.wrong.other", language, attempts=3))
        assert asks_for_code(texts.text("flow.code.expired", language))
        assert asks_for_code(texts.text("validation.code", language))
        purpose = texts.text("flow.slot_purpose.verification_code", language)
        assert asks_for_code(texts.text("flow.explain_again", language, purpose=purpose))
        other = texts.text("flow.slot_purpose.account_email", language)
        assert not asks_for_code(texts.text("flow.explain_again", language, purpose=other))
        assert not asks_for_code(texts.text("flow.account_email_question", language))


# -- properties --------------------------------------------------------------------------------

codes = st.text(alphabet="0123456789", min_size=6, max_size=6)
references = st.builds(
    lambda prefix, code, joint: f"{prefix}{joint}{code}",
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
    st.text(alphabet=REFERENCE_ALPHABET, min_size=6, max_size=6),
    st.sampled_from(["-", "_", ""]),
)
# Words around a code: letters (Latin or Han) and punctuation, never digits.
words = st.lists(
    st.sampled_from(list("abcxyz ABC,.!?:") + ["我的", "验证码", "是", "。", "，", "code"]),
    max_size=12,
).map("".join)


@example(before="AAA", code="000000", after="")  # capitals before it: not a reference
@FAST
@given(before=words, code=codes, after=words)
def test_any_code_at_the_code_step_is_masked(before, code, after):
    masked = mask_codes(f"{before} {code} {after}")
    assert code not in masked and CODE_PLACEHOLDER in masked
    assert mask_codes(masked) == masked


@FAST
@given(before=words, reference=references, after=words)
def test_a_reference_is_never_masked(before, reference, after):
    typed = f"{before} {reference} {after}"
    assert reference in mask_codes(typed)


@FAST
@given(number=st.text(alphabet="0123456789", min_size=7, max_size=15), before=words)
def test_longer_numbers_are_not_taken_for_codes(number, before):
    typed = f"{before} {number}"
    assert mask_codes(typed) == typed


@FAST
@given(code=codes, question=words)
def test_only_visitor_lines_at_the_code_step_are_masked(code, question):
    lines = [
        {"from": "visitor", "text": f"order {code}", "at": ""},
        {"from": "assistant", "text": f"{question} {code}", "at": ""},
        {"from": "visitor", "text": code, "at": ""},
    ]
    assert mask_transcript(lines) == lines  # no question for a code before them
    masked = mask_transcript(lines, code_step=[2])
    assert masked[:2] == lines[:2] and masked[2]["text"] == CODE_PLACEHOLDER


# -- a transcript stored before codes were masked ------------------------------------------------


def stored_before(language: str, code: str):
    purpose = texts.text("flow.slot_purpose.verification_code", language)
    return [
        {"from": "visitor", "text": "delete my account", "at": "t0"},
        {
            "from": "assistant",
            "text": texts.text("flow.code.sent", language, email="j***@e***.com"),
        },
        {"from": "visitor", "text": "111111", "at": "t1"},
        {"from": "assistant", "text": texts.text("flow.code.wrong.other", language, attempts=4)},
        {"from": "visitor", "text": "it is 222 222", "at": "t2"},
        {"from": "assistant", "text": texts.text("flow.explain_again", language, purpose=purpose)},
        {"from": "visitor", "text": code, "at": "t3"},
        {"from": "assistant", "text": texts.text("fault.not_done", language)},
        {"from": "visitor", "text": code, "at": "t4"},  # typed again after the apology
        {"from": "assistant", "text": "Your request DEL-123456 is stored."},
        {"from": "visitor", "text": "what about DEL-123456 and 654321?", "at": "t5"},
    ]


def test_an_older_transcript_is_masked_for_display_in_both_languages():
    for language in texts.languages():
        lines = stored_before(language, "333333")
        masked = mask_transcript(lines)
        assert [line["text"] for line in masked if line["from"] == "visitor"] == [
            "delete my account",
            "[code]",
            "it is [code]",
            "[code]",
            "[code]",
            "what about DEL-123456 and 654321?",  # not at the code step: left alone
        ]
        assert [m for m in masked if m["from"] == "assistant"] == [
            line for line in lines if line["from"] == "assistant"
        ]
        assert lines[2]["text"] == "111111"  # the stored list is not changed
        assert masked[2]["at"] == "t1"


def test_lines_of_another_shape_pass_through():
    assert mask_transcript(["odd", None, {"text": "123456"}]) == ["odd", None, {"text": "123456"}]


# -- when the action server makes a transcript to store ----------------------------------------


def tracker(events):
    return Tracker(
        sender_id="conversation-1",
        slots={},
        latest_message=events[-1] if events else {},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def at_step(slot):
    return [
        {
            "event": "active_loop",
            "name": "withdraw_form" if "withdraw" in slot else "deletion_form",
        },
        {"event": "slot", "name": "requested_slot", "value": slot},
    ]


def test_the_code_slots_are_the_domains():
    assert CODE_SLOTS <= set(DOMAIN["slots"])
    assert {s for s in DOMAIN["slots"] if s.endswith("_code")} == CODE_SLOTS


def test_a_transcript_made_to_store_masks_what_answered_the_code_step():
    for slot in sorted(CODE_SLOTS):
        events = [
            {"event": "user", "text": "my number is 123456", "timestamp": 1.0},
            *at_step("account_email"),
            {"event": "bot", "text": "Which e-mail address?"},
            {"event": "user", "text": "jane@example.com"},
            *at_step(slot),
            {"event": "bot", "text": "A digression answered."},  # no prompt text needed
            {"event": "user", "text": "  654 321 "},
            {"event": "user", "text": "DEL-654321 is mine"},
            {"event": "active_loop", "name": None},
            {"event": "slot", "name": "requested_slot", "value": None},
            {"event": "user", "text": "and 987654?"},
        ]
        lines = transcript_of(tracker(events))
        assert [line["text"] for line in lines] == [
            "my number is 123456",  # before any code was asked for
            "Which e-mail address?",
            "jane@example.com",
            "A digression answered.",
            "  [code] ",
            "DEL-654321 is mine",
            "and 987654?",
        ]
        assert lines[0]["at"].startswith("1970-01-01T00:00:01")


def test_the_limit_keeps_the_latest_lines_masked():
    events = [*at_step("verification_code")] + [
        {"event": "user", "text": f"{n:06d}"} for n in range(5)
    ]
    lines = transcript_of(tracker(events), limit=2)
    assert [line["text"] for line in lines] == ["[code]", "[code]"]
    assert not any(re.search(r"\d{6}", line["text"]) for line in lines)


def test_a_request_and_a_ticket_are_stored_with_the_code_masked(store, served):
    served(store)
    events = [
        {"event": "user", "text": "delete my account, ref DEL-123456"},
        {"event": "active_loop", "name": "deletion_form", "timestamp": 1700000000.5},
        {"event": "slot", "name": "requested_slot", "value": "verification_code"},
        {"event": "bot", "text": texts.text("flow.code.sent", "zh", email="j***@e***.com")},
        {"event": "user", "text": "１２３４５６"},
        {"event": "slot", "name": "verification_code", "value": "１２３４５６"},
        {"event": "slot", "name": "verification_code", "value": flows.VERIFIED},
        {"event": "active_loop", "name": None},
        {"event": "slot", "name": "requested_slot", "value": None},
    ]
    slots = {
        "account_email": "jane@example.com",
        "deletion_scope": "all",
        "verification_code": flows.VERIFIED,
        "confirm_request": True,
        "language": "zh",
    }
    SubmitDeletion().run(
        CollectingDispatcher(), form_tracker(None, slots, text="好的", events=events), DOMAIN
    )
    [row] = store.all_requests()
    said = [line["text"] for line in row.transcript if line["from"] == "visitor"]
    assert said == ["delete my account, ref DEL-123456", "[code]", "好的"]
    hand_over_verification(
        CollectingDispatcher(), form_tracker("deletion_form", slots, events=events), None
    )
    [ticket] = Handoffs(store.engine).list()
    assert "１２３４５６" not in str(ticket.transcript) and "[code]" in str(ticket.transcript)


# -- logs ----------------------------------------------------------------------------------------


def test_a_failed_write_of_the_code_e_mail_logs_no_code(migrated_sqlite, served):
    """A database error names the SQL it failed on; the values (the e-mail's body, with the live
    code, and the address) stay out of its message, which rasa_sdk logs with the traceback."""
    from sqlalchemy import text as sql
    from sqlalchemy.exc import OperationalError

    from bot.requests.store import RequestStore
    from bot.storage.db import make_engine

    store = RequestStore(make_engine(migrated_sqlite()), secret="s")
    served(store)
    with store.engine.begin() as connection:
        connection.execute(sql("DROP TABLE outbox"))
    with pytest.raises(OperationalError) as failed:
        store.send_code("jane@example.com", "conversation-1")
    message = str(failed.value)
    assert "INSERT INTO outbox" in message  # what failed is still said
    assert not re.search(r"\d{6}", message) and "jane@example.com" not in message
    store.engine.dispose()
