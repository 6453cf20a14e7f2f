"""The forms of a request's page that work on it: assign, internal notes, messages to the
requester, one extension, hold and resume, revealing the personal data, and the copy of an
access request (an attached export or the generated package, sent as a one-time link).

Thin adapters over `bot.requests.casework` and `bot.requests.delivery`: each is a guarded POST
(logged in, CSRF token, permission) that reads the form (a date, a choice), asks the back end,
which checks its own rules and audits the work, and goes back to the page saying what happened
(303, so that a reload does not do it twice). A refusal, the form's or the back end's (by its
code), is told in the member's words with the form as it was typed (400). Revealing the
personal data answers with the page itself: the reveal lasts one page view, and is audited.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Dict, List, Mapping

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.core.settings import load_settings
from bot.requests.casework import CaseworkError
from bot.requests.delivery import DeliveryError
from bot.services import Services
from bot.staff.accounts import StaffMember
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


def _reference(request: Request) -> str:
    return str(request.path_params["reference"])


async def desk_refused(
    services: Services,
    request: Request,
    me: StaffMember,
    form: Mapping[str, str],
    problem: CaseworkError,
) -> Response:
    """What the desk refused, said in the member's words (a request that is not there: 404)."""
    if problem.code == "no_request":
        return not_found(request)
    return await refused(services, request, me, form, problem.key, **problem.values)


async def assign(services: Services, request: Request, me: StaffMember) -> Response:
    """Give the request to a member (`assignee`; empty: to nobody), or to oneself (`to_me`)."""
    form = await request.form()
    reference = _reference(request)
    typed = kept(form, "assign")
    target = me.username if form.get("to_me") else _text(form, "assignee")
    if target and target not in await asyncio.to_thread(case_view.assignable, services):
        return await refused(services, request, me, typed, "web.staff.case.error.assignee")
    try:
        await asyncio.to_thread(services.casework.assign, [reference], target or None, me.username)
    except CaseworkError as problem:
        return await desk_refused(services, request, me, typed, problem)
    if not target:
        return back(request, reference, "h-assign", "web.staff.case.unassigned")
    return back(request, reference, "h-assign", "web.staff.case.assigned", name=target)


async def _add(services: Services, request: Request, me: StaffMember, field: str) -> Response:
    form = await request.form()
    reference = _reference(request)
    which = "note" if field == "note_body" else "message"
    typed = kept(form, which)
    add = services.casework.add_note if which == "note" else services.casework.send_message
    try:
        await asyncio.to_thread(add, reference, me.username, _text(form, field))
    except CaseworkError as problem:
        return await desk_refused(services, request, me, typed, problem)
    if which == "note":
        return back(request, reference, "h-notes", "web.staff.case.note_added")
    return back(request, reference, "h-messages", "web.staff.case.message_sent")


async def add_note(services: Services, request: Request, me: StaffMember) -> Response:
    """An internal note: for the desk only, never sent to the requester."""
    return await _add(services, request, me, "note_body")


async def send_message(services: Services, request: Request, me: StaffMember) -> Response:
    """A message to the requester, e-mailed through the outbox."""
    return await _add(services, request, me, "message_body")


async def extend(services: Services, request: Request, me: StaffMember) -> Response:
    """Extend once, to a new due date no later than the jurisdiction allows, with a reason."""
    form = await request.form()
    reference = _reference(request)
    typed = kept(form, "extension")
    try:
        new_due = date.fromisoformat(_text(form, "extension_date"))
    except ValueError:
        return await refused(services, request, me, typed, "web.staff.case.error.bad_date")
    reason = _text(form, "extension_reason")
    try:
        await asyncio.to_thread(services.casework.extend, reference, new_due, reason, me.username)
    except CaseworkError as problem:
        return await desk_refused(services, request, me, typed, problem)
    return back(
        request, reference, "h-deadline", "web.staff.case.extended", date=new_due.isoformat()
    )


async def hold(services: Services, request: Request, me: StaffMember) -> Response:
    """On hold, with a reason and a note for the requester, saying whether the clock stops."""
    form = await request.form()
    reference = _reference(request)
    typed = kept(form, "hold")
    clock = _text(form, "hold_clock")
    if clock not in ("stops", "runs"):
        return await refused(services, request, me, typed, "web.staff.case.error.hold_clock")
    try:
        await asyncio.to_thread(
            services.casework.hold,
            reference,
            _text(form, "hold_reason"),
            _text(form, "hold_note"),
            clock == "stops",
            me.username,
        )
    except CaseworkError as problem:
        return await desk_refused(services, request, me, typed, problem)
    return back(request, reference, "h-deadline", "web.staff.case.held")


async def resume(services: Services, request: Request, me: StaffMember) -> Response:
    """Off hold; a stopped clock moves the due date on by the working days it was held."""
    reference = _reference(request)
    try:
        due = await asyncio.to_thread(services.casework.resume, reference, me.username)
    except CaseworkError as problem:
        return await desk_refused(services, request, me, {"_for": "hold"}, problem)
    return back(
        request,
        reference,
        "h-deadline",
        "web.staff.case.resumed",
        date=case_view.local_date(due).isoformat(),
    )


async def reveal(services: Services, request: Request, me: StaffMember) -> Response:
    """The page with the requester's e-mail address and phone numbers unmasked, for this one
    view; who revealed them, and when, goes into the audit trail."""
    response = await show_request(
        services, request, me, revealed=True, message=staff_text(request, "web.staff.case.revealed")
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def deliver(services: Services, request: Request, me: StaffMember) -> Response:
    """An access request's copy: the export attached (`file`, its size and type checked) or
    the package generated (`action=generate`); the requester is e-mailed a one-time link."""
    form = await request.form()
    reference = _reference(request)
    typed = {"_for": "delivery"}
    desk = services.deliveries
    settings = load_settings()
    try:
        if form.get("action") == "generate":
            prepared = await asyncio.to_thread(
                desk.generate, reference, me.username, settings.site_origin
            )
        else:
            upload = form.get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                return await refused(services, request, me, typed, "web.staff.case.error.no_file")
            content = await upload.read(settings.delivery_max_bytes + 1)
            prepared = await asyncio.to_thread(
                desk.attach, reference, upload.filename, content, me.username, settings.site_origin
            )
    except DeliveryError as problem:
        if problem.reason == "unknown_request":
            return not_found(request)
        key = (
            f"web.staff.case.delivery_error.{problem.reason}"
            if problem.reason in DELIVERY_PROBLEMS
            else "web.staff.case.error.not_done"
        )
        limit = settings.delivery_max_bytes // 1_000_000
        return await refused(services, request, me, typed, key, limit=limit)
    return back(
        request,
        reference,
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
