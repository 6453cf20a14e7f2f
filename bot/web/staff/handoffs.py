"""Support handoffs: the queue (as a page and as JSON the page polls), a ticket, replies and
closing.

Opening a waiting ticket assigns it to whoever opened it; a reply goes to the visitor's chat
while they are there, else by e-mail through the outbox (`bot.support.tickets` decides which).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, Dict, List

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.core.language import or_default
from bot.requests.code_masking import mask_transcript
from bot.services import Services
from bot.staff.accounts import StaffMember
from bot.support.tickets import TicketView
from bot.web.staff.common import Endpoint, Handler, guarded, page, staff_text, wants_data

MAX_REPLY_CHARS = 4000


def language_of(t: object) -> str:
    """The conversation's language a ticket carries ("en" for tickets from before languages were
    kept, and until the ticket view has the field)."""
    return or_default(getattr(t, "language", None))


def ticket_json(t: TicketView) -> Dict[str, Any]:
    """A ticket as the queue's JSON lists it (no messages: those come with the ticket)."""
    return {
        "id": t.id,
        "status": t.status,
        "reason": t.reason,
        "created_at": t.created_at.isoformat(),
        "assigned_to": t.assigned_to,
        "contact_email": t.contact_email,
        "live": t.live,
        "language": language_of(t),
    }


def no_such_ticket(request: Request) -> Response:
    return Response(
        staff_text(request, "web.staff.ticket.not_found"),
        status_code=404,
        media_type="text/plain; charset=utf-8",
    )


def ticket_id_of(request: Request) -> int:
    return int(request.path_params["ticket_id"])


async def handoffs_page(services: Services, request: Request, me: StaffMember) -> Response:
    return page(
        request,
        "staff/handoffs.html",
        me,
        tickets=await asyncio.to_thread(services.handoffs.list),
        language_of=language_of,
    )


async def handoffs_json(services: Services, request: Request, me: StaffMember) -> Response:
    """The queue for the page to poll, so it updates without a reload."""
    tickets = await asyncio.to_thread(services.handoffs.list)
    return JSONResponse({"tickets": [ticket_json(t) for t in tickets]})


async def ticket_page(services: Services, request: Request, me: StaffMember) -> Response:
    """A ticket with its transcript; opening it takes it on. The requests made in the same
    conversation are named by their references, never the conversation by its id."""
    try:
        ticket = await asyncio.to_thread(services.handoffs.open, ticket_id_of(request), me.username)
    except KeyError:
        return no_such_ticket(request)
    # The codes typed in the chat, masked in a transcript stored before they were when stored.
    ticket = dataclasses.replace(ticket, transcript=mask_transcript(ticket.transcript))
    references = await asyncio.to_thread(
        services.store.references_in_conversation, ticket.conversation_id
    )
    return page(
        request,
        "staff/handoff.html",
        me,
        ticket=ticket,
        ticket_language=language_of(ticket),
        references=references,
    )


async def ticket_json_view(services: Services, request: Request, me: StaffMember) -> Response:
    """A ticket's status and messages, for the page to poll."""
    ticket = await asyncio.to_thread(services.handoffs.get, ticket_id_of(request))
    if ticket is None:
        return JSONResponse({"error": "no such ticket"}, status_code=404)
    return JSONResponse({"status": ticket.status, "messages": ticket.messages})


async def reply(services: Services, request: Request, me: StaffMember) -> Response:
    """Send a reply (to the chat or by e-mail); JSON for the page's script, else a redirect."""
    form = await request.form()
    text = str(form.get("text") or "").strip()
    ticket_id = ticket_id_of(request)
    if not text:
        return JSONResponse(
            {"error": staff_text(request, "web.staff.ticket.write_first")}, status_code=400
        )
    try:
        delivery = await asyncio.to_thread(
            services.handoffs.reply, ticket_id, me.username, text[:MAX_REPLY_CHARS]
        )
    except KeyError:
        return JSONResponse(
            {"error": staff_text(request, "web.staff.ticket.closed")}, status_code=409
        )
    ticket = await asyncio.to_thread(services.handoffs.get, ticket_id)
    if wants_data(request):
        return JSONResponse(
            {"ok": True, "delivery": delivery, "message": ticket.messages[-1] if ticket else None}
        )
    return RedirectResponse(f"/staff/handoffs/{ticket_id}", status_code=303)


async def close(services: Services, request: Request, me: StaffMember) -> Response:
    """Close the ticket: the conversation goes back to the assistant."""
    ticket_id = ticket_id_of(request)
    try:
        await asyncio.to_thread(services.handoffs.close, ticket_id, me.username)
    except KeyError:
        return no_such_ticket(request)
    return RedirectResponse(f"/staff/handoffs/{ticket_id}", status_code=303)


def routes(services: Services) -> List[Route]:
    """The handoff routes (support and admin: `handle_handoffs`)."""

    def handling(handler: Handler) -> Endpoint:
        return guarded(services, "handle_handoffs", handler)

    return [
        Route("/staff/handoffs", handling(handoffs_page)),
        Route("/staff/handoffs.json", handling(handoffs_json)),
        Route("/staff/handoffs/{ticket_id:int}", handling(ticket_page)),
        Route("/staff/handoffs/{ticket_id:int}.json", handling(ticket_json_view)),
        Route("/staff/handoffs/{ticket_id:int}/reply", handling(reply), methods=["POST"]),
        Route("/staff/handoffs/{ticket_id:int}/close", handling(close), methods=["POST"]),
    ]
