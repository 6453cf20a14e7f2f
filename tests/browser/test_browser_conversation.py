"""The visitor's conversation in headless Chromium: the page never holds its id (an HttpOnly
cookie the app issues), "End chat" forgets it, the browser keeps nothing past the idle expiry,
and the Content-Security-Policy blocks nothing the pages need. The web app is served in this
process with Rasa stood in for by a fake transport (no live stack needed)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Iterator, List, Optional

import httpx
import pytest
from playwright.sync_api import expect

from bot.core.settings import load_settings
from bot.core.texts import text
from bot.requests.store import RequestStore
from bot.services import Services
from bot.storage.db import make_engine
from bot.web.app import create_app
from bot.web.visitor import COOKIE
from tests.support.web_server import serving, sign_in

pytestmark = [pytest.mark.browser]

SECRET = "browser-conversation-secret"
IDLE_SECONDS = 4  # short, so that the expiry can be watched


class EchoRasa:
    """Rasa's REST channel: a greeting for /greet, else the message echoed; it keeps who sent
    each message."""

    def __init__(self) -> None:
        self.senders: List[str] = []

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            self.senders.append(body["sender"])
            reply = "Hello!" if body["message"] == "/greet" else f"You said: {body['message']}"
            return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": reply}])

        return httpx.MockTransport(handler)


def site_with(migrated_sqlite, set_env, name: str, idle: Optional[timedelta] = None):
    set_env(APP_SECRET=SECRET)
    rasa = EchoRasa()
    services = Services(RequestStore(make_engine(migrated_sqlite(name)), secret="s"))
    app = create_app(
        replace(load_settings(), rasa_url="http://rasa.test"),
        transport=rasa.transport(),
        services=services,
        session_secret="browser-conversation",
        conversation_idle=idle,
    )
    return app, rasa, services


@pytest.fixture
def site(migrated_sqlite, set_env) -> Iterator[dict]:
    app, rasa, services = site_with(migrated_sqlite, set_env, "browser-conv.db")
    try:
        with serving(app) as base:
            yield {"base": base, "rasa": rasa, "services": services}
    finally:
        services.store.engine.dispose()


@pytest.fixture
def brief_site(migrated_sqlite, set_env) -> Iterator[dict]:
    """Conversations that end after IDLE_SECONDS idle."""
    app, rasa, services = site_with(
        migrated_sqlite, set_env, "browser-brief.db", timedelta(seconds=IDLE_SECONDS)
    )
    try:
        with serving(app) as base:
            yield {"base": base, "rasa": rasa}
    finally:
        services.store.engine.dispose()


def csp_violations(page) -> List[str]:
    """Collects what the browser reports the policy refused (console and `securitypolicy
    violation` events), from now on."""
    found: List[str] = []
    page.on(
        "console",
        lambda m: found.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (e) {"
        " console.error('Content Security Policy violation: ' + e.violatedDirective); });"
    )
    return found


def ask(page, message: str) -> None:
    page.fill("#chat-input", message)
    page.press("#chat-input", "Enter")
    page.locator("#chat-log .msg.bot", has_text=f"You said: {message}").wait_for(timeout=10_000)


def stored(page, key: str):
    return page.evaluate(f"localStorage.getItem('{key}')")


def conversation_cookie(context):
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def test_the_page_never_holds_the_id_and_end_chat_forgets_the_conversation(site, browser):
    context = browser.new_context()
    page = context.new_page()
    violations = csp_violations(page)
    page.goto(site["base"] + "/")
    cookie = conversation_cookie(context)
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert COOKIE not in page.evaluate("document.cookie")

    page.click("#open-chat")
    page.wait_for_selector("#chat-log .msg.bot")  # the greeting
    ask(page, "where is my data")
    first = site["rasa"].senders[-1]
    assert first in cookie["value"] and len(set(site["rasa"].senders)) == 1
    assert "where is my data" in stored(page, "vp_chat_log")
    assert stored(page, "vp_chat_sender") is None and stored(page, "vp_chat_active")
    page.reload()  # the conversation survives a reload
    page.locator("#chat-log .msg.user", has_text="where is my data").wait_for(timeout=5_000)

    page.click("#chat-end")
    page.locator("#chat-log .msg.notice", has_text=text("web.chat.ended")).wait_for()
    assert page.locator("#chat-log .msg.user").count() == 0
    for key in ("vp_chat_log", "vp_chat_active", "vp_chat_news_after", "vp_chat_lang"):
        assert stored(page, key) is None, key
    assert conversation_cookie(context) is None
    page.reload()  # the window, still open, greets a new conversation; nothing of the old one
    page.wait_for_selector("#chat-log .msg.bot")
    assert page.locator("#chat-log .msg.user").count() == 0
    assert "where is my data" not in page.inner_text("#chat-log")

    # The next message is in that new conversation.
    ask(page, "hello again")
    assert site["rasa"].senders[-1] != first
    assert violations == []
    context.close()


def test_end_chat_speaks_the_pages_language(site, browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(site["base"] + "/")
    page.click("#open-chat")
    assert page.inner_text("#chat-end") == text("web.chat.end", "zh")
    page.click(".chat-lang-btn[data-language='en']")
    assert page.inner_text("#chat-end") == text("web.chat.end", "en")
    context.close()


def test_the_browser_keeps_nothing_after_the_idle_expiry(brief_site, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(brief_site["base"] + "/")
    page.click("#open-chat")
    page.wait_for_selector("#chat-log .msg.bot")
    ask(page, "remember me")
    assert stored(page, "vp_chat_log")

    # On a timer, with the page open: the window is emptied and nothing stays stored.
    # (Polled from here: the policy forbids the eval a predicate string would need.)
    expect(page.locator("#chat-log .msg")).to_have_count(0, timeout=(IDLE_SECONDS + 5) * 1000)
    assert stored(page, "vp_chat_log") is None and stored(page, "vp_chat_active") is None
    assert conversation_cookie(context) is None  # the cookie lasted as long, no longer

    # On load: a transcript kept from a conversation idle too long is not shown.
    page.evaluate(
        "localStorage.setItem('vp_chat_log', JSON.stringify([{from: 'user', text: 'old'}]));"
        f"localStorage.setItem('vp_chat_active', String(Date.now() - {IDLE_SECONDS + 1} * 1000));"
        "localStorage.setItem('vp_chat_sender', 'a-page-made-id-0001');"
        "localStorage.setItem('vp_chat_open', 'false');"  # the window stays shut: no greeting
    )
    page.reload()
    assert page.locator("#chat-log .msg").count() == 0
    for key in ("vp_chat_log", "vp_chat_active", "vp_chat_sender"):
        assert stored(page, key) is None, key
    context.close()


def test_the_staff_login_page_works_under_the_policy(site, browser):
    page = browser.new_page()
    violations = csp_violations(page)
    response = page.goto(site["base"] + "/staff/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("#login-form")
    with page.expect_navigation():  # a form post, which `form-action 'self'` allows
        page.click("#language-form button[value='zh']")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert violations == []
    page.close()


def test_the_staff_pages_work_under_the_policy(site, browser):
    """Every page legal and support work on, scripts and charts included, with nothing the
    policy refuses."""
    services = site["services"]
    password = "browser test password"
    services.directory.add("legal-csp", "legal", password)
    services.directory.add("support-csp", "support", password)
    reference = services.store.submit(
        "deletion", "csp@example.com", verified=True, conversation_id="c" * 32
    ).reference
    ticket = services.handoffs.create("c" * 32, "asked", [], live=True)
    base = site["base"]
    for username, paths in (
        (
            "legal-csp",
            ["/staff/", "/staff/requests", f"/staff/requests/{reference}", "/staff/gaps"],
        ),
        ("support-csp", ["/staff/handoffs", f"/staff/handoffs/{ticket.id}"]),
    ):
        context = browser.new_context()
        page = sign_in(context, base, username, password)
        violations = csp_violations(page)
        for path in paths:
            assert page.goto(base + path).status == 200, path
            page.wait_for_load_state("networkidle")
        assert violations == [], username
        context.close()
