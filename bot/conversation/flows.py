"""The request flows: what each form asks, how answers are read, and what is said back.

Kept apart from rasa_sdk so the whole conversation logic can be tested with plain pytest; the
form validation actions in `actions/forms.py` only move values between the tracker and here.
What differs by kind of request (its slots, titles, wording) is read from bot.requests.registry;
what is here is keyed by slot, so a new kind made of the slots below needs nothing here. Every
word said comes from the catalogue of texts (data/texts/, keys `flow.*`, `validation.*` and the
kinds' `request.<kind>.*`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from bot.core import texts
from bot.core.masking import mask_email
from bot.core.words import contains_any, words
from bot.policy.answers import contact_line, quote
from bot.policy.document import Policy
from bot.policy.rights import right_quote
from bot.requests import validators
from bot.requests.registry import BY_KIND, KINDS, RequestKind, TakesEffectAtOnce

Values = Dict[str, Optional[str]]  # a flow's slots as the tracker holds them

NONE = "none"  # what an optional answer holds when the visitor skips it
VERIFIED = "verified"
UNVERIFIED = "unverified"

# Slots that carry personal data and are cleared from the conversation once a request is stored.
PII_SLOTS = ("account_email", "correction_value", "verification_code", "deletion_items",
             "access_items", "request_reason", "correction_note", "status_email")


# Slots asked only when their scope question was answered "only specific data".
SCOPE_OF_ITEMS = {"deletion_items": "deletion_scope", "access_items": "access_scope"}


@dataclass(frozen=True)
class Flow:
    """A kind of request as a conversation: its registry record, and which questions are open."""

    request: RequestKind

    @property
    def kind(self) -> str:
        return self.request.kind

    @property
    def form(self) -> str:
        return self.request.form

    @property
    def slots(self) -> Tuple[str, ...]:
        """In the order they are asked (conditional ones included)."""
        return self.request.slots

    @property
    def verify(self) -> bool:
        """Needs an e-mailed code before it is stored as verified."""
        return self.request.verify

    def required_slots(self, values: Values) -> List[str]:
        """The slots still to ask, given what is filled: conditional slots only when needed."""
        wanted = []
        for slot in self.slots:
            if slot in SCOPE_OF_ITEMS and values.get(SCOPE_OF_ITEMS[slot]) != "specific":
                continue
            if slot == "verification_code" and (not self.verify
                                                or values.get("confirm_request") is not True):
                continue
            wanted.append(slot)
        return wanted


FLOWS: Dict[str, Flow] = {record.kind: Flow(record) for record in KINDS}
FLOW_BY_FORM = {flow.form: flow for flow in FLOWS.values()}

CORRECTION_ITEMS = {
    "name": ("name", "full name", "first name", "last name", "surname", "username"),
    "email": ("email", "e-mail", "mail", "email address", "e mail"),
    "phone": ("phone", "mobile", "phone number", "cell", "telephone", "number"),
    "wechat": ("wechat", "weixin", "wechat account", "wechat id"),
    "alipay": ("alipay", "alipay account", "zhifubao"),
    "other": ("other", "something else", "another", "else"),
}


def correction_label(item: str) -> str:
    """What the chat calls a correctable item (`CORRECTION_ITEMS`): "phone number"."""
    return texts.text(f"flow.correction_item.{item}")


_SKIP = ("skip", "none", "no", "nope", "nothing", "n/a", "na", "no reason", "rather not say",
         "prefer not to say", "no comment", "no thanks", "-", "no note")
_YES = ("yes", "y", "yeah", "yep", "sure", "ok", "okay", "correct", "confirm", "confirmed",
        "right", "that's right", "go ahead", "submit", "send it", "yes please", "do it")
_NO = ("no", "n", "nope", "not", "don't", "do not", "wrong", "incorrect", "nah")
_WHOLE = ("whole", "all", "entire", "everything", "account", "complete", "full", "close")
_SPECIFIC = ("specific", "some", "part", "certain", "particular", "only", "just", "selected")
_RESEND = ("resend", "send again", "new code", "another code", "send it again", "didn't get",
           "did not get", "not received", "haven't received", "no code", "didn't arrive",
           "hasn't arrived", "not arrived")
_CANNOT_VERIFY = ("can't receive", "cannot receive", "can not receive", "no access",
                  "don't have access", "lost access", "can't access", "cannot access",
                  "no longer have", "not my email anymore", "old email", "can't get",
                  "cannot get", "unable to receive", "unable to access")
# "I'm 12", "I am 13 years old", "I'm under 14", "I am a minor" (an age only when it stands
# alone or as years: "I am 5 minutes late" is not a child).
_MINOR_SELF = re.compile(
    r"\b(?:i\s*(?:'m|am)\s*(?:only\s*)?(?:1[0-7]|[1-9])(?:\s*(?:years?|yrs?)(?:\s*old)?)?"
    r"(?=\s*(?:$|[,.!;?)]|and\b|so\b|but\b|years?\b))"
    r"|i\s*(?:'m|am)\s*under\s*(?:14|16|18|age)\b|i\s*(?:'m|am)\s*(?:a\s*)?(?:minor|child|kid|teen"
    r"|teenager)\b|my\s*age\s*is\s*(?:1[0-7]|[1-9])\b)", re.I)
_MINOR_GUARDIAN = re.compile(
    r"\b(my\s+(?:\d{1,2}[\s-]*(?:year|yr)[\s-]*old\s+)?(?:son|daughter|child|children|kid|kids"
    r"|boy|girl|ward)(?:'s)?|for\s+my\s+(?:child|son|daughter|kid)|i\s*(?:'m|am)\s*(?:the|his"
    r"|her|their)?\s*(?:legal\s+)?(?:parent|guardian|mother|father|mom|mum|dad)|as\s+(?:a|the|his"
    r"|her)?\s*(?:legal\s+)?(?:parent|guardian))\b", re.I)


_SKIP_FORMS = {" ".join(words(s)) for s in _SKIP} - {""}
_YES_FORMS = {" ".join(words(s)) for s in _YES}
_NO_FORMS = {" ".join(words(s)) for s in _NO}
_NEGATION = re.compile(r"\b(?:no|not|nope|nah|don't|do not|isn't|is not|wasn't|wrong|incorrect"
                       r"|cancel)\b")


def _straight(text: str) -> str:
    """Typographic apostrophes (phone keyboards type ’) as plain ones, lower-cased."""
    return text.replace("\u2019", "'").replace("\u2018", "'").lower()


def is_skip(text: str) -> bool:
    return " ".join(words(text)) in _SKIP_FORMS or text.strip() == "-"


def read_yes_no(text: str, intent: Optional[str]) -> Optional[bool]:
    if intent == "affirm":
        return True
    if intent in ("deny", "stop"):
        return False
    plain = " ".join(words(text))
    if plain in _YES_FORMS:
        return True
    if plain in _NO_FORMS or _NEGATION.search(_straight(text)):
        return False
    if contains_any(text, ("yes", "correct", "confirm", "right")):
        return True
    return None


def read_scope(text: str) -> Optional[str]:
    """`all` (the whole account / all data) or `specific`, or None when unclear."""
    specific = contains_any(text, _SPECIFIC)
    whole = contains_any(text, _WHOLE)
    if specific and not whole:
        return "specific"
    if whole and not specific:
        return "all"
    return None


def read_correction_item(text: str) -> Optional[str]:
    plain = f" {' '.join(words(text))} "
    for item in ("wechat", "alipay", "email", "phone", "name", "other"):
        if any(f" {' '.join(words(cue))} " in plain for cue in CORRECTION_ITEMS[item]):
            return item
    return None


def wants_resend(text: str) -> bool:
    return any(cue in _straight(text) for cue in _RESEND)


def cannot_verify(text: str) -> bool:
    return any(cue in _straight(text) for cue in _CANNOT_VERIFY)


def requester_role(texts: Iterable[str]) -> Optional[str]:
    """`guardian` when someone acts for their child, `minor` when the requester is under 18."""
    role = None
    for text in texts:
        text = _straight(text or "")
        if _MINOR_GUARDIAN.search(text):
            return "guardian"
        if _MINOR_SELF.search(text):
            role = "minor"
    return role


def guardian_notice(policy: Policy, role: str) -> str:
    """What the policy says to minors and guardians, quoted from "Protection of minors"."""
    section = policy.section("minors")
    wanted = ("under the age of 14", "reached the age of 14") if role == "minor" else (
        "guardian of a minor", "minors under your custody")
    sentences = [s.text for s in section.sentences if any(w in s.text for w in wanted)]
    quoted = "\n\n".join(quote(s) for s in sentences)
    return texts.text(f"flow.minor_notice.{'minor' if role == 'minor' else 'guardian'}",
                      heading=section.heading, quoted=quoted)


# -- validation: each returns the stored value or raises validators.Invalid -------------------

def validate_scope(text: str) -> str:
    scope = read_scope(text)
    if scope is None:
        raise validators.Invalid(texts.text("validation.scope"))
    return scope


def validate_correction_item(text: str) -> str:
    item = read_correction_item(text)
    if item is None:
        raise validators.Invalid(texts.text("validation.correction_item"))
    return item


def validate_optional(text: str) -> str:
    return NONE if is_skip(text) else validators.free_text(text)


def validate_reason(text: str, why: str) -> str:
    """A reason the kind cannot do without; `why` (its `reason_needed` text) is said when
    skipped."""
    if is_skip(text):
        raise validators.Invalid(why)
    return validators.free_text(text)


def read_reason(kind: str, text: str) -> str:
    """`request_reason` as the kind takes it: required when the registry says so (and why),
    else optional."""
    request = BY_KIND[kind]
    if request.reason_required:
        return validate_reason(text, request.wording("reason_needed"))
    return validate_optional(text)


SLOT_VALIDATORS: Dict[str, Callable[[str], str]] = {
    "account_email": validators.email,
    "deletion_scope": validate_scope,
    "access_scope": validate_scope,
    "deletion_items": validators.free_text,
    "access_items": validators.free_text,
    "correction_item": validate_correction_item,
    "correction_note": validate_optional,
}


def slot_purpose(slot: str) -> str:
    """What a slot is for (`flow.slot_purpose.<slot>`), said when a visitor has answered twice
    with something unusable."""
    return texts.text(f"flow.slot_purpose.{slot}")


def explain(slot: str) -> str:
    return texts.text("flow.explain_again", purpose=slot_purpose(slot))


# The scope questions: the summary says "all" in words (`flow.summary.whole.<scope slot>`) and
# shows the specific items as typed.
ITEMS_OF_SCOPE = {scope: items for items, scope in SCOPE_OF_ITEMS.items()}
# The slots whose summary line shows the answer as given (`flow.summary.answer.<slot>`).
SUMMARY_LINES = ("account_email", "request_reason", "correction_value", "correction_note")


def _summary_line(request: RequestKind, slot: str, values: Values) -> Optional[str]:
    """One slot's line of the summary, or None: the items are shown with their scope, skipped
    optional answers, the yes and the code not at all."""
    value = values.get(slot)
    skipped = value in (None, NONE)
    if slot in ITEMS_OF_SCOPE:
        what = (texts.text(f"flow.summary.whole.{slot}") if value == "all"
                else values.get(ITEMS_OF_SCOPE[slot]))
        return texts.text("flow.summary.what", what=what)
    if slot == "request_reason" and skipped and not request.reason_required:
        return None
    if slot == "correction_note" and skipped:
        return None
    if slot == "correction_item":
        label = correction_label(value) if value in CORRECTION_ITEMS else ""
        return texts.text("flow.summary.correction_item", label=label)
    if slot in SUMMARY_LINES:
        return texts.text(f"flow.summary.answer.{slot}", value=value)
    return None


def summary(kind: str, values: Values, role: Optional[str]) -> str:
    """The summary shown before the explicit confirmation: a line per answer, in the order
    the form asked them."""
    request = BY_KIND[kind]
    lines = [texts.text("flow.summary.request", title=request.wording("summary_title"))]
    lines += [line for line in (_summary_line(request, slot, values) for slot in request.slots)
              if line is not None]
    if role:
        lines.append(texts.text(
            f"flow.summary.made_by.{'minor' if role == 'minor' else 'guardian'}"))
    return "\n".join(lines)


def confirmation_prompt(kind: str, values: Values, role: Optional[str]) -> str:
    after = texts.text("flow.confirm.after_verify" if FLOWS[kind].verify
                       else "flow.confirm.after_at_once")
    return texts.text("flow.confirm.text", summary=summary(kind, values, role), after=after)


def confirmation_buttons() -> List[Dict[str, str]]:
    """"Yes, submit it" and "No, stop" under the summary."""
    return texts.buttons("flow.confirm.buttons")


def code_sent_prompt(email: str) -> str:
    return texts.text("flow.code.sent", email=mask_email(email))


def wrong_code(attempts_left: int) -> str:
    """A wrong code, and how many tries are left."""
    return texts.text("flow.code.wrong.one" if attempts_left == 1 else "flow.code.wrong.other",
                      attempts=attempts_left)


def wait_phrase(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    if minutes < 90:
        return texts.text("flow.wait.minute" if minutes == 1 else "flow.wait.minutes",
                          minutes=minutes)
    return texts.text("flow.wait.hours", hours=math.ceil(minutes / 60))


def too_many_codes(wait: timedelta) -> str:
    return texts.text("flow.too_many_codes", wait=wait_phrase(wait))


def too_many_requests(wait: timedelta) -> str:
    return texts.text("flow.too_many_requests", wait=wait_phrase(wait))


def due_date(due_at: datetime) -> str:
    """A due date as the chat and the e-mails write it (`format.date`)."""
    return texts.text("format.date", date=due_at)


def status_reply(reference: str, kind: str, status: str, due_at: datetime) -> str:
    """The answer to "what is the status of DEL-7K3M9Q?" once reference and e-mail match."""
    return texts.text("flow.status.answer", reference=reference,
                      kind=BY_KIND[kind].wording("name"),
                      status=texts.text(f"flow.status_name.{status}"), due=due_date(due_at))


# Where the request row's `details` keeps an answer (the scope questions: see `_detail`).
DETAIL_KEYS = {"correction_item": "item", "correction_value": "new_value",
               "correction_note": "note"}
OPTIONAL_DETAILS = ("correction_note",)  # left out of `details` when skipped


def _detail(slot: str, values: Values) -> Dict[str, str]:
    """What one answer adds to `details`: a scope with its items, or the answer under its key."""
    value = values.get(slot)
    if slot in ITEMS_OF_SCOPE:
        return ({"scope": "specific", "items": values.get(ITEMS_OF_SCOPE[slot]) or ""}
                if value == "specific" else {"scope": "all"})
    if slot not in DETAIL_KEYS or (slot in OPTIONAL_DETAILS and value in (None, NONE)):
        return {}
    return {DETAIL_KEYS[slot]: value or ""}


def details_for(kind: str, values: Values) -> Dict[str, str]:
    """What the request row keeps in `details`, from the kind's answers in the order asked."""
    details: Dict[str, str] = {}
    for slot in BY_KIND[kind].slots:
        details.update(_detail(slot, values))
    return details


def reason_for(kind: str, values: Values) -> Optional[str]:
    """The reason column: only for a kind whose form asks one, and not when it was skipped."""
    reason = values.get("request_reason")
    asked = "request_reason" in BY_KIND[kind].slots
    return None if reason in (None, NONE) or not asked else reason


def submitted_message(policy: Policy, kind: str, reference: str, due_at: datetime,
                      status: str, duplicate: bool, working_days: int) -> str:
    request = BY_KIND[kind]
    due = due_date(due_at)
    if duplicate:
        return texts.text("flow.submitted.duplicate", kind=request.wording("name"),
                          reference=reference, due=due)
    if request.at_once:
        return request.wording("done_reply", reference=reference) + _notice(policy,
                                                                             request.at_once)
    said = texts.text("flow.submitted.stored", kind=request.wording("name"),
                      reference=reference, due=due, working_days=working_days)
    if status == UNVERIFIED:
        said += "\n\n" + texts.text("flow.submitted.unverified", contact=contact_line(policy))
    return said


def _notice(policy: Policy, at_once: TakesEffectAtOnce) -> str:
    """The policy sentence a request that takes effect at once is followed by, if any: what
    it cannot do (service announcements cannot be unsubscribed from)."""
    if not at_once.notice_section:
        return ""
    section = policy.section(at_once.notice_section)
    notice = next(s.text for s in section.sentences if at_once.notice_words in s.text)
    return "\n\n" + texts.text("flow.submitted.notice", heading=section.heading, sentence=notice)


def intro(policy: Policy, kind: str) -> str:
    """How a flow opens: the policy's own words on the right, then what will happen."""
    request = BY_KIND[kind]
    then = texts.text("flow.intro.then_verify" if request.verify else "flow.intro.then_at_once")
    return texts.text("flow.intro.text", right=right_quote(policy, request),
                      steps=request.wording("steps"), then=then)


def account_email_question(kind: Optional[str]) -> str:
    """How the address is asked for: each kind may word it its own way (its `email_question`
    text)."""
    request = BY_KIND.get(kind or "")
    if request and request.has_wording("email_question"):
        return request.wording("email_question")
    return texts.text("flow.account_email_question")


# The slots asked with fixed wording (`flow.question.<slot>`: its text and its buttons, whose
# payloads are plain words, read like anything the visitor types).
QUESTION_SLOTS = ("deletion_scope", "deletion_items", "request_reason", "correction_item",
                  "correction_note", "access_scope", "access_items", "status_reference",
                  "status_email")


def question(slot: str, kind: Optional[str]) -> Tuple[str, Tuple[Tuple[str, str], ...]]:
    """The fixed question for a slot in the active flow, as (text, buttons as (title, payload)
    pairs): a kind that requires a reason asks for it in its own words, without a "Skip"
    button."""
    if slot not in QUESTION_SLOTS:
        raise KeyError(slot)
    request = BY_KIND.get(kind or "")
    if slot == "request_reason" and request and request.reason_required:
        return request.wording("reason_question"), ()
    buttons = texts.buttons(f"flow.question.{slot}.buttons")
    return (texts.text(f"flow.question.{slot}.text"),
            tuple((b["title"], b["payload"]) for b in buttons))
