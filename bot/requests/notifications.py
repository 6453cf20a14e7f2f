"""What the requester is told by e-mail when the legal department moves their request on."""

from __future__ import annotations

from typing import Optional, Tuple

from bot.storage.models import PrivacyRequest
from bot.requests.store import KIND_TITLES


def _what(request: PrivacyRequest) -> str:
    details = request.details or {}
    if request.kind == "deletion":
        return ("your whole account and all its personal data" if details.get("scope") == "all"
                else f"the following data: {details.get('items', '')}")
    if request.kind == "correction":
        return f"your {details.get('item', 'details')}, now recorded as {details.get('new_value', '')}"
    if request.kind == "access":
        return ("a copy of all your personal data" if details.get("scope") == "all"
                else f"a copy of: {details.get('items', '')}")
    return KIND_TITLES[request.kind]


def status_email(request: PrivacyRequest, target: str,
                 note: Optional[str]) -> Optional[Tuple[str, str]]:
    """(subject, body) of the e-mail for a status change, or None when none is owed."""
    subject = f"Your privacy request {request.reference}"
    extra = f"\n\nNote from our legal department: {note}" if note and target != "rejected" else ""
    if target == "received":
        body = (f"We have confirmed your identity and received your request for "
                f"{KIND_TITLES[request.kind]} ({request.reference}).")
    elif target == "in_progress":
        body = f"Our legal department has started work on your request {request.reference}."
    elif target == "completed":
        done = {"deletion": "We have deleted", "correction": "We have corrected",
                "access": "We have prepared", "suspension": "We have suspended your account;",
                "unsubscribe": "We have completed"}[request.kind]
        body = f"Your request {request.reference} is complete. {done} {_what(request)}."
    elif target == "rejected":
        body = (f"We could not carry out your request {request.reference}.\n\nReason: {note}\n\n"
                "If you disagree, you may write to our Legal department and ask for the decision "
                "to be reviewed.")
    else:
        return None
    return subject, body + extra
