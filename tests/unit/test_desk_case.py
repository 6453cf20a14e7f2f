"""The request page's casework with Starlette's test client, on SQLite: days left, assignment,
notes and messages, extension, hold and resume, refusal templates, masking and the audited
reveal, the access copy and its public download page, and the login's second factor. Every
form is refused without the CSRF token and for a role that may only read."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from bot.core.settings import load_settings
from bot.core.texts import text
from bot.requests import deadlines, refusals
from bot.requests.store import RequestStore
from bot.services import Services
from bot.staff import totp
from bot.storage.db import make_engine, transaction
from bot.storage.models import OutboxMessage
from tests.support.databases import copy_sqlite
from tests.support.staff import (
    SecondFactors,
    add_members,
    client,
    csrf_of,
    desk_services,
    log_in,
    staff_app,
)
from tests.support.staff import logged_in as staff_logged_in

PASSWORD = "a long enough password"
SECRET = "desk-case-test-secret"
SECOND_FACTORS = SecondFactors()
EMAIL = "jane.doe@example.com"
PHONE = "+86 138 0013 8000"
FORMS = ("assign", "notes", "messages", "extend", "hold", "resume", "reveal", "delivery")


@pytest.fixture(autouse=True)
def app_secret(set_env, no_env_file):
    set_env(APP_SECRET=SECRET)


ACCOUNTS = (
    ("lena", "legal"),
    ("leo", "legal"),
    ("sam", "support"),
    ("ada", "admin"),
    ("tess", "legal"),
    ("newadmin", "admin"),
)


def add_accounts(services: Services) -> None:
    add_members(services.directory, ACCOUNTS, PASSWORD, SECRET, SECOND_FACTORS)


@pytest.fixture(scope="module")
def staff_database(sqlite_template, tmp_path_factory):
    """SQLite with the accounts, made once for the module (each scrypt hash takes ~0.1 s)."""
    path = tmp_path_factory.mktemp("desk-case") / "desk.db"
    services = Services(
        RequestStore(make_engine(copy_sqlite(sqlite_template, path)), secret=SECRET)
    )
    add_accounts(services)
    services.store.engine.dispose()
    return path


@pytest.fixture
def services(database_url, staff_database, tmp_path):
    """On SQLite a copy of the module's database; on PostgreSQL (where it answers) the empty
    database of `database_url` with the accounts added."""
    services = desk_services(database_url, staff_database, tmp_path, SECRET, add_accounts)
    yield services
    services.store.engine.dispose()


@pytest.fixture
def app(services):
    return staff_app(services)


def shown(key, language="en", **values):
    """A catalogue text as a page shows it (HTML-escaped)."""
    return str(escape(text(key, language, **values)))


def login(app, username, code=None, password=PASSWORD):
    return log_in(app, username, password, SECOND_FACTORS, code)


def logged_in(app, username):
    return staff_logged_in(app, username, PASSWORD, SECOND_FACTORS)


def submit(services, kind="deletion", **extra):
    values = {
        "details": {"scope": "all", "phone": PHONE},
        "verified": True,
        "transcript": [{"from": "visitor", "text": f"call me on {PHONE}", "at": ""}],
    }
    values.update(extra)
    return services.store.submit(kind, EMAIL, **values).reference


def mails(services, to=EMAIL):
    with transaction(services.store.sessions) as session:
        return [
            m.body
            for m in session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.to_address == to)
                .order_by(OutboxMessage.id)
            ).scalars()
        ]


def audit_actions(services, reference):
    return [(a.actor, a.action) for a in services.directory.audit_for(reference)]


class Desk:
    """A logged-in member on one request's page."""

    def __init__(self, app, username, reference):
        self.c = logged_in(app, username)
        self.path = f"/staff/requests/{reference}"
        self.token = csrf_of(self.c.get(self.path).text)

    def page(self, **params):
        return self.c.get(self.path, params=params).text

    def post(self, form, data=None, files=None, token=True):
        data = dict(data or {})
        if token:
            data["csrf_token"] = self.token
        return self.c.post(f"{self.path}/{form}", data=data, files=files)

    def done(self, form, data=None, files=None):
        """Post a form that works: back to the page (303), which then says what was done."""
        response = self.post(form, data, files)
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith(self.path)
        return self.page()


# -- days left ------------------------------------------------------------------------------


def days_flag(html):
    return re.search(r'<span id="days-left">(.*?)</span>\s*</div>', html, re.S).group(1)


def test_days_left_say_in_words_how_urgent_a_request_is(app, services):
    reference = submit(services)
    row = services.store.get(reference)
    desk = Desk(app, "lena", reference)
    left = deadlines.working_days_left(row.due_at, services.store.clock())
    flag = days_flag(desk.page())
    assert 'data-state="ok"' in flag and shown("web.staff.case.days.left", days=left) in flag
    soon = row.due_at - timedelta(days=1)
    services.store.clock = lambda: soon
    flag = days_flag(desk.page())
    assert "flag-due-soon" in flag and shown("web.staff.case.days.soon", days=1)[:9] in flag
    services.store.clock = lambda: row.due_at + timedelta(days=7)
    flag = days_flag(desk.page())
    overdue = -deadlines.working_days_left(row.due_at, row.due_at + timedelta(days=7))
    assert "flag-overdue" in flag and shown("web.staff.case.days.overdue", days=overdue) in flag


def test_a_due_date_in_a_year_the_calendar_does_not_know_is_marked_estimated(app, services):
    from datetime import datetime, timezone

    known = submit(services)
    assert 'id="deadline-estimated"' not in Desk(app, "lena", known).page()
    services.store.clock = lambda: datetime(2026, 12, 21, 2, tzinfo=timezone.utc)
    reference = submit(services, kind="access")  # not the same kind: not a duplicate
    services.store.clock = lambda: datetime(2026, 12, 22, 2, tzinfo=timezone.utc)
    page = Desk(app, "lena", reference).page()
    assert shown("web.staff.case.deadline.estimated_text", years="2027") in page


# -- assignment -----------------------------------------------------------------------------


def test_assign_to_a_member_to_oneself_and_to_nobody_audited(app, services):
    reference = submit(services)
    desk = Desk(app, "lena", reference)
    page = desk.page()
    assert 'value="leo"' in page and 'value="sam"' not in page  # support cannot work requests
    page = desk.done("assign", {"assignee": "leo"})
    assert shown("web.staff.case.assigned", name="leo") in page
    assert services.store.get(reference).assignee == "leo"
    desk.done("assign", {"to_me": "1"})
    assert services.store.get(reference).assignee == "lena"
    page = desk.done("assign", {"assignee": ""})
    assert (
        shown("web.staff.case.unassigned") in page
        and services.store.get(reference).assignee is None
    )
    response = desk.post("assign", {"assignee": "sam"})
    assert response.status_code == 400
    assert shown("web.staff.case.error.assignee") in response.text
    assert services.store.get(reference).assignee is None
    assert audit_actions(services, reference).count(("lena", "assign")) == 3


# -- notes and messages ---------------------------------------------------------------------


def test_an_internal_note_is_listed_and_never_sent(app, services):
    reference = submit(services)
    desk = Desk(app, "lena", reference)
    before = mails(services)
    page = desk.done("notes", {"note_body": "Checked the CRM: two accounts."})
    assert shown("web.staff.case.note_added") in page
    notes = re.search(r'<ol id="notes".*?</ol>', page, re.S).group(0)
    assert "Checked the CRM: two accounts." in notes and "lena" in notes
    assert mails(services) == before
    assert ("lena", "note") in audit_actions(services, reference)
    response = desk.post("notes", {"note_body": "   "})
    assert response.status_code == 400 and shown("errors.casework.empty_note") in response.text
    long_note = "x" * 5001
    response = desk.post("notes", {"note_body": long_note})
    assert response.status_code == 400 and long_note in response.text  # kept as typed


def test_a_message_is_emailed_to_the_requester_and_listed(app, services):
    reference = submit(services)
    desk = Desk(app, "lena", reference)
    page = desk.done("messages", {"message_body": "Which account do you mean?"})
    assert shown("web.staff.case.message_sent") in page
    listed = re.search(r'<ol id="messages-to-requester".*?</ol>', page, re.S).group(0)
    assert "Which account do you mean?" in listed
    assert "Which account do you mean?" in mails(services)[-1]
    response = desk.post("messages", {"message_body": ""})
    assert response.status_code == 400
    assert shown("errors.casework.empty_message") in response.text


# -- extension, hold, resume ----------------------------------------------------------------


def test_one_extension_within_the_maximum_with_a_reason(app, services):
    reference = submit(services)
    row = services.store.get(reference)
    desk = Desk(app, "lena", reference)
    zone = deadlines.jurisdiction().zone
    from zoneinfo import ZoneInfo

    latest = deadlines.latest_extension(row.due_at).due.astimezone(ZoneInfo(zone)).date()
    assert f"At the latest {latest.isoformat()}" in desk.page()

    response = desk.post(
        "extend", {"extension_date": "next week", "extension_reason": "Two systems to search."}
    )
    assert response.status_code == 400 and shown("web.staff.case.error.bad_date") in response.text
    assert "Two systems to search." in response.text  # what was typed is kept
    response = desk.post("extend", {"extension_date": latest.isoformat(), "extension_reason": "  "})
    assert response.status_code == 400
    assert shown("errors.casework.empty_reason") in response.text
    assert f'value="{latest.isoformat()}"' in response.text
    too_late = latest + timedelta(days=1)
    response = desk.post(
        "extend",
        {"extension_date": too_late.isoformat(), "extension_reason": "Two systems to search."},
    )
    assert response.status_code == 400
    assert shown("errors.casework.beyond_max", latest=latest.isoformat()) in response.text
    assert services.store.get(reference).original_due_at is None

    page = desk.done(
        "extend",
        {"extension_date": latest.isoformat(), "extension_reason": "Two systems to search."},
    )
    assert shown("web.staff.case.extended", date=latest.isoformat()) in page
    assert services.store.get(reference).original_due_at is not None
    assert "Two systems to search." in mails(services)[-1]
    response = desk.post(
        "extend", {"extension_date": latest.isoformat(), "extension_reason": "Again."}
    )
    assert 'id="extend-form"' not in page and shown("web.staff.case.extend.once") in page
    assert response.status_code == 400
    assert shown("errors.casework.extended_once") in response.text


def test_hold_with_a_reason_and_the_clock_then_resume(app, services):
    reference = submit(services)
    desk = Desk(app, "lena", reference)
    response = desk.post("hold", {"hold_note": "Which account?", "hold_clock": "stops"})
    assert response.status_code == 400
    assert shown("errors.casework.hold_reason") in response.text
    response = desk.post("hold", {"hold_reason": "clarification", "hold_note": "Which account?"})
    assert response.status_code == 400
    assert shown("web.staff.case.error.hold_clock") in response.text
    assert "Which account?" in response.text
    response = desk.post("hold", {"hold_reason": "clarification", "hold_clock": "stops"})
    assert shown("errors.casework.empty_hold_note") in response.text
    assert services.store.get(reference).held_at is None

    page = desk.done(
        "hold",
        {"hold_reason": "clarification", "hold_note": "Which account?", "hold_clock": "stops"},
    )
    assert shown("web.staff.case.held") in page
    state = re.search(r'<dd id="hold-state">(.*?)</dd>', page, re.S).group(1)
    assert shown("web.staff.case.hold_reason.clarification") in state
    assert shown("web.staff.case.hold.clock_stops") in state
    assert shown("web.staff.case.days.on_hold") in days_flag(page)
    assert "Which account?" in mails(services)[-1]
    page = desk.done("resume")
    assert services.store.get(reference).held_at is None and 'id="hold-form"' in page
    response = desk.post("resume")
    assert response.status_code == 400
    assert shown("errors.casework.not_held") in response.text
    actions = audit_actions(services, reference)
    assert ("lena", "hold") in actions and ("lena", "resume") in actions


def test_a_refusal_of_the_back_end_is_told_in_the_members_language(app, services):
    """What only the back end checks (a request on hold already) comes back as its code, said
    in the member's language: a Chinese page shows no English sentence from an exception."""
    reference = submit(services)
    services.casework.hold(reference, "clarification", "Which account?", True, "lena")
    desk = Desk(app, "lena", reference)
    desk.c.post(
        "/staff/language", data={"language": "zh", "csrf_token": desk.token, "next": desk.path}
    )
    response = desk.post(
        "hold", {"hold_reason": "legal_hold", "hold_note": "Litigation.", "hold_clock": "runs"}
    )
    assert response.status_code == 400
    assert shown("errors.casework.held_already", "zh") in response.text
    assert shown("errors.casework.held_already") not in response.text


# -- every form: CSRF and roles ------------------------------------------------------------


def test_every_casework_form_is_refused_without_the_csrf_token(app, services):
    reference = submit(services, kind="access")
    desk = Desk(app, "lena", reference)
    before = (mails(services), services.store.get(reference).updated_at)
    for form in FORMS:
        response = desk.post(
            form,
            {
                "assignee": "lena",
                "note_body": "x",
                "message_body": "x",
                "hold_reason": "clarification",
                "hold_note": "x",
                "hold_clock": "stops",
                "action": "generate",
            },
            token=False,
        )
        assert response.status_code == 403, form
        wrong = desk.c.post(f"{desk.path}/{form}", data={"csrf_token": "forged"})
        assert wrong.status_code == 403, form
    assert (mails(services), services.store.get(reference).updated_at) == before
    assert "reveal" not in [a for _, a in audit_actions(services, reference)]


def test_a_member_who_may_only_read_cannot_work_a_request(app, services):
    reference = submit(services, kind="access")
    desk = Desk(app, "sam", reference)
    page = desk.page()
    assert 'id="note-form"' not in page and 'id="reveal-form"' not in page
    for form in FORMS:
        assert desk.post(form, {"note_body": "x"}).status_code == 403, form


# -- personal data --------------------------------------------------------------------------


def test_personal_data_is_masked_until_an_audited_reveal(app, services):
    reference = submit(services)
    desk = Desk(app, "lena", reference)
    page = desk.page()
    assert EMAIL not in page and "j***@e***.com" in page
    assert PHONE not in page and "***00" in page  # in the details and the chat
    assert "reveal" not in [a for _, a in audit_actions(services, reference)]
    response = desk.post("reveal")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert EMAIL in response.text and PHONE in response.text
    assert shown("web.staff.case.revealed") in response.text
    assert ("lena", "reveal") in audit_actions(services, reference)
    assert EMAIL not in desk.page()  # for that one view only


# -- refusal templates ----------------------------------------------------------------------


def test_a_refusal_template_fills_the_reason_which_stays_editable(app, services):
    reference = submit(services, language="zh")
    desk = Desk(app, "lena", reference)
    page = desk.page()
    for template in refusals.templates():
        assert f'value="{template.key}"' in page and template.title["en"] in page
    retention = refusals.find("legal_retention")
    chosen = desk.page(refusal="legal_retention")
    textarea = re.search(r'<textarea id="note"[^>]*>(.*?)</textarea>', chosen, re.S).group(1)
    assert textarea == retention.reason("zh", reference)  # in the request's language
    assert "第四十七条" in textarea
    assert re.search(r'<option value="rejected" selected>', chosen)
    edited = retention.reason("zh", reference) + "\n（已核对保存期限：三年。）"
    response = desk.c.post(
        f"{desk.path}/status", data={"status": "rejected", "note": edited, "csrf_token": desk.token}
    )
    assert response.status_code == 200
    row = services.store.get(reference)
    assert row.status == "rejected" and row.rejection_reason == edited
    assert "第五十条" in mails(services)[-1]


# -- the access copy and its download page --------------------------------------------------


def link_token(body):
    return re.search(r"/download/([A-Za-z0-9_-]+)", body).group(1)


def code_from(body):
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_an_export_is_checked_attached_and_its_link_emailed(app, services):
    reference = submit(services, kind="access")
    desk = Desk(app, "lena", reference)
    assert 'id="attach-form"' in desk.page()
    response = desk.post(
        "delivery",
        {"action": "attach"},
        files={"file": ("export.exe", b"MZ", "application/octet-stream")},
    )
    assert response.status_code == 400
    assert shown("web.staff.case.delivery_error.file_type") in response.text
    response = desk.post(
        "delivery",
        {"action": "attach"},
        files={"file": ("export.zip", b"not a zip", "application/zip")},
    )
    assert shown("web.staff.case.delivery_error.file_content") in response.text
    response = desk.post("delivery", {"action": "attach"})
    assert response.status_code == 400 and shown("web.staff.case.error.no_file") in response.text
    page = desk.done(
        "delivery",
        {"action": "attach"},
        files={"file": ("export.csv", b"name\nJane\n", "text/csv")},
    )
    assert "export.csv" in re.search(r'<ul id="deliveries".*?</ul>', page, re.S).group(0)
    assert "/download/" in mails(services)[-1]
    page = desk.done("delivery", {"action": "generate"})
    assert f"{reference}-privacy-assistant.zip" in page
    assert ("lena", "delivery_prepared") in audit_actions(services, reference)
    deletion = Desk(app, "lena", submit(services))
    assert 'id="attach-form"' not in deletion.page()
    response = deletion.post("delivery", {"action": "generate"})
    assert response.status_code == 400
    assert shown("web.staff.case.delivery_error.not_access") in response.text


def prepared_link(app, services, content=b"name\nJane\n"):
    reference = submit(services, kind="access")
    Desk(app, "lena", reference).done(
        "delivery", {"action": "attach"}, files={"file": ("export.csv", content, "text/csv")}
    )
    return reference, link_token(mails(services)[-1])


class Requester:
    def __init__(self, app, token):
        self.c = client(app)
        self.path = f"/download/{token}"
        self.page = self.c.get(self.path)
        self.token = csrf_of(self.page.text) if 'name="csrf_token"' in self.page.text else ""

    def send(self):
        return self.c.post(self.path, data={"action": "send", "csrf_token": self.token})

    def download(self, code):
        return self.c.post(
            self.path, data={"action": "download", "code": code, "csrf_token": self.token}
        )


def test_the_download_page_asks_for_a_fresh_code_and_serves_the_file_once(app, services):
    reference, token = prepared_link(app, services)
    before = len(mails(services))
    requester = Requester(app, token)
    page = requester.page
    assert page.status_code == 200 and "j***@e***.com" in page.text and EMAIL not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert len(mails(services)) == before  # opening the link sends no code
    forged = requester.c.post(requester.path, data={"action": "send"})
    assert forged.status_code == 403 and len(mails(services)) == before
    sent = requester.send()
    assert sent.status_code == 200
    assert shown("web.download.sent", email="j***@e***.com", minutes=15) in sent.text
    code = code_from(mails(services)[-1])
    wrong = "000000" if code != "000000" else "111111"
    response = requester.download(wrong)
    assert response.status_code == 400
    assert shown("web.download.error.code_wrong", left=4) in response.text
    response = requester.download("")
    assert response.status_code == 400 and shown("web.download.error.no_code") in response.text
    response = requester.download(code)
    assert response.status_code == 200 and response.content == b"name\nJane\n"
    assert response.headers["content-disposition"].startswith('attachment; filename="export.csv"')
    assert response.headers["cache-control"] == "no-store"
    assert ("requester", "download") in audit_actions(services, reference)
    again = Requester(app, token).page
    assert again.status_code == 410 and shown("web.download.used.heading") in again.text
    assert requester.download(code).status_code == 410


def test_an_unknown_or_expired_link_gets_a_page_that_says_so(app, services):
    unknown = client(app).get("/download/not-a-real-token")
    assert unknown.status_code == 404 and shown("web.download.unknown.heading") in unknown.text
    _, token = prepared_link(app, services)
    requester = Requester(app, token)
    requester.send()
    code = code_from(mails(services)[-1])
    later = services.store.clock() + timedelta(days=load_settings().delivery_expiry_days, seconds=1)
    services.store.clock = lambda: later
    expired = requester.download(code)
    assert expired.status_code == 410 and shown("web.download.expired.heading") in expired.text
    assert Requester(app, token).page.status_code == 410


def test_a_code_for_another_requests_link_does_not_open_this_one(app, services):
    _, first = prepared_link(app, services)
    _, second = prepared_link(app, services)
    one, two = Requester(app, first), Requester(app, second)
    one.send()
    code = code_from(mails(services)[-1])
    response = two.download(code)
    assert response.status_code == 400
    assert shown("web.download.error.code_missing") in response.text
    two.send()
    response = two.download(code)  # the first link's code, again
    assert response.status_code == 400 and "filename" not in response.headers.get(
        "content-disposition", ""
    )
    assert one.download(code).status_code == 200


def test_too_many_codes_for_a_link_are_refused_kindly(app, services):
    _, token = prepared_link(app, services)
    requester = Requester(app, token)
    for _ in range(5):
        assert requester.send().status_code == 200
    refused = requester.send()
    assert refused.status_code == 429
    assert shown("web.download.error.too_many_codes") in refused.text


def test_the_download_page_follows_the_visitors_language(app, services):
    _, token = prepared_link(app, services)
    page = client(app).get(f"/download/{token}", headers={"accept-language": "zh-CN"})
    assert shown("web.download.heading", "zh") in page.text and 'lang="zh-CN"' in page.text


# -- signing in with a second factor --------------------------------------------------------


def enrolled_secret(services, username):
    begun = services.directory.begin_two_factor(username)
    earlier = time.time() - 30
    services.directory.confirm_two_factor(
        username, totp.code_at(begun.secret, earlier), "cli", moment=earlier
    )
    return begun.secret


def test_an_enrolled_member_needs_the_code_from_the_login_form(app, services):
    secret = enrolled_secret(services, "tess")
    page = client(app).get("/staff/login").text
    assert 'name="code"' in page and shown("web.staff.case.login.code") in page
    c, response = login(app, "tess")
    assert response.status_code == 200
    assert shown("web.staff.case.login.code_needed") in response.text
    assert 'value="tess"' in response.text  # the username is kept; the password is not
    assert c.get("/staff/requests").status_code == 303  # not logged in
    c, response = login(app, "tess", code="12345x")
    assert response.status_code == 401
    assert shown("web.staff.case.login.wrong_code") in response.text
    c, response = login(app, "tess", code=totp.code_at(secret, time.time()))
    assert response.status_code == 303 and c.get("/staff/requests").status_code == 200
    actions = [(a.actor, a.action, a.detail) for a in services.directory.audit_for("tess")]
    assert ("tess", "login_failed", "wrong second factor") in actions
    assert ("tess", "login", "with a totp code") in actions


def test_an_admin_without_two_factor_enrols_before_anything_else(app, services):
    c, response = login(app, "newadmin")
    assert response.status_code == 303 and response.headers["location"] == "/staff/two-factor"
    assert c.get("/staff/requests").status_code == 303  # nothing else until enrolled
    page = c.get("/staff/two-factor")
    assert page.headers["cache-control"] == "no-store"
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    assert "otpauth://totp/" in page.text
    token = csrf_of(page.text)
    right = totp.code_at(secret, time.time())
    wrong = right[:-1] + str((int(right[-1]) + 1) % 10)
    response = c.post("/staff/two-factor", data={"code": wrong, "csrf_token": token})
    assert response.status_code == 400
    assert shown("web.staff.case.two_factor.wrong_code") in response.text
    assert secret in response.text  # the same key, to try again
    response = c.post("/staff/two-factor", data={"code": right, "csrf_token": token})
    assert response.status_code == 200
    codes = re.findall(r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", response.text)
    assert len(codes) == 10 and shown("web.staff.case.two_factor.codes_once") in response.text
    assert c.get("/staff/requests").status_code == 200  # logged in now
    assert services.directory.has_two_factor("newadmin")
    again, response = login(app, "newadmin", code=codes[0])
    assert response.status_code == 303 and again.get("/staff/requests").status_code == 200


def test_a_member_can_turn_two_factor_on_from_the_pages(app, services):
    c = logged_in(app, "leo")
    page = c.get("/staff/two-factor").text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    forged = c.post("/staff/two-factor", data={"code": totp.code_at(secret, time.time())})
    assert forged.status_code == 400 and not services.directory.has_two_factor("leo")
    response = c.post(
        "/staff/two-factor",
        data={"code": totp.code_at(secret, time.time()), "csrf_token": csrf_of(page)},
    )
    assert response.status_code == 200 and services.directory.has_two_factor("leo")
    assert shown("web.staff.case.two_factor.enabled") in c.get("/staff/two-factor").text
    assert client(app).get("/staff/two-factor").headers["location"] == "/staff/login"


def test_a_code_in_a_transcript_stored_before_is_masked_even_revealed(app, services):
    """Transcripts stored before codes were masked when stored (issue 23): masked on the page."""
    prompt = text("flow.code.sent", "zh", email="j***@e***.com")
    reference = submit(
        services,
        transcript=[
            {"from": "assistant", "text": prompt, "at": ""},
            {"from": "visitor", "text": "482913", "at": ""},
            {"from": "visitor", "text": "about DEL-482913", "at": ""},
        ],
    )
    desk = Desk(app, "lena", reference)
    for page in (desk.page(), desk.post("reveal").text):
        assert not re.search(r">\s*482913\s*<", page) and "[code]" in page
        assert "DEL-482913" in page
