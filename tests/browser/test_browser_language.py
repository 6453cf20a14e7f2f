"""The page and the chat window in two languages, in headless Chromium: a zh-CN browser sees the
Chinese interface and its conversation starts in Chinese; the 中文 / English switch relabels the
page, tells the assistant and survives a reload; the staff pages' switch. The web app is served in
this process on a free port, with Rasa stood in for by a fake transport that keeps each
conversation's language as the `language` slot would (no live stack needed)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Dict, Iterator, List

import httpx
import pytest

from bot.core.settings import load_settings
from bot.core.texts import text
from bot.requests.store import RequestStore
from bot.services import Services
from bot.storage.db import make_engine
from bot.web.app import create_app
from tests.support.web_server import serving

pytestmark = [pytest.mark.browser]

SECRET = "browser-language-secret"
PASSWORD = "browser test password"
GREETING = {"en": "Hello! Ask me about our privacy policy.", "zh": "您好！请问有什么隐私问题？"}
SWITCHED = {"en": "OK, I'll answer in English.", "zh": "好的，我会用中文回答。"}
ANSWER = {"en": "An answer in English.", "zh": "一个中文回答。"}
SET_LANGUAGE = re.compile(r"^/set_language(\{.*\})$")


class FakeRasa:
    """Rasa's REST channel as far as languages go: `/set_language{...}` sets the conversation's
    language and is confirmed in it; everything else is answered in the conversation's language
    (English until told otherwise)."""

    def __init__(self) -> None:
        self.received: List[str] = []
        self.language: Dict[str, str] = {}

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            sender, message = body["sender"], body["message"]
            self.received.append(message)
            switch = SET_LANGUAGE.match(message)
            if switch:
                self.language[sender] = json.loads(switch.group(1))["language"]
                reply = SWITCHED[self.language[sender]]
            else:
                language = self.language.get(sender, "en")
                reply = GREETING[language] if message == "/greet" else ANSWER[language]
            return httpx.Response(200, json=[{"recipient_id": sender, "text": reply}])

        return httpx.MockTransport(handler)


@pytest.fixture
def site(migrated_sqlite, set_env) -> Iterator[dict]:
    set_env(APP_SECRET=SECRET)
    rasa = FakeRasa()
    services = Services(RequestStore(make_engine(migrated_sqlite("browser-lang.db")), secret="s"))
    app = create_app(
        replace(load_settings(), rasa_url="http://rasa.test"),
        transport=rasa.transport(),
        services=services,
        session_secret="browser-language",
    )
    try:
        with serving(app) as base:
            yield {"base": base, "rasa": rasa, "services": services}
    finally:
        services.store.engine.dispose()


def placeholder(page) -> str:
    return page.get_attribute("#chat-input", "placeholder")


def test_a_chinese_browser_sees_the_chinese_page_and_is_greeted_in_chinese(site, browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(site["base"] + "/")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.inner_text("#hero-title") == text("web.page.hero.title", "zh")
    assert page.title() == text("web.page.title", "zh")
    assert placeholder(page) == text("web.chat.placeholder", "zh")
    assert page.get_attribute("#chat-launcher", "aria-label") == text("web.chat.open", "zh")
    page.click("#open-chat")
    page.locator("#chat-log .msg.bot", has_text=GREETING["zh"]).wait_for(timeout=10_000)
    # The conversation was told its language before the greeting, without a visible reply.
    assert site["rasa"].received == ['/set_language{"language":"zh"}', "/greet"]
    assert page.locator("#chat-log .msg.bot", has_text=SWITCHED["zh"]).count() == 0
    assert page.get_attribute('.chat-lang-btn[data-language="zh"]', "aria-pressed") == "true"
    page.fill("#chat-input", "你们会和谁共享我的个人信息？")
    page.press("#chat-input", "Enter")
    page.locator("#chat-log .msg.bot", has_text=ANSWER["zh"]).wait_for(timeout=10_000)
    assert site["rasa"].received[-1] == "你们会和谁共享我的个人信息？"
    assert site["rasa"].received.count('/set_language{"language":"zh"}') == 1
    context.close()


def test_an_english_browser_gets_english_and_no_language_message(site, browser):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(site["base"] + "/")
    assert page.get_attribute("html", "lang") == "en"
    assert placeholder(page) == text("web.chat.placeholder", "en")
    page.click("#open-chat")
    page.locator("#chat-log .msg.bot", has_text=GREETING["en"]).wait_for(timeout=10_000)
    assert site["rasa"].received == ["/greet"]
    context.close()


def test_the_switch_relabels_tells_the_assistant_and_survives_a_reload(site, browser):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(site["base"] + "/")
    page.click("#open-chat")
    page.locator("#chat-log .msg.bot", has_text=GREETING["en"]).wait_for(timeout=10_000)

    page.click('.chat-lang-btn[data-language="zh"]')
    page.locator("#chat-log .msg.bot", has_text=SWITCHED["zh"]).wait_for(timeout=10_000)
    assert site["rasa"].received == ["/greet", '/set_language{"language":"zh"}']
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert placeholder(page) == text("web.chat.placeholder", "zh")
    assert page.inner_text("#hero-title") == text("web.page.hero.title", "zh")
    assert page.get_attribute('.chat-lang-btn[data-language="zh"]', "aria-pressed") == "true"
    assert page.get_attribute('.chat-lang-btn[data-language="en"]', "aria-pressed") == "false"
    assert page.evaluate("localStorage.getItem('vp_lang')") == "zh"
    assert {c["name"]: c["value"] for c in context.cookies()}.get("vp_lang") == "zh"

    # After a reload the server renders Chinese (the cookie), for an English browser.
    response = page.reload()
    assert response is not None
    assert re.search(r'<html lang="zh-CN"', response.text())
    assert page.inner_text("#hero-title") == text("web.page.hero.title", "zh")
    page.locator("#chat-log .msg.bot", has_text=SWITCHED["zh"]).wait_for(timeout=10_000)
    page.fill("#chat-input", "隐私政策什么时候生效")
    page.press("#chat-input", "Enter")
    page.locator("#chat-log .msg.bot", has_text=ANSWER["zh"]).wait_for(timeout=10_000)
    assert site["rasa"].received.count('/set_language{"language":"zh"}') == 1  # told once

    # And back to English.
    page.click('.chat-lang-btn[data-language="en"]')
    page.locator("#chat-log .msg.bot", has_text=SWITCHED["en"]).wait_for(timeout=10_000)
    assert site["rasa"].received[-1] == '/set_language{"language":"en"}'
    assert page.get_attribute("html", "lang") == "en"
    assert placeholder(page) == text("web.chat.placeholder", "en")
    context.close()


def test_a_browser_whose_header_says_english_but_whose_languages_say_chinese(site, browser):
    """navigator.languages decides on a first visit when the header did not (a proxy, say)."""
    context = browser.new_context(locale="en-US")
    context.add_init_script(
        "Object.defineProperty(navigator, 'languages', {get: () => ['zh-CN', 'zh', 'en']})"
    )
    page = context.new_page()
    response = page.goto(site["base"] + "/")
    assert response is not None and '<html lang="en"' in response.text()
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert placeholder(page) == text("web.chat.placeholder", "zh")
    context.close()


def test_a_staff_member_switches_the_staff_pages_to_chinese_and_back(site, browser):
    site["services"].directory.add("lena", "legal", PASSWORD)
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{site['base']}/staff/login")
    assert page.get_attribute("html", "lang") == "en"
    page.click('#language-form button[value="zh"]')
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert page.inner_text("#login-title") == text("web.staff.login.heading", "zh")
    page.fill("#username", "lena")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/staff/"))  # legal lands on the overview
    page.goto(f"{site['base']}/staff/requests")
    assert page.inner_text("h1") == text("web.staff.queue.heading", "zh")
    assert page.inner_text("nav.topnav a[aria-current=page]") == text(
        "web.staff.nav.requests", "zh"
    )
    page.click('#language-form button[value="en"]')
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.url.endswith("/staff/requests")
    assert page.inner_text("h1") == text("web.staff.queue.heading", "en")
    context.close()
