"""What the requester is told by e-mail when the legal department moves their request on.

The wording that differs by kind comes from the registry; this module needs nothing of the
store, which imports it to queue these e-mails in the same transaction as the move.
"""

from __future__ import annotations

from typing import Optional, Tuple

from bot.requests.registry import BY_KIND
from bot.storage.models import PrivacyRequest


def _what(request: PrivacyRequest) -> str:
    return BY_KIND[request.kind].done_what(request.details or {})


def status_email(request: PrivacyRequest, target: str,
                 note: Optional[str]) -> Optional[Tuple[str, str]]:
    """(subject, body) of the e-mail for a status change, or None when none is owed."""
    subject = f"Your privacy request {request.reference}"
    extra = f"\n\nNote from our legal department: {note}" if note and target != "rejected" else ""
    if target == "received":
        body = (f"We have confirmed your identity and received your request for "
                f"{BY_KIND[request.kind].title} ({request.reference}).")
    elif target == "in_progress":
        body = f"Our legal department has started work on your request {request.reference}."
    elif target == "completed":
        body = (f"Your request {request.reference} is complete. "
                f"{BY_KIND[request.kind].completed} {_what(request)}.")
    elif target == "rejected":
        body = (f"We could not carry out your request {request.reference}.\n\nReason: {note}\n\n"
                "If you disagree, you may write to our Legal department and ask for the decision "
                "to be reviewed.")
    else:
        return None
    return subject, body + extra
