"""The requester's download page for an access copy: `/download/{token}`, the one-time link the
legal department's e-mail carries (bot.requests.delivery).

The link alone is not enough: the page asks for a fresh verification code, e-mailed when the
requester asks for it here (never on opening the link, so that a mail scanner that follows links
sends nobody a code), and serves the file once the code checks; the stored copy is then deleted.
A link that is unknown, used, or expired, a wrong or stale code, or too many codes asked for, each
get a page that says what happened and what to do, in the visitor's language. The forms carry
the session's CSRF token, like the staff pages', so another site cannot make a visitor's browser
ask for codes.
"""

from __future__ import annotations

import asyncio
from typing import Any, List
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.core.language import LANGUAGES
from bot.requests.delivery import DeliveryError
from bot.requests.ratelimit import RateLimited
from bot.requests.verification import CODE_TTL
from bot.services import Services
from bot.web import i18n
from bot.web.security import client_of, csrf_ok, csrf_token

TEMPLATE = "download.html"
# What each refusal of a link says (web.download.<state>), and its status code.
GONE = {"unknown": 404, "used": 410, "expired": 410}
CODE_PROBLEMS = ("code_wrong", "code_expired", "code_locked", "code_missing")


def _page(request: Request, state: str, status_code: int = 200, **context: Any) -> Response:
    language = i18n.visitor_language(request)
    response = i18n.templates.TemplateResponse(
        request,
        TEMPLATE,
        {
            "state": state,
            "token": request.path_params["token"],
            "csrf": csrf_token(request),
            "lang": language,
            "html_lang": i18n.HTML_LANG[language],
            "languages": LANGUAGES,
            "t": i18n.translator(language),
            "minutes": int(CODE_TTL.total_seconds() // 60),
            "error": None,
            **context,
        },
    )
    response.status_code = status_code
    response.headers["Content-Language"] = i18n.HTML_LANG[language]
    # The token is in the address: no cache keeps the page, no link leaks it onward.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _gone(request: Request, problem: DeliveryError) -> Response:
    state = problem.reason if problem.reason in GONE else "unknown"
    return _page(request, state, GONE[state])


def attachment(filename: str, content_type: str, content: bytes) -> Response:
    """The file, as a download under its name (RFC 6266: an ASCII fallback and the UTF-8
    name), never cached."""
    fallback = (
        "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in filename)
        or "download"
    )
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    return Response(
        content,
        media_type=content_type,
        headers={
            "Content-Disposition": disposition,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def routes(services: Services) -> List[Route]:
    async def show(request: Request) -> Response:
        """The link's page: what will happen, and the button that e-mails the code."""
        token = request.path_params["token"]
        try:
            masked, expires = await asyncio.to_thread(services.deliveries.check, token)
        except DeliveryError as problem:
            return _gone(request, problem)
        return _page(request, "ready", masked=masked, expires=expires.date().isoformat())

    async def act(request: Request) -> Response:
        """`action=send`: e-mail a fresh code; `action=download` with `code`: the file."""
        token = request.path_params["token"]
        form = await request.form()
        desk = services.deliveries
        try:
            masked, expires = await asyncio.to_thread(desk.check, token)
        except DeliveryError as problem:
            return _gone(request, problem)
        if not csrf_ok(request, form.get("csrf_token")):
            return _page(
                request,
                "ready",
                403,
                masked=masked,
                expires=expires.date().isoformat(),
                error="form_expired",
            )
        if form.get("action") == "send":
            try:
                masked = await asyncio.to_thread(desk.send_code, token)
            except RateLimited:
                return _page(
                    request,
                    "ready",
                    429,
                    masked=masked,
                    expires=expires.date().isoformat(),
                    error="too_many_codes",
                )
            except DeliveryError as problem:
                return _gone(request, problem)
            return _page(request, "code", masked=masked, sent=True)
        code = form.get("code")
        code = code.strip() if isinstance(code, str) else ""
        if not code:
            return _page(request, "code", 400, masked=masked, error="no_code")
        try:
            filename, content_type, content = await asyncio.to_thread(
                desk.download, token, code[:16], client_of(request)
            )
        except DeliveryError as problem:
            if problem.reason not in CODE_PROBLEMS:
                return _gone(request, problem)
            return _page(
                request,
                "code",
                400,
                masked=masked,
                error=problem.reason,
                attempts_left=problem.attempts_left,
            )
        return attachment(filename, content_type, content)

    return [
        Route("/download/{token}", show, methods=["GET"]),
        Route("/download/{token}", act, methods=["POST"]),
    ]
