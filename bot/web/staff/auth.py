"""Logging staff in and out, and the landing page that sends each role to its queue.

Failed logins cost growing delays and, past `MAX_FAILED_LOGINS` in the window (per username or
per client), are refused for a while: the password is the only thing between the internet and
the requests. Login and logout are the only staff routes the guard does not cover.
"""

from __future__ import annotations

import asyncio
import time
from typing import List

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.staff.accounts import FAILED_LOGIN_WINDOW, MAX_FAILED_LOGINS, StaffMember
from bot.web import i18n
from bot.web.staff import dashboard
from bot.web.staff.common import StaffServices, client_of, csrf_ok, guarded, page, staff_text

LOGIN_PAGE = "staff/login.html"


async def login_page(request: Request) -> Response:
    """The login form, remembering where the visitor was going."""
    return page(request, LOGIN_PAGE, None, error=None,
                next=request.query_params.get("next", "/staff/"))


def _failed_login_delay(failures: int) -> float:
    """Each failure costs more time: 0.25 s, 0.5 s, 1 s, 2 s ... (at most 2 s)."""
    return min(2.0, 0.25 * 2 ** failures)


def _landing(target: str) -> str:
    """Where a login may lead: a staff page on this site, never another host (`//evil`)."""
    if not target.startswith("/staff/") or target.startswith("//"):
        return "/staff/"
    return target


async def login(services: StaffServices, request: Request) -> Response:
    """Check the CSRF token, the throttle and the password, then start a fresh session."""
    form = await request.form()
    if not csrf_ok(request, form.get("csrf_token")):
        return page(request, LOGIN_PAGE, None, next="/staff/",
                    error=staff_text(request, "web.staff.login.expired"))
    username = str(form.get("username") or "")[:64]
    client = client_of(request)
    failures = services.directory.recent_failures(username.strip().lower(), client)
    if failures >= MAX_FAILED_LOGINS:
        minutes = int(FAILED_LOGIN_WINDOW.total_seconds() // 60)
        return page(request, LOGIN_PAGE, None, next="/staff/",
                    error=staff_text(request, "web.staff.login.too_many", minutes=minutes))
    member = services.directory.authenticate(username, str(form.get("password") or ""), client)
    if member is None:
        await asyncio.sleep(_failed_login_delay(failures))
        response = page(request, LOGIN_PAGE, None, next=str(form.get("next") or ""),
                        error=staff_text(request, "web.staff.login.wrong"))
        response.status_code = 401
        return response
    language = i18n.staff_language(request)
    request.session.clear()  # a fresh session (and CSRF token) on every login
    request.session.update({"staff_id": member.id, "login_at": time.time(),
                            "seen": time.time(), i18n.STAFF_SESSION_KEY: language})
    return RedirectResponse(_landing(str(form.get("next") or "/staff/")), status_code=303)


async def logout(request: Request) -> Response:
    """End the session; without the CSRF token (a forged form) nothing is ended."""
    form = await request.form()
    if csrf_ok(request, form.get("csrf_token")):
        request.session.clear()
    return RedirectResponse("/staff/login", status_code=303)


async def choose_language(request: Request) -> Response:
    """The member's language for the staff pages, from the switch every page has (the login
    page too): kept in the session and, so that it outlives a logout, in a cookie. Back to the
    page it was chosen on; a forged form (no CSRF token) changes nothing."""
    form = await request.form()
    target = _landing(str(form.get("next") or "/staff/"))
    if target.startswith("/staff/language"):
        target = "/staff/"
    response = RedirectResponse(target, status_code=303)
    language = i18n.known(form.get("language"))
    if language is None or not csrf_ok(request, form.get("csrf_token")):
        return response
    request.session[i18n.STAFF_SESSION_KEY] = language
    response.set_cookie(i18n.STAFF_COOKIE, language, max_age=i18n.COOKIE_MAX_AGE, path="/staff",
                        httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


async def home(services: StaffServices, request: Request, me: StaffMember) -> Response:
    """Legal and admin land on the desk's overview (`dashboard`), support on the handoffs."""
    return await dashboard.dashboard(services, request, me)


def routes(services: StaffServices) -> List[Route]:
    """Login, logout and the landing page."""
    async def login_endpoint(request: Request) -> Response:
        return await login(services, request)

    return [
        Route("/staff/login", login_page, methods=["GET"]),
        Route("/staff/login", login_endpoint, methods=["POST"], name="login"),
        Route("/staff/logout", logout, methods=["POST"]),
        Route("/staff/language", choose_language, methods=["POST"]),
        Route("/staff/", guarded(services, "read_requests", home)),
    ]
