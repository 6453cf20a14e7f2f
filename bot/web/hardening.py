"""What every response of the site carries, what no request may bring, and static files that
answer a malformed path with a 404.

- Security headers on every response (pages, JSON, static files, errors, staff pages,
  downloads): a CSP that allows no inline script and no framing, X-Frame-Options for older
  browsers, nosniff, and a Referrer-Policy that keeps URLs (download links carry tokens) on this
  site. A header a handler set itself wins (the download page says `no-referrer`).
- A request whose headers together exceed `MAX_HEADER_BYTES` is answered 431 and reaches no
  handler: uvicorn's httptools parser sets no such limit.
- `/static/a%00b`: the path reaches `os.stat`, which refuses a null byte with ValueError (a 500
  in Starlette's StaticFiles); here it is a file that does not exist.

`SiteApp` puts the first two around everything Starlette builds, error pages included (its
ServerErrorMiddleware sits outside the user middleware).
"""

from __future__ import annotations

import os
from typing import List, Optional, Tuple

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script, style attribute or handler anywhere (templates and scripts are checked by
# tests/unit/test_web_hardening.py); JSON data blocks (`<script type="application/json">`) are
# not scripts. `data:` images: the favicon and one CSS icon are inline SVG data URLs.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
SECURITY_HEADERS: Tuple[Tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
)
# Every header's name and value together; browsers send a few KB at most (nginx's default
# buffers take 4 x 8 KB per request line and header).
MAX_HEADER_BYTES = 16 * 1024


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: List[Tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [
                    (name.encode(), value.encode())
                    for name, value in SECURITY_HEADERS
                    if name.encode() not in present
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class HeaderLimit:
    """Answers 431 to a request whose headers exceed `limit` bytes, before any handler."""

    def __init__(self, app: ASGIApp, limit: int = MAX_HEADER_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) for name, value in scope.get("headers", []))
            if size > self.limit:
                response = PlainTextResponse(
                    "Request Header Fields Too Large",
                    status_code=431,
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SiteApp(Starlette):
    """Starlette with the security headers and the header limit outside all it builds."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(HeaderLimit(super().build_middleware_stack()))


class SiteStaticFiles(StaticFiles):
    """StaticFiles for which a path the file system cannot name (a null byte) is not there."""

    def lookup_path(self, path: str) -> Tuple[str, Optional[os.stat_result]]:
        if "\x00" in path:
            return "", None
        try:
            return super().lookup_path(path)
        except ValueError:  # anything else os.stat refuses to look up
            return "", None
