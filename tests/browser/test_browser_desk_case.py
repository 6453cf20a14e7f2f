"""The request page's casework and the requester's download page in headless Chromium: a note
added, a refusal template filling the reason, an extension refused beyond the maximum (the
reason kept) and then made, and a copy attached and fetched once with a fresh code.

Against the web app served in this process on a free port with its own request database (the
pages need no Rasa), like tests/browser/test_browser_gaps.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.requests import deadlines
from bot.storage.db import transaction
from bot.storage.models import OutboxMessage
from tests.support.web_server import desk_site, sign_in

pytestmark = [pytest.mark.live, pytest.mark.browser]

SECRET = "browser-desk-secret"
PASSWORD = "browser test password"
EMAIL = "mei.lin@example.com"


@pytest.fixture
def site(database_url, set_env, no_env_file) -> Iterator[dict]:
    """The web app on 127.0.0.1:<free port>, with its own request database (SQLite, and
    PostgreSQL where it answers) and a legal member."""
    set_env(APP_SECRET=SECRET)
    with desk_site(database_url, SECRET, [("legal-desk", "legal", PASSWORD)]) as (base, services):
        yield {"base": base, "services": services}


def log_in(browser, base):
    context = browser.new_context()
    return context, sign_in(context, base, "legal-desk", PASSWORD)


def last_mail(services, to=EMAIL):
    with transaction(services.store.sessions) as session:
        return (
            session.execute(
                select(OutboxMessage.body)
                .where(OutboxMessage.to_address == to)
                .order_by(OutboxMessage.id.desc())
            )
            .scalars()
            .first()
        )


def test_notes_refusal_templates_and_an_extension(site, browser):
    services = site["services"]
    reference = services.store.submit(
        "deletion", EMAIL, details={"scope": "all"}, verified=True
    ).reference
    context, page = log_in(browser, site["base"])
    page.goto(f"{site['base']}/staff/requests/{reference}")
    assert EMAIL not in page.inner_text("main")  # masked until revealed

    page.fill("#note-body", "Asked the CRM team to check both accounts.")
    page.click("#note-form button[type=submit]")
    page.locator(".notice", has_text="Note added").wait_for()
    assert "Asked the CRM team" in page.inner_text("#notes")

    # A refusal template fills the reason (and picks "rejected"); the text stays editable.
    page.select_option("#refusal", "legal_retention")
    reason = page.input_value("#note")
    assert reason.startswith("We cannot delete") and "Art. 47" in reason
    assert page.input_value("#status") == "rejected"
    assert page.evaluate("document.getElementById('note').required")  # a rejection's reason
    page.fill("#note", reason + " Kept until 2029.")
    assert page.input_value("#note").endswith("Kept until 2029.")

    # An extension beyond the maximum is refused saying until when; the reason is kept.
    row = services.store.get(reference)
    zone = ZoneInfo(deadlines.jurisdiction().zone)
    latest = deadlines.latest_extension(row.due_at).due.astimezone(zone).date()
    page.click("#extend-form >> xpath=.. >> summary")
    page.fill("#extension-date", (latest + timedelta(days=1)).isoformat())
    page.fill("#extension-reason", "Two product systems to search.")
    page.click("#extend-form button[type=submit]")
    page.locator(".error[role=alert]", has_text=latest.isoformat()).wait_for()
    assert page.input_value("#extension-reason") == "Two product systems to search."
    page.fill("#extension-date", latest.isoformat())
    page.click("#extend-form button[type=submit]")
    page.locator(".notice", has_text=f"Extended to {latest.isoformat()}").wait_for()
    assert "Two product systems to search." in page.inner_text("#extension")
    assert page.locator("#extend-form").count() == 0  # once only
    assert "Two product systems to search." in last_mail(services)
    context.close()


def test_a_copy_is_attached_and_fetched_once_with_a_fresh_code(site, browser, tmp_path):
    services = site["services"]
    reference = services.store.submit(
        "access", EMAIL, details={"scope": "all"}, verified=True
    ).reference
    context, page = log_in(browser, site["base"])
    page.goto(f"{site['base']}/staff/requests/{reference}")
    export = tmp_path / "export.csv"
    export.write_text("name,plan\nMei,Business\n", encoding="utf-8")
    page.set_input_files("#delivery-file", str(export))
    page.click("#attach-form button[type=submit]")
    page.locator(".notice", has_text="one-time link").wait_for()
    assert "export.csv" in page.inner_text("#deliveries")
    link = re.search(r"(/download/\S+)", last_mail(services)).group(1)
    context.close()

    requester = browser.new_context(accept_downloads=True)
    visit = requester.new_page()
    visit.goto(f"{site['base']}{link}")
    assert "m***@e***.com" in visit.inner_text("main")
    visit.click("#send-form button[type=submit]")
    visit.locator("#code-sent").wait_for()
    code = re.search(r"\b(\d{6})\b", last_mail(services)).group(1)
    visit.fill("#code", "000000" if code != "000000" else "111111")
    visit.click("#code-form button[type=submit]")
    visit.locator("#download-error", has_text="Tries left: 4").wait_for()
    visit.fill("#code", code)
    with visit.expect_download() as fetched:
        visit.click("#code-form button[type=submit]")
    saved = tmp_path / "fetched.csv"
    fetched.value.save_as(saved)
    assert saved.read_text(encoding="utf-8") == "name,plan\nMei,Business\n"
    visit.goto(f"{site['base']}{link}")
    assert "downloaded already" in visit.inner_text("h1")
    requester.close()
