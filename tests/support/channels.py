"""Our Rasa channels (`bot.rasa.channels`) on a small in-process Sanic app on a free port, without
Rasa's server: a stand-in agent holding the real domain, and an `on_new_message` that records
what would have reached Rasa's processor and answers "processed: <text>"."""

from __future__ import annotations

import asyncio
import socket
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, AsyncIterator, List, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.domain import Domain
from sanic import Sanic

import bot.rasa.channels as channels
from bot.core.paths import ROOT

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
SITE = "https://www.videopro.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Reached:
    """What reached Rasa's processor, and what the prefetcher was asked to encode."""

    messages: List[UserMessage] = field(default_factory=list)
    encoded: List[str] = field(default_factory=list)

    @property
    def texts(self) -> List[str]:
        return [m.text for m in self.messages]

    async def on_new_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(
            message.sender_id, f"processed: {message.text}"
        )

    async def prefetch(self, text: str) -> None:
        self.encoded.append(text)


@dataclass
class Served:
    url: str  # http://127.0.0.1:<port>
    app: Sanic  # `app.ctx.agent` is the stand-in agent: replace it to "reload the model"


@asynccontextmanager
async def serving(
    channel: InputChannel, reached: Reached, monkeypatch: Any, domain: Optional[Domain] = DOMAIN
) -> AsyncIterator[Served]:
    """The channel's blueprint mounted as Rasa mounts it (`/webhooks/<name>`), served until the
    block ends. The encoder is never loaded: `reached` stands in for it."""
    quiet_test_sanic(reached, monkeypatch)
    app = Sanic(f"channel_test_{uuid.uuid4().hex}")
    app.blueprint(
        channel.blueprint(reached.on_new_message), url_prefix=f"/webhooks/{channel.name()}"
    )
    async with serving_app(app, domain) as served:
        yield served


def quiet_test_sanic(reached: Reached, monkeypatch: Any) -> None:
    monkeypatch.setattr(channels, "prefetch", reached.prefetch)
    # What sanic-testing does: lets Sanic start several apps in one process (it rewrites some of
    # its own methods at each start, from the originals only in test mode).
    monkeypatch.setattr(Sanic, "test_mode", True)


@asynccontextmanager
async def serving_app(app: Sanic, domain: Optional[Domain] = DOMAIN) -> AsyncIterator[Served]:
    """`app` on a free port of 127.0.0.1, with a stand-in agent holding `domain`."""
    app.ctx.agent = SimpleNamespace(domain=domain)
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()  # listeners, as `app.run` calls them (Sanic-CORS is set up here)
    await server.after_start()
    try:
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await close_connections(server.connections)
        await server.after_stop()
        Sanic._app_registry.pop(app.name, None)


async def close_connections(connections: Any) -> None:
    """Keep-alive connections closed while the loop still runs, as Sanic's own shutdown does
    (otherwise their tasks end after the test's loop has closed, with a traceback)."""
    for connection in list(connections):
        connection.close_if_idle()
    for _ in range(50):
        if not connections:
            return
        await asyncio.sleep(0.02)
    for connection in list(connections):
        connection.abort()
