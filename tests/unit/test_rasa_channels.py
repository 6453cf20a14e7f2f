"""Our REST and socketio channels (`bot.rasa.channels`), served by a small Sanic app with a
stand-in agent: what reaches Rasa of each message, the 400s for malformed REST bodies, the
domain the guard reads, and socketio limited to the site's origin."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace

import httpx
import pytest
import socketio
from rasa.shared.core.domain import Domain

from bot.core.paths import ROOT
from bot.rasa.channels import OwnIntents, RestInput, SocketIOInput, only_the_site
from tests.support.channels import DOMAIN, SITE, Reached, quiet_test_sanic, serving, serving_app


@pytest.fixture(autouse=True)
def settings(set_env):
    set_env(MAX_MESSAGE_CHARS="50", SITE_ORIGIN=SITE)


async def post(url: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(f"{url}/webhooks/rest/webhook", timeout=10, **kwargs)


# -- REST ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'"text"',
        b'{"sender": 5}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": "x", "message": {"a": 1}}',
        b'{"sender": "x", "message": 12}',
        b'{"sender": "' + b"s" * 500 + b'", "message": "hi"}',
    ],
)
async def test_malformed_rest_bodies_get_a_clean_400(monkeypatch, body):
    reached = Reached()
    async with serving(RestInput(), reached, monkeypatch) as served:
        response = await post(
            served.url, content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["status"] == 400 and "must be" in response.json()["message"]
    assert reached.messages == []


async def test_the_channel_name_is_ours_and_a_missing_sender_is_the_default(monkeypatch):
    reached = Reached()
    async with serving(RestInput(), reached, monkeypatch) as served:
        response = await post(served.url, json={"message": "hi", "input_channel": "staff"})
    assert response.status_code == 200
    [message] = reached.messages
    assert message.input_channel == "rest" and message.sender_id == "default"


async def test_a_missing_message_is_answered_as_an_empty_one(monkeypatch):
    reached = Reached()
    async with serving(RestInput(), reached, monkeypatch) as served:
        for body in ({"sender": "v"}, {"sender": "v", "message": None}):
            response = await post(served.url, json=body)
            assert "didn't get any words" in response.json()[0]["text"]
    assert reached.messages == []


async def test_what_is_encoded_ahead_is_what_reaches_rasa_and_never_a_refused_message(monkeypatch):
    reached = Reached()
    async with serving(RestInput(), reached, monkeypatch) as served:
        for text in ["/restart", "who gets\u202e my data", "x" * 5000, "  "]:
            await post(served.url, json={"sender": "v", "message": text})
    assert reached.texts == reached.encoded == ["restart", "who gets my data"]


async def test_the_streamed_reply_is_guarded_too(monkeypatch):
    reached = Reached()
    async with serving(RestInput(), reached, monkeypatch) as served:
        streamed = await post(
            served.url, params={"stream": "true"}, json={"sender": "v", "message": "/restart"}
        )
        refused = await post(
            served.url, params={"stream": "true"}, json={"sender": "v", "message": "x" * 51}
        )
    assert '"processed: restart"' in streamed.text
    assert "longer than I can read" in refused.text and reached.texts == ["restart"]


async def test_button_payloads_come_from_the_loaded_domain_and_follow_a_model_reload(monkeypatch):
    reached = Reached()
    async with serving(RestInput(), reached, monkeypatch) as served:
        await post(served.url, json={"sender": "v", "message": "/affirm"})
        served.app.ctx.agent = SimpleNamespace(domain=Domain.from_dict({"intents": ["other"]}))
        for text in ["/affirm", "/other"]:
            await post(served.url, json={"sender": "v", "message": text})
        served.app.ctx.agent = SimpleNamespace(domain=None)  # model unloaded (PUT /model)
        await post(served.url, json={"sender": "v", "message": "/other"})
    assert reached.texts == ["/affirm", "affirm", "/other", "other"]


def test_own_intents_are_worked_out_once_per_domain():
    class CountingDomain:
        def __init__(self, intents):
            self._intents, self.reads = intents, 0

        @property
        def intents(self):
            self.reads += 1
            return self._intents

    own = OwnIntents()
    first = CountingDomain(["affirm", "restart", "session_start", "nlu_fallback", "stop"])
    assert own.of(first) == {"affirm", "stop"}  # Rasa's default intents are never buttons
    assert own.of(first) is own.of(first) and first.reads == 1
    reloaded = CountingDomain(["deny"])
    assert own.of(reloaded) == {"deny"} and reloaded.reads == 1
    assert own.of(None) == frozenset()
    assert "affirm" in own.of(DOMAIN) and "restart" not in own.of(DOMAIN)


# -- socketio ------------------------------------------------------------------------------------


async def socketio_turns(url: str, messages, origin: str = SITE):
    """Each message's replies, over the polling transport, as the live tests talk to it."""
    client = socketio.AsyncClient()
    replies: asyncio.Queue = asyncio.Queue()
    confirmed = asyncio.Event()
    client.on("bot_uttered", lambda data: replies.put_nowait(data))
    client.on("session_confirm", lambda data: confirmed.set())
    await client.connect(url, transports=["polling"], headers={"Origin": origin})
    session_id = uuid.uuid4().hex
    answers = []
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), 10)
        for message in messages:
            await client.emit("user_uttered", {"message": message, "session_id": session_id})
            answers.append((await asyncio.wait_for(replies.get(), 10))["text"])
    finally:
        await client.disconnect()
    return answers


def socketio_channel() -> SocketIOInput:
    return SocketIOInput.from_credentials(
        {
            "user_message_evt": "user_uttered",
            "bot_message_evt": "bot_uttered",
            "session_persistence": True,
        }
    )


async def test_socketio_messages_are_guarded_like_rest(monkeypatch):
    reached = Reached()
    async with serving(socketio_channel(), reached, monkeypatch) as served:
        answers = await socketio_turns(served.url, ["/restart", "", "x" * 51, "/affirm"])
    assert answers[0] == "processed: restart" and answers[3] == "processed: /affirm"
    assert "didn't get any words" in answers[1] and "longer than I can read" in answers[2]
    assert reached.texts == ["restart", "/affirm"]
    assert {m.input_channel for m in reached.messages} == {"socketio"}


async def test_socketio_refuses_other_sites(monkeypatch):
    async with serving(socketio_channel(), Reached(), monkeypatch) as served:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await socketio_turns(served.url, ["hi"], origin="https://evil.example")


async def test_socketio_adds_no_cors_header_of_its_own(monkeypatch):
    """Rasa's CORS layer (`--cors SITE_ORIGIN`) adds it; a second copy makes browsers refuse."""
    async with serving(socketio_channel(), Reached(), monkeypatch) as served:
        async with httpx.AsyncClient() as client:
            ours = await client.get(
                f"{served.url}/socket.io/?EIO=4&transport=polling", headers={"Origin": SITE}
            )
            evil = await client.get(
                f"{served.url}/socket.io/?EIO=4&transport=polling",
                headers={"Origin": "https://evil.example"},
            )
    assert ours.status_code == 200 and "access-control-allow-origin" not in ours.headers
    assert evil.status_code == 400


def test_an_engineio_without_the_replaced_method_stops_at_start():
    with pytest.raises(SystemExit, match="_cors_headers"):
        only_the_site(SimpleNamespace(cors_allowed_origins=[]), SITE)


# -- in Rasa's own server app, as `rasa run --credentials credentials.yml --cors SITE` builds it --


async def test_rasa_builds_our_channels_from_credentials_and_serves_them(monkeypatch):
    from rasa.core.run import configure_app, create_http_input_channels

    reached = Reached()
    quiet_test_sanic(reached, monkeypatch)
    inputs = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    assert [type(c) for c in inputs] == [RestInput, SocketIOInput]
    app = configure_app(inputs, cors=[SITE], enable_api=False, port=0)

    async def handle_message(message):  # the stand-in agent: records, answers
        await reached.on_new_message(message)

    async with serving_app(app) as served:
        served.app.ctx.agent.handle_message = handle_message
        async with httpx.AsyncClient() as client:
            handshake = await client.get(
                f"{served.url}/socket.io/?EIO=4&transport=polling", headers={"Origin": SITE}
            )
            preflight = {"Access-Control-Request-Method": "POST"}
            evil = await client.options(
                f"{served.url}/webhooks/rest/webhook",
                headers={"Origin": "https://evil.example", **preflight},
            )
        typed = await post(served.url, json={"sender": "v", "message": "/restart"})
        empty = await post(served.url, json={"sender": "v", "message": ""})
        bad = await post(served.url, content=b"[]", headers={"Content-Type": "application/json"})
        answers = await socketio_turns(served.url, ["/session_start", " "])
    assert handshake.headers.get_list("access-control-allow-origin") == [SITE]  # one copy
    assert evil.headers.get("access-control-allow-origin") in (None, "")
    assert typed.json()[0]["text"] == "processed: restart"
    assert "didn't get any words" in empty.json()[0]["text"]
    assert bad.status_code == 400 and bad.json()["status"] == 400
    assert answers[0] == "processed: session_start" and "didn't get any" in answers[1]
    assert reached.texts == ["restart", "session_start"]


def test_each_encoder_is_prefetched_and_the_english_one_not_for_chinese():
    from bot.nlu.encoding_cache import multilingual_cache, process_cache
    from bot.rasa.channels import prefetchers

    english, multilingual = prefetchers()
    assert english.cache is process_cache() and multilingual.cache is multilingual_cache()
    assert english.wants("delete my account") and not english.wants("请删除我的账户")
    assert multilingual.wants("请删除我的账户") and multilingual.wants("delete my account")
