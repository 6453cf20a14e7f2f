"""Rasa's REST and socketio channels, with what this assistant needs of a channel.

Named in `credentials.yml` (Rasa's documented custom connectors). They behave as Rasa's own
(`/webhooks/rest/webhook`, the socketio events), with three additions:

- every message passes `bot.conversation.input_guard.prepare` before Rasa sees it: the cleaned
  text goes on; an empty or over-long message gets the friendly reply through the channel and
  is not processed at all (nothing reaches the tracker). A typed `/command` stays one only when
  it is exactly one of our own intents, taken from the domain of the agent the server has
  loaded (`app.ctx.agent`, which a model reload replaces), worked out once per domain;
- the message is then encoded in worker threads (`bot.nlu.encoding_cache`), one per sentence
  encoder, so the encoders run on both cores while Rasa's event loop serves other conversations;
- REST: a body that is not what the channel expects gets a 400 with a sentence instead of a
  500, and the channel name recorded is always the channel's own, never the visitor's.
  Socketio: only the site's own pages (`SITE_ORIGIN`) may connect.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Collection, Dict, FrozenSet, Optional, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.shared.core.constants import DEFAULT_INTENTS
from sanic import Blueprint
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from bot.conversation import input_guard
from bot.conversation.input_guard import SENDER_MAX_CHARS
from bot.core.language import has_han
from bot.core.settings import load_settings
from bot.nlu.encoder import load_encoder
from bot.nlu.encoding_cache import Prefetcher, multilingual_cache, process_cache
from bot.nlu.multilingual import load_multilingual

log = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
_PREFETCHERS: Tuple[Prefetcher, ...] = ()


def prefetchers() -> Tuple[Prefetcher, ...]:
    """One per sentence encoder, each with its own worker thread: the two encoders of a message
    run side by side on the two cores while the event loop serves other visitors."""
    global _PREFETCHERS
    if not _PREFETCHERS:
        # The English encoder is not asked for Chinese messages: config.yml gives them a zero
        # vector from it (`han: zero`) and reads them with the multilingual encoder.
        _PREFETCHERS = (
            Prefetcher(
                process_cache(),
                load_encoder().encode_detailed,
                wants=lambda text: not has_han(text),
            ),
            Prefetcher(multilingual_cache(), load_multilingual().encode_rows),
        )
    return _PREFETCHERS


async def prefetch(text: str) -> None:
    await asyncio.gather(*(one.prefetch(text) for one in prefetchers()))


class OwnIntents:
    """The intents a button payload may name: the domain's, without Rasa's defaults
    (`/restart`, `/session_start`, ...). Worked out once per domain object, not per message;
    a model reload brings a new domain, and with it a new set."""

    def __init__(self) -> None:
        self._domain: Any = None
        self._intents: FrozenSet[str] = frozenset()

    def of(self, domain: Any) -> FrozenSet[str]:
        if domain is None:
            return frozenset()  # no model loaded: no command counts (Rasa ignores it anyway)
        if domain is not self._domain:
            self._intents = frozenset(i for i in domain.intents if i not in DEFAULT_INTENTS)
            self._domain = domain
        return self._intents


def agent_domain(blueprint: Optional[Blueprint]) -> Any:
    """The domain of the agent loaded by the Rasa server this blueprint is registered on
    (`rasa.core.run.load_agent_on_start` and the HTTP API's model loading set `app.ctx.agent`),
    read when a message comes, since a model reload replaces the agent. None before that."""
    if blueprint is None or not blueprint.registered:
        return None
    for app in blueprint.apps:
        return getattr(getattr(app.ctx, "agent", None), "domain", None)
    return None


def guarded(
    on_new_message: OnNewMessage, intents: Callable[[], Collection[str]], max_chars: int
) -> OnNewMessage:
    """`on_new_message` for messages `input_guard.prepare` lets through (with the cleaned text,
    encoded ahead); the friendly reply, through the message's own output channel, for the rest."""

    async def handler(message: UserMessage) -> Any:
        prepared = input_guard.prepare(message.text, intents(), max_chars)
        if prepared.problem is not None:
            log.info("Not processed (%s): %d characters", prepared.problem, prepared.length)
            await message.output_channel.send_text_message(
                message.sender_id, input_guard.reply_for(prepared, max_chars)
            )
            return None
        message.text = prepared.text
        await prefetch(prepared.text)
        return await on_new_message(message)

    return handler


def guarded_blueprint(
    build: Callable[[OnNewMessage], Blueprint], on_new_message: OnNewMessage
) -> Blueprint:
    """`build(handler)`, Rasa's own blueprint, with the handler guarding each message against
    the domain of the app the blueprint ends up registered on."""
    own = OwnIntents()
    blueprint: Optional[Blueprint] = None  # known once built; read when a message comes

    def intents() -> FrozenSet[str]:
        return own.of(agent_domain(blueprint))

    blueprint = build(guarded(on_new_message, intents, load_settings().max_message_chars))
    return blueprint


# -- REST ----------------------------------------------------------------------------------------


def json_object(request: Request) -> Dict[str, Any]:
    """The body as a JSON object, or a 400 saying what it must be."""
    try:
        data = request.json
    except Exception:  # noqa: BLE001 - sanic raises its own 400 for bad JSON
        raise InvalidUsage("The body must be JSON.") from None
    if not isinstance(data, dict):
        raise InvalidUsage('The body must be a JSON object: {"sender": ..., "message": ...}')
    return data


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _extract_sender(self, req: Request) -> Optional[str]:
        """A conversation id: a string of 1 to SENDER_MAX_CHARS characters."""
        sender = json_object(req).get("sender", "default")
        if not isinstance(sender, str) or not 0 < len(sender) <= SENDER_MAX_CHARS:
            raise InvalidUsage(f"`sender` must be a string of 1 to {SENDER_MAX_CHARS} characters.")
        return sender

    def _extract_message(self, req: Request) -> Optional[str]:
        """A string, or nothing (answered as an empty message)."""
        message = json_object(req).get("message", "")
        if message is not None and not isinstance(message, str):
            raise InvalidUsage("`message` must be a string.")
        return message

    def _extract_input_channel(self, req: Request) -> str:
        """Always "rest": requests record the channel they came by, not what a body claims."""
        return self.name()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return guarded_blueprint(super().blueprint, on_new_message)


# -- socketio ------------------------------------------------------------------------------------


def only_the_site(engine_io: Any, site_origin: str) -> None:
    """Rasa's socketio server accepts a browser connection from any site (its CORS list is
    empty, which python-engineio reads as "do not check"); only the site's own pages may, others
    get a 400. Rasa's own CORS layer (`--cors`) already adds the CORS headers, and two copies
    would make browsers refuse the reply, so engine.io adds none."""
    if not callable(getattr(engine_io, "_cors_headers", None)):
        raise SystemExit(
            "Cannot start: python-engineio's server has no `_cors_headers` any more, which the "
            "socketio channel (bot/rasa/channels.py) replaces so that CORS headers are not sent "
            "twice. Install the python-engineio of requirements.lock, or rewrite "
            "`only_the_site` for the installed one."
        )
    engine_io.cors_allowed_origins = [site_origin]
    engine_io._cors_headers = lambda environ: []


class SocketIOInput(RasaSocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        blueprint = guarded_blueprint(super().blueprint, on_new_message)
        only_the_site(self.sio.eio, load_settings().site_origin)
        return blueprint
