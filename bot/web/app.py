"""The website: the product page with the chat window, and the chat endpoint behind it.

The browser talks only to this app; the app relays to Rasa's REST channel. Keeping Rasa behind
the web app means Rasa's port never has to face the internet, and the app is the one place that
checks what visitors send (length, shape) before any of it reaches the assistant.

The page is rendered in the visitor's language (bot.web.i18n: their 中文 / English switch, else
their browser's); the chat relay answers its own errors in the page's language and passes the
switch (`/set_language{"language": <code>}`, a registered language) to Rasa like any message,
also during a handoff, where it is not a line for the person: the conversation's language is
Rasa's `language` slot.

Each visitor's conversation is the app's to issue (bot.web.visitor): its id lives in a signed,
HttpOnly cookie set by the page or by the first chat answer, and the chat endpoints act on that
id alone; a `sender` in a request is ignored, so no one reaches another visitor's conversation.
Every response carries the security headers, and oversized request headers get a 431
(bot.web.hardening).

Nothing is built at import: `create_app` makes an app, and `serve` the one uvicorn serves
(`uvicorn --factory bot.web.app:serve`, as bot.devtools.stack starts it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional

import httpx
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from bot.conversation import input_guard
from bot.core.language import LANGUAGES
from bot.core.masking import install_log_masking
from bot.core.session_expiry import conversation_idle_expiry
from bot.core.settings import MissingSecret, Settings, app_secret, load_settings
from bot.core.texts import text
from bot.fulfilment.worker import deliver_webhooks_forever
from bot.mail.worker import deliver_outbox_forever
from bot.policy.gaps import AnswerRef, clean_answer_payload
from bot.requests.systems import check_systems
from bot.services import Services
from bot.web import download, fulfilment_api, i18n
from bot.web.hardening import SiteApp, SiteStaticFiles
from bot.web.staff import SESSION_LIFETIME
from bot.web.staff import routes as staff_routes
from bot.web.visitor import Conversations, new_conversation_id

WEB_DIR = Path(__file__).resolve().parent
RASA_TIMEOUT_SECONDS = 30.0

log = logging.getLogger(__name__)
install_log_masking()

# What visitors are told when their message or rating cannot be handled: the catalogue of
# texts, `web.*` (`_error(400, text("web.no_message", language))`), in the page's language.
# The texts the page's script needs, for both languages (the switch relabels the page in place).
SCRIPT_TEXTS = ("web.page.", "web.chat.", "web.unreachable")


def chat_language(request: Request, body: Optional[Dict[str, Any]] = None) -> str:
    """The language of the page that sent a chat request: what the page says it shows (the
    `language` field of the body), else the visitor's cookie or browser. Only for the web app's
    own messages: the conversation's language is Rasa's `language` slot."""
    stated = i18n.known(body.get("language")) if isinstance(body, dict) else None
    return (
        stated or i18n.known(request.query_params.get("language")) or i18n.visitor_language(request)
    )


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "messages": [{"text": message}]}, status_code=status)


def _feedback_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _answer_of(item: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The rating reference of a policy answer (`{"custom": {"answer": {...}}}`), or None."""
    custom = item.get("custom")
    return clean_answer_payload(custom.get("answer")) if isinstance(custom, dict) else None


LANGUAGE_SWITCH = re.compile(r"^\s*/set_language(?:\{.*\})?\s*$", re.DOTALL)


def is_language_switch(message: str) -> bool:
    """Whether a message is the chat window's language switch (`/set_language{...}`)."""
    return LANGUAGE_SWITCH.match(message) is not None


def normalise_rasa_messages(payload: Any) -> List[Dict[str, Any]]:
    """Keep only what the page renders from Rasa's REST reply: text, buttons, and the answer
    reference the page rates an answer with. Rasa sends a custom payload as a message of its
    own, after the text it belongs to, so an answer is attached to the text before it; any
    other custom payload, or an answer with no text to belong to, is dropped."""
    messages: List[Dict[str, Any]] = []
    for item in payload if isinstance(payload, list) else []:
        if not isinstance(item, dict):
            continue
        message: Dict[str, Any] = {}
        if isinstance(item.get("text"), str):
            message["text"] = item["text"]
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in item.get("buttons") or []
            if isinstance(b, dict)
        ]
        if buttons:
            message["buttons"] = buttons
        answer = _answer_of(item)
        if answer is not None:
            owner = (
                message
                if "text" in message
                else (messages[-1] if messages and "text" in messages[-1] else None)
            )
            if owner is not None:
                owner["answer"] = answer
        if message:
            messages.append(message)
    return messages


class RasaRelay:
    """The one HTTP client the chat relay reaches Rasa with, kept open between messages: a
    client per message built its TLS context and its connection each time (26 ms of the web
    app's CPU per message under `make bench`). One per event loop, since a client's
    connections belong to the loop that opened them (tests run requests on loops of their own)."""

    def __init__(self, transport: Optional[httpx.AsyncBaseTransport] = None) -> None:
        self.transport = transport
        self._client: Optional[httpx.AsyncClient] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(transport=self.transport, timeout=RASA_TIMEOUT_SECONDS)
            self._loop = loop
        return self._client

    async def close(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None


def create_app(
    settings: Optional[Settings] = None,
    transport: Optional[httpx.AsyncBaseTransport] = None,
    deliver_mail: bool = False,
    services: Optional[Services] = None,
    session_secret: Optional[str] = None,
    secure_cookies: bool = False,
    conversation_idle: Optional[timedelta] = None,
) -> SiteApp:
    """`transport` lets tests stand in for Rasa without a network; `deliver_mail` runs the
    outbox worker beside the site (the served app does, tests of pages do not; it sends only
    in the one process that holds the outbox worker lock, bot.mail.worker); `services`
    (bot.services: built from the settings when not given, kept on `app.state.services`) are
    what the pages and the chat relay work with (answer ratings go to the same database as
    the requests). `session_secret` (else APP_SECRET) keys the staff session and the visitors'
    conversation cookies; `conversation_idle` (else domain.yml's session expiry) is how long a
    conversation cookie outlives the visitor's last message."""
    settings = settings or load_settings()
    services = services or Services()
    secret = session_secret or app_secret()
    idle = conversation_idle or conversation_idle_expiry()
    conversations = Conversations(secret, idle, secure=secure_cookies)

    async def index(request: Request) -> Response:
        """The product page in the visitor's language (their switch, else their browser's)."""
        language = i18n.visitor_language(request)
        response = i18n.templates.TemplateResponse(
            request,
            "index.html",
            {
                "lang": language,
                "html_lang": i18n.HTML_LANG[language],
                "html_langs": i18n.HTML_LANG,
                "languages": LANGUAGES,
                "t": i18n.translator(language),
                "texts": {
                    "language": language,
                    "html_lang": i18n.HTML_LANG,
                    "texts": i18n.bundle(SCRIPT_TEXTS),
                    # The page wipes the chat it kept once the conversation has sat idle this
                    # long, as the cookie and Rasa's session end then.
                    "idle_seconds": conversations.idle_seconds,
                },
            },
        )
        response.headers["Content-Language"] = i18n.HTML_LANG[language]
        response.headers["Vary"] = "Accept-Language, Cookie"
        response.headers["Cache-Control"] = "no-store"  # it may set a visitor's own cookie
        if conversations.of(request) is None:
            conversations.keep(response, new_conversation_id())
        return response

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def chat(request: Request) -> JSONResponse:
        """A visitor's message, relayed in their own conversation (the cookie's, issued now
        when they have none); every answer renews the cookie for another idle period."""
        sender = conversations.of(request) or new_conversation_id()
        response = await relay(request, sender)
        conversations.keep(response, sender)
        return response

    async def relay(request: Request, sender: str) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, text("web.unreadable", chat_language(request)))
        language = chat_language(request, body)
        if not isinstance(body, dict):
            return _error(400, text("web.unreadable", language))
        message = body.get("message")  # a `sender` in the body is not the caller's to choose
        if not isinstance(message, str):
            return _error(400, text("web.no_message", language))
        # Rasa checks again (other channels reach it directly); checking here too keeps
        # what goes to a person in a handoff just as clean.
        prepared = input_guard.prepare(message, (), settings.max_message_chars)
        if prepared.problem == input_guard.EMPTY:
            return _error(400, text("web.no_message", language))
        if prepared.problem == input_guard.TOO_LONG:
            # input_guard.reply_for's text (`input.too_long`), in the page's language.
            return JSONResponse(
                {
                    "messages": [
                        {
                            "text": text(
                                "input.too_long",
                                language,
                                length=prepared.length,
                                limit=settings.max_message_chars,
                            )
                        }
                    ]
                }
            )
        message = input_guard.clean(message)
        ticket_id = await asyncio.to_thread(services.handoffs.routed_ticket, sender)
        if ticket_id is not None and not is_language_switch(message):
            # The language switch is for the assistant (its `language` slot), never a line
            # for the person on the other end of a handoff.
            # A person has the conversation: the message goes to them, not to the assistant.
            await asyncio.to_thread(services.handoffs.from_visitor, ticket_id, message)
            return JSONResponse({"messages": [], "handoff": True})
        try:
            response = await rasa.client().post(
                f"{settings.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": message},
            )
            response.raise_for_status()
            payload = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("Rasa did not answer: %s", type(error).__name__)
            return _error(503, text("web.unreachable", language))
        return JSONResponse({"messages": normalise_rasa_messages(payload)})

    async def feedback(request: Request) -> JSONResponse:
        """A visitor's "was this helpful?" for an answer: trusted by its token, not by Rasa."""
        try:
            body = await request.json()
        except ValueError:
            return _feedback_error(400, text("web.feedback.unreadable", chat_language(request)))
        language = chat_language(request, body)
        if not isinstance(body, dict):
            return _feedback_error(400, text("web.feedback.unreadable", language))
        sender = conversations.of(request)  # an answer is rated in the conversation it was in
        if sender is None:
            return _feedback_error(400, text("web.bad_session", language))
        helpful = body.get("helpful")
        if not isinstance(helpful, bool):
            return _feedback_error(400, text("web.feedback.no_choice", language))
        try:
            secret = app_secret()
        except MissingSecret:
            log.warning("Answer rating refused: APP_SECRET is not set")
            return _feedback_error(503, text("web.feedback.unavailable", language))
        try:
            ref = AnswerRef.from_payload(body.get("answer"), secret, sender)
        except ValueError:
            return _feedback_error(400, text("web.feedback.unreadable", language))
        try:
            await asyncio.to_thread(services.gaps.feedback, ref, helpful)
        except SQLAlchemyError as error:
            log.warning("Answer rating not saved: %s", type(error).__name__)
            return _feedback_error(503, text("web.feedback.unavailable", language))
        rated = JSONResponse({"ok": True})
        conversations.keep(rated, sender)
        return rated

    async def news(request: Request) -> JSONResponse:
        """What staff (or the system) said in the caller's conversation since the page last
        asked: the page polls this. No conversation, no news; polling renews nothing (only
        what the visitor does keeps a conversation alive)."""
        sender = conversations.of(request)
        if sender is None:
            return JSONResponse({"messages": []})
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            after = 0
        lines = await asyncio.to_thread(services.handoffs.news_for_visitor, sender, after)
        return JSONResponse(
            {
                "messages": [
                    {
                        "id": line["id"],
                        "text": line["text"],
                        "from": line["sender"],
                        "author": line["author"],
                    }
                    for line in lines
                ]
            }
        )

    async def end_chat(_: Request) -> JSONResponse:
        """The visitor's "End chat": the browser forgets the conversation (the cookie is
        cleared; the page wipes what it kept), and the next message starts a new one."""
        response = JSONResponse({"ok": True})
        conversations.forget(response)
        return response

    rasa = RasaRelay(transport)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        workers = (
            [
                asyncio.create_task(deliver_outbox_forever()),
                asyncio.create_task(deliver_webhooks_forever(services.fulfilment)),
            ]
            if deliver_mail
            else []
        )
        yield
        await rasa.close()
        for task in workers:
            task.cancel()  # the worker lock is given up, for another process to take over
            with contextlib.suppress(asyncio.CancelledError):
                await task

    routes = [
        Route("/", index),
        Route("/health", health),
        Route("/api/chat", chat, methods=["POST"]),
        Route("/api/chat/news", news),
        Route("/api/chat/end", end_chat, methods=["POST"]),
        Route("/api/feedback", feedback, methods=["POST"]),
        *staff_routes(services),
        *download.routes(services),
        *fulfilment_api.routes(services),
        Mount("/static", app=SiteStaticFiles(directory=WEB_DIR / "static"), name="static"),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=secret,
            session_cookie="vp_staff",
            max_age=int(SESSION_LIFETIME.total_seconds()),
            same_site="strict",
            https_only=secure_cookies,
        )
    ]
    app = SiteApp(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.services = services
    return app


def serve() -> SiteApp:
    """The served app (`uvicorn --factory bot.web.app:serve`): the outbox delivered over SMTP
    and the fulfilment tasks to their webhooks beside the site, and the staff and conversation
    cookies `Secure` as SECURE_COOKIES says (bot.core.settings)."""
    settings = load_settings()
    check_systems()  # a mistake in SYSTEMS_FILE stops the start, named
    return create_app(settings, deliver_mail=True, secure_cookies=settings.secure_cookies)
