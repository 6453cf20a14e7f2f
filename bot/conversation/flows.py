"""The request flows: what each form asks, how answers are read, and what is said back.

Kept apart from rasa_sdk so the whole conversation logic can be tested with plain pytest; the
form validation actions in `actions/forms.py` only move values between the tracker and here.
What differs by kind of request (its slots, titles, wording) is read from bot.requests.registry;
what is here is keyed by slot, so a new kind made of the slots below needs nothing here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from bot.requests import validators
from bot.requests.registry import (ACCOUNT_EMAIL_QUESTION, BY_KIND, KINDS, RequestKind,
                                   TakesEffectAtOnce)
from bot.policy.answers import contact_line, quote
from bot.core.masking import mask_email
from bot.policy.document import Policy
from bot.policy.rights import right_quote
from bot.core.words import contains_any, words

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
CORRECTION_LABELS = {"name": "name", "email": "e-mail address", "phone": "phone number",
                     "wechat": "WeChat account", "alipay": "Alipay account", "other": "other"}

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
    intro = ("Since you're under 18" if role == "minor" else "Since you're acting for your child")
    quoted = "\n\n".join(quote(s) for s in sentences)
    return (f"{intro}, here is what the policy section \u201c{section.heading}\u201d says:\n\n"
            f"{quoted}\n\nI'll note on the request that it was made "
            f"{'by a minor' if role == 'minor' else 'by a guardian for a minor'}.")


# -- validation: each returns the stored value or raises validators.Invalid -------------------

def validate_scope(text: str) -> str:
    scope = read_scope(text)
    if scope is None:
        raise validators.Invalid("Please choose: the whole account and all its data, or only "
                                 "specific data.")
    return scope


def validate_correction_item(text: str) -> str:
    item = read_correction_item(text)
    if item is None:
        raise validators.Invalid("Which item is wrong: your name, e-mail address, phone number, "
                                 "WeChat account, Alipay account, or something else?")
    return item


def validate_optional(text: str) -> str:
    return NONE if is_skip(text) else validators.free_text(text)


def validate_reason(text: str, why: str) -> str:
    """A reason the kind cannot do without; `why` (its `reason_needed`) is said when skipped."""
    if is_skip(text):
        raise validators.Invalid(why)
    return validators.free_text(text)


def read_reason(kind: str, text: str) -> str:
    """`request_reason` as the kind takes it: required when the registry says why, else
    optional."""
    why = BY_KIND[kind].reason_needed
    return validate_reason(text, why) if why else validate_optional(text)


SLOT_VALIDATORS: Dict[str, Callable[[str], str]] = {
    "account_email": validators.email,
    "deletion_scope": validate_scope,
    "access_scope": validate_scope,
    "deletion_items": validators.free_text,
    "access_items": validators.free_text,
    "correction_item": validate_correction_item,
    "correction_note": validate_optional,
}

# What each slot is for, said when a visitor has answered twice with something unusable.
SLOT_EXPLANATIONS = {
    "account_email": "the e-mail address of your VideoPro account, so we can find the account "
                     "and send you a code that proves it is yours",
    "deletion_scope": "whether to delete the whole account with all its data, or only some data",
    "deletion_items": "which data you want deleted, in a few words",
    "access_scope": "whether you want a copy of all your data, or only some of it",
    "access_items": "which data you want a copy of, in a few words",
    "correction_item": "which item is wrong: name, e-mail, phone, WeChat account, Alipay "
                       "account, or other",
    "correction_value": "the correct value for that item",
    "correction_note": "an optional note for our staff (or \u201cskip\u201d)",
    "request_reason": "the reason for your request, in a few words",
    "confirm_request": "a yes or no: is the summary right?",
    "verification_code": "the 6-digit code we e-mailed you",
}


def explain(slot: str) -> str:
    return (f"Sorry, I still can't use that. What I need here is {SLOT_EXPLANATIONS[slot]}. "
            "You can try again, or say \u201cstop\u201d to end this request: nothing will be "
            "stored.")


# How the summary says "all" for each scope question (the specific items are shown as typed).
WHOLE_SCOPE = {"deletion_scope": "the whole account and all its data",
               "access_scope": "a copy of all my data"}
ITEMS_OF_SCOPE = {scope: items for items, scope in SCOPE_OF_ITEMS.items()}


def _summary_line(request: RequestKind, slot: str, values: Values) -> Optional[str]:
    """One slot's line of the summary, or None: the items are shown with their scope, skipped
    optional answers, the yes and the code not at all."""
    value = values.get(slot)
    skipped = value in (None, NONE)
    if slot == "account_email":
        return f"Account e-mail: {value}"
    if slot in WHOLE_SCOPE:
        return (f"What: {WHOLE_SCOPE[slot]}" if value == "all"
                else f"What: {values.get(ITEMS_OF_SCOPE[slot])}")
    if slot == "request_reason":
        return f"Reason: {value}" if request.reason_needed or not skipped else None
    if slot == "correction_item":
        return f"Item: {CORRECTION_LABELS.get(value or '', '')}"
    if slot == "correction_value":
        return f"Correct value: {value}"
    if slot == "correction_note":
        return None if skipped else f"Note: {value}"
    return None


def summary(kind: str, values: Values, role: Optional[str]) -> str:
    """The summary shown before the explicit confirmation: a line per answer, in the order
    the form asked them."""
    request = BY_KIND[kind]
    lines = [f"Request: {request.summary_title}"]
    lines += [line for line in (_summary_line(request, slot, values) for slot in request.slots)
              if line is not None]
    if role:
        lines.append("Made by: a minor" if role == "minor" else "Made by: a guardian for a minor")
    return "\n".join(lines)


def confirmation_prompt(kind: str, values: Values, role: Optional[str]) -> str:
    after = ("I'll then e-mail a 6-digit code to that address to confirm it's yours."
             if FLOWS[kind].verify else "It takes effect right away.")
    return f"Here is your request:\n\n{summary(kind, values, role)}\n\nIs this right? {after}"


def code_sent_prompt(email: str) -> str:
    return (f"I've e-mailed a 6-digit code to {mask_email(email)}. Please type it here. It is "
            "valid for 15 minutes. (Say \u201cresend\u201d for a new one, or tell me if you can't "
            "receive e-mail at that address.)")


def wait_phrase(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    if minutes < 90:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"{hours} hours"


def too_many_codes(wait: timedelta) -> str:
    return ("I've already sent several codes for this request lately, so I won't send another "
            f"one for about {wait_phrase(wait)}. Please use the latest code in your inbox, or "
            "tell me if you can't receive e-mail at that address.")


def too_many_requests(wait: timedelta) -> str:
    return ("This conversation has already made several requests today, so I can't take "
            f"another one here for about {wait_phrase(wait)}. Nothing new was stored. If you "
            "need more, please ask for a person and our staff will help.")


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
    due = due_at.strftime("%d %B %Y")
    if duplicate:
        return (f"You already have an open {kind} request for this address: {reference}, due by "
                f"{due}. I haven't made a second one. Ask me \u201cwhat is the status of "
                f"{reference}?\u201d at any time.")
    at_once = BY_KIND[kind].at_once
    if at_once:
        return at_once.reply.format(reference=reference) + _notice(policy, at_once)
    text = (f"Thank you. Your {kind} request is stored with reference {reference}. It is due by "
            f"{due} ({working_days} working days). We've also e-mailed you the reference.")
    if status == UNVERIFIED:
        text += ("\n\nBecause the code could not be confirmed, the request is marked as not yet "
                 "verified: our staff will check your identity another way before acting on it. "
                 f"If you need a person, you can also write to {contact_line(policy)}.")
    return text


def _notice(policy: Policy, at_once: TakesEffectAtOnce) -> str:
    """The policy sentence a request that takes effect at once is followed by, if any: what
    it cannot do (service announcements cannot be unsubscribed from)."""
    if not at_once.notice_section:
        return ""
    section = policy.section(at_once.notice_section)
    notice = next(s.text for s in section.sentences if at_once.notice_words in s.text)
    return f"\n\nPlease note, from \u201c{section.heading}\u201d: {quote(notice)}"


def intro(policy: Policy, kind: str) -> str:
    """How a flow opens: the policy's own words on the right, then what will happen."""
    request = BY_KIND[kind]
    then = ("Then I'll show you a summary to confirm, e-mail a 6-digit code to that address to "
            "check it's yours, and give you a reference and a due date."
            if request.verify else
            "Then I'll show you a summary to confirm; it takes effect right away.")
    return (f"{right_quote(policy, request)}\n\nI can take this request here. I'll need "
            f"{request.steps}. {then} Say \u201cstop\u201d at any point and nothing will be "
            "stored.")


def account_email_question(kind: Optional[str]) -> str:
    """How the address is asked for: each kind may word it its own way."""
    request = BY_KIND.get(kind or "")
    return request.email_question if request else ACCOUNT_EMAIL_QUESTION


# Questions with fixed wording: (text, buttons as (title, payload) pairs). The payloads are
# plain words, read like anything the visitor types.
QUESTIONS: Dict[str, Tuple[str, Tuple[Tuple[str, str], ...]]] = {
    "deletion_scope": ("Should we delete your whole account with all its data, or only "
                       "specific data?",
                       (("The whole account", "the whole account"),
                        ("Only specific data", "only specific data"))),
    "deletion_items": ("Which data should be deleted? Please describe it in a few words.", ()),
    # Optional; a kind that requires a reason asks its own `reason_question` (see `question`).
    "request_reason": ("Would you like to tell us why? This is optional: say \u201cskip\u201d "
                       "to leave it out.", (("Skip", "skip"),)),
    "correction_item": ("Which item is wrong?",
                        tuple((label[0].upper() + label[1:], key)
                              for key, label in CORRECTION_LABELS.items() if key != "other")
                        + (("Something else", "something else"),)),
    "correction_note": ("Anything our staff should know? This is optional: say "
                        "\u201cskip\u201d to leave it out.", (("Skip", "skip"),)),
    "access_scope": ("Would you like a copy of all your personal data, or only specific data?",
                     (("All my data", "all my data"), ("Only specific data", "only specific data"))),
    "access_items": ("Which data would you like a copy of? Please describe it in a few words.",
                     ()),
    "status_reference": ("What is the reference of your request? It looks like DEL-7K3M9Q.", ()),
    "status_email": ("And which e-mail address did you use for that request?", ()),
}


def question(slot: str, kind: Optional[str]) -> Tuple[str, Tuple[Tuple[str, str], ...]]:
    """The fixed question for a slot in the active flow: a kind that requires a reason asks for
    it in its own words, without a "Skip" button."""
    request = BY_KIND.get(kind or "")
    if slot == "request_reason" and request and request.reason_question:
        return request.reason_question, ()
    return QUESTIONS[slot]
