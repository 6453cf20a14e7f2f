"""The request flows: what each form asks, how answers are read, and what is said back.

Kept apart from rasa_sdk so the whole conversation logic can be tested with plain pytest; the
form validation actions in `actions/forms.py` only move values between the tracker and here.
What differs by kind of request (its slots, titles, wording) is read from bot.requests.registry;
what is here is keyed by slot, so a new kind made of the slots below needs nothing here. Every
word said comes from the catalogue of texts (data/texts/, keys `flow.*`, `validation.*` and the
kinds' `request.<kind>.*`), in the conversation's language (`language`, a registered one).

Answers are read the same whatever the conversation's language, with the words of each language's
lexicon (data/lexicon/<language>/forms.yml, bot.conversation.reading): an answer written in a
language's own script is read in that language ("是的" confirms in an English conversation),
anything else in the default language's words ("yes" confirms in a Chinese one), so a visitor
may switch mid-flow or answer a button in another language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from bot.conversation.reading import Reader, reader, readers, straight
from bot.core import texts
from bot.core.language import DEFAULT, normalise, script_language
from bot.core.masking import mask_email
from bot.core.settings import load_settings
from bot.core.texts import DEFAULT_LANGUAGE
from bot.policy.answers import cited_heading, contact_line, quoted, translation_for
from bot.policy.document import Policy
from bot.policy.rights import right_quote
from bot.policy.translation import translate
from bot.requests import validators
from bot.requests.registry import BY_KIND, KINDS, RequestKind, TakesEffectAtOnce
from bot.requests.tasks import state_label, system_label

Values = Dict[str, Optional[str]]  # a flow's slots as the tracker holds them

NONE = "none"  # what an optional answer holds when the visitor skips it
VERIFIED = "verified"
UNVERIFIED = "unverified"

# Slots that carry personal data and are cleared from the conversation once a request is stored.
PII_SLOTS = (
    "account_email",
    "correction_value",
    "verification_code",
    "deletion_items",
    "access_items",
    "request_reason",
    "correction_note",
    "complaint_details",
    "status_email",
    "withdraw_email",
    "withdraw_code",
)


# Slots asked only when their scope question was answered "only specific data".
SCOPE_OF_ITEMS = {"deletion_items": "deletion_scope", "access_items": "access_scope"}
# Optional answers: "skip" leaves them out of the summary and of the stored `details`.
OPTIONAL_SLOTS = ("correction_note", "complaint_about")


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
            if slot == "verification_code" and (
                not self.verify or values.get("confirm_request") is not True
            ):
                continue
            wanted.append(slot)
        return wanted


FLOWS: Dict[str, Flow] = {record.kind: Flow(record) for record in KINDS}
FLOW_BY_FORM = {flow.form: flow for flow in FLOWS.values()}

# The items a correction may be about, in the order the question's buttons offer them; the words
# that name each are every language's `forms.correction_items.<item>` (data/lexicon/).
CORRECTION_ITEMS = ("name", "email", "phone", "wechat", "alipay", "other")
# Which item an answer naming two is about: the more particular ("wechat id" is not a name).
_ITEM_PRECEDENCE = ("wechat", "alipay", "email", "phone", "name", "other")


def correction_label(item: str, language: str = DEFAULT_LANGUAGE) -> str:
    """What the chat calls a correctable item (`CORRECTION_ITEMS`): "phone number"."""
    return texts.text(f"flow.correction_item.{item}", language)


def _reader(text: str) -> Reader:
    """Who reads an answer: the language whose own script it is written in, else the default
    language (read by its words)."""
    return reader(script_language(text) or DEFAULT)


def is_skip(text: str) -> bool:
    return _reader(text).is_one_of(text, "forms.skip")


def is_stop(text: str) -> bool:
    """The whole answer is "stop" ("cancel", "停止", "取消", "退出", "算了"): the visitor gives the
    request up, whatever NLU made of it."""
    return _reader(text).is_one_of(text, "forms.stop")


def read_yes_no(text: str, intent: Optional[str]) -> Optional[bool]:
    if intent == "affirm":
        return True
    if intent in ("deny", "stop"):
        return False
    read = _reader(text)
    if read.is_one_of(text, "forms.yes"):
        return True
    if read.is_one_of(text, "forms.no") or read.search(text, "forms.negation"):
        return False
    if read.starts_with(text, "forms.yes_starts") or read.contains(text, "forms.yes_cues"):
        return True
    return None


def read_scope(text: str) -> Optional[str]:
    """`all` (the whole account / all data) or `specific`, or None when unclear: read in every
    language, so "仅 email" and "only 邮箱" are both understood."""
    specific = any(read.contains(text, "forms.specific") for read in readers())
    whole = any(read.contains(text, "forms.whole") for read in readers())
    if specific and not whole:
        return "specific"
    if whole and not specific:
        return "all"
    return None


def read_correction_item(text: str) -> Optional[str]:
    """The item named, in the language of the answer's script first, then in the default
    language's words ("微信 id", "my 微信")."""
    first = script_language(text)
    for read in ([reader(first)] if first else []) + [reader(DEFAULT)]:
        for item in _ITEM_PRECEDENCE:
            if read.contains(text, f"forms.correction_items.{item}"):
                return item
    return None


def wants_resend(text: str) -> bool:
    return any(read.mentions(text, "forms.resend") for read in readers())


def cannot_verify(text: str) -> bool:
    return any(read.mentions(text, "forms.cannot_verify") for read in readers())


def requester_role(texts: Iterable[str]) -> Optional[str]:
    """`guardian` when someone acts for their child, `minor` when the requester is under 18:
    every language's patterns, in the normalised, lower-cased text of each message."""
    role = None
    for text in texts:
        seen = straight(normalise(text or ""))
        if any(read.lexicon.pattern("forms.minor_guardian").search(seen) for read in readers()):
            return "guardian"
        if any(read.lexicon.pattern("forms.minor_self").search(seen) for read in readers()):
            role = "minor"
    return role


def guardian_notice(policy: Policy, role: str, language: str = DEFAULT_LANGUAGE) -> str:
    """What the policy says to minors and guardians, quoted from "Protection of minors" (in
    another language with the reference translation of each sentence)."""
    section = policy.section("minors")
    wanted = (
        ("under the age of 14", "reached the age of 14")
        if role == "minor"
        else ("guardian of a minor", "minors under your custody")
    )
    sentences = [s for s in section.sentences if any(w in s.text for w in wanted)]
    return texts.text(
        f"flow.minor_notice.{'minor' if role == 'minor' else 'guardian'}",
        language,
        heading=cited_heading(policy, section, language),
        quoted=quoted(policy, section, sentences, language),
    )


# -- validation: each returns the stored value or raises validators.Invalid -------------------

# Each validator: (the answer, the conversation's language) -> the value stored, or
# validators.Invalid with what to say, in that language.


def validate_scope(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    scope = read_scope(text)
    if scope is None:
        raise validators.Invalid(texts.text("validation.scope", language))
    return scope


def validate_correction_item(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    item = read_correction_item(text)
    if item is None:
        raise validators.Invalid(texts.text("validation.correction_item", language))
    return item


def validate_optional(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    return NONE if is_skip(text) else validators.free_text(text, language)


def validate_complaint_details(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    """What happened, in the complainant's words: anything they write is the complaint (a
    complaint speaks of what the policy covers, so it is never taken for a question), up to
    the length of one chat message."""
    return validators.free_text(text, language, limit=load_settings().max_message_chars)


def validate_complaint_about(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The reference of the request a complaint is about (`DEL-7K3M9Q`, alone or in a
    sentence), or NONE when skipped."""
    if is_skip(text):
        return NONE
    try:
        return validators.mentioned_reference(text, language)
    except validators.Invalid:
        raise validators.Invalid(texts.text("validation.complaint_about", language)) from None


def validate_reason(text: str, why: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A reason the kind cannot do without; `why` (its `reason_needed` text) is said when
    skipped."""
    if is_skip(text):
        raise validators.Invalid(why)
    return validators.free_text(text, language)


def read_reason(kind: str, text: str, language: str = DEFAULT_LANGUAGE) -> str:
    """`request_reason` as the kind takes it: required when the registry says so (and why),
    else optional."""
    request = BY_KIND[kind]
    if request.reason_required:
        return validate_reason(text, request.wording("reason_needed", language), language)
    return validate_optional(text, language)


SLOT_VALIDATORS: Dict[str, Callable[[str, str], str]] = {
    "account_email": validators.email,
    "deletion_scope": validate_scope,
    "access_scope": validate_scope,
    "deletion_items": validators.free_text,
    "access_items": validators.free_text,
    "correction_item": validate_correction_item,
    "correction_note": validate_optional,
    "complaint_details": validate_complaint_details,
    "complaint_about": validate_complaint_about,
}


def slot_purpose(slot: str, language: str = DEFAULT_LANGUAGE) -> str:
    """What a slot is for (`flow.slot_purpose.<slot>`), said when a visitor has answered twice
    with something unusable."""
    return texts.text(f"flow.slot_purpose.{slot}", language)


def explain(slot: str, language: str = DEFAULT_LANGUAGE) -> str:
    return texts.text("flow.explain_again", language, purpose=slot_purpose(slot, language))


# The scope questions: the summary says "all" in words (`flow.summary.whole.<scope slot>`) and
# shows the specific items as typed.
ITEMS_OF_SCOPE = {scope: items for items, scope in SCOPE_OF_ITEMS.items()}
# The slots whose summary line shows the answer as given (`flow.summary.answer.<slot>`).
SUMMARY_LINES = (
    "account_email",
    "request_reason",
    "correction_value",
    "correction_note",
    "complaint_details",
    "complaint_about",
)


def _summary_line(
    request: RequestKind, slot: str, values: Values, language: str = DEFAULT_LANGUAGE
) -> Optional[str]:
    """One slot's line of the summary, or None: the items are shown with their scope, skipped
    optional answers, the yes and the code not at all."""
    value = values.get(slot)
    skipped = value in (None, NONE)
    if slot in ITEMS_OF_SCOPE:
        what = (
            texts.text(f"flow.summary.whole.{slot}", language)
            if value == "all"
            else values.get(ITEMS_OF_SCOPE[slot])
        )
        return texts.text("flow.summary.what", language, what=what)
    if slot == "request_reason" and skipped and not request.reason_required:
        return None
    if slot in OPTIONAL_SLOTS and skipped:
        return None
    if slot == "correction_item":
        label = correction_label(value, language) if value in CORRECTION_ITEMS else ""
        return texts.text("flow.summary.correction_item", language, label=label)
    if slot in SUMMARY_LINES:
        return texts.text(f"flow.summary.answer.{slot}", language, value=value)
    return None


def summary(
    kind: str, values: Values, role: Optional[str], language: str = DEFAULT_LANGUAGE
) -> str:
    """The summary shown before the explicit confirmation: a line per answer, in the order
    the form asked them."""
    request = BY_KIND[kind]
    lines = [
        texts.text(
            "flow.summary.request", language, title=request.wording("summary_title", language)
        )
    ]
    lines += [
        line
        for line in (_summary_line(request, slot, values, language) for slot in request.slots)
        if line is not None
    ]
    if role:
        lines.append(
            texts.text(
                f"flow.summary.made_by.{'minor' if role == 'minor' else 'guardian'}", language
            )
        )
    return "\n".join(lines)


def confirmation_prompt(
    kind: str, values: Values, role: Optional[str], language: str = DEFAULT_LANGUAGE
) -> str:
    after = texts.text(
        "flow.confirm.after_verify" if FLOWS[kind].verify else "flow.confirm.after_at_once",
        language,
    )
    return texts.text(
        "flow.confirm.text", language, summary=summary(kind, values, role, language), after=after
    )


def confirmation_buttons(language: str = DEFAULT_LANGUAGE) -> List[Dict[str, str]]:
    """ "Yes, submit it" and "No, stop" under the summary."""
    return texts.buttons("flow.confirm.buttons", language)


def code_sent_prompt(email: str, language: str = DEFAULT_LANGUAGE) -> str:
    return texts.text("flow.code.sent", language, email=mask_email(email))


def wrong_code(attempts_left: int, language: str = DEFAULT_LANGUAGE) -> str:
    """A wrong code, and how many tries are left."""
    return texts.text(
        "flow.code.wrong.one" if attempts_left == 1 else "flow.code.wrong.other",
        language,
        attempts=attempts_left,
    )


def wait_phrase(wait: timedelta, language: str = DEFAULT_LANGUAGE) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    if minutes < 90:
        return texts.text(
            "flow.wait.minute" if minutes == 1 else "flow.wait.minutes", language, minutes=minutes
        )
    return texts.text("flow.wait.hours", language, hours=math.ceil(minutes / 60))


def too_many_codes(wait: timedelta, language: str = DEFAULT_LANGUAGE) -> str:
    return texts.text("flow.too_many_codes", language, wait=wait_phrase(wait, language))


def too_many_requests(wait: timedelta, language: str = DEFAULT_LANGUAGE) -> str:
    return texts.text("flow.too_many_requests", language, wait=wait_phrase(wait, language))


def due_date(due_at: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """A due date as the chat and the e-mails write it (`format.date`)."""
    return texts.text("format.date", language, date=due_at)


def status_reply(
    reference: str,
    kind: str,
    status: str,
    due_at: datetime,
    language: str = DEFAULT_LANGUAGE,
    parts: Sequence[Tuple[str, str]] = (),
) -> str:
    """The answer to "what is the status of DEL-7K3M9Q?" once reference and e-mail match; while
    it is in progress, where each of our systems stands (`parts`: (system, task state))."""
    said = texts.text(
        "flow.status.answer",
        language,
        reference=reference,
        kind=BY_KIND[kind].wording("name", language),
        status=texts.text(f"flow.status_name.{status}", language),
        due=due_date(due_at, language),
    )
    if status != "in_progress" or not parts:
        return said
    lines = [
        texts.text(
            "flow.status.part",
            language,
            system=system_label(system, language),
            state=state_label(state, language),
        )
        for system, state in parts
    ]
    return "\n".join([said, texts.text("flow.status.parts", language), *lines])


# Where the request row's `details` keeps an answer (the scope questions: see `_detail`).
DETAIL_KEYS = {
    "correction_item": "item",
    "correction_value": "new_value",
    "correction_note": "note",
    "complaint_details": "what_happened",
    "complaint_about": "about_request",
}


def _detail(slot: str, values: Values) -> Dict[str, str]:
    """What one answer adds to `details`: a scope with its items, or the answer under its key."""
    value = values.get(slot)
    if slot in ITEMS_OF_SCOPE:
        return (
            {"scope": "specific", "items": values.get(ITEMS_OF_SCOPE[slot]) or ""}
            if value == "specific"
            else {"scope": "all"}
        )
    if slot not in DETAIL_KEYS or (slot in OPTIONAL_SLOTS and value in (None, NONE)):
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


def submitted_message(
    policy: Policy,
    kind: str,
    reference: str,
    due_at: datetime,
    status: str,
    duplicate: bool,
    working_days: int,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    request = BY_KIND[kind]
    due = due_date(due_at, language)
    name = request.wording("name", language)
    if duplicate:
        return texts.text(
            "flow.submitted.duplicate", language, kind=name, reference=reference, due=due
        )
    if request.at_once:
        return request.wording("done_reply", language, reference=reference) + _notice(
            policy, request.at_once, language
        )
    said = texts.text(
        "flow.submitted.stored",
        language,
        kind=name,
        reference=reference,
        due=due,
        working_days=working_days,
    )
    if status == UNVERIFIED:
        said += "\n\n" + texts.text(
            "flow.submitted.unverified", language, contact=contact_line(policy, language)
        )
    return said


def _notice(policy: Policy, at_once: TakesEffectAtOnce, language: str = DEFAULT_LANGUAGE) -> str:
    """The policy sentence a request that takes effect at once is followed by, if any: what
    it cannot do (service announcements cannot be unsubscribed from). Quoted in English; in
    another language its reference translation follows, labelled as one."""
    if not at_once.notice_section:
        return ""
    section = policy.section(at_once.notice_section)
    sentence = next(s for s in section.sentences if at_once.notice_words in s.text)
    said = "\n\n" + texts.text(
        "flow.submitted.notice",
        language,
        heading=cited_heading(policy, section, language),
        sentence=sentence.text,
    )
    translation = translation_for(policy, language)
    found = translate(policy, translation, section, sentence) if translation else None
    if translation and found:
        said += "\n" + texts.text(
            "flow.submitted.notice_translation",
            language,
            label=translation.label,
            translation=found,
        )
    return said


def intro(policy: Policy, kind: str, language: str = DEFAULT_LANGUAGE) -> str:
    """How a flow opens: the policy's own words on the right, then what will happen."""
    request = BY_KIND[kind]
    then = texts.text(
        "flow.intro.then_verify" if request.verify else "flow.intro.then_at_once", language
    )
    return texts.text(
        "flow.intro.text",
        language,
        right=right_quote(policy, request, language),
        steps=request.wording("steps", language),
        then=then,
    )


def account_email_question(kind: Optional[str], language: str = DEFAULT_LANGUAGE) -> str:
    """How the address is asked for: each kind may word it its own way (its `email_question`
    text)."""
    request = BY_KIND.get(kind or "")
    if request and request.has_wording("email_question", language):
        return request.wording("email_question", language)
    return texts.text("flow.account_email_question", language)


# The slots asked with fixed wording (`flow.question.<slot>`: its text and its buttons, whose
# payloads are plain words, read like anything the visitor types).
QUESTION_SLOTS = (
    "deletion_scope",
    "deletion_items",
    "request_reason",
    "correction_item",
    "correction_note",
    "access_scope",
    "access_items",
    "complaint_details",
    "complaint_about",
    "status_reference",
    "status_email",
    "withdraw_reference",
    "withdraw_email",
)


def question(
    slot: str, kind: Optional[str], language: str = DEFAULT_LANGUAGE
) -> Tuple[str, Tuple[Tuple[str, str], ...]]:
    """The fixed question for a slot in the active flow, as (text, buttons as (title, payload)
    pairs): a kind that requires a reason asks for it in its own words, without a "Skip"
    button."""
    if slot not in QUESTION_SLOTS:
        raise KeyError(slot)
    request = BY_KIND.get(kind or "")
    if slot == "request_reason" and request and request.reason_required:
        return request.wording("reason_question", language), ()
    buttons = texts.buttons(f"flow.question.{slot}.buttons", language)
    return (
        texts.text(f"flow.question.{slot}.text", language),
        tuple((b["title"], b["payload"]) for b in buttons),
    )
