"""A visitor's view: the chat page in headless Chromium, driven by Playwright."""

from __future__ import annotations

import re

import pytest

from bot.core.texts import text
from bot.policy.document import load_policy
from bot.policy.translation import load_translation

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


HAN = re.compile("[\u4e00-\u9fff]")


def test_a_chinese_visitor_asks_in_chinese_and_gets_a_chinese_answer_citing_the_section(
    live_stack, browser, tmp_path
):
    """A zh-CN browser: the Chinese page, a Chinese greeting, and to "who do you share my
    personal information with" a Chinese reply that cites the section by its published English
    heading, with the quoted English labelled by its reference translation."""
    heading = load_policy().section("sharing").heading  # "Share your personal information"
    label = load_translation("zh").label  # "参考译文，以英文原文为准"
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(live_stack.settings.web_url + "/")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.get_attribute("#chat-input", "placeholder") == text("web.chat.placeholder", "zh")
    page.click("#open-chat")
    greeting = page.locator("#chat-log .msg.bot").first
    greeting.wait_for(timeout=30_000)
    assert HAN.search(greeting.inner_text()), "the greeting is not in Chinese"
    question = "你们会和谁共享我的个人信息？"
    page.fill("#chat-input", question)
    page.press("#chat-input", "Enter")
    answer = page.locator("#chat-log .msg.bot", has_text=heading)
    answer.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "answer-zh.png"))
    reply = answer.last.inner_text()
    assert HAN.search(reply.replace(heading, "")), "the answer is not in Chinese"
    assert label.split("，")[0] in reply  # 参考译文
    assert page.locator("#chat-log .msg.user", has_text=question).count() == 1
    context.close()
