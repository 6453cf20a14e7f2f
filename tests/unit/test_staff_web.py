"""The staff pages with Starlette's test client: login, every route's guard, roles, CSRF, the
legal review (status changes and their e-mails, CSV export, audit), support handoffs, escaping."""

import csv
import io
import re
from dataclasses import replace
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from starlette.routing import Route
from starlette.testclient import TestClient

import bot.web.staff.auth as staff_auth
from bot.core.settings import load_settings
from bot.requests.store import RequestStore
from bot.storage.db import make_engine, transaction
from bot.storage.models import AuditEntry, OutboxMessage
from bot.web.app import create_app
from bot.web.staff import PUBLIC_STAFF_PATHS, StaffServices
from tests.support.databases import copy_sqlite

PASSWORD = "a long enough password"
XSS = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def failed_login_delays(monkeypatch):
    """The delay each failed login costs, recorded instead of waited (five cost 5.75 s)."""
    delays = []

    async def sleep(seconds):
        delays.append(seconds)
    monkeypatch.setattr(staff_auth, "asyncio", SimpleNamespace(sleep=sleep))
    return delays


@pytest.fixture(scope="module")
def staff_database(sqlite_template, tmp_path_factory):
    """The staff accounts, made once for the module (each scrypt hash takes ~0.1 s); every test
    gets a copy of this database, accounts included."""
    path = tmp_path_factory.mktemp("staff") / "staff.db"
    services = StaffServices(RequestStore(make_engine(copy_sqlite(sqlite_template, path)),
                                          secret="s"))
    for name, role in (("lena", "legal"), ("sam", "support"), ("ada", "admin"), ("gone", "legal")):
        services.directory.add(name, role, PASSWORD)
    services.directory.disable("gone")
    services.store.engine.dispose()
    return path


@pytest.fixture
def services(staff_database, tmp_path):
    url = copy_sqlite(staff_database, tmp_path / "staff.db")
    services = StaffServices(RequestStore(make_engine(url), secret="s"))
    yield services
    services.store.engine.dispose()


@pytest.fixture
def app(services):
    settings = replace(load_settings(), rasa_url="http://rasa.invalid")
    return create_app(settings, services=services, session_secret="test-secret")


def client(app):
    return TestClient(app, follow_redirects=False)


def csrf_of(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(app, username, password=PASSWORD):
    c = client(app)
    token = csrf_of(c.get("/staff/login").text)
    response = c.post("/staff/login", data={"username": username, "password": password,
                                            "csrf_token": token, "next": "/staff/"})
    return c, response


def logged_in(app, username):
    c, response = login(app, username)
    assert response.status_code == 303, response.text
    return c


def page_csrf(c, path):
    return csrf_of(c.get(path).text)


def staff_routes(app):
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/staff") \
                and route.path not in PUBLIC_STAFF_PATHS:
            for method in sorted(route.methods - {"HEAD"}):
                path = route.path.replace("{reference}", "DEL-AAAAAA").replace(
                    "{ticket_id:int}", "1")
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
    assert checked == 13  # every guarded route of bot/web/staff/


def test_login_sets_a_strict_httponly_cookie_and_lands_by_role(app):
    c, response = login(app, "lena")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=" in cookie
    assert c.get("/staff/").headers["location"] == "/staff/requests"
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
    response = c.post("/staff/login", data={"username": "lena", "password": PASSWORD,
                                            "csrf_token": token, "next": "https://evil.example/"})
    assert response.headers["location"] == "/staff/"


def test_roles(app, services):
    reference = services.store.submit("deletion", "v@example.com", verified=True).reference
    support = logged_in(app, "sam")
    assert support.get(f"/staff/requests/{reference}").status_code == 200  # can read
    token = page_csrf(support, f"/staff/requests/{reference}")
    assert support.post(f"/staff/requests/{reference}/status",
                        data={"status": "in_progress", "csrf_token": token}).status_code == 403
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
        return [m.body for m in session.execute(select(OutboxMessage).where(
            OutboxMessage.to_address == address).order_by(OutboxMessage.id)).scalars()]


def test_status_changes_follow_the_lifecycle_email_the_requester_and_are_audited(app, services):
    reference = services.store.submit("deletion", "v@example.com", details={
        "scope": "specific", "items": "my meeting history"}, verified=True).reference
    legal = logged_in(app, "lena")
    path = f"/staff/requests/{reference}"
    token = page_csrf(legal, path)
    response = legal.post(f"{path}/status", data={"status": "completed", "csrf_token": token})
    assert response.status_code == 400 and "Not changed" in response.text
    response = legal.post(f"{path}/status", data={"status": "in_progress", "csrf_token": token})
    assert response.status_code == 200 and "e-mailed" in response.text
    response = legal.post(f"{path}/status", data={"status": "completed", "csrf_token": token})
    assert response.status_code == 200
    row = services.store.get(reference)
    assert row.status == "completed"
    assert [(e.to_status, e.actor) for e in row.events][1:] == [
        ("in_progress", "lena"), ("completed", "lena")]
    last = mails_to(services, "v@example.com")[-1]
    assert "complete" in last and "my meeting history" in last
    audit = [(a.actor, a.action) for a in services.directory.audit_for(reference)]
    assert ("lena", "view_request") in audit and ("lena", "status_change") in audit


def test_rejecting_needs_a_reason_and_the_email_gives_it(app, services):
    reference = services.store.submit("access", "v@example.com", verified=True).reference
    legal = logged_in(app, "lena")
    token = page_csrf(legal, f"/staff/requests/{reference}")
    response = legal.post(f"/staff/requests/{reference}/status",
                          data={"status": "rejected", "note": " ", "csrf_token": token})
    assert response.status_code == 400 and "reason" in response.text
    legal.post(f"/staff/requests/{reference}/status", data={
        "status": "rejected", "note": "No account uses this address.", "csrf_token": token})
    assert services.store.get(reference).status == "rejected"
    assert "Reason: No account uses this address." in mails_to(services, "v@example.com")[-1]


def test_queue_filters_search_counts_and_overdue(app, services, monkeypatch):
    a = services.store.submit("deletion", "one@example.com", verified=True).reference
    b = services.store.submit("access", "two@example.com", verified=True,
                              requester_role="guardian").reference
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
    services.store.clock = lambda: services.store.get(a).due_at.replace(
        tzinfo=__import__("datetime").timezone.utc) + __import__("datetime").timedelta(days=1)
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
        assert session.execute(select(AuditEntry).where(
            AuditEntry.action == "export", AuditEntry.actor == "lena")).first() is not None


def test_the_csv_export_runs_nothing_a_requester_typed_as_a_formula(app, services):
    formula = '=HYPERLINK("http://evil.example","open")'
    reference = services.store.submit(
        "suspension", "-v@example.com", details={"items": "=1+1"}, reason=formula,
        verified=True).reference
    legal = logged_in(app, "lena")
    token = page_csrf(legal, f"/staff/requests/{reference}")
    legal.post(f"/staff/requests/{reference}/status",
               data={"status": "rejected", "note": "@SUM(A1:A9)", "csrf_token": token})
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
        "'\tcmd", "'\rcmd", "'+1 555 0100"]
    for cells in rows.values():
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r"))
                       for cell in cells.values())


def test_what_a_visitor_typed_is_shown_as_text(app, services):
    reference = services.store.submit(
        "deletion", "v@example.com", verified=True, details={"scope": "specific", "items": XSS},
        transcript=[{"from": "visitor", "text": XSS, "at": ""}]).reference
    services.handoffs.create("conv-xss", "asked", [{"from": "visitor", "text": XSS, "at": ""}],
                             live=True)
    legal = logged_in(app, "lena")
    html = legal.get(f"/staff/requests/{reference}").text
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    ticket = services.handoffs.list()[0]
    html = logged_in(app, "sam").get(f"/staff/handoffs/{ticket.id}").text
    assert XSS not in html and "&lt;script&gt;" in html


def test_support_opens_replies_and_closes_a_ticket(app, services):
    ticket = services.handoffs.create("visitor-1", "asked",
                                      [{"from": "visitor", "text": "I need a person", "at": ""}],
                                      live=False, contact_email="v@example.com")
    sam = logged_in(app, "sam")
    listing = sam.get("/staff/handoffs.json").json()["tickets"]
    assert [t["id"] for t in listing] == [ticket.id]
    page = sam.get(f"/staff/handoffs/{ticket.id}")
    assert page.status_code == 200 and "I need a person" in page.text
    assert services.handoffs.get(ticket.id).status == "open"
    token = csrf_of(page.text)
    response = sam.post(f"/staff/handoffs/{ticket.id}/reply", data={
        "text": "Hello, this is Sam.", "csrf_token": token},
        headers={"accept": "application/json"})
    assert response.json()["ok"] and response.json()["delivery"] == "email"
    assert "Hello, this is Sam." in mails_to(services, "v@example.com")[-1]
    messages = sam.get(f"/staff/handoffs/{ticket.id}.json").json()["messages"]
    assert [m["sender"] for m in messages] == ["system", "staff"]
    sam.post(f"/staff/handoffs/{ticket.id}/close", data={"csrf_token": token})
    assert services.handoffs.get(ticket.id).status == "closed"
    response = sam.post(f"/staff/handoffs/{ticket.id}/reply", data={
        "text": "too late", "csrf_token": token}, headers={"accept": "application/json"})
    assert response.status_code == 409
