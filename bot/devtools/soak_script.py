"""What a soak visitor says, and how it reads what the assistant answers.

The visitor does not follow a fixed list of lines: under faults the assistant may apologise,
ask for a message again, or ask a question a second time. So it reads each reply as a person
would, by what it asks (the questions are recognised by their wording in the catalogue of
texts, the one place they are written), and answers that; it presses "Try again" (sends the
button's payload, as the chat page does) when offered one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.conversation import faults
from bot.core.texts import catalogue
from bot.requests.references import PREFIXES, REFERENCE_ALPHABET

LANGUAGE = "en"
PHONE = "+86 139 1234 5678"
CODE = "verification_code"  # the slot the e-mailed code answers

# kind -> (opening line, the answer to each question its form may ask, by slot)
SCRIPTS: Dict[str, Tuple[str, Dict[str, str]]] = {
    "deletion": (
        "please delete my account",
        {
            "deletion_scope": "the whole account",
            "deletion_items": "my meeting history",
            "request_reason": "skip",
        },
    ),
    "correction": (
        "my phone number in your records is wrong",
        {"correction_item": "phone number", "correction_value": PHONE, "correction_note": "skip"},
    ),
    "suspension": (
        "please suspend my account",
        {"request_reason": "I don't want my data used for surveys"},
    ),
}
# How often each kind is made: mostly deletions, a few corrections and suspensions.
MIX = (("deletion", 0.7), ("correction", 0.15), ("suspension", 0.15))

# Catalogue keys of the questions (and of "what I need here is ...", said after two unusable
# answers), by the slot they ask for.
QUESTIONS: Tuple[Tuple[str, str], ...] = (
    ("flow.account_email_question", "account_email"),
    ("flow.question.deletion_scope.text", "deletion_scope"),
    ("flow.question.deletion_items.text", "deletion_items"),
    ("flow.question.request_reason.text", "request_reason"),
    ("request.suspension.reason_question", "request_reason"),
    ("request.suspension.reason_needed", "request_reason"),
    ("flow.question.correction_item.text", "correction_item"),
    ("flow.ask_correction_value.item", "correction_value"),
    ("flow.question.correction_note.text", "correction_note"),
    ("flow.confirm.text", "confirm_request"),
    ("flow.code.sent", CODE),
    ("flow.code.resent", CODE),
    ("flow.code.expired", CODE),
    ("flow.code.wrong.one", CODE),
    ("flow.code.wrong.other", CODE),
    *(
        (f"flow.slot_purpose.{slot}", slot)
        for slot in (
            "account_email",
            "deletion_scope",
            "deletion_items",
            "correction_item",
            "correction_value",
            "correction_note",
            "request_reason",
            "confirm_request",
            "verification_code",
        )
    ),
)
# "Could you send your last message again?" and "there's nothing waiting to be retried".
SAY_AGAIN = ("fault.send_again", "fault.nothing_pending")


def cue(key: str, language: str = LANGUAGE) -> str:
    """The longest stretch of a text without a placeholder: enough to know it in a reply."""
    template = catalogue().entry(key, language).value
    assert isinstance(template, str), key
    return max((part.strip() for part in re.split(r"\{[^}]*\}", template)), key=len)


def retry_payload(language: str = LANGUAGE) -> str:
    return faults.retry_button(language)["payload"]


def answer_for(kind: str, slot: str, email: str) -> Optional[str]:
    """What the visitor answers to the question for `slot` (the code is looked up elsewhere)."""
    if slot == "account_email":
        return email
    if slot == "confirm_request":
        return "yes"
    return SCRIPTS[kind][1].get(slot)


@dataclass(frozen=True)
class Step:
    """What to do after a reply: `done` (the reference), `retry` (press "Try again"), `again`
    (send the last message again), `answer` (the question's slot), or `lost` (none of these)."""

    what: str
    reference: Optional[str] = None
    slot: Optional[str] = None


def reference_in(kind: str, text: str) -> Optional[str]:
    match = re.search(rf"\b{PREFIXES[kind]}-[{REFERENCE_ALPHABET}]{{6}}\b", text)
    return match.group(0) if match else None


def reply_text(messages: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(str(m.get("text", "")) for m in messages if isinstance(m, Mapping))


def offers_retry(messages: Sequence[Mapping[str, Any]]) -> bool:
    """The apology of bot.conversation.faults: a "Try again" button under the message."""
    payload = retry_payload()
    return any(
        isinstance(m, Mapping)
        and any(
            b.get("payload") == payload for b in m.get("buttons") or [] if isinstance(b, Mapping)
        )
        for m in messages
    )


def read(kind: str, messages: Sequence[Mapping[str, Any]]) -> Step:
    """The next step after the assistant said `messages` (the web app's `messages` list)."""
    text = reply_text(messages)
    reference = reference_in(kind, text)
    if reference:
        return Step("done", reference=reference)
    if offers_retry(messages):
        return Step("retry")
    if any(cue(key) in text for key in SAY_AGAIN):
        return Step("again")
    asked: List[Tuple[int, str]] = []
    for key, slot in QUESTIONS:
        position = text.rfind(cue(key))
        if position >= 0:
            asked.append((position, slot))
    if not asked:
        return Step("lost")
    return Step("answer", slot=max(asked)[1])  # the question asked last in the reply


def pick_kind(roll: float) -> str:
    """The kind of request for a roll in [0, 1): MIX's shares."""
    total = 0.0
    for kind, share in MIX:
        total += share
        if roll < total:
            return kind
    return MIX[-1][0]
