"""The staff pages with Starlette's test client: login, every route's guard, roles, CSRF, the
legal review (status changes and their e-mails, CSV export, audit), support handoffs, escaping."""

import csv
import io
import json
import re

import pytest
from sqlalchemy import select
from starlette.routing import Route

from bot.core.texts import text
from bot.requests import lifecycle
from bot.requests.store import KINDS, RequestStore
from bot.services import Services
from bot.staff.accounts import ROLES
from bot.storage.db import make_engine, transaction
from bot.storage.models import AuditEntry, OutboxMessage
from bot.support.tickets import REASONS
from bot.web import i18n
from bot.web.staff import PUBLIC_STAFF_PATHS
from tests.support.databases import copy_sqlite
from tests.support.staff import (
    SecondFactors,
    add_members,
    client,
    csrf_of,
    log_in,
    seeded_database,
    staff_app,
)
from tests.support.staff import logged_in as staff_logged_in

PASSWORD = "a long enough password"
XSS = "<script>alert(1)</script>"
SECRET = "staff-web-test-secret"
# The admin has two-factor sign-in, as admins must; `login` gives one of its codes.
SECOND_FACTORS = SecondFactors()

pytestmark = pytest.mark.usefixtures("failed_login_delays")


def login(app, username, password=PASSWORD):
    return log_in(app, username, password, SECOND_FACTORS)


def logged_in(app, username):
    return staff_logged_in(app, username, PASSWORD, SECOND_FACTORS)


@pytest.fixture(autouse=True)
def app_secret(set_env):
    """What seals the admin's TOTP secret: the same for enrolment and every login."""
    set_env(APP_SECRET=SECRET)


@pytest.fixture(scope="module")
def staff_database(sqlite_template, tmp_path_factory):
    """The staff accounts, made once for the module (each scrypt hash takes ~0.1 s); every test
    gets a copy of this database, accounts included."""
    return seeded_database(
        sqlite_template,
        tmp_path_factory.mktemp("staff"),
        lambda made: add_members(
            made.directory,
            (("lena", "legal"), ("sam", "support"), ("ada", "admin"), ("gone", "legal")),
            PASSWORD,
            SECRET,
            SECOND_FACTORS,
            disabled=("gone",),
        ),
    )


@pytest.fixture
def services(staff_database, tmp_path):
    url = copy_sqlite(staff_database, tmp_path / "staff.db")
    services = Services(RequestStore(make_engine(url), secret="s"))
    yield services
    services.store.engine.dispose()


@pytest.fixture
def app(services):
    return staff_app(services)


def page_csrf(c, path):
    return csrf_of(c.get(path).text)


def staff_routes(app):
    for route in app.routes:
        if (
            isinstance(route, Route)
            and route.path.startswith("/staff")
            and route.path not in PUBLIC_STAFF_PATHS
        ):
            for method in sorted(route.methods - {"HEAD"}):
                path = (
                    route.path.replace("{reference}", "DEL-AAAAAA")
                    .replace("{ticket_id:int}", "1")
                    .replace("{task_id}", "0" * 32)
                )
                yield method, path


def test_every_staff_route_refuses_a_visitor_who_is_not_logged_in(app):
    c = client(app)
    checked = 0
    for method, path in staff_routes(app):
        response = c.request(method, path)
        if path.endswith((".json", ".csv")):
            assert response.status_code == 401, (method, path)
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/staff/login"), (method, path)
        checked += 1
    # every guarded route of bot/web/staff/: the overview and bulk actions, 8 casework forms,
    # enrolment (GET, POST), and a task's tick and retry
    assert checked == 26


def test_login_sets_a_strict_httponly_cookie_and_lands_by_role(app):
    c, response = login(app, "lena")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=" in cookie
    assert c.get("/staff/").status_code == 200  # legal opens on the desk's overview
    assert logged_in(app, "sam").get("/staff/").headers["location"] == "/staff/handoffs"


def test_wrong_password_disabled_account_and_unknown_user_are_refused_and_audited(app, services):
    for name, password in (("lena", "wrong password!!"), ("gone", PASSWORD), ("nobody", PASSWORD)):
        _, response = login(app, name, password)
        assert response.status_code == 401 and "Wrong username or password" in response.text
    with transaction(services.store.sessions) as session:
        actions = [(a.actor, a.action) for a in session.execute(select(AuditEntry)).scalars()]
    assert ("lena", "login_failed") in actions and ("nobody", "login_failed") in actions


def test_repeated_failed_logins_are_slowed_then_refused(app, failed_login_delays):
    for _ in range(5):
        login(app, "lena", "not the password")
    assert failed_login_delays == [0.25, 0.5, 1.0, 2.0, 2.0]
    _, response = login(app, "lena")  # even the right password, for now
    assert response.status_code == 200 and "Too many failed attempts" in response.text


def test_login_without_csrf_token_is_refused(app):
    response = client(app).post("/staff/login", data={"username": "lena", "password": PASSWORD})
    assert response.status_code == 200 and "expired" in response.text


def test_login_never_redirects_off_site(app):
    c = client(app)
    token = csrf_of(c.get("/staff/login").text)
    response = c.post(
        "/staff/login",
        data={
            "username": "lena",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
    )
    assert response.headers["location"] == "/staff/"


def test_roles(app, services):
    reference = services.store.submit("deletion", "v@example.com", verified=True).reference
    support = logged_in(app, "sam")
    assert support.get(f"/staff/requests/{reference}").status_code == 200  # can read
    token = page_csrf(support, f"/staff/requests/{reference}")
    assert (
        support.post(
            f"/staff/requests/{reference}/status",
            data={"status": "in_progress", "csrf_token": token},
        ).status_code
        == 403
    )
    assert support.get("/staff/requests.csv").status_code == 403
    legal = logged_in(app, "lena")
    assert legal.get("/staff/handoffs").status_code == 403
    assert legal.get("/staff/handoffs.json").status_code == 403
    admin = logged_in(app, "ada")
    assert admin.get("/staff/handoffs").status_code == 200
    assert admin.get("/staff/requests.csv").status_code == 200


def test_a_post_without_the_csrf_token_changes_nothing(app, services):
    reference = services.store.submit("deletion", "v@example.com", verified=True).reference
    legal = logged_in(app, "lena")
    response = legal.post(f"/staff/requests/{reference}/status", data={"status": "in_progress"})
    assert response.status_code == 403
    assert services.store.get(reference).status == "received"


def mails_to(services, address):
    with transaction(services.store.sessions) as session:
        return [
            m.body
            for m in session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.to_address == address)
                .order_by(OutboxMessage.id)
            ).scalars()
        ]


def test_status_changes_follow_the_lifecycle_email_the_requester_and_are_audited(app, services):
    reference = services.store.submit(
        "deletion",
        "v@example.com",
        details={"scope": "specific", "items": "my meeting history"},
        verified=True,
    ).reference
    legal = logged_in(app, "lena")
    path = f"/staff/requests/{reference}"
    token = page_csrf(legal, path)
    response = legal.post(f"{path}/status", data={"status": "completed", "csrf_token": token})
    assert response.status_code == 400 and "Not changed" in response.text
    response = legal.post(f"{path}/status", data={"status": "in_progress", "csrf_token": token})
    assert response.status_code == 200 and "e-mailed" in response.text
    # Legal's task is open: completing by hand says why (tests/unit/test_staff_tasks.py).
    response = legal.post(
        f"{path}/status",
        data={"status": "completed", "note": "History erased by hand.", "csrf_token": token},
    )
    assert response.status_code == 200
    row = services.store.get(reference)
    assert row.status == "completed"
    assert [(e.to_status, e.actor) for e in row.events][1:] == [
        ("in_progress", "lena"),
        ("completed", "lena"),
    ]
    last = mails_to(services, "v@example.com")[-1]
    assert "complete" in last and "my meeting history" in last
    audit = [(a.actor, a.action) for a in services.directory.audit_for(reference)]
    assert ("lena", "view_request") in audit and ("lena", "status_change") in audit


def test_rejecting_needs_a_reason_and_the_email_gives_it(app, services):
    reference = services.store.submit("access", "v@example.com", verified=True).reference
    legal = logged_in(app, "lena")
    token = page_csrf(legal, f"/staff/requests/{reference}")
    response = legal.post(
        f"/staff/requests/{reference}/status",
        data={"status": "rejected", "note": " ", "csrf_token": token},
    )
    assert response.status_code == 400 and "reason" in response.text
    legal.post(
        f"/staff/requests/{reference}/status",
        data={"status": "rejected", "note": "No account uses this address.", "csrf_token": token},
    )
    assert services.store.get(reference).status == "rejected"
    assert "Reason: No account uses this address." in mails_to(services, "v@example.com")[-1]


def test_queue_filters_search_counts_and_overdue(app, services, monkeypatch):
    a = services.store.submit("deletion", "one@example.com", verified=True).reference
    b = services.store.submit(
        "access", "two@example.com", verified=True, requester_role="guardian"
    ).reference
    legal = logged_in(app, "lena")
    page = legal.get("/staff/requests").text
    assert a in page and b in page
    only_access = legal.get("/staff/requests", params={"kind": "access"}).text
    assert b in only_access and a not in only_access
    minors = legal.get("/staff/requests", params={"minor": "1"}).text
    assert b in minors and a not in minors
    search = legal.get("/staff/requests", params={"q": "one@"}).text
    assert a in search and b not in search
    assert legal.get("/staff/requests", params={"overdue": "1"}).text.count("DEL-") == 0
    services.store.clock = lambda: (
        services.store.get(a).due_at.replace(tzinfo=__import__("datetime").timezone.utc)
        + __import__("datetime").timedelta(days=1)
    )
    assert a in legal.get("/staff/requests", params={"overdue": "1"}).text


def test_csv_export_of_the_filtered_list_is_audited(app, services):
    services.store.submit("deletion", "one@example.com", verified=True)
    services.store.submit("access", "two@example.com", verified=True)
    legal = logged_in(app, "lena")
    response = legal.get("/staff/requests.csv", params={"kind": "access"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("reference,type,status,email") and len(lines) == 2
    assert "two@example.com" in lines[1]
    with transaction(services.store.sessions) as session:
        assert (
            session.execute(
                select(AuditEntry).where(AuditEntry.action == "export", AuditEntry.actor == "lena")
            ).first()
            is not None
        )


def test_the_csv_export_runs_nothing_a_requester_typed_as_a_formula(app, services):
    formula = '=HYPERLINK("http://evil.example","open")'
    reference = services.store.submit(
        "suspension", "-v@example.com", details={"items": "=1+1"}, reason=formula, verified=True
    ).reference
    legal = logged_in(app, "lena")
    token = page_csrf(legal, f"/staff/requests/{reference}")
    legal.post(
        f"/staff/requests/{reference}/status",
        data={"status": "rejected", "note": "@SUM(A1:A9)", "csrf_token": token},
    )
    for n, start in enumerate(("+1 555 0100", "\tcmd", "\rcmd")):
        services.store.submit("access", f"a{n}@example.com", reason=start, verified=True)
    response = legal.get("/staff/requests.csv")
    assert response.status_code == 200
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(response.text))}
    row = rows[reference]
    assert row["email"] == "'-v@example.com" and row["reason"] == "'" + formula
    assert row["rejection_reason"] == "'@SUM(A1:A9)"
    assert row["details"] == '{"items": "=1+1"}'  # JSON opens with "{": never a formula
    assert row["status"] == "rejected" and row["made_by_or_for_minor"] == "False"
    assert sorted(r["reason"] for r in rows.values() if r["type"] == "access") == [
        "'\tcmd",
        "'\rcmd",
        "'+1 555 0100",
    ]
    for cells in rows.values():
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells.values())


def test_what_a_visitor_typed_is_shown_as_text(app, services):
    reference = services.store.submit(
        "deletion",
        "v@example.com",
        verified=True,
        details={"scope": "specific", "items": XSS},
        transcript=[{"from": "visitor", "text": XSS, "at": ""}],
    ).reference
    services.handoffs.create(
        "conv-xss", "asked", [{"from": "visitor", "text": XSS, "at": ""}], live=True
    )
    legal = logged_in(app, "lena")
    html = legal.get(f"/staff/requests/{reference}").text
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    ticket = services.handoffs.list()[0]
    html = logged_in(app, "sam").get(f"/staff/handoffs/{ticket.id}").text
    assert XSS not in html and "&lt;script&gt;" in html


def test_support_opens_replies_and_closes_a_ticket(app, services):
    ticket = services.handoffs.create(
        "visitor-1",
        "asked",
        [{"from": "visitor", "text": "I need a person", "at": ""}],
        live=False,
        contact_email="v@example.com",
    )
    sam = logged_in(app, "sam")
    listing = sam.get("/staff/handoffs.json").json()["tickets"]
    assert [t["id"] for t in listing] == [ticket.id]
    page = sam.get(f"/staff/handoffs/{ticket.id}")
    assert page.status_code == 200 and "I need a person" in page.text
    assert services.handoffs.get(ticket.id).status == "open"
    token = csrf_of(page.text)
    response = sam.post(
        f"/staff/handoffs/{ticket.id}/reply",
        data={"text": "Hello, this is Sam.", "csrf_token": token},
        headers={"accept": "application/json"},
    )
    assert response.json()["ok"] and response.json()["delivery"] == "email"
    assert "Hello, this is Sam." in mails_to(services, "v@example.com")[-1]
    messages = sam.get(f"/staff/handoffs/{ticket.id}.json").json()["messages"]
    assert [m["sender"] for m in messages] == ["system", "staff"]
    sam.post(f"/staff/handoffs/{ticket.id}/close", data={"csrf_token": token})
    assert services.handoffs.get(ticket.id).status == "closed"
    response = sam.post(
        f"/staff/handoffs/{ticket.id}/reply",
        data={"text": "too late", "csrf_token": token},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 409


# -- the staff pages in Chinese and English ------------------------------------------------


def html_lang(html):
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def choose(c, language, next_path="/staff/requests", token=None):
    token = token or csrf_of(c.get("/staff/login").text)
    return c.post(
        "/staff/language", data={"language": language, "csrf_token": token, "next": next_path}
    )


def test_the_login_page_follows_the_browser_and_the_switch(app):
    c = client(app)
    page = c.get("/staff/login", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert html_lang(page.text) == "zh-CN" and text("web.staff.login.heading", "zh") in page.text
    assert html_lang(c.get("/staff/login", headers={"accept-language": "en"}).text) == "en"
    response = choose(c, "zh", "/staff/login")
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"
    cookie = response.headers["set-cookie"].lower()
    assert "vp_staff_lang=zh" in cookie and "httponly" in cookie and "path=/staff" in cookie
    # The choice wins over the browser's preference.
    assert html_lang(c.get("/staff/login", headers={"accept-language": "en"}).text) == "zh-CN"


def test_a_wrong_password_is_told_in_the_members_language(app):
    c = client(app)
    token = csrf_of(c.get("/staff/login").text)
    choose(c, "zh", token=token)
    response = c.post(
        "/staff/login",
        data={
            "username": "lena",
            "password": "wrong password!!",
            "csrf_token": token,
            "next": "/staff/",
        },
    )
    assert response.status_code == 401 and text("web.staff.login.wrong", "zh") in response.text


def test_the_choice_survives_login_and_logout_and_can_be_changed_back(app):
    c = client(app)
    choose(c, "zh")
    token = csrf_of(c.get("/staff/login").text)
    c.post(
        "/staff/login",
        data={
            "username": "lena",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/staff/requests",
        },
    )
    page = c.get("/staff/requests", headers={"accept-language": "en"})
    assert html_lang(page.text) == "zh-CN"
    assert text("web.staff.queue.heading", "zh") in page.text
    c.post("/staff/logout", data={"csrf_token": csrf_of(page.text)})
    assert html_lang(c.get("/staff/login").text) == "zh-CN"  # the cookie outlives the session
    response = choose(c, "en", "/staff/login")
    assert html_lang(c.get("/staff/login", headers={"accept-language": "zh"}).text) == "en"
    assert "vp_staff_lang=en" in response.headers["set-cookie"]


def test_the_switch_refuses_a_forged_form_an_unknown_language_and_other_sites(app):
    c = client(app)
    c.get("/staff/login")
    response = c.post("/staff/language", data={"language": "zh", "next": "/staff/requests"})
    assert response.status_code == 303
    assert "vp_staff_lang" not in response.headers.get("set-cookie", "")
    assert html_lang(c.get("/staff/login").text) == "en"
    response = choose(c, "fr")
    assert "vp_staff_lang" not in response.headers.get("set-cookie", "")
    assert choose(c, "zh", "https://evil.example/").headers["location"] == "/staff/"
    assert choose(c, "zh", "//evil.example/").headers["location"] == "/staff/"


def staff_pages(services):
    """Every staff page, with data that reaches every part of each template."""
    en = services.store.submit(
        "deletion",
        "en@example.com",
        verified=True,
        details={"scope": "specific", "items": "my recordings"},
        transcript=[
            {"from": "visitor", "text": "delete", "at": ""},
            {"from": "assistant", "text": "ok", "at": ""},
        ],
    )
    zh = services.store.submit(
        "access",
        "zh@example.com",
        verified=False,
        requester_role="guardian",
        language="zh",
        reason="想看看",
    )
    services.store.transition(
        zh.reference, "rejected", "lena", "无此账号", notify=False
    ) if "rejected" in lifecycle.TRANSITIONS[services.store.get(zh.reference).status] else None
    ticket = services.handoffs.create(
        "conv-zh",
        "fallback",
        [{"from": "visitor", "text": "转人工", "at": ""}],
        live=False,
        language="zh",
    )
    services.gaps.record(
        question="录像保存多久",
        reply_kind="not_covered",
        topic="meeting_recordings",
        sections=[],
        language="zh",
    )
    services.gaps.record(
        question="blorp", reply_kind="fallback", topic=None, sections=[], language="en"
    )
    return {
        "en": en.reference,
        "zh": zh.reference,
        "ticket": ticket.id,
        "pages": [
            "/staff/",
            "/staff/requests",
            f"/staff/requests/{en.reference}",
            f"/staff/requests/{zh.reference}",
            "/staff/gaps",
            "/staff/handoffs",
            f"/staff/handoffs/{ticket.id}",
        ],
    }


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_staff_page_renders_in_both_languages_with_no_missing_text(app, services, language):
    made = staff_pages(services)
    admin = logged_in(app, "ada")
    choose(admin, language, token=page_csrf(admin, "/staff/requests"))
    other = "zh" if language == "en" else "en"
    for path in made["pages"]:
        page = admin.get(path)
        assert page.status_code == 200, path
        assert html_lang(page.text) == i18n.HTML_LANG[language], path
        assert not re.search(r">\s*web\.[a-z_.]+\s*<", page.text), path
        assert text("web.staff.nav.requests", language) in page.text, path
        assert f">{text('web.staff.logout', other)}<" not in page.text, path
        texts = json.loads(re.search(r'id="staff-texts">(.*?)</script>', page.text, re.S).group(1))
        assert texts["web.staff.live.problem"] == text("web.staff.live.problem", language)
    queue = admin.get("/staff/requests").text
    assert text("web.staff.kind.access", language) in queue
    assert text("web.staff.status.received", language) in queue


def test_the_queue_and_the_request_page_show_and_filter_the_requests_language(app, services):
    made = staff_pages(services)
    legal = logged_in(app, "lena")
    queue = legal.get("/staff/requests").text
    rows = dict(
        re.findall(
            r'<tr class="[^"]*" data-language="(en|zh)"[^>]*>\s*(?:<td class="pick">'
            r'.*?</td>\s*)?<td class="mono"><a href="/staff/requests/([A-Z0-9-]+)"',
            queue,
        )
    )
    assert {reference: language for language, reference in rows.items()} == {
        made["en"]: "en",
        made["zh"]: "zh",
    }
    only_zh = legal.get("/staff/requests", params={"language": "zh"}).text
    assert made["zh"] in only_zh and made["en"] not in only_zh
    page = legal.get(f"/staff/requests/{made['zh']}").text
    assert 'id="request-language" data-language="zh"' in page
    assert text("web.staff.language_name.zh", "en") in page
    export = legal.get("/staff/requests.csv").text
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(export))}
    assert rows[made["zh"]]["language"] == "zh" and rows[made["en"]]["language"] == "en"


def test_handoff_pages_show_the_conversations_language(app, services):
    made = staff_pages(services)
    sam = logged_in(app, "sam")
    listing = sam.get("/staff/handoffs.json").json()["tickets"]
    assert [(t["id"], t["language"]) for t in listing] == [(made["ticket"], "zh")]
    assert f'data-id="{made["ticket"]}" data-language="zh"' in sam.get("/staff/handoffs").text
    page = sam.get(f"/staff/handoffs/{made['ticket']}").text
    assert 'id="ticket-language" data-language="zh"' in page


def test_a_refused_status_change_is_explained_in_the_members_language(app, services):
    reference = services.store.submit("access", "v@example.com", verified=True).reference
    legal = logged_in(app, "lena")
    token = page_csrf(legal, f"/staff/requests/{reference}")
    choose(legal, "zh", token=token)
    response = legal.post(
        f"/staff/requests/{reference}/status", data={"status": "completed", "csrf_token": token}
    )
    assert response.status_code == 400
    assert (
        text(
            "errors.lifecycle.cannot_become",
            "zh",
            current=text("web.staff.status.received", "zh"),
            target=text("web.staff.status.completed", "zh"),
        )
        in response.text
    )
    response = legal.post(
        f"/staff/requests/{reference}/status",
        data={"status": "rejected", "note": " ", "csrf_token": token},
    )
    assert text("errors.lifecycle.reason_required", "zh") in response.text
    response = legal.post(
        f"/staff/requests/{reference}/status", data={"status": "in_progress", "csrf_token": token}
    )
    assert (
        text("web.staff.request.changed", "zh", status=text("web.staff.status.in_progress", "zh"))
        in response.text
    )


@pytest.mark.parametrize(
    "group,values",
    [
        ("status", lifecycle.STATUSES),
        ("kind", KINDS),
        ("role", ROLES),
        ("ticket_status", ("waiting", "open", "closed")),
        ("reason", REASONS),
        ("gap_kind", ("closest", "not_covered", "fallback", "unhelpful")),
        ("language_name", ("en", "zh")),
        ("requester_role", ("self", "guardian", "minor")),
    ],
)
def test_every_value_the_code_knows_has_a_name_in_both_languages(group, values):
    from bot.core.texts import has_text

    for value in values:
        for language in ("en", "zh"):
            assert has_text(f"web.staff.{group}.{value}", language), (group, value, language)
    assert i18n.label("web.staff.status", "something_new", "zh") == "something new"


def test_a_code_in_a_ticket_stored_before_is_masked_on_its_page(app, services):
    """Issue 23: a ticket's transcript from before codes were masked when stored."""
    ticket = services.handoffs.create(
        "visitor-code",
        "verification_failed",
        [
            {"from": "assistant", "text": text("flow.code.wrong.one", attempts=1), "at": ""},
            {"from": "visitor", "text": "573 920", "at": ""},
        ],
        live=True,
    )
    html = logged_in(app, "sam").get(f"/staff/handoffs/{ticket.id}").text
    assert "573 920" not in html and "[code]" in html
