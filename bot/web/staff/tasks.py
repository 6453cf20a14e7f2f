"""The request page's forms on its tasks in the product's systems (bot.fulfilment.service): a
task recorded by hand as done or not applicable, with a note (a manual system's, or a webhook
task that failed and was carried out by other means), and a failed webhook task retried.

Guarded POSTs like the casework forms (`bot.web.staff.casework`): logged in, CSRF token, the
`change_requests` permission; the service checks its own rules and audits the work with the
member's client address, and the page says what happened (303). A refusal is said in the
member's words, the system and the state by their names there, with the note as typed (400).
Nothing here is logged: a note may carry what the requester wrote.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Mapping, Tuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.fulfilment.service import FulfilmentError, TaskView
from bot.requests import lifecycle
from bot.requests import task_states as states
from bot.requests.store import UnknownRequest
from bot.requests.tasks import state_label, system_label
from bot.services import Services
from bot.staff.accounts import StaffMember
from bot.web import i18n
from bot.web.security import client_of
from bot.web.staff.casework import back, refused
from bot.web.staff.common import guarded
from bot.web.staff.requests import not_found

ANCHOR = "h-systems"


def form_key(task_id: str) -> str:
    """Which task's form a refused form was (`_for`): that one opens again, as typed."""
    return f"task-{task_id}"


def _task_id(request: Request) -> str:
    return str(request.path_params["task_id"])[:64]


def _named(values: Mapping[str, Any], language: str) -> Dict[str, Any]:
    """A refusal's values as the member reads them: the system by its label, a state and a
    request's status by their names in `language`."""
    named = dict(values)
    if isinstance(named.get("system"), str):
        named["system"] = system_label(named["system"], language)
    if named.get("state") in states.STATES:
        named["state"] = state_label(named["state"], language)
    if isinstance(named.get("status"), str):
        named["status"] = i18n.label("web.staff.status", named["status"], language)
    return named


async def _refused(
    services: Services,
    request: Request,
    me: StaffMember,
    typed: Mapping[str, str],
    problem: FulfilmentError,
) -> Response:
    language = i18n.staff_language(request)
    return await refused(
        services, request, me, typed, problem.key, **_named(problem.values, language)
    )


def _tick(
    services: Services,
    reference: str,
    task_id: str,
    actor: str,
    note: str,
    state: str,
    client: str,
) -> Tuple[TaskView, bool]:
    """The tick, and whether it was the last open task (the request then completes)."""
    view = services.fulfilment.tick(reference, task_id, actor, note, state, client=client)
    row = services.store.get(reference)
    return view, row is not None and row.status == lifecycle.COMPLETED


async def tick(services: Services, request: Request, me: StaffMember) -> Response:
    """Record a task as done or not applicable (`task_state`), saying what was done
    (`task_note`, required)."""
    form = await request.form()
    reference, task_id = str(request.path_params["reference"]), _task_id(request)
    note, state = form.get("task_note"), form.get("task_state")
    note = note if isinstance(note, str) else ""
    state = state if isinstance(state, str) and state else states.DONE
    typed = {"task_note": note, "task_state": state, "_for": form_key(task_id)}
    try:
        view, completed = await asyncio.to_thread(
            _tick, services, reference, task_id, me.username, note, state, client_of(request)
        )
    except UnknownRequest:
        return not_found(request)
    except FulfilmentError as problem:
        return await _refused(services, request, me, typed, problem)
    language = i18n.staff_language(request)
    return back(
        request,
        reference,
        ANCHOR,
        "web.staff.tasks.ticked_completed" if completed else "web.staff.tasks.ticked",
        system=view.label(language),
        state=state_label(view.state, language),
    )


async def retry(services: Services, request: Request, me: StaffMember) -> Response:
    """Deliver a failed webhook task again, with a fresh count of attempts."""
    reference, task_id = str(request.path_params["reference"]), _task_id(request)
    try:
        view = await asyncio.to_thread(
            services.fulfilment.retry, reference, task_id, me.username, client_of(request)
        )
    except UnknownRequest:
        return not_found(request)
    except FulfilmentError as problem:
        return await _refused(services, request, me, {"_for": form_key(task_id)}, problem)
    language = i18n.staff_language(request)
    return back(request, reference, ANCHOR, "web.staff.tasks.retried", system=view.label(language))


def routes(services: Services) -> List[Route]:
    """The task forms, each a guarded POST (beside the casework forms)."""
    return [
        Route(
            f"/staff/requests/{{reference}}/tasks/{{task_id}}/{name}",
            guarded(services, "change_requests", handler),
            methods=["POST"],
        )
        for name, handler in (("tick", tick), ("retry", retry))
    ]
