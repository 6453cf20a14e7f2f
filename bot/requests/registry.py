"""The kinds of privacy request a visitor can make in the chat, each defined once.

Everything that differs from one kind of request to another is a field of its `RequestKind`
below: its reference prefix, the questions its form asks, the policy section that grants the
right. What the chat and the e-mails call it, and all its other wording, is in the catalogue of
texts under `request.<kind>.` (data/texts/en.yml; `RequestKind.wording` reads it), so that a
translation translates it with the rest. The request store, the references, the flows, the
e-mails, the fault handling, the rasa_sdk actions and Rasa's rules (`data/rules/requests.yml`,
rendered from here by `python -m bot.requests.rules`) all read this table, so a new kind is one
new record here plus its texts, form, slots and NLU examples (docs/architecture.md, "Adding a
kind of request").

This module imports nothing from the project but bot.core, so everything from bot.storage up
may import it. The policy layer, below the requests, is handed these records instead
(bot.policy.rights takes any object with a `right_section` and `right_cues`); bot.core.masking
masks every reference of the shape (bot.core.reference_shape), whatever its prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from bot.core.reference_shape import PREFIX_SHAPE
from bot.core.texts import DEFAULT_LANGUAGE, has_text, placeholders, text

# The wording every kind has in the catalogue (`request.<kind>.<field>`), and the wording a
# kind may have (data/texts/en.yml says what each is). `default_<detail>` texts go with
# `what_defaults`.
TEXT_FIELDS = ("name", "title", "summary_title", "steps", "completed")
OPTIONAL_TEXT_FIELDS = ("what_all", "what_some", "email_question")
REASON_TEXT_FIELDS = ("reason_question", "reason_needed")  # exactly with `reason_required`
AT_ONCE_TEXT_FIELDS = ("done_email", "done_reply")  # exactly with `at_once`


@dataclass(frozen=True)
class TakesEffectAtOnce:
    """A kind carried out as it is stored, without an e-mailed code: unsubscribing needs no more
    proof than the policy's own "unsubscribe" link, and waiting 15 working days for it would
    help no one. Its confirmation e-mail and chat reply are the kind's `done_email` and
    `done_reply` texts (`{reference}` filled in)."""

    # The audit trail's note on the automatic moves to in_progress and completed: a record for
    # staff kept in the request database, not something the requester reads.
    note: str
    notice_section: str = ""  # a policy sentence quoted after the reply: its section id ...
    notice_words: str = ""  # ... and words only that sentence contains


@dataclass(frozen=True)
class RequestKind:
    """One kind of request: every fact about it that is not shared by all kinds."""

    kind: str  # the name stored in `privacy_requests.kind` ("deletion"); texts: request.<kind>
    prefix: str  # of its references: `DEL-7K3M9Q`
    slots: Tuple[str, ...]  # what its form asks, in order, conditional questions included
    right_section: str  # the policy section that grants the right (bot.policy.rights) ...
    right_cues: Tuple[str, ...]  # ... and the words of each sentence of it to quote
    # Details of the request for which its `what_some` text shows its `default_<detail>` text
    # when the request lacks them.
    what_defaults: Tuple[str, ...] = ()
    # `request_reason` is required: asked as its `reason_question` text, and its
    # `reason_needed` text is said when the visitor skips it. Otherwise the reason is optional.
    reason_required: bool = False
    at_once: Optional[TakesEffectAtOnce] = None  # no code: carried out as it is stored
    erases_conversations: bool = False  # completing it erases the requester's conversations
    # A second request of the kind from an address that has one open is the same request made
    # twice: the open one is returned and nothing new is stored. False for a kind whose every
    # request says something new (two complaints are two complaints).
    one_open_per_address: bool = True
    # The NLU intent that starts its form; empty: `request_<kind>` (set when the record loads).
    intent: str = ""

    def __post_init__(self) -> None:
        """Mistakes that would only show in a conversation are caught when the table loads."""
        if not re.fullmatch(r"[a-z][a-z_]{0,15}", self.kind):  # privacy_requests.kind: 16
            raise ValueError(f"{self.kind!r}: a kind is a short lower-case name")
        if not self.intent:  # frozen: the default that follows from the kind is set once, here
            object.__setattr__(self, "intent", f"request_{self.kind}")
        if not re.fullmatch(r"[a-z][a-z_]*", self.intent):
            raise ValueError(f"{self.kind}: an intent is a lower-case name, not {self.intent!r}")
        if not PREFIX_SHAPE.fullmatch(self.prefix):
            raise ValueError(f"{self.kind}: a reference prefix is three capital letters")
        if self.reason_required and "request_reason" not in self.slots:
            raise ValueError(f"{self.kind}: a required reason must be one of the slots")
        # The address comes first because its question opens the flow with the policy's words;
        # the yes and the code come last because nothing is stored before them.
        closing = ("confirm_request", "verification_code") if self.verify else ("confirm_request",)
        if self.slots[:1] != ("account_email",) or self.slots[-len(closing) :] != closing:
            raise ValueError(
                f"{self.kind}: a form asks account_email first and ends with {', '.join(closing)}"
            )

    # Names that follow from the kind, one convention for domain.yml, the rules and the actions.

    @property
    def form(self) -> str:
        return f"{self.kind}_form"

    @property
    def submit_action(self) -> str:
        return f"action_submit_{self.kind}"

    @property
    def validation_action(self) -> str:
        return f"validate_{self.form}"

    @property
    def verify(self) -> bool:
        """Whether an e-mailed code proves the address before the request counts as verified."""
        return self.at_once is None

    # Its wording, from the catalogue of texts.

    def text_key(self, field: str) -> str:
        return f"request.{self.kind}.{field}"

    def wording(self, field: str, language: str = DEFAULT_LANGUAGE, **values: Any) -> str:
        """One of its texts (`TEXT_FIELDS` and the others above), `{placeholders}` filled."""
        return text(self.text_key(field), language, **values)

    def has_wording(self, field: str, language: str = DEFAULT_LANGUAGE) -> bool:
        return has_text(self.text_key(field), language)

    def done_what(self, details: Mapping[str, object], language: str = DEFAULT_LANGUAGE) -> str:
        """What the completion e-mail says was done, from the request's stored details: a
        detail the request lacks reads as its `default_<detail>` text, or as nothing."""
        if self.has_wording("what_all", language) and details.get("scope") == "all":
            return self.wording("what_all", language)
        if self.has_wording("what_some", language):
            values = {
                name: details[name]
                if name in details
                else (
                    self.wording(f"default_{name}", language) if name in self.what_defaults else ""
                )
                for name in placeholders(self.text_key("what_some"), language)
            }
            return self.wording("what_some", language, **values)
        return self.wording("title", language)


_ACCESS_CORRECT_DELETE = ("access correct delete manage authorization",)

KINDS: Tuple[RequestKind, ...] = (
    RequestKind(
        kind="deletion",
        prefix="DEL",
        slots=(
            "account_email",
            "deletion_scope",
            "deletion_items",
            "request_reason",
            "confirm_request",
            "verification_code",
        ),
        right_section="collection",
        right_cues=_ACCESS_CORRECT_DELETE,
        erases_conversations=True,
    ),
    RequestKind(
        kind="correction",
        prefix="COR",
        slots=(
            "account_email",
            "correction_item",
            "correction_value",
            "correction_note",
            "confirm_request",
            "verification_code",
        ),
        right_section="collection",
        right_cues=_ACCESS_CORRECT_DELETE,
        what_defaults=("item",),
    ),
    RequestKind(
        kind="suspension",
        prefix="SUS",
        slots=("account_email", "request_reason", "confirm_request", "verification_code"),
        right_section="use",
        right_cues=("request account suspended",),
        reason_required=True,
    ),
    RequestKind(
        kind="access",
        prefix="ACC",
        slots=(
            "account_email",
            "access_scope",
            "access_items",
            "confirm_request",
            "verification_code",
        ),
        right_section="collection",
        right_cues=_ACCESS_CORRECT_DELETE,
    ),
    RequestKind(
        kind="unsubscribe",
        prefix="UNS",
        slots=("account_email", "confirm_request"),
        right_section="communications",
        right_cues=("unsubscribe prompts", "cancel service announcements"),
        at_once=TakesEffectAtOnce(
            note="unsubscribed from promotional e-mail",
            notice_section="communications",
            notice_words="may not be able to cancel",
        ),
    ),
    # A complaint about how personal data was handled, answered by the Legal department: what
    # happened, an address to answer to and, if it is about a request made here, its reference.
    # The policy's only word on it is "Questions or comments" (comment on the policy, write to
    # the Legal department). A complainant who cannot prove the address is still recorded, as
    # unverified, like every kind that asks for a code (bot.conversation.flows).
    RequestKind(
        kind="complaint",
        prefix="CMP",
        slots=(
            "account_email",
            "complaint_details",
            "complaint_about",
            "confirm_request",
            "verification_code",
        ),
        right_section="contact",
        right_cues=("comment on this privacy policy", "Legal department", "Address"),
        one_open_per_address=False,
        intent="file_complaint",
    ),
)


def _index(key: str) -> Dict[str, RequestKind]:
    """The kinds by one of their names; two kinds sharing a name is a mistake in the table."""
    found: Dict[str, RequestKind] = {}
    for record in KINDS:
        name = getattr(record, key)
        if name in found:
            raise ValueError(f"two kinds of request have the {key} {name!r}")
        found[name] = record
    return found


NAMES: Tuple[str, ...] = tuple(record.kind for record in KINDS)
BY_KIND: Dict[str, RequestKind] = _index("kind")
BY_PREFIX: Dict[str, RequestKind] = _index("prefix")
BY_FORM: Dict[str, RequestKind] = _index("form")
BY_INTENT: Dict[str, RequestKind] = _index("intent")
BY_SUBMIT_ACTION: Dict[str, RequestKind] = _index("submit_action")
