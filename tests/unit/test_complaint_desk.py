"""Complaints at the legal desk, with Starlette's test client on SQLite and PostgreSQL: the queue
lists and filters them, named in both languages; a complaint's page shows what happened and the
request it is about, linked; it is worked like any request (assign, notes, messages, extension);
the dashboard counts it."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape

from bot.core.texts import text
from bot.requests import deadlines
from tests.support.staff import (
    SecondFactors,
    add_members,
    csrf_of,
    desk_services,
    seeded_database,
    staff_app,
)
from tests.support.staff import logged_in as staff_logged_in

PASSWORD = "a long enough password"
SECRET = "complaint-desk-test-secret"
SECOND_FACTORS = SecondFactors()
ACCOUNTS = (("lena", "legal"), ("leo", "legal"))
EMAIL = "jane.doe@example.com"
WHAT = "You kept e-mailing me after I unsubscribed."


@pytest.fixture(autouse=True)
def app_secret(set_env, no_env_file):
    set_env(APP_SECRET=SECRET, REQUEST_JURISDICTION="prc")


@pytest.fixture(scope="module")
def staff_database(sqlite_template, tmp_path_factory):
    return seeded_database(
        sqlite_template,
        tmp_path_factory.mktemp("complaint-desk"),
        lambda made: add_members(
            made.directory, ACCOUNTS, PASSWORD, SECRET, SECOND_FACTORS, enrolled=()
        ),
        SECRET,
    )


@pytest.fixture
def services(database_url, staff_database, tmp_path):
    """On SQLite a copy of the module's database; on PostgreSQL (where it answers) the empty
    database of `database_url` with the accounts added."""
    services = desk_services(
        database_url,
        staff_database,
        tmp_path,
        SECRET,
        lambda made: add_members(
            made.directory, ACCOUNTS, PASSWORD, SECRET, SECOND_FACTORS, enrolled=()
        ),
    )
    yield services
    services.store.engine.dispose()


@pytest.fixture
def app(services):
    return staff_app(services)


@pytest.fixture
def lena(app):
    return staff_logged_in(app, "lena", PASSWORD, SECOND_FACTORS)


def shown(key, language="en", **values):
    return str(escape(text(key, language, **values)))


def complaint(services, about=None):
    details = {"what_happened": WHAT, **({"about_request": about} if about else {})}
    return services.store.submit("complaint", EMAIL, details=details, verified=True).reference


def in_chinese(c, path):
    token = csrf_of(c.get(path).text)
    c.post("/staff/language", data={"language": "zh", "csrf_token": token, "next": path})
    return c.get(path).text


def test_the_queue_lists_and_filters_complaints_in_both_languages(services, lena):
    mine = complaint(services)
    other = services.store.submit("deletion", "a@example.com", verified=True).reference
    page = lena.get("/staff/requests").text
    assert mine in page and other in page
    assert '<option value="complaint">complaint</option>' in page
    page = lena.get("/staff/requests", params={"kind": "complaint"}).text
    assert mine in page and other not in page
    page = in_chinese(lena, "/staff/requests?kind=complaint")
    assert mine in page and f">{text('web.staff.kind.complaint', 'zh')}<" in page


def test_a_complaints_page_shows_what_happened_and_the_request_it_is_about(services, lena):
    about = services.store.submit("unsubscribe", EMAIL).reference  # done at once: completed
    reference = complaint(services, about=about)
    page = lena.get(f"/staff/requests/{reference}").text
    assert shown("web.staff.kind.complaint") in page
    assert f"{shown('web.staff.detail.what_happened')}:" in page and escape(WHAT) in page
    link = re.search(
        r'<a class="mono related-request" href="([^"]+)">([^<]+)</a> \(([^)]+)\)', page
    )
    assert link.groups() == (
        f"/staff/requests/{about}",
        about,
        f"{shown('web.staff.kind.unsubscribe')}, {shown('web.staff.status.completed')}",
    )
    assert lena.get(link.group(1)).status_code == 200
    page = in_chinese(lena, f"/staff/requests/{reference}")
    assert f"{text('web.staff.detail.about_request', 'zh')}:" in page
    assert text("web.staff.kind.complaint", "zh") in page


def test_a_reference_no_request_has_is_said_so(services, lena):
    reference = complaint(services, about="DEL-7K3M9Q")
    page = lena.get(f"/staff/requests/{reference}").text
    assert "related-request" not in page
    assert "DEL-7K3M9Q" in page and shown("web.staff.request.no_such_reference") in page


def test_other_kinds_details_are_shown_as_before(services, lena):
    reference = services.store.submit(
        "correction", EMAIL, details={"item": "name", "new_value": "Li Wei"}, verified=True
    ).reference
    page = lena.get(f"/staff/requests/{reference}").text
    assert '<span class="k">new value:</span> <span class="v pre">Li Wei</span>' in page


def test_a_complaint_is_worked_like_any_request(services, lena):
    reference = complaint(services)
    path = f"/staff/requests/{reference}"
    token = csrf_of(lena.get(path).text)

    def post(form, **data):
        response = lena.post(f"{path}/{form}", data={**data, "csrf_token": token})
        assert response.status_code == 303, response.text

    post("assign", assignee="leo")
    post("notes", note_body="Marketing list was not updated; asked the team.")
    post("messages", message_body="We are looking into why the e-mails kept coming.")
    row = services.store.get(reference)
    latest = deadlines.latest_extension(row.due_at).due
    post(
        "extend",
        extension_date=latest.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat(),
        extension_reason="Two mailing systems to check.",
    )
    row = services.store.get(reference)
    assert row.assignee == "leo" and row.original_due_at is not None
    assert [n.body for n in services.casework.notes(reference)] == [
        "Marketing list was not updated; asked the team.",
        "We are looking into why the e-mails kept coming.",
    ]
    said = [m.body for m in services.casework.messages_for(reference, EMAIL)]
    assert said == ["We are looking into why the e-mails kept coming."]
    response = lena.post(
        f"{path}/status", data={"status": "in_progress", "csrf_token": token, "note": ""}
    )
    assert response.status_code == 200 and services.store.get(reference).status == "in_progress"


def test_the_dashboard_counts_open_complaints(services, lena):
    complaint(services)
    services.store.submit("complaint", "b@example.com", verified=True)
    page = lena.get("/staff/").text
    row = re.search(r'<tr data-kind="complaint">(.*?)</tr>', page, re.S).group(1)
    assert 'href="/staff/requests?kind=complaint"' in row and '<td class="num">2</td>' in row
