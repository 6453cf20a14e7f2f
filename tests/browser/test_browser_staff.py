"""Staff and visitor in real browsers: a live handoff, and the legal queue."""

from __future__ import annotations

import uuid

import pytest

from bot.requests.store import RequestStore
from bot.staff.accounts import StaffDirectory
from bot.support.tickets import Handoffs
from tests.support.web_server import sign_in

pytestmark = [pytest.mark.live, pytest.mark.browser]

PASSWORD = "browser test password"


def staff_member(role: str) -> str:
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    StaffDirectory().add(name, role, PASSWORD)
    return name


def log_in(context, base: str, username: str):
    return sign_in(context, base, username, PASSWORD)


def test_support_takes_over_a_conversation_and_hands_it_back(live_stack, browser):
    base = live_stack.settings.web_url
    support = browser.new_context()
    staff_page = log_in(support, base, staff_member("support"))
    staff_page.goto(f"{base}/staff/handoffs")  # an open queue page: support is online

    visitor_context = browser.new_context()
    visitor = visitor_context.new_page()
    visitor.goto(f"{base}/")
    visitor.click("#open-chat")
    visitor.wait_for_selector("#chat-log .msg.bot")
    newest = max((t.id for t in Handoffs().list()), default=0)
    visitor.fill("#chat-input", "I want to talk to a real person please")
    visitor.press("#chat-input", "Enter")
    visitor.locator("#chat-log .msg.bot", has_text="support team to join").wait_for(timeout=30_000)

    # The new ticket appears in the queue without a reload, and support opens it. (The page
    # never sees its conversation id: the ticket is the new one with the visitor's words.)
    [ticket] = [
        t
        for t in Handoffs().list()
        if t.id > newest and any("talk to a real person" in line["text"] for line in t.transcript)
    ]
    link = staff_page.locator(f"#tickets-body a.ticket-link[href='/staff/handoffs/{ticket.id}']")
    link.wait_for(timeout=15_000)
    link.click()
    staff_page.wait_for_selector("#transcript")
    assert "talk to a real person" in staff_page.inner_text("#transcript")

    # The visitor's next message reaches the staff member instead of the assistant.
    visitor.fill("#chat-input", "my meeting invitations show my phone number, is that ok?")
    visitor.press("#chat-input", "Enter")
    staff_page.locator("#messages .line.visitor", has_text="meeting invitations").wait_for(
        timeout=15_000
    )

    staff_page.fill("#reply-text", "Hello, this is support. Let me check that for you.")
    staff_page.click("#reply-send")
    staff_page.locator("#delivery-note", has_text="chat window").wait_for(timeout=10_000)
    visitor.locator("#chat-log .msg.bot", has_text="Let me check that for you").wait_for(
        timeout=15_000
    )

    staff_page.click("#close-button")
    visitor.locator("#chat-log .msg.bot", has_text="back with the automated").wait_for(
        timeout=15_000
    )
    visitor.fill("#chat-input", "do you sell my data")
    visitor.press("#chat-input", "Enter")
    visitor.locator("#chat-log .msg.bot", has_text="Share your personal information").wait_for(
        timeout=30_000
    )
    support.close()
    visitor_context.close()


def test_legal_completes_a_request_and_sees_it_audited(live_stack, browser):
    base = live_stack.settings.web_url
    store = RequestStore()
    email = f"legal.queue.{uuid.uuid4().hex[:8]}@example.com"
    reference = store.submit("deletion", email, details={"scope": "all"}, verified=True).reference
    username = staff_member("legal")
    context = browser.new_context()
    page = log_in(context, base, username)
    page.goto(f"{base}/staff/requests?q={reference}")
    page.click(f"#queue a:has-text('{reference}')")
    page.wait_for_selector("#status-form")
    for target in ("in_progress", "completed"):
        page.select_option("#status-form select[name=status]", target)
        if target == "completed":  # legal's task is open: closing by hand needs a reason
            page.fill("#status-form textarea[name=note]", "Account deleted in the admin console.")
        page.click("#status-form button[type=submit]")
        page.wait_for_selector(".notice")
    assert "completed" in page.inner_text("#history")
    audit = page.inner_text("#audit")
    assert username in audit and "status change" in audit and "completed" in audit
    assert store.get(reference).status == "completed"
    context.close()
