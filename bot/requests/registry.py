"""The kinds of privacy request a visitor can make in the chat, each defined once.

Everything that differs from one kind of request to another is a field of its `RequestKind`
below: its reference prefix, the questions its form asks, the policy section that grants the
right, what the chat and the e-mails call it. The request store, the references, the flows, the
e-mails, the fault handling, the rasa_sdk actions and Rasa's rules (`data/rules/requests.yml`,
rendered from here by `python -m bot.requests.rules`) all read this table, so a new kind is one
new record here plus its form, slots and NLU examples (README: "Adding a kind of request").

This module imports nothing from the project, so everything from bot.storage up may import
it. The policy layer, below the requests, is handed these records instead (bot.policy.rights
takes any object with a `right_section` and `right_cues`); bot.core.masking still reads the
prefixes through bot.requests.references, a known exception listed in tests/test_layers.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple

ACCOUNT_EMAIL_QUESTION = "What is the e-mail address of your VideoPro account?"


@dataclass(frozen=True)
class TakesEffectAtOnce:
    """A kind carried out as it is stored, without an e-mailed code: unsubscribing needs no more
    proof than the policy's own "unsubscribe" link, and waiting 15 working days for it would
    help no one."""

    note: str  # the audit trail's note on the automatic moves to in_progress and completed
    email: str  # the confirmation e-mail's body; `{reference}` is filled in
    reply: str  # what the chat says once it is stored; `{reference}` is filled in
    notice_section: str = ""  # a policy sentence quoted after the reply: its section id ...
    notice_words: str = ""  # ... and words only that sentence contains


@dataclass(frozen=True)
class RequestKind:
    """One kind of request: every fact about it that is not shared by all kinds."""

    kind: str  # the name stored in `privacy_requests.kind` and used in the chat ("deletion")
    prefix: str  # of its references: `DEL-7K3M9Q`
    slots: Tuple[str, ...]  # what its form asks, in order, conditional questions included
    title: str  # e-mails: "your request for <title>"
    summary_title: str  # the chat's summary: "Request: <summary_title>"
    steps: str  # how the flow opens: "I'll need <steps>."
    right_section: str  # the policy section that grants the right (bot.policy.rights) ...
    right_cues: Tuple[str, ...]  # ... and the words of each sentence of it to quote
    completed: str  # the e-mail on completion: "<completed> <what was done>."
    what_all: str = ""  # what was done when `details["scope"]` is "all" ...
    what_some: str = ""  # ... and otherwise, `{detail}` filled from the request's details;
    # with neither, the title says what was done
    what_defaults: Tuple[Tuple[str, str], ...] = ()  # (detail, shown when it is missing)
    email_question: str = ACCOUNT_EMAIL_QUESTION  # how its form asks for the address
    reason_question: str = ""  # set: `request_reason` is required and asked this way ...
    reason_needed: str = ""  # ... and this is said when the visitor skips it
    at_once: Optional[TakesEffectAtOnce] = None  # no code: carried out as it is stored
    erases_conversations: bool = False  # completing it erases the requester's conversations

    def __post_init__(self) -> None:
        """Mistakes that would only show in a conversation are caught when the table loads."""
        if not re.fullmatch(r"[a-z][a-z_]{0,15}", self.kind):  # privacy_requests.kind: 16
            raise ValueError(f"{self.kind!r}: a kind is a short lower-case name")
        if not re.fullmatch(r"[A-Z]{3}", self.prefix):
            raise ValueError(f"{self.kind}: a reference prefix is three capital letters")
        if bool(self.reason_question) != bool(self.reason_needed):
            raise ValueError(f"{self.kind}: a required reason needs its question and why")
        if self.reason_question and "request_reason" not in self.slots:
            raise ValueError(f"{self.kind}: a required reason must be one of the slots")
        # The address comes first because its question opens the flow with the policy's words;
        # the yes and the code come last because nothing is stored before them.
        closing = ("confirm_request", "verification_code") if self.verify else ("confirm_request",)
        if self.slots[:1] != ("account_email",) or self.slots[-len(closing):] != closing:
            raise ValueError(f"{self.kind}: a form asks account_email first and ends with "
                             f"{', '.join(closing)}")

    # Names that follow from the kind, one convention for domain.yml, the rules and the actions.

    @property
    def form(self) -> str:
        return f"{self.kind}_form"

    @property
    def intent(self) -> str:
        return f"request_{self.kind}"

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

    def done_what(self, details: Mapping[str, object]) -> str:
        """What the completion e-mail says was done, from the request's stored details."""
        if self.what_all and details.get("scope") == "all":
            return self.what_all
        if self.what_some:
            return self.what_some.format_map(_Details(details, dict(self.what_defaults)))
        return self.title


class _Details(Dict[str, object]):
    """A request's details for a wording template: a missing one reads as its default or ''."""

    def __init__(self, details: Mapping[str, object], defaults: Mapping[str, str]) -> None:
        super().__init__(details)
        self._defaults = defaults

    def __missing__(self, key: str) -> str:
        return self._defaults.get(key, "")


_ACCESS_CORRECT_DELETE = ("access correct delete manage authorization",)

KINDS: Tuple[RequestKind, ...] = (
    RequestKind(
        kind="deletion", prefix="DEL",
        slots=("account_email", "deletion_scope", "deletion_items", "request_reason",
               "confirm_request", "verification_code"),
        title="deletion of personal data",
        summary_title="Delete personal data",
        steps="your account e-mail, what to delete (the whole account or specific data) and, "
              "if you like, a reason",
        right_section="collection", right_cues=_ACCESS_CORRECT_DELETE,
        completed="We have deleted",
        what_all="your whole account and all its personal data",
        what_some="the following data: {items}",
        erases_conversations=True,
    ),
    RequestKind(
        kind="correction", prefix="COR",
        slots=("account_email", "correction_item", "correction_value", "correction_note",
               "confirm_request", "verification_code"),
        title="correction of personal data",
        summary_title="Correct personal data",
        steps="your account e-mail, which item is wrong and its correct value",
        right_section="collection", right_cues=_ACCESS_CORRECT_DELETE,
        completed="We have corrected",
        what_some="your {item}, now recorded as {new_value}",
        what_defaults=(("item", "details"),),
    ),
    RequestKind(
        kind="suspension", prefix="SUS",
        slots=("account_email", "request_reason", "confirm_request", "verification_code"),
        title="suspension of the account",
        summary_title="Suspend the account",
        steps="your account e-mail and the reason (the policy ties suspension to not wanting "
              "your information used)",
        right_section="use", right_cues=("request account suspended",),
        completed="We have suspended your account;",
        reason_question="Why would you like the account suspended? The policy offers "
                        "suspension if you don't want us to continue using your personal "
                        "information, so a short reason helps our staff.",
        reason_needed="The policy ties suspension to your not wanting us to continue using "
                      "your information, so I need a short reason, for example \u201cI don't "
                      "want my data used for surveys\u201d.",
    ),
    RequestKind(
        kind="access", prefix="ACC",
        slots=("account_email", "access_scope", "access_items", "confirm_request",
               "verification_code"),
        title="a copy of personal data",
        summary_title="Send a copy of personal data",
        steps="your account e-mail and what you'd like a copy of",
        right_section="collection", right_cues=_ACCESS_CORRECT_DELETE,
        completed="We have prepared",
        what_all="a copy of all your personal data",
        what_some="a copy of: {items}",
    ),
    RequestKind(
        kind="unsubscribe", prefix="UNS",
        slots=("account_email", "confirm_request"),
        title="unsubscribing from promotional e-mail",
        summary_title="Unsubscribe from promotional e-mail",
        steps="the e-mail address to unsubscribe",
        right_section="communications",
        right_cues=("unsubscribe prompts", "cancel service announcements"),
        completed="We have completed",
        email_question="Which e-mail address should be unsubscribed?",
        at_once=TakesEffectAtOnce(
            note="unsubscribed from promotional e-mail",
            email="We have unsubscribed this address from promotional e-mail (reference "
                  "{reference}). Service announcements such as payment and security notices "
                  "are not promotional and will still be sent.",
            reply="Done: this address is unsubscribed from promotional e-mail (reference "
                  "{reference}).",
            notice_section="communications", notice_words="may not be able to cancel",
        ),
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
