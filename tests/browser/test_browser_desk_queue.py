"""The legal desk's overview and a bulk assignment in headless Chromium, against the web app
served in this process on a free port with its own request database (the staff pages need
neither Rasa nor the action server)."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.web_server import desk_site, sign_in

pytestmark = [pytest.mark.live, pytest.mark.browser]

PASSWORD = "browser test password"


@pytest.fixture
def site(database_url, set_env) -> Iterator[dict]:
    """The web app on 127.0.0.1:<free port>, on SQLite and on PostgreSQL (where it answers), with
    two legal members and three requests."""
    set_env(APP_SECRET="browser-desk-secret", REQUEST_JURISDICTION="prc")
    members = [(name, "legal", PASSWORD) for name in ("lena", "mia")]
    with desk_site(database_url, "s", members) as (base, services):
        references = [
            services.store.submit(kind, f"{kind}.person@example.com", verified=True).reference
            for kind in ("deletion", "access", "correction")
        ]
        yield {"base": base, "services": services, "references": references}


def log_in(browser, base: str, username: str):
    return sign_in(browser, base, username, PASSWORD)


def test_the_dashboard_draws_its_charts_and_the_audit_verdict(site, browser):
    page = log_in(browser, site["base"], "lena")
    assert page.url.rstrip("/").endswith("/staff")  # the landing page is the overview
    assert page.get_attribute("#audit-verdict", "data-intact") == "true"
    assert page.inner_text("#fig-open") == "3"
    for chart in ("#desk-status", "#desk-kind", "#desk-median", "#desk-weeks"):
        box = page.locator(chart).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 50, chart
        assert page.locator(f"{chart} > title").count() == 1
    received = page.locator("#desk-status .chart-bar[data-key=received]")
    assert received.get_attribute("data-value") == "3"
    assert received.locator("rect").bounding_box()["width"] > 100
    assert received.locator(".chart-count").text_content() == "3"
    # The weekly table is there for whoever does not read charts.
    page.click("#desk-weeks-table >> xpath=ancestor::details/summary")
    assert page.locator("#desk-weeks-table tbody tr").count() == 12
    page.close()


def test_legal_assigns_two_requests_in_bulk_and_a_missing_reason_keeps_the_selection(site, browser):
    first, second, third = site["references"]
    page = log_in(browser, site["base"], "lena")
    page.goto(f"{site['base']}/staff/requests")
    # Tick every request, then untick the third.
    page.check("#pick-all")
    assert page.locator("input[name=reference]:checked").count() == 3
    page.uncheck(f"#pick-{third}")
    assert page.evaluate("document.getElementById('pick-all').indeterminate")
    page.select_option("#bulk-assignee", "mia")
    page.click("#bulk-form button[value=assign]")
    page.wait_for_selector("#bulk-message")
    assert "2 of 2" in page.inner_text("#bulk-message")
    assignees = {
        r: page.inner_text(f"tr[data-reference='{r}'] td.assignee") for r in (first, second, third)
    }
    assert assignees == {first: "mia", second: "mia", third: "nobody"}
    store = site["services"].store
    assert [store.get(r).assignee for r in (first, second, third)] == ["mia", "mia", None]

    # Enter in the reason field sends nothing; rejecting without a reason is explained, and
    # the ticked request stays ticked.
    page.check(f"#pick-{third}")
    page.fill("#bulk-reason", "   ")
    page.press("#bulk-reason", "Enter")
    page.click("#bulk-form button[value=reject]")
    page.wait_for_selector("#bulk-error")
    assert "reason" in page.inner_text("#bulk-error")
    assert page.is_checked(f"#pick-{third}") and not page.is_checked(f"#pick-{first}")
    assert store.get(third).status == "received"
    page.fill("#bulk-reason", "The same person asked twice.")
    page.click("#bulk-form button[value=duplicate]")
    page.wait_for_selector("#bulk-message")
    assert store.get(third).status == "rejected" and store.get(third).closed_as == "duplicate"
    # The address is masked in the list.
    assert "correction.person@example.com" not in page.content()
    page.close()
