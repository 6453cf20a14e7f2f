"""What the requester is told by e-mail when the legal department moves their request on.

The wording is in the catalogue of texts (`email.*`, and the kind's own `request.<kind>.*`
through the registry); this module needs nothing of the store, which imports it to queue these
e-mails in the same transaction as the move.
"""

from __future__ import annotations

from typing import Optional, Tuple

from bot.core.texts import text
from bot.requests.registry import BY_KIND
from bot.storage.models import PrivacyRequest


def _what(request: PrivacyRequest) -> str:
    return BY_KIND[request.kind].done_what(request.details or {})


def status_email(request: PrivacyRequest, target: str,
                 note: Optional[str]) -> Optional[Tuple[str, str]]:
    """(subject, body) of the e-mail for a status change, or None when none is owed."""
    kind = BY_KIND[request.kind]
    reference = request.reference
    if target == "received":
        body = text("email.status.received", title=kind.wording("title"), reference=reference)
    elif target == "in_progress":
        body = text("email.status.in_progress", reference=reference)
    elif target == "completed":
        body = text("email.status.completed", reference=reference,
                    completed=kind.wording("completed"), what=_what(request))
    elif target == "rejected":
        body = text("email.status.rejected", reference=reference, note=note)
    else:
        return None
    if note and target != "rejected":
        body += "\n\n" + text("email.status.note", note=note)
    return text("email.request_subject", reference=reference), body
