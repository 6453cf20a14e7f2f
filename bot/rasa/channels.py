"""Rasa's REST and socketio channels, encoding each message ahead of NLU.

Named in `credentials.yml` (Rasa's documented custom connectors). They behave as Rasa's own
(`/webhooks/rest/webhook`, the socketio events), but before a message goes to the processor its
text is encoded in a worker thread (`bot.nlu.encoding_cache`), so the encoder's 20 ms run on the
second core while Rasa's event loop serves other conversations.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput

from bot.conversation import input_guard
from bot.nlu.encoder import load_encoder
from bot.nlu.encoding_cache import Prefetcher, process_cache

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
_PREFETCHER: "Prefetcher | None" = None


def prefetcher() -> Prefetcher:
    global _PREFETCHER
    if _PREFETCHER is None:
        _PREFETCHER = Prefetcher(process_cache(), load_encoder().encode_detailed)
    return _PREFETCHER


def encoding_ahead(on_new_message: OnNewMessage) -> OnNewMessage:
    async def handler(message: UserMessage) -> Any:
        await prefetcher().prefetch(input_guard.clean(message.text))
        return await on_new_message(message)

    return handler


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: OnNewMessage) -> Any:
        return super().blueprint(encoding_ahead(on_new_message))


class SocketIOInput(RasaSocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: OnNewMessage) -> Any:
        return super().blueprint(encoding_ahead(on_new_message))
