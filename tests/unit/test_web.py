"""The web app: the chat page, its assets, and the relay to Rasa's REST channel."""

import json
import re
from dataclasses import replace

import httpx
import pytest
from starlette.testclient import TestClient

from bot.core.settings import load_settings
from bot.core.texts import text
from bot.requests.store import RequestStore
from bot.storage.db import make_engine
from bot.web.app import create_app, normalise_rasa_messages
from bot.web.staff import StaffServices

SENDER = "a" * 32
SERVICES = None


def rasa_stub(reply, status=200, seen=None):
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(json.loads(request.content))
        return httpx.Response(status, json=reply)
    return httpx.MockTransport(handler)


@pytest.fixture(autouse=True)
def services(migrated_sqlite):
    url = migrated_sqlite("web.db")
    global SERVICES
    SERVICES = StaffServices(RequestStore(make_engine(url), secret="s"))
    yield SERVICES


def client_for(transport, **overrides):
    settings = replace(load_settings(), rasa_url="http://rasa.test", **overrides)
    return TestClient(create_app(settings, transport=transport, services=SERVICES,
                                 session_secret="test"))


def test_the_page_is_a_product_page_with_a_chat_window_and_no_cdn():
    client = client_for(rasa_stub([]))
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert "VideoPro Cloud Meeting" in html
    for hook in ('id="chat-log"', 'id="chat-input"', 'id="chat-send"', "/static/chat.js",
                 "/static/style.css"):
        assert hook in html
    fetched_elsewhere = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//"""
                                   r"""|url\(\s*["']?(?:https?:)?//|@import""")
    assert not fetched_elsewhere.search(html), "assets must not come from another host"
    for asset in ("/static/chat.js", "/static/style.css"):
        response = client.get(asset)
        assert response.status_code == 200 and response.text
        assert not fetched_elsewhere.search(response.text)
        assert "fetch(\"http" not in response.text and "fetch('http" not in response.text


def test_chat_relays_to_rasa_and_keeps_text_and_buttons():
    seen = []
    reply = [{"recipient_id": SENDER, "text": "Hello",
              "buttons": [{"title": "Hi", "payload": "/greet"}]},
             {"recipient_id": SENDER, "image": "x.png"}]
    client = client_for(rasa_stub(reply, seen=seen))
    response = client.post("/api/chat", json={"sender": SENDER, "message": "  hi  "})
    assert response.status_code == 200
    assert response.json() == {"messages": [
        {"text": "Hello", "buttons": [{"title": "Hi", "payload": "/greet"}]}]}
    assert seen == [{"sender": SENDER, "message": "hi"}]


@pytest.mark.parametrize("body,expected", [
    ({"sender": SENDER, "message": "   "}, "Please type a message first."),
    ({"sender": "x", "message": "hi"}, "not valid"),
    ({"sender": SENDER}, "Please type a message first."),
    (["not", "an", "object"], "could not be read"),
])
def test_bad_input_gets_a_friendly_400_and_rasa_is_not_called(body, expected):
    seen = []
    client = client_for(rasa_stub([], seen=seen))
    response = client.post("/api/chat", json=body)
    assert response.status_code == 400
    assert expected in response.json()["messages"][0]["text"]
    assert seen == []


def test_a_message_over_the_limit_is_answered_kindly_without_reaching_rasa():
    seen = []
    client = client_for(rasa_stub([], seen=seen), max_message_chars=50)
    response = client.post("/api/chat", json={"sender": SENDER, "message": "x" * 51})
    assert response.status_code == 200
    assert "longer than I can read" in response.json()["messages"][0]["text"]
    assert seen == []


def test_rasa_down_gives_a_503_with_a_friendly_message():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)
    client = client_for(httpx.MockTransport(refuse))
    response = client.post("/api/chat", json={"sender": SENDER, "message": "hi"})
    assert response.status_code == 503
    assert response.json()["messages"][0]["text"] == text("web.unreachable")


def test_rasa_error_status_is_not_passed_through():
    client = client_for(rasa_stub({"error": "boom"}, status=500))
    response = client.post("/api/chat", json={"sender": SENDER, "message": "hi"})
    assert response.status_code == 503


def test_normalise_drops_what_the_page_cannot_render():
    assert normalise_rasa_messages({"not": "a list"}) == []
    assert normalise_rasa_messages([{"text": 3}, "x", {"buttons": [{"title": "A"}]}]) == [
        {"buttons": [{"title": "A", "payload": ""}]}]


def test_health():
    assert client_for(rasa_stub([])).get("/health").json() == {"status": "ok"}


def test_an_open_handoff_takes_the_visitors_messages_instead_of_rasa():
    seen = []
    client = client_for(rasa_stub([{"text": "bot"}], seen=seen))
    ticket = SERVICES.handoffs.create(SENDER, "asked", [], live=True)
    response = client.post("/api/chat", json={"sender": SENDER, "message": "hello, person?"})
    assert response.json() == {"messages": [], "handoff": True} and seen == []
    assert [m["text"] for m in SERVICES.handoffs.get(ticket.id).messages] == ["hello, person?"]
    SERVICES.handoffs.open(ticket.id, "sam")
    SERVICES.handoffs.reply(ticket.id, "sam", "Hi, I'm Sam.")
    news = client.get("/api/chat/news", params={"sender": SENDER, "after": 0}).json()["messages"]
    assert [(m["from"], m["text"]) for m in news][-1] == ("staff", "Hi, I'm Sam.")
    SERVICES.handoffs.close(ticket.id, "sam")
    last = news[-1]["id"]
    news = client.get("/api/chat/news", params={"sender": SENDER, "after": last}).json()
    assert "back with the automated" in news["messages"][-1]["text"]
    client.post("/api/chat", json={"sender": SENDER, "message": "and now?"})
    assert seen == [{"sender": SENDER, "message": "and now?"}]


# -- the served app: made by a factory when uvicorn starts, never at import --------------------

def test_the_served_app_comes_from_the_factory_with_the_settings(set_env):
    from starlette.applications import Starlette
    from starlette.middleware.sessions import SessionMiddleware

    import bot.web.app as web

    assert [name for name, value in vars(web).items() if isinstance(value, Starlette)] == []
    set_env(APP_SECRET="factory-secret", SECURE_COOKIES="1")
    [session] = [m for m in web.serve().user_middleware if m.cls is SessionMiddleware]
    assert session.kwargs["https_only"] is True
    assert session.kwargs["secret_key"] == "factory-secret"
    set_env(SECURE_COOKIES=None)
    [session] = [m for m in web.serve().user_middleware if m.cls is SessionMiddleware]
    assert session.kwargs["https_only"] is False
