"""The legal department's review: the queue with its filters, the CSV export, a request's page
and its status changes.

Status changes follow the lifecycle (`bot.requests.lifecycle`) and e-mail the requester through
the outbox; every view, change and export is in the audit log with its actor.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.core.language import LANGUAGES, or_default
from bot.core.masking import mask_email
from bot.requests import lifecycle
from bot.requests.casework import CaseworkError
from bot.requests.code_masking import mask_transcript
from bot.requests.overview import days_left
from bot.requests.store import KINDS, UnknownRequest
from bot.services import Services
from bot.staff.accounts import StaffMember
from bot.storage.models import PrivacyRequest
from bot.web import i18n
from bot.web.security import client_of
from bot.web.staff import case_view
from bot.web.staff.common import csv_download, guarded, page, staff_text

NOBODY = "-"  # the assignee filter's and the bulk form's "assigned to nobody"
BULK_ACTIONS = ("start", "assign", "assign_me", "duplicate", "spam", "reject")
MAX_BULK = 500  # requests one bulk action may name
# What a handler that redirects (back to the request's page, or to the list a bulk action came
# from) leaves that page to say once (the session key).
FLASH = "flash"
CSV_COLUMNS = (
    "reference",
    "type",
    "status",
    "email",
    "created_at",
    "due_at",
    "verified_at",
    "made_by_or_for_minor",
    "requester_role",
    "details",
    "reason",
    "rejection_reason",
    "language",
)
# What a request's page and the queue show of a row, besides its due date.
VIEW_FIELDS = (
    "reference",
    "kind",
    "status",
    "email",
    "verified_at",
    "details",
    "reason",
    "made_by_or_for_minor",
    "requester_role",
    "channel",
    "rejection_reason",
    "created_at",
    "updated_at",
)


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
    """The queue's filters from the query string."""
    return filters_from(request.query_params)


def filters_from(values: Mapping[str, Any]) -> Dict[str, str]:
    """The queue's filters from a query string or a form (the bulk form carries the list's);
    an unknown kind or status is no filter. `mine`: assigned to the member; `assignee`: to that
    username, or to nobody (`NOBODY`); `failed_tasks`: in progress with a task that failed."""

    def value(name: str) -> str:
        found = values.get(name)
        return found if isinstance(found, str) else ""

    return {
        "kind": value("kind") if value("kind") in KINDS else "",
        "status": value("status") if value("status") in lifecycle.STATUSES else "",
        "overdue": "1" if value("overdue") else "",
        "minor": "1" if value("minor") else "",
        "language": value("language") if value("language") in LANGUAGES else "",
        "mine": "1" if value("mine") else "",
        "failed_tasks": "1" if value("failed_tasks") else "",
        "assignee": value("assignee")[:64],
        "q": value("q")[:254],
    }


def filtered(
    services: Services, filters: Dict[str, str], me: Optional[StaffMember] = None
) -> List[PrivacyRequest]:
    """The requests the filters select: the queue and the CSV export show the same list."""
    found = services.store.search(
        kind=filters["kind"] or None,
        status=filters["status"] or None,
        overdue=bool(filters["overdue"]),
        minor=bool(filters["minor"]),
        text=filters["q"] or None,
    )
    if filters["language"]:
        found = [r for r in found if language_of(r) == filters["language"]]
    if filters.get("mine") and me is not None:
        found = [r for r in found if r.assignee == me.username]
    if filters.get("assignee"):
        wanted = None if filters["assignee"] == NOBODY else filters["assignee"]
        found = [r for r in found if r.assignee == wanted]
    if filters.get("failed_tasks"):
        working = [r.reference for r in found if r.status == lifecycle.IN_PROGRESS]
        tasks = services.fulfilment.open_by_request(working)
        found = [r for r in found if tasks.get(r.reference, {}).get("failed")]
    return found


def row_view(r: PrivacyRequest) -> Row:
    """A request as the templates read it (how urgent it is: `queue_row`, `case_view`)."""
    return Row(
        {**{c: getattr(r, c) for c in VIEW_FIELDS}, "language": language_of(r), "due_at": r.due_at}
    )


def queue_row(r: PrivacyRequest, now: datetime, tasks: Optional[Dict[str, int]] = None) -> Row:
    """A request as the queue shows it: its working days left (and whether that is overdue or
    due soon), who has it, its address masked, and its tasks in the product's systems (failed and
    waiting: `Fulfilment.open_by_request`; None before it was started)."""
    return Row(
        {
            **row_view(r),
            "assignee": r.assignee,
            "masked_email": mask_email(r.email),
            "left": days_left(r.status, r.due_at, now),
            "held": r.held_at is not None and r.status in lifecycle.OPEN_STATUSES,
            "tasks": tasks,
            "working": r.status == lifecycle.IN_PROGRESS,
        }
    )


async def queue(services: Services, request: Request, me: StaffMember) -> Response:
    return await show_queue(
        services, request, me, filters_of(request), message=request.session.pop(FLASH, None)
    )


async def show_queue(
    services: Services,
    request: Request,
    me: StaffMember,
    filters: Dict[str, str],
    message: Optional[str] = None,
    error: Optional[str] = None,
    bulk: Optional[Dict[str, Any]] = None,
    status_code: int = 200,
) -> Response:
    """The queue with counts per status, the filters, the export link for the same list, and
    the bulk form (given back as it was sent, with `error`, when it was refused)."""
    rows, counts, assignees = await asyncio.to_thread(_queue, services, filters, me)
    export = "/staff/requests.csv?" + urlencode({k: v for k, v in filters.items() if v})
    response = page(
        request,
        "staff/requests.html",
        me,
        requests=rows,
        counts=counts,
        filters=filters,
        kinds=list(KINDS),
        statuses=list(lifecycle.STATUSES),
        export_url=export,
        request_languages=list(LANGUAGES),
        assignees=assignees,
        nobody=NOBODY,
        can_change=me.can("change_requests"),
        message=message,
        error=error,
        bulk=bulk or {"selected": set(), "reason": "", "assignee": "", "action": ""},
    )
    response.status_code = status_code
    return response


def _queue(
    services: Services, filters: Dict[str, str], me: StaffMember
) -> Tuple[List[Row], Dict[str, int], List[str]]:
    """What the queue shows, read from the database (in a worker thread): the tasks of the
    listed requests in one query, not one per row."""
    now = services.store.clock()
    found = filtered(services, filters, me)
    tasks = services.fulfilment.open_by_request([r.reference for r in found])
    rows = [queue_row(r, now, tasks.get(r.reference)) for r in found]
    return rows, services.store.counts(), case_view.assignable(services)


async def bulk_action(services: Services, request: Request, me: StaffMember) -> Response:
    """Start, assign, or close as duplicate, spam or rejected with one reason, the requests
    ticked on the filtered list (`bot.requests.casework`, `bot.fulfilment`), then back to the
    same list. Nothing ticked, no reason, an unknown assignee: the list again with the form
    as it was sent, and why (400)."""
    form = await request.form()
    filters = filters_from(form)
    selected = list(dict.fromkeys(str(v) for v in form.getlist("reference") if v))[:MAX_BULK]
    action = str(form.get("action") or "")
    reason = str(form.get("reason") or "")
    assignee = str(form.get("assign_to") or "")  # "assignee" is the list's filter
    sent = {"selected": set(selected), "reason": reason, "assignee": assignee, "action": action}

    async def refused(key: str, **values: Any) -> Response:
        return await show_queue(
            services,
            request,
            me,
            filters,
            bulk=sent,
            status_code=400,
            error=staff_text(request, key, **values),
        )

    if not selected:
        return await refused("web.staff.desk.bulk.none_selected")
    if action not in BULK_ACTIONS:
        return await refused("web.staff.desk.bulk.no_action")
    desk = services.casework
    try:
        if action == "start":
            started = await asyncio.to_thread(services.fulfilment.start_many, selected, me.username)
            message = staff_text(
                request, "web.staff.desk.bulk.started", count=started, selected=len(selected)
            )
        elif action in ("assign", "assign_me"):
            target: Optional[str] = me.username if action == "assign_me" else assignee
            if target == NOBODY:
                target = None
            elif target not in await asyncio.to_thread(case_view.assignable, services):
                return await refused("web.staff.desk.bulk.unknown_assignee")
            changed = await asyncio.to_thread(desk.assign, selected, target, me.username)
            message = staff_text(
                request,
                "web.staff.desk.bulk.assigned",
                count=changed,
                selected=len(selected),
                assignee=target or staff_text(request, "web.staff.desk.nobody"),
            )
        else:
            how = lifecycle.REJECTED if action == "reject" else action
            closed = await asyncio.to_thread(desk.close, selected, how, reason, me.username)
            message = staff_text(
                request,
                "web.staff.desk.bulk.closed",
                count=closed,
                selected=len(selected),
                how=staff_text(request, f"web.staff.desk.bulk.as.{action}"),
            )
    except CaseworkError as problem:
        if problem.code == "empty_reason":
            return await refused("web.staff.desk.bulk.reason_required")
        why = staff_text(request, problem.key, **problem.values)
        return await refused("web.staff.desk.bulk.failed", problem=why)
    request.session[FLASH] = message
    target_url = "/staff/requests"
    query = urlencode({k: v for k, v in filters.items() if v})
    return RedirectResponse(f"{target_url}?{query}" if query else target_url, status_code=303)


def csv_row(r: PrivacyRequest) -> List[Any]:
    """One request as a line of the export."""
    return [
        r.reference,
        r.kind,
        r.status,
        r.email,
        iso(r.created_at),
        iso(r.due_at),
        iso(r.verified_at),
        r.made_by_or_for_minor,
        r.requester_role,
        json.dumps(r.details or {}),
        r.reason or "",
        r.rejection_reason or "",
        language_of(r),
    ]


async def export_csv(services: Services, request: Request, me: StaffMember) -> Response:
    """The filtered list as CSV (formula-safe: it carries what requesters typed), audited."""
    filters = filters_of(request)
    rows = await asyncio.to_thread(_export, services, filters, me, client_of(request))
    return csv_download(CSV_COLUMNS, (csv_row(r) for r in rows), "privacy-requests.csv")


def _export(
    services: Services, filters: Dict[str, str], me: StaffMember, client: str
) -> List[PrivacyRequest]:
    """The filtered list, its export audited (in a worker thread)."""
    rows = filtered(services, filters, me)
    detail = f"{len(rows)} requests; filters {urlencode(filters)}"
    services.directory.audit(me.username, "export", None, detail, client)
    return rows


async def show_request(
    services: Services,
    request: Request,
    me: StaffMember,
    message: Optional[str] = None,
    error: Optional[str] = None,
    status_code: int = 200,
    revealed: bool = False,
    form: Optional[Mapping[str, str]] = None,
) -> Response:
    """A request's page (every field, history, access log, chat, and the work on it:
    `case_view`), audited as a view; also the answer to a form, with what happened (a
    refused form is shown again as typed: `form`). Personal data is masked unless `revealed`
    (which is audited too)."""
    shown = await asyncio.to_thread(
        _request_view,
        services,
        request.path_params["reference"],
        me,
        client_of(request),
        i18n.staff_language(request),
        revealed,
        form,
        request.query_params.get("refusal"),
    )
    if shown is None:
        return not_found(request)
    message = message or request.session.pop(FLASH, None)
    response = page(request, "staff/request.html", me, message=message, error=error, **shown)
    response.status_code = status_code
    return response


def _request_view(
    services: Services,
    reference: str,
    me: StaffMember,
    client: str,
    language: str,
    revealed: bool,
    form: Optional[Mapping[str, str]],
    refusal: Optional[str],
) -> Optional[Dict[str, Any]]:
    """What a request's page shows, read from the database (in a worker thread), the view
    (and a reveal of the personal data) audited; None when there is no such request."""
    row = services.store.get(reference)
    if row is None:
        return None
    if revealed:
        services.directory.audit(me.username, "reveal", reference, "personal data", client)
    services.directory.audit(me.username, "view_request", reference, None, client)
    return {
        "r": row_view(row),
        "events": list(row.events),
        "audit": services.directory.audit_for(reference),
        "transcript": mask_transcript(row.transcript or []),
        # The conversation's handoff tickets, by number: staff never see its id.
        "tickets": services.handoffs.ticket_ids_in_conversation(row.conversation_id),
        "next_statuses": sorted(lifecycle.TRANSITIONS[row.status]),
        "can_change": me.can("change_requests"),
        "case": case_view.context(services, row, me, language, revealed, form, refusal),
    }


async def request_page(services: Services, request: Request, me: StaffMember) -> Response:
    return await show_request(services, request, me)


async def change_status(services: Services, request: Request, me: StaffMember) -> Response:
    """Move a request along the lifecycle and e-mail the requester; a move the lifecycle
    refuses (or a rejection without a reason) is told with 400 and changes nothing."""
    form = await request.form()
    reference = request.path_params["reference"]
    target = str(form.get("status") or "")
    note = str(form.get("note") or "").strip() or None
    try:
        # In a thread: completing a deletion also erases conversations, which may wait on
        # Rasa's API; the site keeps serving meanwhile.
        await asyncio.to_thread(
            services.store.transition, reference, target, me.username, note, notify=True
        )
    except UnknownRequest:
        return not_found(request)
    except lifecycle.IllegalTransition as problem:
        return await show_request(
            services,
            request,
            me,
            error=staff_text(
                request, "web.staff.request.not_changed", problem=why_not(request, problem)
            ),
            status_code=400,
        )
    return await show_request(
        services,
        request,
        me,
        message=staff_text(
            request, "web.staff.request.changed", status=status_name(request, target)
        ),
    )


def status_name(request: Request, status: str) -> str:
    return i18n.label("web.staff.status", status, i18n.staff_language(request))


def why_not(request: Request, problem: lifecycle.IllegalTransition) -> str:
    """Why the lifecycle refused a change, in the member's language, the statuses by their
    names there."""
    current, target = problem.values["current"], problem.values["target"]
    return staff_text(
        request,
        problem.key,
        current=status_name(request, current),
        target=status_name(request, target),
    )


def not_found(request: Request) -> Response:
    return Response(
        staff_text(request, "web.staff.request.not_found"),
        status_code=404,
        media_type="text/plain; charset=utf-8",
    )


def routes(services: Services) -> List[Route]:
    """The legal review's routes (the export before the request pages, as ever)."""
    return [
        Route("/staff/requests", guarded(services, "read_requests", queue)),
        Route("/staff/requests.csv", guarded(services, "export_requests", export_csv)),
        Route(
            "/staff/requests/bulk",
            guarded(services, "change_requests", bulk_action),
            methods=["POST"],
        ),
        Route("/staff/requests/{reference}", guarded(services, "read_requests", request_page)),
        Route(
            "/staff/requests/{reference}/status",
            guarded(services, "change_requests", change_status),
            methods=["POST"],
        ),
    ]
