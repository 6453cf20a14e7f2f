"""The web app: the chat page, its assets, and the relay to Rasa's REST channel."""

import json
import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from bot.core.settings import load_settings
from bot.core.texts import catalogue, text
from bot.requests.store import RequestStore
from bot.services import Services
from bot.storage.db import make_engine
from bot.web import i18n
from bot.web.app import create_app, normalise_rasa_messages
from tests.support.visitors import holding

SENDER = "a" * 32
SESSION_SECRET = "test"  # the app's: it signs the visitors' conversation cookies
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
    SERVICES = Services(RequestStore(make_engine(url), secret="s"))
    yield SERVICES


def client_for(transport, conversation=SENDER, **overrides):
    """A client in `conversation` (the cookie the app issued for it); None: no cookie yet."""
    settings = replace(load_settings(), rasa_url="http://rasa.test", **overrides)
    client = TestClient(
        create_app(settings, transport=transport, services=SERVICES, session_secret=SESSION_SECRET)
    )
    return holding(client, conversation, SESSION_SECRET) if conversation else client


def test_the_page_is_a_product_page_with_a_chat_window_and_no_cdn():
    client = client_for(rasa_stub([]))
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert "VideoPro Cloud Meeting" in html
    for hook in (
        'id="chat-log"',
        'id="chat-input"',
        'id="chat-send"',
        "/static/chat.js",
        "/static/style.css",
    ):
        assert hook in html
    fetched_elsewhere = re.compile(
        r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//"""
        r"""|url\(\s*["']?(?:https?:)?//|@import"""
    )
    assert not fetched_elsewhere.search(html), "assets must not come from another host"
    for asset in ("/static/chat.js", "/static/style.css"):
        response = client.get(asset)
        assert response.status_code == 200 and response.text
        assert not fetched_elsewhere.search(response.text)
        assert 'fetch("http' not in response.text and "fetch('http" not in response.text


def test_chat_relays_to_rasa_and_keeps_text_and_buttons():
    seen = []
    reply = [
        {
            "recipient_id": SENDER,
            "text": "Hello",
            "buttons": [{"title": "Hi", "payload": "/greet"}],
        },
        {"recipient_id": SENDER, "image": "x.png"},
    ]
    client = client_for(rasa_stub(reply, seen=seen))
    response = client.post("/api/chat", json={"sender": SENDER, "message": "  hi  "})
    assert response.status_code == 200
    assert response.json() == {
        "messages": [{"text": "Hello", "buttons": [{"title": "Hi", "payload": "/greet"}]}]
    }
    assert seen == [{"sender": SENDER, "message": "hi"}]


@pytest.mark.parametrize(
    "body,expected",
    [
        ({"sender": SENDER, "message": "   "}, "Please type a message first."),
        ({"message": 42}, "Please type a message first."),
        ({"sender": SENDER}, "Please type a message first."),
        (["not", "an", "object"], "could not be read"),
    ],
)
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
        {"buttons": [{"title": "A", "payload": ""}]}
    ]


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


# -- the page in two languages -----------------------------------------------------------------


ZH_BROWSER = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}


def html_lang(html):
    return re.search(r'<html lang="([^"]+)"', html).group(1)


@pytest.mark.parametrize(
    "header,expected",
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9", "en"),
        ("zh-TW", "zh"),
        ("zh-Hans-CN", "zh"),
        ("fr-FR,fr;q=0.9,zh;q=0.5,en;q=0.4", "zh"),
        ("en;q=0.5,zh;q=0.8", "zh"),
        ("zh;q=0,en", "en"),
        ("de, fr", None),
        ("", None),
        (None, None),
        ("*", None),
        ("zh;q=abc,en", "en"),
        ("en, zh", "en"),
    ],
)
def test_the_browsers_preference_among_our_languages(header, expected):
    assert i18n.from_accept_language(header) == expected


def test_a_chinese_browser_gets_the_chinese_page():
    page = client_for(rasa_stub([])).get("/", headers=ZH_BROWSER)
    assert page.status_code == 200
    assert html_lang(page.text) == "zh-CN" and page.headers["content-language"] == "zh-CN"
    assert "Accept-Language" in page.headers["vary"]
    for key in ("web.page.hero.title", "web.chat.title", "web.chat.placeholder"):
        assert text(key, "zh") in page.text
    visible = page.text.split('id="chat-texts"')[0]  # the script's bundle has both languages
    assert text("web.page.hero.title", "en") not in visible
    assert re.search(r'<h1 id="hero-title"[^>]*>([^<]*)</h1>', page.text).group(1) == text(
        "web.page.hero.title", "zh"
    )
    # The switch is there, Chinese pressed.
    assert re.search(r'data-language="zh"[^>]*aria-pressed="true"', page.text)
    assert re.search(r'data-language="en"[^>]*aria-pressed="false"', page.text)


def test_an_english_or_unknown_browser_gets_the_english_page():
    c = client_for(rasa_stub([]))
    for headers in ({"accept-language": "en-GB"}, {"accept-language": "de-DE"}, {}):
        page = c.get("/", headers=headers)
        assert html_lang(page.text) == "en"
        assert text("web.page.hero.title", "en") in page.text


def test_the_visitors_choice_in_the_cookie_wins_over_the_browser():
    c = client_for(rasa_stub([]))
    c.cookies.set(i18n.VISITOR_COOKIE, "en")
    assert html_lang(c.get("/", headers=ZH_BROWSER).text) == "en"
    c.cookies.set(i18n.VISITOR_COOKIE, "zh")
    assert html_lang(c.get("/", headers={"accept-language": "en-US"}).text) == "zh-CN"
    c.cookies.set(i18n.VISITOR_COOKIE, "xx")  # not one of ours: the browser decides
    assert html_lang(c.get("/", headers={"accept-language": "en-US"}).text) == "en"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_label_of_the_page_is_the_catalogues_and_the_script_has_both_languages(language):
    """What the server writes for each `data-t` key is the catalogue's text, and the script's
    bundle has every key the page names, in both languages (the switch relabels in place)."""
    c = client_for(rasa_stub([]))
    c.cookies.set(i18n.VISITOR_COOKIE, language)
    html = c.get("/").text
    bundle = json.loads(re.search(r'id="chat-texts">(.*?)</script>', html, re.S).group(1))
    assert bundle["language"] == language and set(bundle["texts"]) == {"en", "zh"}
    keys = re.findall(r'data-t(?:-[a-z-]+)?="([a-z0-9_.]+)"', html)
    assert len(set(keys)) > 60
    from html import unescape

    for key in set(keys):
        for other in ("en", "zh"):
            assert key in bundle["texts"][other], (key, other)
        value = text(key, language)
        assert value in unescape(html), key
    # Every text the script writes itself is in the bundle too.
    script = client_for(rasa_stub([])).get("/static/chat.js").text
    for key in set(re.findall(r"\bt\('([a-z0-9_.]+)'", script)):
        assert key in bundle["texts"]["en"] and key in bundle["texts"]["zh"], key
    assert not re.search(r">\s*web\.[a-z_.]+\s*<", html), "a key shown instead of its text"


def test_chat_errors_are_in_the_pages_language():
    c = client_for(rasa_stub([]))
    response = c.post("/api/chat", json={"sender": SENDER, "message": "  ", "language": "zh"})
    assert response.json()["messages"][0]["text"] == text("web.no_message", "zh")
    stranger = client_for(rasa_stub([]), conversation=None)
    stranger.cookies.set(i18n.VISITOR_COOKIE, "zh")
    response = stranger.post("/api/feedback", json={"sender": SENDER, "helpful": True})
    assert response.json()["error"] == text("web.bad_session", "zh")
    response = c.post(
        "/api/feedback", json={"sender": SENDER, "helpful": "maybe", "language": "en"}
    )
    assert response.json()["error"] == text("web.feedback.no_choice", "en")


def test_a_too_long_message_is_answered_in_the_pages_language():
    c = client_for(rasa_stub([]), max_message_chars=10)
    reply = c.post("/api/chat", json={"sender": SENDER, "message": "你" * 11, "language": "zh"})
    assert reply.json()["messages"][0]["text"] == text("input.too_long", "zh", length=11, limit=10)


def test_the_language_switch_is_relayed_to_rasa_as_the_set_language_payload():
    seen = []
    c = client_for(rasa_stub([{"text": "好的"}], seen=seen))
    payload = i18n.set_language_payload("zh")
    assert payload == '/set_language{"language":"zh"}'
    assert json.loads(payload[len("/set_language") :]) == {"language": "zh"}
    response = c.post("/api/chat", json={"sender": SENDER, "message": payload, "language": "zh"})
    assert response.json() == {"messages": [{"text": "好的"}]}
    assert seen == [{"sender": SENDER, "message": payload}]  # the page's language is not sent
    with pytest.raises(ValueError):
        i18n.set_language_payload("fr")


def test_during_a_handoff_the_switch_goes_to_the_assistant_not_to_the_person():
    seen = []
    c = client_for(rasa_stub([{"text": "OK"}], seen=seen))
    ticket = SERVICES.handoffs.create(SENDER, "asked", [], live=True)
    c.post("/api/chat", json={"sender": SENDER, "message": '/set_language{"language":"en"}'})
    c.post("/api/chat", json={"sender": SENDER, "message": "/set_language_of_mine"})
    assert seen == [{"sender": SENDER, "message": '/set_language{"language":"en"}'}]
    assert [m["text"] for m in SERVICES.handoffs.get(ticket.id).messages] == [
        "/set_language_of_mine"
    ]


def test_the_chat_script_sends_the_payload_the_server_expects():
    script = client_for(rasa_stub([])).get("/static/chat.js").text
    assert "'/set_language' + JSON.stringify({ language: value })" in script
    assert json.dumps({"language": "zh"}, separators=(",", ":")) in i18n.set_language_payload("zh")


# -- the keys the pages name and the catalogue agree ---------------------------------------

WEB_DIR = Path(i18n.__file__).resolve().parent
PAGE_PREFIXES = ("web.page.", "web.chat.", "web.staff.", "web.download.")


def page_key_uses():
    """The keys the templates, the scripts and bot/web's Python name (exact keys), and the
    groups whose every key may be named at run time (`name('web.staff.status', s)`)."""
    keys, groups = set(), set()
    for path in sorted((WEB_DIR / "templates").rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"""\bt\(\s*'([a-z0-9_.]+)'""", source))
        keys |= set(re.findall(r"""'(web\.[a-z0-9_.]+)'\s+(?:if|else)\b""", source))
        keys |= set(re.findall(r"""\belse\s+'(web\.[a-z0-9_.]+)'""", source))
        keys |= set(re.findall(r'data-t(?:-[a-z-]+)?="([a-z0-9_.]+)"', source))
        groups |= set(re.findall(r"""\bname\(\s*'([a-z0-9_.]+)'""", source))
        groups |= set(re.findall(r"""\bt\(\s*'([a-z0-9_.]+\.)'\s*~""", source))
    chat = (WEB_DIR / "static" / "chat.js").read_text(encoding="utf-8")
    keys |= set(re.findall(r"\bt\('([a-z0-9_.]+)'", chat))
    staff = (WEB_DIR / "static" / "staff.js").read_text(encoding="utf-8")
    keys |= {"web.staff." + k for k in re.findall(r"\bT\('([a-z0-9_.]+)'", staff)}
    groups |= {"web.staff." + g for g in re.findall(r"\bnamed\('([a-z0-9_]+)'", staff)}
    for path in sorted(WEB_DIR.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r'"(web\.(?:page|chat|staff)\.[a-z0-9_.]+[a-z0-9_])"', source))
        groups |= set(re.findall(r'f"(web\.staff\.[a-z0-9_.]+\.)\{', source))
    keys.discard("web.chat.language_name.")
    english = catalogue().entries("en")
    named_groups = {
        k for k in keys if k not in english and any(e.startswith(k + ".") for e in english)
    }  # i18n.label("web.x", v)
    return keys - named_groups, {g.rstrip(".") for g in groups | named_groups}


def test_every_key_the_pages_name_exists_in_both_languages():
    keys, groups = page_key_uses()
    assert len(keys) > 250 and {"web.staff.status", "web.staff.chart"} <= groups
    for language in ("en", "zh"):
        entries = catalogue().entries(language)
        missing = sorted(k for k in keys if k not in entries)
        assert missing == [], (language, missing)
        empty = sorted(g for g in groups if not any(k.startswith(g + ".") for k in entries))
        assert empty == [], (language, empty)


def test_every_key_of_the_pages_is_named_by_a_page():
    keys, groups = page_key_uses()
    unused = sorted(
        k
        for k in catalogue().keys("en")
        if k.startswith(PAGE_PREFIXES)
        and k not in keys
        and not any(k.startswith(g + ".") for g in groups)
    )
    assert unused == []
