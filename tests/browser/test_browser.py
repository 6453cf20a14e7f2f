"""A visitor's view: the chat page in headless Chromium, driven by Playwright."""

from __future__ import annotations

import pytest

from bot.policy.document import load_policy

pytestmark = [pytest.mark.live, pytest.mark.browser]

def test_a_visitor_asks_and_gets_an_answer_that_cites_its_section(live_stack, browser, tmp_path):
    heading = load_policy().section("storage").heading
    page = browser.new_page()
    page.goto(live_stack.settings.web_url + "/")
    page.click("#open-chat")
    page.wait_for_selector("#chat-log .msg.bot")  # the greeting
    page.fill("#chat-input", "where are my data stored")
    page.press("#chat-input", "Enter")
    answer = page.locator("#chat-log .msg.bot", has_text=heading)
    answer.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "answer.png"))
    assert page.locator("#chat-log .msg.user", has_text="where are my data stored").count() == 1

    # The conversation survives a reload.
    page.reload()
    page.locator("#chat-log .msg.bot", has_text=heading).wait_for(timeout=10_000)

    # Buttons under the answer work: "Show the whole section".
    page.locator("#chat-log .chat-btn", has_text="Show the whole section").last.click()
    page.locator("#chat-log .msg.bot", has_text="The full policy section").wait_for(timeout=30_000)
    page.close()
