"""Answer ratings and the policy-gap page in headless Chromium, against the web app served in this
process on a free port, with Rasa stood in for by a fake transport (no live stack needed)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Iterator

import httpx
import pytest
from sqlalchemy import select

from bot.core.settings import load_settings
from bot.policy.gaps import AnswerRef
from bot.requests.store import RequestStore
from bot.services import Services
from bot.storage.db import make_engine, transaction
from bot.storage.models import AnswerFeedback, PolicyGap
from bot.web.app import create_app
from tests.support.web_server import serving

pytestmark = [pytest.mark.browser]

SECRET = "browser-test-secret"
PASSWORD = "browser test password"
QUESTION = "how long do you keep my meeting recordings"
ANSWER = "The policy does not say how long recordings are kept. The closest it says is …"
NO_BUTTON = 'button[aria-label="No, this answer was not helpful"]'
YES_BUTTON = 'button[aria-label="Yes, this answer was helpful"]'


def fake_rasa() -> httpx.MockTransport:
    """A greeting for /greet; for anything else a `closest` answer with its rating reference,
    signed for the conversation that asked, as the action server will send it."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sender, message = body["sender"], body["message"]
        if message == "/greet":
            return httpx.Response(
                200,
                json=[{"recipient_id": sender, "text": "Hello! Ask me about our privacy policy."}],
            )
        ref = AnswerRef("closest", ("storage",), "meeting_recordings", "en", message)
        return httpx.Response(
            200,
            json=[
                {
                    "recipient_id": sender,
                    "text": ANSWER,
                    "buttons": [{"title": "Talk to a person", "payload": "/handoff"}],
                },
                {"recipient_id": sender, "custom": {"answer": ref.payload(SECRET, sender)}},
            ],
        )

    return httpx.MockTransport(handler)


@pytest.fixture
def site(migrated_sqlite, set_env) -> Iterator[dict]:
    """The web app on 127.0.0.1:<free port>, with its own request database."""
    set_env(APP_SECRET=SECRET)
    url = migrated_sqlite("browser-gaps.db")
    services = Services(RequestStore(make_engine(url), secret="s"))
    app = create_app(
        replace(load_settings(), rasa_url="http://rasa.test"),
        transport=fake_rasa(),
        services=services,
        session_secret="browser-test",
    )
    try:
        with serving(app) as base:
            yield {"base": base, "services": services}
    finally:
        services.store.engine.dispose()


def press_until_focused(page, selector: str, key: str = "Tab", limit: int = 120) -> None:
    """Press `key` until the element matching `selector` has the keyboard focus."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
        page.keyboard.press(key)
    pytest.fail(f"{selector} was never reached with {key}")


def ratings(services):
    with transaction(services.store.sessions) as session:
        return (
            [(r.section, r.helpful) for r in session.execute(select(AnswerFeedback)).scalars()],
            [
                (g.reply_kind, g.topic, g.question)
                for g in session.execute(select(PolicyGap)).scalars()
            ],
        )


def ask_by_keyboard(page, base: str) -> None:
    page.goto(f"{base}/")
    press_until_focused(page, "#open-chat")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat-log .msg.bot")  # the greeting
    assert page.evaluate("document.activeElement.id") == "chat-input"
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.locator("#chat-log .msg.bot", has_text="does not say how long").wait_for(timeout=15_000)
    page.locator(NO_BUTTON).wait_for()


def test_a_visitor_rates_an_answer_with_the_keyboard_only(site, browser):
    page = browser.new_page()
    ask_by_keyboard(page, site["base"])
    group = page.locator(".chat-feedback[role=group]")
    assert group.count() == 1 and "Was this helpful?" in group.inner_text()
    assert page.locator(NO_BUTTON).get_attribute("aria-pressed") == "false"

    press_until_focused(page, NO_BUTTON)
    # The focus can be seen: a ring drawn round the focused button.
    assert page.evaluate("getComputedStyle(document.activeElement).boxShadow") != "none"
    page.keyboard.press("Enter")
    page.locator(".chat-feedback-done", has_text="Thanks for your feedback.").wait_for()
    assert page.locator(NO_BUTTON).count() == 0

    feedback, gaps = ratings(site["services"])
    assert feedback == [("storage", False)]
    assert gaps == [("unhelpful", "meeting_recordings", QUESTION)]

    # A reload shows the thanks, and does not ask again for the same answer.
    page.reload()
    page.locator("#chat-log .msg.bot", has_text="does not say how long").wait_for()
    assert page.locator(".chat-feedback-done").count() == 1
    assert page.locator(NO_BUTTON).count() == 0 and page.locator(YES_BUTTON).count() == 0
    page.close()


def test_a_rating_that_fails_to_send_can_be_sent_again(site, browser):
    page = browser.new_page()
    ask_by_keyboard(page, site["base"])
    page.route("**/api/feedback", lambda route: route.abort())
    press_until_focused(page, YES_BUTTON)
    page.keyboard.press(" ")  # Space works as well as Enter
    page.locator(".chat-feedback-error", has_text="could not be sent. Please try again.").wait_for()
    assert page.locator(YES_BUTTON).get_attribute("aria-pressed") == "false"
    assert ratings(site["services"]) == ([], [])

    page.unroute("**/api/feedback")
    page.locator(YES_BUTTON).click()
    page.locator(".chat-feedback-done", has_text="Thanks for your feedback.").wait_for()
    assert ratings(site["services"]) == ([("storage", True)], [])
    page.close()


def test_legal_opens_the_gaps_and_sees_the_topic_and_the_chart(site, browser):
    services = site["services"]
    services.directory.add("lena", "legal", PASSWORD)
    for question in ("do you keep my recordings?", "who can watch a recording?"):
        services.gaps.record(
            question=question,
            reply_kind="not_covered",
            topic="meeting_recordings",
            sections=[],
            language="en",
        )
    services.gaps.record(
        question="blorp", reply_kind="fallback", topic=None, sections=[], language="en"
    )
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site['base']}/staff/login?next=/staff/gaps")
    page.fill("#username", "lena")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/staff/gaps")
    assert page.locator("nav.topnav a[aria-current=page]").inner_text() == "Policy gaps"

    first = page.locator("#gap-topics tbody tr").first
    assert "meeting_recordings" in first.inner_text()
    assert first.locator(".count-cell").inner_text() == "2"
    assert "who can watch a recording?" in first.inner_text()

    chart = page.locator("svg.chart")
    assert chart.is_visible() and chart.get_attribute("role") == "img"
    assert chart.bounding_box()["width"] > 300
    assert page.locator("svg.chart g.chart-bar").count() == 12
    current = page.locator("svg.chart g.chart-bar").last
    assert current.get_attribute("data-count") == "3"
    assert current.locator("text.chart-count").text_content() == "3"
    assert "3 questions" in current.locator("title").text_content()
    context.close()
