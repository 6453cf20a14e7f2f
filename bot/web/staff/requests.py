"""The legal department's review: the queue with its filters, the CSV export, a request's page
and its status changes.

Status changes follow the lifecycle (`bot.requests.lifecycle`) and e-mail the requester through
the outbox; every view, change and export is in the audit log with its actor.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.core.language import LANGUAGES, or_default
from bot.mail.outbox import utcnow
from bot.requests import lifecycle
from bot.requests.store import KINDS
from bot.staff.accounts import StaffMember
from bot.storage.models import PrivacyRequest
from bot.web import i18n
from bot.web.staff import case_view
from bot.web.staff.common import (
    StaffServices,
    client_of,
    csv_download,
    guarded,
    page,
    staff_text,
)

DUE_SOON = timedelta(days=3)
# What a handler that redirects back to the request's page leaves it to say (the session key).
FLASH = "flash"
CSV_COLUMNS = ("reference", "type", "status", "email", "created_at", "due_at", "verified_at",
               "made_by_or_for_minor", "requester_role", "details", "reason", "rejection_reason",
               "language")
# What a request's page and the queue show of a row, besides its due date.
VIEW_FIELDS = ("reference", "kind", "status", "email", "verified_at", "details", "reason",
               "made_by_or_for_minor", "requester_role", "channel", "conversation_id",
               "rejection_reason", "created_at", "updated_at")


class Row(dict):
    """A dict whose keys read as attributes, for templates."""

    __getattr__ = dict.__getitem__


def language_of(r: object) -> str:
    """The language the request was made in ("en" for rows from before languages were kept,
    and until the request model has the column)."""
    return or_default(getattr(r, "language", None))


def iso(moment: Optional[datetime]) -> str:
    return moment.isoformat() if moment else ""


def filters_of(request: Request) -> Dict[str, str]:
    """The queue's filters from the query string; an unknown kind or status is no filter."""
    q = request.query_params
    return {"kind": q.get("kind", "") if q.get("kind", "") in KINDS else "",
            "status": q.get("status", "") if q.get("status", "") in lifecycle.STATUSES else "",
            "overdue": "1" if q.get("overdue") else "", "minor": "1" if q.get("minor") else "",
            "language": q.get("language", "") if q.get("language", "") in LANGUAGES else "",
            "q": q.get("q", "")[:254]}


def filtered(services: StaffServices, filters: Dict[str, str]) -> List[PrivacyRequest]:
    """The requests the filters select: the queue and the CSV export show the same list."""
    found = services.store.search(kind=filters["kind"] or None,
                                  status=filters["status"] or None,
                                  overdue=bool(filters["overdue"]),
                                  minor=bool(filters["minor"]), text=filters["q"] or None)
    if filters["language"]:
        found = [r for r in found if language_of(r) == filters["language"]]
    return found


def row_view(r: PrivacyRequest) -> Row:
    """A request as the templates read it, with whether it is overdue or due soon."""
    due = r.due_at
    now = utcnow()
    is_open = r.status in lifecycle.OPEN_STATUSES
    return Row({**{c: getattr(r, c) for c in VIEW_FIELDS},
                "language": language_of(r), "due_at": due, "overdue": is_open and due < now,
                "due_soon": is_open and now <= due < now + DUE_SOON})


async def queue(services: StaffServices, request: Request, me: StaffMember) -> Response:
    """The queue with counts per status, the filters and the export link for the same list."""
    filters = filters_of(request)
    rows = [row_view(r) for r in filtered(services, filters)]
    export = "/staff/requests.csv?" + urlencode({k: v for k, v in filters.items() if v})
    return page(request, "staff/requests.html", me, requests=rows,
                counts=services.store.counts(), filters=filters, kinds=list(KINDS),
                statuses=list(lifecycle.STATUSES), export_url=export,
                request_languages=list(LANGUAGES))


def csv_row(r: PrivacyRequest) -> List[Any]:
    """One request as a line of the export."""
    return [r.reference, r.kind, r.status, r.email, iso(r.created_at), iso(r.due_at),
            iso(r.verified_at), r.made_by_or_for_minor, r.requester_role,
            json.dumps(r.details or {}), r.reason or "", r.rejection_reason or "", language_of(r)]


async def export_csv(services: StaffServices, request: Request, me: StaffMember) -> Response:
    """The filtered list as CSV (formula-safe: it carries what requesters typed), audited."""
    filters = filters_of(request)
    rows = filtered(services, filters)
    response = csv_download(CSV_COLUMNS, (csv_row(r) for r in rows), "privacy-requests.csv")
    services.directory.audit(me.username, "export", None,
                             f"{len(rows)} requests; filters {urlencode(filters)}",
                             client_of(request))
    return response


async def show_request(services: StaffServices, request: Request, me: StaffMember,
                       message: Optional[str] = None, error: Optional[str] = None,
                       status_code: int = 200, revealed: bool = False,
                       form: Optional[Mapping[str, str]] = None) -> Response:
    """A request's page (every field, history, access log, chat, and the work on it:
    `case_view`), audited as a view; also the answer to a form, with what happened (a
    refused form is shown again as typed: `form`). Personal data is masked unless `revealed`
    (the reveal is audited by its handler)."""
    reference = request.path_params["reference"]
    row = services.store.get(reference)
    if row is None:
        return not_found(request)
    services.directory.audit(me.username, "view_request", reference, None, client_of(request))
    message = message or request.session.pop(FLASH, None)
    response = page(
        request, "staff/request.html", me, r=row_view(row), events=list(row.events),
        audit=services.directory.audit_for(reference), transcript=row.transcript or [],
        next_statuses=sorted(lifecycle.TRANSITIONS[row.status]),
        can_change=me.can("change_requests"), message=message, error=error,
        case=case_view.context(services, row, me, i18n.staff_language(request), revealed,
                               form, request.query_params.get("refusal")))
    response.status_code = status_code
    return response


async def request_page(services: StaffServices, request: Request, me: StaffMember) -> Response:
    return await show_request(services, request, me)


async def change_status(services: StaffServices, request: Request, me: StaffMember) -> Response:
    """Move a request along the lifecycle and e-mail the requester; an illegal move (or a
    rejection without a reason) is refused with 400 and changes nothing."""
    form = await request.form()
    reference = request.path_params["reference"]
    target = str(form.get("status") or "")
    note = str(form.get("note") or "").strip() or None
    row = services.store.get(reference)
    if row is None:
        return not_found(request)
    current = row.status
    try:
        # In a thread: completing a deletion also erases conversations, which may wait on
        # Rasa's API; the site keeps serving meanwhile.
        await asyncio.to_thread(services.store.transition, reference, target, me.username,
                                note, notify=True)
    except lifecycle.IllegalTransition:
        return await show_request(services, request, me, error=staff_text(
            request, "web.staff.request.not_changed",
            problem=why_not(request, current, target)), status_code=400)
    return await show_request(services, request, me, message=staff_text(
        request, "web.staff.request.changed", status=status_name(request, target)))


def status_name(request: Request, status: str) -> str:
    return i18n.label("web.staff.status", status, i18n.staff_language(request))


def why_not(request: Request, current: str, target: str) -> str:
    """Why the lifecycle refused a change, in the member's language (the two refusals of
    `lifecycle.check_transition`: a move it does not allow, a rejection without a reason)."""
    if target in lifecycle.TRANSITIONS.get(current, frozenset()):
        return staff_text(request, "web.staff.request.reason_required")
    return staff_text(request, "web.staff.request.cannot_become",
                      current=status_name(request, current), target=status_name(request, target))


def not_found(request: Request) -> Response:
    return Response(staff_text(request, "web.staff.request.not_found"), status_code=404,
                    media_type="text/plain; charset=utf-8")


def routes(services: StaffServices) -> List[Route]:
    """The legal review's routes (the export before the request pages, as ever)."""
    return [
        Route("/staff/requests", guarded(services, "read_requests", queue)),
        Route("/staff/requests.csv", guarded(services, "export_requests", export_csv)),
        Route("/staff/requests/{reference}", guarded(services, "read_requests", request_page)),
        Route("/staff/requests/{reference}/status",
              guarded(services, "change_requests", change_status), methods=["POST"]),
    ]
