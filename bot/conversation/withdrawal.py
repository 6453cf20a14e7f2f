"""Withdrawing an open request from the chat, and what the status answer adds to itself.

The requester names the request and the address it was made with, sees what withdrawing means
and says yes, then proves the address with a fresh e-mailed code: a reference alone is printed
on e-mails and screenshots, so it must not be enough to stop someone's request. Nothing here
touches the database or rasa_sdk: actions/withdraw.py moves values between the tracker and
these functions, bot.requests.casework does the withdrawing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Dict, Iterable, List, Optional

from bot.core import texts
from bot.core.texts import DEFAULT_LANGUAGE
from bot.requests import lifecycle
from bot.requests.casework import Message
from bot.requests.registry import BY_KIND

FORM = "withdraw_form"
CODE_SLOT = "withdraw_code"  # answered with the e-mailed code
SLOTS = ("withdraw_reference", "withdraw_email", "withdraw_confirm", CODE_SLOT)
# Everything the form leaves in the conversation; cleared when it ends either way.
ALL_SLOTS = SLOTS + ("request_abandoned", "invalid_attempts")


@dataclass(frozen=True)
class Found:
    """The request as the visitor may see it once reference and address match."""

    reference: str
    kind: str
    status: str
    due_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status in lifecycle.OPEN_STATUSES


def required_slots(values: Dict[str, object]) -> List[str]:
    """What is still to ask: nothing once the flow ended early, no code after a "no"."""
    if values.get("request_abandoned"):
        return []
    wanted = list(SLOTS)
    if values.get("withdraw_confirm") is not True:
        wanted.remove("withdraw_code")
    return wanted


def _status_name(status: str, language: str) -> str:
    return texts.text(f"flow.status_name.{status}", language)


def closed_reply(found: Found, language: str = DEFAULT_LANGUAGE) -> str:
    return texts.text(
        "flow.withdraw.closed",
        language,
        reference=found.reference,
        status=_status_name(found.status, language),
    )


def confirm_prompt(found: Found, language: str = DEFAULT_LANGUAGE) -> str:
    return texts.text(
        "flow.withdraw.confirm",
        language,
        reference=found.reference,
        kind=BY_KIND[found.kind].wording("name", language),
        status=_status_name(found.status, language),
        due=texts.text("format.date", language, date=found.due_at),
    )


def confirm_buttons(language: str = DEFAULT_LANGUAGE) -> List[Dict[str, str]]:
    return [
        texts.button("flow.withdraw.yes_button", language),
        texts.button("flow.withdraw.no_button", language),
    ]


def outcome(
    reference: str,
    confirmed: Optional[bool],
    verified: bool,
    withdrawn: bool,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """The last word of the flow, once it has run to its end."""
    if confirmed is not True:
        return texts.text("flow.withdraw.kept", language, reference=reference)
    if not verified:
        return texts.text("flow.withdraw.locked", language)
    if withdrawn:
        return texts.text("flow.withdraw.done", language, reference=reference)
    return texts.text("flow.withdraw.not_open", language, reference=reference)


def messages_block(messages: Iterable[Message], language: str = DEFAULT_LANGUAGE) -> Optional[str]:
    """What the legal department wrote to the requester, for the status answer; None if
    nothing."""
    lines = [
        texts.text(
            "flow.status.message",
            language,
            date=texts.text("format.date", language, date=m.at),
            body=m.body.strip(),
        )
        for m in messages
        if m.body.strip()
    ]
    if not lines:
        return None
    return "\n".join([texts.text("flow.status.messages_heading", language), *lines])
