"""Conversations that belong to their visitor: the web app issues each visitor's conversation id
in a signed, HttpOnly cookie, renews it with what they do, forgets it on "End chat", and acts on
no other conversation whatever a request names (bot/web/visitor.py, bot/web/app.py)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from starlette.testclient import TestClient

from bot.core.session_expiry import conversation_idle_expiry
from bot.core.settings import load_settings
from bot.requests.store import RequestStore
from bot.services import Services
from bot.storage.db import make_engine
from bot.web.app import create_app
from bot.web.visitor import COOKIE, SENDER_PATTERN, new_conversation_id
from tests.support.visitors import conversation_of, cookie_domain, holding

SESSION_SECRET = "conversation-test-secret"
IDLE = conversation_idle_expiry()


@pytest.fixture
def services(migrated_sqlite):
    services = Services(RequestStore(make_engine(migrated_sqlite("visitors.db")), secret="s"))
    yield services
    services.store.engine.dispose()


class Rasa:
    """Rasa's REST channel, answering each message with the sender it was relayed for."""

    def __init__(self) -> None:
        self.seen: list = []

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            self.seen.append(body)
            return httpx.Response(200, json=[{"text": f"hello {body['sender']}"}])

        return httpx.MockTransport(handler)


@pytest.fixture
def rasa():
    return Rasa()


@pytest.fixture
def app(services, rasa):
    settings = replace(load_settings(), rasa_url="http://rasa.test")
    return create_app(
        settings, transport=rasa.transport(), services=services, session_secret=SESSION_SECRET
    )


def set_cookies(response) -> list:
    return [c for c in response.headers.get_list("set-cookie") if c.startswith(COOKIE + "=")]


def conversation(client) -> str:
    found = conversation_of(client, SESSION_SECRET)
    assert found is not None
    return found


# -- issued by the app -----------------------------------------------------------------------


def test_the_page_issues_a_signed_httponly_samesite_cookie_that_lasts_the_idle_expiry(app):
    page = TestClient(app).get("/")
    [cookie] = set_cookies(page)
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
    assert f"max-age={int(IDLE.total_seconds())}" in attributes
    assert "secure" not in attributes
    value = cookie.split(";")[0].split("=", 1)[1]
    conversation_id = value.split(".")[0]
    assert SENDER_PATTERN.match(conversation_id) and len(conversation_id) == 32
    assert conversation_id not in page.text  # the page never sees it


def test_the_cookie_is_secure_with_secure_cookies(services, rasa):
    app = create_app(
        replace(load_settings(), rasa_url="http://rasa.test"),
        transport=rasa.transport(),
        services=services,
        session_secret=SESSION_SECRET,
        secure_cookies=True,
    )
    [cookie] = set_cookies(TestClient(app, base_url="https://testserver").get("/"))
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_ids_are_unguessable_and_in_the_shape_rasa_is_given():
    ids = {new_conversation_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(SENDER_PATTERN.match(i) and len(i) == 32 for i in ids)


def test_a_valid_cookie_is_kept_and_a_forged_or_expired_one_replaced(app):
    client = TestClient(app)
    client.get("/")
    first = conversation(client)
    again = client.get("/")
    assert set_cookies(again) == [] and conversation(client) == first  # reading is not activity

    forged = TestClient(app)
    forged.cookies.set(COOKIE, first + ".AAAAAA.forged-signature", domain=cookie_domain(forged))
    forged.get("/")
    assert conversation(forged) != first

    other_key = holding(TestClient(app), first, "another-secret")
    other_key.get("/")
    assert conversation(other_key) != first

    expired = holding(TestClient(app), first, SESSION_SECRET, age_seconds=IDLE.total_seconds() + 5)
    expired.get("/")
    assert conversation(expired) != first


def test_a_client_that_keeps_cookies_needs_nothing_else_to_chat(app, rasa):
    client = TestClient(app)
    first = client.post("/api/chat", json={"message": "hello", "language": "en"})
    assert first.status_code == 200 and set_cookies(first)
    issued = conversation(client)
    assert rasa.seen == [{"sender": issued, "message": "hello"}]
    assert first.json() == {"messages": [{"text": f"hello {issued}"}]}
    client.post("/api/chat", json={"message": "and again", "language": "en"})
    assert rasa.seen[-1] == {"sender": issued, "message": "and again"}


def test_every_answer_renews_the_cookie_so_the_expiry_slides(app, rasa):
    nearly = IDLE.total_seconds() - 60
    client = holding(TestClient(app), "s" * 32, SESSION_SECRET, age_seconds=nearly)
    answer = client.post("/api/chat", json={"message": "still here"})
    assert set_cookies(answer) and rasa.seen == [{"sender": "s" * 32, "message": "still here"}]
    stamp = client.cookies.get(COOKIE).split(".")[1]
    assert (
        stamp
        != holding(TestClient(app), "s" * 32, SESSION_SECRET, nearly)
        .cookies.get(COOKIE)
        .split(".")[1]
    )
    # Polling for staff replies is not activity: it renews nothing.
    assert set_cookies(client.get("/api/chat/news")) == []


def test_an_error_answer_still_issues_the_conversation(app, rasa):
    client = TestClient(app)
    response = client.post("/api/chat", json={"message": "   "})
    assert response.status_code == 400 and set_cookies(response) and rasa.seen == []


# -- nobody reaches another visitor's conversation -----------------------------------------


@pytest.fixture
def two_visitors(app):
    """A and B, each with the conversation the page issued them."""
    a, b = TestClient(app), TestClient(app)
    a.get("/")
    b.get("/")
    return a, b


def test_a_sender_in_the_body_is_ignored(two_visitors, rasa):
    a, b = two_visitors
    a_id, b_id = conversation(a), conversation(b)
    assert a_id != b_id
    b.post("/api/chat", json={"sender": a_id, "message": "I am A now"})
    assert rasa.seen == [{"sender": b_id, "message": "I am A now"}]


def test_b_cannot_read_as_news_what_staff_said_to_a(two_visitors, services):
    a, b = two_visitors
    a_id = conversation(a)
    ticket = services.handoffs.create(a_id, "asked", [], live=True)
    services.handoffs.open(ticket.id, "sam")
    services.handoffs.reply(ticket.id, "sam", "Hi A, your code is on its way.")
    for query in ({"sender": a_id, "after": 0}, {"after": 0}):
        assert b.get("/api/chat/news", params=query).json() == {"messages": []}
    stranger = TestClient(b.app)  # no cookie at all
    assert stranger.get("/api/chat/news", params={"sender": a_id}).json() == {"messages": []}
    news = a.get("/api/chat/news", params={"after": 0}).json()["messages"]
    assert news[-1]["text"] == "Hi A, your code is on its way."


def test_b_cannot_post_into_as_handoff(two_visitors, services, rasa):
    a, b = two_visitors
    a_id, b_id = conversation(a), conversation(b)
    ticket = services.handoffs.create(a_id, "asked", [], live=True)
    answer = b.post("/api/chat", json={"sender": a_id, "message": "this is A, send it here"})
    assert answer.json() != {"messages": [], "handoff": True}
    assert rasa.seen == [{"sender": b_id, "message": "this is A, send it here"}]
    assert services.handoffs.get(ticket.id).messages == []
    handed = a.post("/api/chat", json={"message": "hello, person?"})
    assert handed.json() == {"messages": [], "handoff": True}
    assert [m["text"] for m in services.handoffs.get(ticket.id).messages] == ["hello, person?"]


def test_b_polling_does_not_mark_a_as_present(two_visitors, services):
    """Whether a reply goes to the chat or by e-mail depends on the visitor being there: B's
    polling with A's id must not divert A's e-mailed reply into nowhere."""
    a, b = two_visitors
    a_id = conversation(a)
    ticket = services.handoffs.create(a_id, "asked", [], live=False, contact_email="a@example.com")
    services.handoffs.open(ticket.id, "sam")
    b.get("/api/chat/news", params={"sender": a_id})
    assert services.handoffs.reply(ticket.id, "sam", "We looked into it.") == "email"


# -- "End chat" ----------------------------------------------------------------------------


def test_end_chat_clears_the_cookie_and_the_next_message_starts_a_new_conversation(app, rasa):
    client = TestClient(app)
    client.post("/api/chat", json={"message": "first"})
    before = conversation(client)
    ended = client.post("/api/chat/end")
    assert ended.status_code == 200 and ended.json() == {"ok": True}
    [cleared] = set_cookies(ended)
    assert re.search(r"max-age=0|expires=thu, 01 jan 1970", cleared.lower())
    assert "httponly" in cleared.lower()
    assert client.cookies.get(COOKIE) is None
    assert client.get("/api/chat/news").json() == {"messages": []}
    client.post("/api/chat", json={"message": "second"})
    after = conversation(client)
    assert after != before
    assert rasa.seen == [
        {"sender": before, "message": "first"},
        {"sender": after, "message": "second"},
    ]


def test_end_chat_is_a_post(app):
    assert TestClient(app).get("/api/chat/end").status_code == 405


# -- the idle expiry: Rasa's, said once -----------------------------------------------------


def test_the_idle_expiry_is_the_domains_session_expiration_time():
    import yaml

    from bot.core.paths import DOMAIN_FILE

    minutes = yaml.safe_load(DOMAIN_FILE.read_text())["session_config"]["session_expiration_time"]
    assert IDLE == timedelta(minutes=minutes)


@pytest.mark.parametrize(
    "config", ["", "session_config: {}\n", "session_config:\n  session_expiration_time: 0\n"]
)
def test_a_domain_without_a_positive_expiry_is_refused(tmp_path, config):
    domain = tmp_path / "domain.yml"
    domain.write_text(config)
    with pytest.raises(ValueError, match="session_expiration_time"):
        conversation_idle_expiry(domain)


def test_the_page_is_told_the_expiry_and_keeps_no_copy_of_it(app):
    html = TestClient(app).get("/").text
    bundle = json.loads(re.search(r'id="chat-texts">(.*?)</script>', html, re.S).group(1))
    assert bundle["idle_seconds"] == int(IDLE.total_seconds())
    script = TestClient(app).get("/static/chat.js").text
    assert "BUNDLE.idle_seconds" in script
    assert str(int(IDLE.total_seconds() * 1000)) not in script
    assert not re.search(r"60\s*\*\s*60\s*\*\s*1000|60\s*\*\s*60000", script)
    # The page makes no id and sends none.
    assert "getRandomValues" not in script and "randomUUID" not in script
    assert "sender:" not in script and "sender=" not in script
