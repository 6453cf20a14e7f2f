"""The forms of a request's page that work on it: assign, internal notes, messages to the
requester, one extension, hold and resume, revealing the personal data, and the copy of an
access request (an attached export or the generated package, sent as a one-time link).

Thin adapters over `bot.requests.casework` and `bot.requests.delivery`: each is a guarded POST
(logged in, CSRF token, permission), checks what was typed first so that a mistake is told in
the member's words and the form comes back as it was typed (400), then does the work, which
is audited by the back end, and goes back to the page saying what happened (303, so that a
reload does not do it twice). Revealing the personal data answers with the page itself: the
reveal lasts one page view, and is audited.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Dict, List, Mapping, Optional

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.core.settings import load_settings
from bot.requests import deadlines
from bot.requests.casework import HOLD_REASONS, MAX_NOTE_CHARS, CaseworkError
from bot.requests.delivery import DeliveryError
from bot.services import Services
from bot.staff.accounts import StaffMember
from bot.storage.models import PrivacyRequest
from bot.web.security import client_of
from bot.web.staff import case_view
from bot.web.staff.common import Handler, guarded, staff_text
from bot.web.staff.requests import FLASH, not_found, show_request

# The form fields a refused form shows again (never the CSRF token or a file).
KEPT_FIELDS = (
    "assignee",
    "note_body",
    "message_body",
    "extension_date",
    "extension_reason",
    "hold_reason",
    "hold_note",
    "hold_clock",
)
DELIVERY_PROBLEMS = (
    "file_type",
    "file_empty",
    "file_size",
    "file_content",
    "file_text",
    "not_access",
    "closed",
)


def kept(form: FormData, which: str) -> Dict[str, str]:
    """What was typed, to show again, and which form it was (`_for`)."""
    values = {
        name: str(form.get(name) or "") for name in KEPT_FIELDS if isinstance(form.get(name), str)
    }
    return {**values, "_for": which}


def back(request: Request, reference: str, anchor: str, key: str, **values: object) -> Response:
    """To the request's page, which says what was done."""
    request.session[FLASH] = staff_text(request, key, **values)
    return RedirectResponse(f"/staff/requests/{reference}#{anchor}", status_code=303)


async def refused(
    services: Services,
    request: Request,
    me: StaffMember,
    form: Mapping[str, str],
    key: str,
    **values: object,
) -> Response:
    """The page again with the problem said, and the form as it was typed."""
    return await show_request(
        services, request, me, error=staff_text(request, key, **values), status_code=400, form=form
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _open_request(services: Services, request: Request) -> Optional[PrivacyRequest]:
    return services.store.get(request.path_params["reference"])


async def assign(services: Services, request: Request, me: StaffMember) -> Response:
    """Give the request to a member (`assignee`; empty: to nobody), or to oneself (`to_me`)."""
    form = await request.form()
    row = await _open_request(services, request)
    if row is None:
        return not_found(request)
    typed = kept(form, "assign")
    target = me.username if form.get("to_me") else _text(form, "assignee")
    if target and target not in case_view.assignable(services):
        return await refused(services, request, me, typed, "web.staff.case.error.assignee")
    await asyncio.to_thread(services.casework.assign, [row.reference], target or None, me.username)
    if not target:
        return back(request, row.reference, "h-assign", "web.staff.case.unassigned")
    return back(request, row.reference, "h-assign", "web.staff.case.assigned", name=target)


async def _add(services: Services, request: Request, me: StaffMember, field: str) -> Response:
    form = await request.form()
    row = await _open_request(services, request)
    if row is None:
        return not_found(request)
    which = "note" if field == "note_body" else "message"
    typed = kept(form, which)
    body = _text(form, field)
    if not body:
        return await refused(
            services,
            request,
            me,
            typed,
            "web.staff.case.error.empty_note"
            if which == "note"
            else "web.staff.case.error.empty_message",
        )
    if len(body) > MAX_NOTE_CHARS:
        return await refused(
            services, request, me, typed, "web.staff.case.error.too_long", limit=MAX_NOTE_CHARS
        )
    desk = services.casework
    if which == "note":
        await asyncio.to_thread(desk.add_note, row.reference, me.username, body)
        return back(request, row.reference, "h-notes", "web.staff.case.note_added")
    await asyncio.to_thread(desk.send_message, row.reference, me.username, body)
    return back(request, row.reference, "h-messages", "web.staff.case.message_sent")


async def add_note(services: Services, request: Request, me: StaffMember) -> Response:
    """An internal note: for the desk only, never sent to the requester."""
    return await _add(services, request, me, "note_body")


async def send_message(services: Services, request: Request, me: StaffMember) -> Response:
    """A message to the requester, e-mailed through the outbox."""
    return await _add(services, request, me, "message_body")


async def extend(services: Services, request: Request, me: StaffMember) -> Response:
    """Extend once, to a new due date no later than the jurisdiction allows, with a reason."""
    form = await request.form()
    row = await _open_request(services, request)
    if row is None:
        return not_found(request)
    typed = kept(form, "extension")
    if row.original_due_at is not None:
        return await refused(services, request, me, typed, "web.staff.case.error.extended_once")
    try:
        new_due = date.fromisoformat(_text(form, "extension_date"))
    except ValueError:
        return await refused(services, request, me, typed, "web.staff.case.error.bad_date")
    reason = _text(form, "extension_reason")
    if not reason:
        return await refused(services, request, me, typed, "web.staff.case.error.empty_reason")
    if len(reason) > MAX_NOTE_CHARS:
        return await refused(
            services, request, me, typed, "web.staff.case.error.too_long", limit=MAX_NOTE_CHARS
        )
    current = case_view.local_date(row.due_at)
    latest = case_view.local_date(deadlines.latest_extension(row.due_at).due)
    if new_due <= current:
        return await refused(
            services, request, me, typed, "web.staff.case.error.not_later", due=current.isoformat()
        )
    if new_due > latest:
        return await refused(
            services,
            request,
            me,
            typed,
            "web.staff.case.error.beyond_max",
            latest=latest.isoformat(),
        )
    try:
        await asyncio.to_thread(
            services.casework.extend, row.reference, new_due, reason, me.username
        )
    except CaseworkError as problem:
        return await refused(
            services, request, me, typed, "web.staff.case.error.not_done", problem=str(problem)
        )
    return back(
        request, row.reference, "h-deadline", "web.staff.case.extended", date=new_due.isoformat()
    )


async def hold(services: Services, request: Request, me: StaffMember) -> Response:
    """On hold, with a reason and a note for the requester, saying whether the clock stops."""
    form = await request.form()
    row = await _open_request(services, request)
    if row is None:
        return not_found(request)
    typed = kept(form, "hold")
    reason, note, clock = (
        _text(form, "hold_reason"),
        _text(form, "hold_note"),
        _text(form, "hold_clock"),
    )
    if reason not in HOLD_REASONS:
        return await refused(services, request, me, typed, "web.staff.case.error.hold_reason")
    if clock not in ("stops", "runs"):
        return await refused(services, request, me, typed, "web.staff.case.error.hold_clock")
    if not note:
        return await refused(services, request, me, typed, "web.staff.case.error.empty_hold_note")
    if len(note) > MAX_NOTE_CHARS:
        return await refused(
            services, request, me, typed, "web.staff.case.error.too_long", limit=MAX_NOTE_CHARS
        )
    try:
        await asyncio.to_thread(
            services.casework.hold,
            row.reference,
            reason,
            note,
            clock == "stops",
            me.username,
        )
    except CaseworkError as problem:
        return await refused(
            services, request, me, typed, "web.staff.case.error.not_done", problem=str(problem)
        )
    return back(request, row.reference, "h-deadline", "web.staff.case.held")


async def resume(services: Services, request: Request, me: StaffMember) -> Response:
    """Off hold; a stopped clock moves the due date on by the working days it was held."""
    row = await _open_request(services, request)
    if row is None:
        return not_found(request)
    try:
        due = await asyncio.to_thread(services.casework.resume, row.reference, me.username)
    except CaseworkError:
        return await refused(
            services, request, me, {"_for": "hold"}, "web.staff.case.error.not_held"
        )
    return back(
        request,
        row.reference,
        "h-deadline",
        "web.staff.case.resumed",
        date=case_view.local_date(due).isoformat(),
    )


async def reveal(services: Services, request: Request, me: StaffMember) -> Response:
    """The page with the requester's e-mail address and phone numbers unmasked, for this one
    view; who revealed them, and when, goes into the audit trail."""
    row = await _open_request(services, request)
    if row is None:
        return not_found(request)
    services.directory.audit(
        me.username, "reveal", row.reference, "personal data", client_of(request)
    )
    response = await show_request(
        services, request, me, revealed=True, message=staff_text(request, "web.staff.case.revealed")
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def deliver(services: Services, request: Request, me: StaffMember) -> Response:
    """An access request's copy: the export attached (`file`, its size and type checked) or
    the package generated (`action=generate`); the requester is e-mailed a one-time link."""
    form = await request.form()
    row = await _open_request(services, request)
    if row is None:
        return not_found(request)
    typed = {"_for": "delivery"}
    desk = services.deliveries
    link_base = load_settings().site_origin
    try:
        if form.get("action") == "generate":
            prepared = await asyncio.to_thread(desk.generate, row.reference, me.username, link_base)
        else:
            upload = form.get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                return await refused(services, request, me, typed, "web.staff.case.error.no_file")
            limit = load_settings().delivery_max_bytes
            content = await upload.read(limit + 1)
            prepared = await asyncio.to_thread(
                desk.attach, row.reference, upload.filename, content, me.username, link_base
            )
    except DeliveryError as problem:
        key = (
            f"web.staff.case.delivery_error.{problem.reason}"
            if problem.reason in DELIVERY_PROBLEMS
            else "web.staff.case.error.not_done"
        )
        return await refused(
            services,
            request,
            me,
            typed,
            key,
            problem=str(problem),
            limit=load_settings().delivery_max_bytes // 1_000_000,
        )
    return back(
        request,
        row.reference,
        "h-delivery",
        "web.staff.case.delivered",
        date=case_view.local_date(prepared.expires_at).isoformat(),
    )


def routes(services: Services) -> List[Route]:
    """The request page's casework forms, each a guarded POST."""

    def post(path: str, permission: str, handler: Handler) -> Route:
        return Route(
            f"/staff/requests/{{reference}}/{path}",
            guarded(services, permission, handler),
            methods=["POST"],
        )

    return [
        post("assign", "change_requests", assign),
        post("notes", "change_requests", add_note),
        post("messages", "change_requests", send_message),
        post("extend", "change_requests", extend),
        post("hold", "change_requests", hold),
        post("resume", "change_requests", resume),
        post("reveal", "change_requests", reveal),
        post("delivery", "change_requests", deliver),
    ]
