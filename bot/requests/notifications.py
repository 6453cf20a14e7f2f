"""What the requester is told by e-mail when the legal department moves their request on.

The wording is in the catalogue of texts (`email.*`, and the kind's own `request.<kind>.*`
through the registry), in the language the request was made in (`PrivacyRequest.language`); this
module needs nothing of the store, which imports it to queue these e-mails in the same
transaction as the move.
"""

from __future__ import annotations

from typing import Optional, Tuple

from sqlalchemy.orm import object_session

from bot.core.language import or_default
from bot.core.texts import text
from bot.requests import tasks
from bot.requests.registry import BY_KIND
from bot.requests.task_states import SETTLED
from bot.storage.models import PrivacyRequest


def _what(request: PrivacyRequest, language: str) -> str:
    return BY_KIND[request.kind].done_what(request.details or {}, language)


def language_of(request: PrivacyRequest) -> str:
    """The request's language; a row from before it was recorded (or not yet flushed) is
    English."""
    return or_default(getattr(request, "language", None))


def status_email(
    request: PrivacyRequest, target: str, note: Optional[str]
) -> Optional[Tuple[str, str]]:
    """(subject, body) of the e-mail for a status change, in the request's language, or None
    when none is owed. The staff's note is quoted as they wrote it."""
    kind = BY_KIND[request.kind]
    reference = request.reference
    language = language_of(request)
    if target == "received":
        body = text(
            "email.status.received",
            language,
            title=kind.wording("title", language),
            reference=reference,
        )
    elif target == "in_progress":
        body = text("email.status.in_progress", language, reference=reference)
    elif target == "completed":
        body = text(
            "email.status.completed",
            language,
            reference=reference,
            completed=kind.wording("completed", language),
            what=_what(request, language),
        )
    elif target == "rejected":
        body = text("email.status.rejected", language, reference=reference, note=note)
    else:
        return None
    session = object_session(request)
    if target == "completed" and session is not None and request.id is not None:
        # What each system did, of the tasks settled: one closed by hand says so in the note.
        done = [task for task in tasks.tasks_of(session, request.id) if task.state in SETTLED]
        if done:
            body += "\n\n" + tasks.what_each_did(done, language)
    if note and target != "rejected":
        body += "\n\n" + text("email.status.note", language, note=note)
    return text("email.request_subject", language, reference=reference), body
