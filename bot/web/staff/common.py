"""What every staff page shares: the session, the guard, page and CSV output. The services are
bot.services's, built by the app factory; CSRF and the client address are bot.web.security's.

Every staff route except login and logout goes through `guarded`, which refuses anyone not
logged in (a redirect to the login page for pages, 401 for JSON and CSV) and anyone whose role
lacks the permission (403). Every state-changing request is a POST carrying the session's CSRF
token. The guard is one function for every module's routes, so who may do what is decided in
one place and cannot drift between the pages.

Each page is in the member's language (`bot.web.i18n.staff_language`: their choice on the pages,
kept in the session and a cookie, else their browser's); `page` hands templates `t(key)` and
`name(group, value)` bound to it, and staff.js the texts it writes itself.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Optional, Sequence
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from bot.core.language import LANGUAGES
from bot.services import Services
from bot.staff.accounts import StaffMember
from bot.web import i18n
from bot.web.security import csrf_ok, csrf_token

SESSION_LIFETIME = timedelta(hours=8)
IDLE_TIMEOUT = timedelta(minutes=30)
# The session key of the member's session generation the session was started under.
EPOCH_KEY = "epoch"
WEB_DIR = Path(__file__).resolve().parent.parent  # bot/web: the templates stay beside the app
templates = i18n.templates
# Login, logout and the language switch (which the login page has too) need no login.
PUBLIC_STAFF_PATHS = ("/staff/login", "/staff/logout", "/staff/language")
# What staff.js writes itself (the live queue, a ticket's messages, the reply notes).
SCRIPT_TEXTS = (
    "web.staff.live.",
    "web.staff.age.",
    "web.staff.delivery.",
    "web.staff.handoffs.",
    "web.staff.ticket_status.",
    "web.staff.reason.",
    "web.staff.line.",
    "web.staff.language_name.",
    "web.staff.reject_placeholder",
    "web.staff.ticket.write_first",
)
# A cell a spreadsheet would run as a formula when it starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# A staff page's handler: it is handed the services and the member the guard let in.
Handler = Callable[[Services, Request, StaffMember], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def wants_data(request: Request) -> bool:
    """JSON and CSV callers get status codes, not a login page they cannot show."""
    path = request.url.path
    return (
        path.endswith(".json")
        or path.endswith(".csv")
        or "application/json" in request.headers.get("accept", "")
    )


def current_member(request: Request, services: Services) -> Optional[StaffMember]:
    """The logged-in member, or None once the session is past its lifetime or idle timeout, or
    the account has been disabled or its sessions ended meanwhile (logout elsewhere, a new
    password: the generation the cookie carries is no longer the member's), the session then
    cleared. The generation comes with the account row read anyway: no extra query."""
    session = request.session
    staff_id, login_at, last = session.get("staff_id"), session.get("login_at"), session.get("seen")
    now = time.time()
    if not staff_id or not login_at or not last:
        return None
    if (
        now - login_at > SESSION_LIFETIME.total_seconds()
        or now - last > IDLE_TIMEOUT.total_seconds()
    ):
        session.clear()
        return None
    member = services.directory.get(staff_id)
    if member is None or member.disabled or session.get(EPOCH_KEY) != member.epoch:
        session.clear()
        return None
    session["seen"] = now
    return member


def staff_text(request: Request, key: str, **values: Any) -> str:
    """A catalogue text in the member's language, for what the handlers say themselves."""
    return i18n.text(key, i18n.staff_language(request), **values)


def page(request: Request, name: str, me: Optional[StaffMember], **context: Any) -> Response:
    """A staff template, always given the member, the CSRF token its forms need, and the texts
    of the member's language (`t`, `name`, and staff.js's in `script_texts`)."""
    language = i18n.staff_language(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = templates.TemplateResponse(
        request,
        name,
        {
            "me": me,
            "csrf": csrf_token(request),
            "lang": language,
            "html_lang": i18n.HTML_LANG[language],
            "languages": LANGUAGES,
            "here": here,
            "t": i18n.translator(language),
            "name": i18n.labeller(language),
            "script_texts": i18n.bundle(SCRIPT_TEXTS, (language,))[language],
            **context,
        },
    )
    response.headers["Content-Language"] = i18n.HTML_LANG[language]
    return response


def _login_required(request: Request) -> Response:
    """Pages send the visitor to the login page (and back afterwards); data callers get 401."""
    if wants_data(request):
        return JSONResponse({"error": "login required"}, status_code=401)
    target = urlencode({"next": request.url.path})
    return RedirectResponse(f"/staff/login?{target}", status_code=303)


def _not_allowed(request: Request) -> Response:
    """A member whose role lacks the permission: 403, as JSON for data callers."""
    if wants_data(request):
        return JSONResponse({"error": "not allowed for your role"}, status_code=403)
    return Response(
        staff_text(request, "web.staff.not_allowed"),
        status_code=403,
        media_type="text/plain; charset=utf-8",
    )


async def _csrf_passes(request: Request) -> bool:
    """Only a POST needs the session's token (form field or `X-CSRF-Token` header)."""
    if request.method != "POST":
        return True
    form = await request.form()
    return csrf_ok(request, form.get("csrf_token") or request.headers.get("x-csrf-token"))


def guarded(services: Services, permission: str, handler: Handler) -> Endpoint:
    """`handler` as a route endpoint that only a logged-in member with `permission` reaches
    (and, for a POST, only with the session's CSRF token). The permission is kept on the
    endpoint so that what a route requires can be read off it."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        # The account is read (and its last visit written) in a thread: the loop keeps serving.
        me = await asyncio.to_thread(current_member, request, services)
        if me is None:
            return _login_required(request)
        if not me.can(permission):
            return _not_allowed(request)
        if not await _csrf_passes(request):
            return JSONResponse(
                {"error": staff_text(request, "web.staff.form_expired")}, status_code=403
            )
        await asyncio.to_thread(services.directory.seen, me.id)
        return await handler(services, request, me)

    endpoint.permission = permission  # type: ignore[attr-defined]  # read off the endpoint
    return endpoint


def spreadsheet_safe(value: str) -> str:
    """A visitor's words opened in a spreadsheet stay words: "=HYPERLINK(...)" would otherwise
    run as a formula on the legal department's machine (CSV injection)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: object) -> object:
    # Only text can be a formula; None and booleans are written by csv as they always were.
    return spreadsheet_safe(value) if isinstance(value, str) else value


def csv_download(
    header: Sequence[str], rows: Iterable[Sequence[object]], filename: str
) -> Response:
    """A CSV attachment, every text cell through `spreadsheet_safe`: each export of the staff
    pages carries what visitors typed, so none may write a cell that bypasses the guard."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
