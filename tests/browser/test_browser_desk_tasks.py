"""A request's tasks in the product's systems on the legal desk, in headless Chromium: started
on the page, its account-service task failed (one delivery allowed, the service driven directly)
and its legal task waiting; the failed one stands out in red on the page and in the queue;
legal's task ticked with a note, then the failed one retried and waiting again.

Against the web app served in this process on a free port with its own request database and a
systems file of a webhook system and a manual one (tests/support/fulfilment.py), like
tests/browser/test_browser_desk_case.py. No worker runs: nothing is delivered.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from bot.requests import lifecycle
from tests.support.fulfilment import systems_yaml, use_systems
from tests.support.web_server import desk_site, sign_in

pytestmark = [pytest.mark.live, pytest.mark.browser]

SECRET = "browser-tasks-secret"
PASSWORD = "browser test password"
EMAIL = "mei.lin@example.com"
RED = "rgb(180, 35, 24)"  # --red-700 in staff.css: a failed task's badge


@pytest.fixture
def site(database_url, set_env, no_env_file, tmp_path) -> Iterator[dict]:
    """The web app on 127.0.0.1:<free port> with its own request database (SQLite, and
    PostgreSQL where it answers), two systems and a legal member."""
    set_env(APP_SECRET=SECRET, FULFILMENT_MAX_ATTEMPTS="1")
    use_systems(set_env, tmp_path, systems_yaml())
    with desk_site(database_url, SECRET, [("legal-desk", "legal", PASSWORD)]) as (base, services):
        yield {"base": base, "services": services}


def state_of(page, system):
    return page.get_attribute(f"#task-{system}", "data-state")


def test_tasks_per_system_ticked_and_retried_on_the_request_page(site, browser):
    services, base = site["services"], site["base"]
    reference = services.store.submit(
        "deletion", EMAIL, details={"scope": "all"}, verified=True
    ).reference
    context = browser.new_context()
    page = sign_in(context, base, "legal-desk", PASSWORD)
    page.goto(f"{base}/staff/requests/{reference}")
    assert page.locator("#no-tasks").is_visible()
    page.select_option("#status", lifecycle.IN_PROGRESS)
    page.click("#status-form button[type=submit]")
    page.locator("#tasks").wait_for()
    assert (state_of(page, "accounts"), state_of(page, "legal")) == ("pending", "pending")

    # The account service's one delivery fails: its task is failed.
    [claimed] = services.fulfilment.claim_due()
    services.fulfilment.attempt_failed(claimed.task_id, "no answer (ConnectError)")
    page.goto(f"{base}/staff/requests/{reference}")
    assert (state_of(page, "accounts"), state_of(page, "legal")) == ("failed", "pending")
    failed = page.locator("#task-accounts .task-state")
    assert failed.inner_text().strip().endswith("failed")
    assert failed.evaluate("e => getComputedStyle(e).backgroundColor") == RED
    assert "waiting" in page.inner_text("#task-legal .task-state")
    assert "Account service" in page.inner_text("#task-accounts")
    assert "no answer (ConnectError)" in page.inner_text("#task-accounts")
    assert "2 systems have not finished" in page.inner_text("#tasks-open-hint")

    # The queue says it too, in red.
    page.goto(f"{base}/staff/requests")
    cell = page.locator(f'#queue tr[data-reference="{reference}"] td.tasks')
    assert cell.inner_text().split() == ["✖", "1", "failed", "1", "waiting"]
    badge = cell.locator(".task-failed")
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == RED

    # Legal's task ticked by hand: a note is needed, the browser says so before sending.
    page.goto(f"{base}/staff/requests/{reference}")
    page.click("#tick-legal button[type=submit]")
    assert page.evaluate("document.getElementById('task-note-legal').validity.valueMissing")
    page.fill("#task-note-legal", "Paper file shredded.")
    page.click("#tick-legal button[type=submit]")
    page.locator(".notice", has_text="Legal department: recorded as done.").wait_for()
    assert state_of(page, "legal") == "done"
    assert "Paper file shredded." in page.inner_text("#task-legal")
    assert page.locator("#tick-legal").count() == 0
    assert "1 system has not finished" in page.inner_text("#tasks-open-hint")

    # The failed one retried: waiting again, its attempts counted afresh.
    page.click("#retry-accounts button[type=submit]")
    page.locator(".notice", has_text="Account service: it will be delivered again").wait_for()
    assert state_of(page, "accounts") == "pending"
    assert "waiting" in page.inner_text("#task-accounts .task-state")
    assert page.locator("#retry-accounts").count() == 0
    assert services.store.get(reference).status == lifecycle.IN_PROGRESS
    context.close()
