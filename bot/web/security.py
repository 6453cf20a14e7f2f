"""What every form of the site checks, staff pages and the requester's download page alike: the
session's CSRF token, and the client address that the audit log and the login throttle name."""

from __future__ import annotations

import hmac
import secrets
from typing import Union

from starlette.datastructures import UploadFile
from starlette.requests import Request


def client_of(request: Request) -> str:
    """The client address the audit log and the login throttle name."""
    return request.client.host if request.client else "unknown"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use, so every form rendered can carry it."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, submitted: Union[str, UploadFile, None]) -> bool:
    """Whether a submitted token is the session's (compared in constant time). A form field
    can also hold a file, or text that is not ASCII: neither is the token."""
    expected = request.session.get("csrf")
    if not expected or not submitted or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(str(expected).encode(), submitted.encode())
