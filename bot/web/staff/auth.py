"""Logging staff in and out, two-factor enrolment, and the landing page that sends each role to
its queue.

Failed logins (a wrong password or a wrong code) cost growing delays and, past the limits in
the window (`MAX_FAILED_LOGINS` for one username from one client address,
`MAX_FAILED_LOGINS_PER_CLIENT` from one address whatever the username), are refused for a while:
a stranger elsewhere cannot lock a member out. Logging out ends every session of the member
(`StaffDirectory.log_out`), so a copied cookie stops working with it. An
account with two-factor sign-in needs its code (TOTP or a recovery code) in the same form; an
admin without it is not logged in until enrolled (`/staff/two-factor`, which any member can
also use to turn it on). Login, logout and enrolment are the staff routes the guard does not
cover: enrolment checks who is enrolling itself.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, List, Optional, Tuple

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.services import Services
from bot.staff.accounts import (
    BAD_CODE,
    CODE_NEEDED,
    ENROL,
    FAILED_LOGIN_WINDOW,
    REFUSED,
    THROTTLED,
    StaffError,
    StaffMember,
)
from bot.staff.two_factor import Enrolment
from bot.web import i18n
from bot.web.security import client_of, csrf_ok
from bot.web.staff import dashboard
from bot.web.staff.common import EPOCH_KEY, current_member, guarded, page, staff_text

LOGIN_PAGE = "staff/login.html"
ENROL_PAGE = "staff/two_factor.html"
ENROL_PATH = "/staff/two-factor"
# The session key of a login that passed the password but must enrol first, and how long it
# may take to.
ENROL_KEY = "enrol"
ENROL_TIMEOUT = 600


async def login_page(request: Request) -> Response:
    """The login form, remembering where the visitor was going."""
    return _login_form(request, next=request.query_params.get("next", "/staff/"))


def _failed_login_delay(failures: int) -> float:
    """Each failure costs more time: 0.25 s, 0.5 s, 1 s, 2 s ... (at most 2 s)."""
    return min(2.0, 0.25 * 2**failures)


def _landing(target: str) -> str:
    """Where a login may lead: a staff page on this site, never another host (`//evil`)."""
    if not target.startswith("/staff/") or target.startswith("//"):
        return "/staff/"
    return target


def _login_form(request: Request, status_code: int = 200, **context: Any) -> Response:
    values = {"error": None, "next": "/staff/", "username": "", "need_code": False, **context}
    response = page(request, LOGIN_PAGE, None, **values)
    response.status_code = status_code
    return response


async def login(services: Services, request: Request) -> Response:
    """Check the CSRF token, the throttle, the password and (where the account has two-factor
    sign-in) the code, then start a fresh session; an admin still to enrol goes to enrolment
    first, and nowhere else."""
    form = await request.form()
    if not csrf_ok(request, form.get("csrf_token")):
        return _login_form(request, error=staff_text(request, "web.staff.login.expired"))
    username = str(form.get("username") or "")[:64]
    target = str(form.get("next") or "")
    client = client_of(request)
    code = str(form.get("code") or "").strip()[:64]
    # The directory in worker threads: each check of a password takes ~0.1 s of scrypt.
    result = await run_in_threadpool(
        services.directory.sign_in, username, str(form.get("password") or ""), client, code or None
    )
    if result.outcome == THROTTLED:
        minutes = int(FAILED_LOGIN_WINDOW.total_seconds() // 60)
        return _login_form(
            request, error=staff_text(request, "web.staff.login.too_many", minutes=minutes)
        )
    if result.outcome == CODE_NEEDED:
        return _login_form(
            request,
            next=target,
            username=username,
            need_code=True,
            error=staff_text(request, "web.staff.case.login.code_needed"),
        )
    if result.outcome in (REFUSED, BAD_CODE) or result.member is None:
        await asyncio.sleep(_failed_login_delay(result.failures.most))
        wrong_code = result.outcome == BAD_CODE
        return _login_form(
            request,
            401,
            next=target,
            username=username if wrong_code else "",
            need_code=wrong_code,
            error=staff_text(
                request,
                "web.staff.case.login.wrong_code" if wrong_code else "web.staff.login.wrong",
            ),
        )
    language = i18n.staff_language(request)
    request.session.clear()  # a fresh session (and CSRF token) on every login
    if result.outcome == ENROL:
        # Not logged in yet: only the enrolment page knows this marker.
        request.session.update(
            {
                ENROL_KEY: {
                    "id": result.member.id,
                    "epoch": result.member.epoch,
                    "at": time.time(),
                    "next": _landing(target or "/staff/"),
                },
                i18n.STAFF_SESSION_KEY: language,
            }
        )
        return RedirectResponse(ENROL_PATH, status_code=303)
    start_session(request, result.member, language)
    return RedirectResponse(_landing(target or "/staff/"), status_code=303)


def start_session(request: Request, member: StaffMember, language: str) -> None:
    """A new session for `member`, under their current session generation (`EPOCH_KEY`):
    bumping it later ends this session too."""
    request.session.clear()
    request.session.update(
        {
            "staff_id": member.id,
            EPOCH_KEY: member.epoch,
            "login_at": time.time(),
            "seen": time.time(),
            i18n.STAFF_SESSION_KEY: language,
        }
    )


def _enrolling(services: Services, request: Request) -> Tuple[Optional[StaffMember], bool]:
    """Who is enrolling: the member a login sent here (True: they must, and are not logged in
    until they have), else the logged-in member (False), else nobody."""
    pending = request.session.get(ENROL_KEY)
    if isinstance(pending, dict) and time.time() - float(pending.get("at") or 0) < ENROL_TIMEOUT:
        member = services.directory.get(int(pending.get("id") or 0))
        # A new password or a disabled account meanwhile ends the enrolment as it ends sessions.
        if member is not None and not member.disabled and member.epoch == pending.get("epoch"):
            return member, True
    return current_member(request, services), False


def _enrolment(services: Services, username: str) -> Enrolment:
    """The enrolment waiting for its first code, else a new one."""
    directory = services.directory
    return directory.pending_two_factor(username) or directory.begin_two_factor(username)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # a secret or recovery codes are on it
    return response


async def enrolment(services: Services, request: Request) -> Response:
    """Two-factor enrolment: the secret (and its otpauth:// address) to put in an
    authenticator app, and the first code from it; then the recovery codes, shown once."""
    member, required = await run_in_threadpool(_enrolling, services, request)
    if member is None:
        return RedirectResponse("/staff/login", status_code=303)
    if await run_in_threadpool(services.directory.has_two_factor, member.username):
        return page(
            request,
            ENROL_PAGE,
            None if required else member,
            enabled=True,
            required=required,
            enrolment=None,
            codes=None,
            error=None,
        )
    error = None
    if request.method == "POST":
        form = await request.form()
        if not csrf_ok(request, form.get("csrf_token")):
            error = staff_text(request, "web.staff.login.expired")
        else:
            code = str(form.get("code") or "").strip()[:64]
            try:
                codes = await run_in_threadpool(
                    services.directory.confirm_two_factor, member.username, code, member.username
                )
            except StaffError:
                codes = None
            if codes is not None:
                target = "/staff/"
                if required:
                    target = str(request.session[ENROL_KEY].get("next") or "/staff/")
                    start_session(request, member, i18n.staff_language(request))
                return _no_store(
                    page(
                        request,
                        ENROL_PAGE,
                        member,
                        enabled=True,
                        required=False,
                        enrolment=None,
                        codes=codes,
                        error=None,
                        next=_landing(target),
                    )
                )
            error = staff_text(request, "web.staff.case.two_factor.wrong_code")
    enrolled = await run_in_threadpool(_enrolment, services, member.username)
    response = page(
        request,
        ENROL_PAGE,
        None if required else member,
        enabled=False,
        required=required,
        enrolment=enrolled,
        codes=None,
        error=error,
    )
    if error:
        response.status_code = 400
    return _no_store(response)


async def logout(services: Services, request: Request) -> Response:
    """End the session and, server-side, every other session of the member (a copy of this
    cookie included); without the CSRF token (a forged form) nothing is ended."""
    form = await request.form()
    if csrf_ok(request, form.get("csrf_token")):
        me = await run_in_threadpool(current_member, request, services)
        if me is not None:
            await run_in_threadpool(services.directory.log_out, me.id, client_of(request))
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
    response.set_cookie(
        i18n.STAFF_COOKIE,
        language,
        max_age=i18n.COOKIE_MAX_AGE,
        path="/staff",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def home(services: Services, request: Request, me: StaffMember) -> Response:
    """Legal and admin land on the desk's overview (`dashboard`), support on the handoffs."""
    return await dashboard.dashboard(services, request, me)


def routes(services: Services) -> List[Route]:
    """Login, logout and the landing page."""

    async def login_endpoint(request: Request) -> Response:
        return await login(services, request)

    async def enrolment_endpoint(request: Request) -> Response:
        return await enrolment(services, request)

    async def logout_endpoint(request: Request) -> Response:
        return await logout(services, request)

    return [
        Route("/staff/login", login_page, methods=["GET"]),
        Route("/staff/login", login_endpoint, methods=["POST"], name="login"),
        Route("/staff/logout", logout_endpoint, methods=["POST"]),
        Route(ENROL_PATH, enrolment_endpoint, methods=["GET", "POST"]),
        Route("/staff/language", choose_language, methods=["POST"]),
        Route("/staff/", guarded(services, "read_requests", home)),
    ]
