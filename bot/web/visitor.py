"""The visitor's conversation: an id the web app issues and keeps in a signed cookie.

The conversation id is Rasa's sender id, and whoever holds it could read the staff's replies to
that visitor, type into their handoff as them, and carry on their request form. So no page ever
sees it: the app makes it (`secrets`, 192 bits, in the shape Rasa is given), signs it with the
time (itsdangerous, keyed from APP_SECRET), and keeps it in an HttpOnly, SameSite=Lax cookie
(Secure with SECURE_COOKIES). The chat endpoints act only on the id this cookie holds; a
`sender` a client still sends is ignored.

The cookie lasts as long as a conversation may sit idle (bot.core.session_expiry, Rasa's
session expiry): it is signed again on each message and rating, so it slides with what the
visitor does; past it, the signature's age refuses it and the next page or message starts a
new conversation. Lax rather than Strict: a visitor arriving from a link elsewhere must still
find their conversation, not have the page issue a new one over it.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import timedelta
from typing import Callable, Optional

from itsdangerous import BadSignature, TimestampSigner
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "vp_chat"
# What Rasa is given as a sender: the shape bot/rasa/channels.py and the actions expect.
SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
ID_BYTES = 24  # token_urlsafe: 32 characters of [A-Za-z0-9_-]
SALT = "videopro chat conversation v1"  # the cookie's key differs from the staff session's


class _ClockedSigner(TimestampSigner):
    """A timestamp signer on a given clock (tests sign cookies from the past with it)."""

    def __init__(self, secret: str, clock: Callable[[], float]) -> None:
        super().__init__(secret, salt=SALT)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


def new_conversation_id() -> str:
    """An unguessable conversation id that is also a valid Rasa sender."""
    return secrets.token_urlsafe(ID_BYTES)


class Conversations:
    """Issues, reads, renews and forgets the conversation cookie of one app."""

    def __init__(
        self,
        secret: str,
        idle: timedelta,
        secure: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signer = _ClockedSigner(secret, clock)
        self.idle_seconds = int(idle.total_seconds())
        self.secure = secure

    def sign(self, conversation_id: str) -> str:
        """The cookie's value for a conversation, signed now."""
        return self.signer.sign(conversation_id).decode()

    def of(self, request: Request) -> Optional[str]:
        """The caller's conversation: the cookie's id when its signature holds and it has not
        sat idle longer than a conversation may; None otherwise."""
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            conversation_id = self.signer.unsign(value, max_age=self.idle_seconds).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        return conversation_id if SENDER_PATTERN.match(conversation_id) else None

    def keep(self, response: Response, conversation_id: str) -> None:
        """Set (or renew, for another idle period) the cookie on a response."""
        response.set_cookie(
            COOKIE,
            self.sign(conversation_id),
            max_age=self.idle_seconds,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )

    def forget(self, response: Response) -> None:
        """Clear the cookie (the visitor ended the chat)."""
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)
