"""The legal desk's overview and queue with Starlette's test client on SQLite: the dashboard's
numbers, charts and audit verdict; days left with their states, the assignee column, the "mine"
and assignee filters, masked addresses; bulk assign and close, refused without the CSRF token,
the permission, a selection or a reason, with nothing lost."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot.core.texts import text
from bot.policy.gaps import WeekCount
from bot.requests.store import RequestStore
from bot.services import Services
from bot.storage.db import make_engine, transaction
from bot.storage.models import AuditEntry, OutboxMessage
from bot.web.charts import Bar, horizontal_bars, weekly_bars
from tests.support import Clock
from tests.support.databases import copy_sqlite
from tests.support.staff import SecondFactors, add_members, csrf_of, seeded_database, staff_app
from tests.support.staff import logged_in as staff_logged_in

PASSWORD = "a long enough password"
MONDAY = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)  # 09:00 in Beijing
SECRET = "desk-test-app-secret"
SECOND_FACTORS = SecondFactors()


def logged_in(app, username):
    return staff_logged_in(app, username, PASSWORD, SECOND_FACTORS)


@pytest.fixture(autouse=True)
def app_secret(set_env):
    """What seals the admin's TOTP secret (admins must enroll): the same for every login."""
    set_env(APP_SECRET=SECRET)


ACCOUNTS = (
    ("lena", "legal"),
    ("mia", "legal"),
    ("sam", "support"),
    ("ada", "admin"),
    ("gone", "legal"),
)


def add_accounts(services: Services) -> None:
    add_members(services.directory, ACCOUNTS, PASSWORD, SECRET, SECOND_FACTORS, disabled=("gone",))


@pytest.fixture(scope="module")
def desk_database(sqlite_template, tmp_path_factory):
    return seeded_database(sqlite_template, tmp_path_factory.mktemp("desk"), add_accounts)


@pytest.fixture
def clock():
    return Clock(MONDAY)


@pytest.fixture
def services(database_url, desk_database, tmp_path, clock, set_env):
    """On SQLite a copy of the module's database; on PostgreSQL (where it answers) the empty
    database of `database_url` with the accounts added."""
    set_env(REQUEST_JURISDICTION="prc", REQUEST_DUE_WORKING_DAYS="15")
    fresh = not database_url.startswith("sqlite")
    url = database_url if fresh else copy_sqlite(desk_database, tmp_path / "desk.db")
    services = Services(RequestStore(make_engine(url), secret="s", clock=clock))
    if fresh:
        add_accounts(services)
    yield services
    services.store.engine.dispose()


@pytest.fixture
def app(services):
    return staff_app(services)


def submit(services, clock, when, kind="deletion", email="v@example.com", verified=True):
    clock.now = when
    return services.store.submit(kind, email, verified=verified).reference


def plain(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def rows_of(html):
    """reference -> (row class, data-state, days-left cell text, assignee cell text)."""
    found = {}
    for row in re.findall(r'<tr class="[^"]*" data-language.*?</tr>', html, re.S):
        reference = re.search(r'data-reference="([^"]+)"', row).group(1)
        days = re.search(r'<td class="nowrap days-left[^"]*">(.*?)</td>', row, re.S).group(1)
        assignee = re.search(r'<td class="assignee">(.*?)</td>', row, re.S).group(1)
        found[reference] = (
            re.search(r'<tr class="([^"]*)"', row).group(1),
            re.search(r'data-state="([^"]+)"', row).group(1),
            plain(days),
            plain(assignee),
        )
    return found


# -- the dashboard ----------------------------------------------------------------------------


def test_legal_and_admin_land_on_the_dashboard_support_on_the_handoffs(app):
    for name in ("lena", "ada"):
        page = logged_in(app, name).get("/staff/")
        assert page.status_code == 200 and 'id="desk-status"' in page.text
        assert 'href="/staff/" class="active" aria-current="page"' in page.text
    response = logged_in(app, "sam").get("/staff/")
    assert response.status_code == 303 and response.headers["location"] == "/staff/handoffs"


def figure(html, ident):
    return int(re.search(rf'id="{ident}">(\d+)<', html).group(1))


def test_the_dashboard_shows_the_overviews_numbers_in_charts_and_tables(app, services, clock):
    submit(services, clock, MONDAY - timedelta(days=60), email="late@example.com")  # overdue
    submit(
        services, clock, MONDAY - timedelta(days=17), kind="access", email="soon@example.com"
    )  # due Fri 4 Dec
    fresh = submit(
        services, clock, MONDAY, kind="correction", email="new@example.com", verified=False
    )
    done = submit(services, clock, MONDAY, kind="access", email="done@example.com")
    clock.now = MONDAY + timedelta(days=2)
    services.store.transition(done, "in_progress", "lena")
    services.store.transition(done, "completed", "lena", "Copy sent by hand.")  # a task open
    clock.now = MONDAY + timedelta(days=3)  # Thursday 3 December
    html = logged_in(app, "lena").get("/staff/").text
    assert (
        figure(html, "fig-open"),
        figure(html, "fig-overdue"),
        figure(html, "fig-due-week"),
        figure(html, "fig-held"),
    ) == (3, 1, 1, 0)
    assert "2026-12-06" in html  # the Sunday the week ends on
    status_table = re.search(r'id="desk-status-table".*?</table>', html, re.S).group(0)
    cells = dict(re.findall(r'data-status="(\w+)">.*?<td class="num">(\d+)</td>', status_table))
    assert cells == {"unverified": "1", "received": "2", "in_progress": "0"}
    # The chart carries the same numbers: written on each bar, and in its <title>/<desc>.
    chart = re.search(r'<svg[^>]*id="desk-status".*?</svg>', html, re.S).group(0)
    assert re.search(r'data-key="received" data-value="2"><title>received: 2</title>', chart)
    assert 'role="img"' in chart and '<desc id="desk-status-desc">' in chart
    assert "3 in all" in chart
    median = re.search(r'id="desk-median-table".*?</table>', html, re.S).group(0)
    assert re.search(
        r'data-kind="access"><td>access</td><td class="num">1</td>'
        r'<td class="num">2</td>',
        median,
    )
    assert 'data-key="access" data-value="2"><title>access: 2 working days</title>' in html
    assert "deletion: none completed" in html
    weeks = re.search(r'id="desk-weeks-table".*?</table>', html, re.S).group(0)
    assert "2026-W49" in weeks and 'id="desk-weeks"' in html and "4 requests in all" in html
    assert 'id="audit-verdict" class="notice audit-ok" data-intact="true"' in html
    assert fresh not in html  # an overview, not a list


def test_the_dashboard_says_when_the_audit_trail_was_tampered_with(app, services, clock):
    reference = submit(services, clock, MONDAY)
    services.store.transition(reference, "in_progress", "lena")
    with transaction(services.store.sessions) as session:
        entry = (
            session.execute(select(AuditEntry).where(AuditEntry.action == "status_change"))
            .scalars()
            .first()
        )
        session.execute(
            update(AuditEntry).where(AuditEntry.id == entry.id).values(detail="completed")
        )
    html = logged_in(app, "lena").get("/staff/").text
    assert 'data-intact="false"' in html and f"entry #{entry.id}" in html
    assert "its contents were changed" in html


def test_the_dashboard_in_chinese(app, services, clock):
    submit(services, clock, MONDAY)
    c = logged_in(app, "lena")
    c.post(
        "/staff/language",
        data={"language": "zh", "csrf_token": csrf_of(c.get("/staff/").text), "next": "/staff/"},
    )
    html = c.get("/staff/").text
    assert '<html lang="zh-CN"' in html and text("web.staff.desk.heading", "zh") in html
    assert not re.search(r">\s*web\.[a-z_.]+\s*<", html)
    assert text("web.staff.chart.requests_one", "zh", count=1) in html


def test_the_charts_write_every_value_and_draw_no_bar_for_missing_ones():
    svg = horizontal_bars(
        [Bar("a", "Alpha", 4, "4 days"), Bar("b", "B & co", None, "none")],
        chart_id="x",
        title="T",
        description="D <1>",
        axis="Days",
    )
    assert '<title id="x-title">T</title><desc id="x-desc">D &lt;1&gt;</desc>' in svg
    assert 'data-key="a" data-value="4"><title>Alpha: 4 days</title>' in svg
    assert 'data-key="b" data-value=""><title>B &amp; co: none</title>' in svg
    assert re.search(r'data-key="b".*?<rect[^>]*width="0.0"', svg)
    weeks = [
        WeekCount(date(2026, 11, 23), "2026-W48", 1),
        WeekCount(date(2026, 11, 30), "2026-W49", 2),
    ]
    svg = weekly_bars(weeks, chart_id="w", title="Per week", noun="requests")
    assert "3 requests in all" in svg and ": 1 request</title>" in svg and ">Requests<" in svg
    assert ">Questions<" in weekly_bars(weeks)  # the gap chart is as it was


# -- the queue --------------------------------------------------------------------------------


def test_days_left_are_working_days_red_when_overdue_amber_within_three(app, services, clock):
    late = submit(services, clock, MONDAY - timedelta(days=60), email="late@example.com")
    soon = submit(
        services, clock, MONDAY - timedelta(days=17), kind="access", email="soon@example.com"
    )  # due Friday 4 December
    today = submit(
        services, clock, MONDAY - timedelta(days=18), kind="suspension", email="today@example.com"
    )  # due Thursday 3 December
    ahead = submit(services, clock, MONDAY, kind="correction", email="ahead@example.com")
    closed = submit(services, clock, MONDAY, kind="unsubscribe", email="u@example.com")
    from bot.requests.casework import Casework

    Casework(services.store.engine, clock=clock).hold(
        ahead, "clarification", "which one?", False, "lena"
    )
    clock.now = MONDAY + timedelta(days=3)  # Thursday 3 December, 09:00 in Beijing
    rows = rows_of(logged_in(app, "lena").get("/staff/requests").text)
    assert rows[late][:2] == ("overdue", "overdue") and "⚠" in rows[late][2]
    assert re.search(r"⚠ overdue by \d+ working days", rows[late][2])
    assert rows[soon][:3] == ("due-soon", "due_soon", "◷ due soon 1 working day left")
    assert rows[today][:3] == ("due-soon", "due_soon", "◷ due today")
    assert rows[ahead][:3] == ("", "on_time", "12 working days left on hold")  # due 18 Dec
    assert rows[closed][:3] == ("", "closed", "—")


def test_addresses_are_masked_in_the_queue(app, services, clock):
    submit(services, clock, MONDAY, email="wang.wei@example.com")
    html = logged_in(app, "lena").get("/staff/requests").text
    assert "wang.wei@example.com" not in html and "w***@e***.com" in html
    # A search by address still finds the request, and shows only the masked address.
    found = logged_in(app, "lena").get("/staff/requests", params={"q": "wang"}).text
    assert "w***@e***.com" in found and "wang.wei@example.com" not in found


def assign(services, references, who):
    from bot.requests.casework import Casework

    Casework(services.store.engine, clock=services.store.clock).assign(references, who, "ada")


def test_the_assignee_column_the_mine_filter_and_the_assignee_filter(app, services, clock):
    mine = submit(services, clock, MONDAY, email="a@example.com")
    hers = submit(services, clock, MONDAY, kind="access", email="b@example.com")
    nobodys = submit(services, clock, MONDAY, kind="correction", email="c@example.com")
    assign(services, [mine], "lena")
    assign(services, [hers], "mia")
    lena = logged_in(app, "lena")
    rows = rows_of(lena.get("/staff/requests").text)
    assert (rows[mine][3], rows[hers][3], rows[nobodys][3]) == ("lena you", "mia", "nobody")
    assert set(rows_of(lena.get("/staff/requests", params={"mine": "1"}).text)) == {mine}
    assert set(rows_of(lena.get("/staff/requests", params={"assignee": "mia"}).text)) == {hers}
    assert set(rows_of(lena.get("/staff/requests", params={"assignee": "-"}).text)) == {nobodys}
    # Mine is mia's own list for mia; the export follows the filters too.
    assert set(
        rows_of(logged_in(app, "mia").get("/staff/requests", params={"mine": "1"}).text)
    ) == {hers}
    export = lena.get("/staff/requests.csv", params={"mine": "1"}).text
    assert mine in export and hers not in export
    html = lena.get("/staff/requests").text
    options = re.search(r'<select id="f-assignee".*?</select>', html, re.S).group(0)
    assert "lena" in options and "mia" in options and "ada" in options
    assert "sam" not in options and "gone" not in options  # support, disabled


# -- bulk actions -----------------------------------------------------------------------------


def three(services, clock):
    return [
        submit(services, clock, MONDAY, kind=kind, email=f"{kind}@example.com")
        for kind in ("deletion", "access", "correction")
    ]


def bulk(c, data, token=None, page="/staff/requests"):
    token = token or csrf_of(c.get(page).text)
    return c.post("/staff/requests/bulk", data={"csrf_token": token, **data})


def test_bulk_assign_to_me_to_someone_and_to_nobody(app, services, clock):
    a, b, c_ = three(services, clock)
    lena = logged_in(app, "lena")
    response = bulk(lena, {"action": "assign_me", "reference": [a, b], "kind": ""})
    assert response.status_code == 303 and response.headers["location"] == "/staff/requests"
    assert [services.store.get(r).assignee for r in (a, b, c_)] == ["lena", "lena", None]
    page = lena.get("/staff/requests").text
    assert 'id="bulk-message"' in page and "2 of 2 ticked requests assigned to lena" in page
    assert 'id="bulk-message"' not in lena.get("/staff/requests").text  # said once
    # Back to the same filtered list.
    response = bulk(
        lena,
        {
            "action": "assign",
            "assign_to": "mia",
            "reference": [b, c_],
            "kind": "access",
            "mine": "1",
        },
    )
    assert response.headers["location"] == "/staff/requests?kind=access&mine=1"
    assert [services.store.get(r).assignee for r in (a, b, c_)] == ["lena", "mia", "mia"]
    bulk(lena, {"action": "assign", "assign_to": "-", "reference": [a]})
    assert services.store.get(a).assignee is None
    actions = [(e.actor, e.detail) for e in services.directory.audit_for(b) if e.action == "assign"]
    assert actions == [("lena", "lena"), ("lena", "mia")]


def test_bulk_reject_and_mark_duplicate_or_spam_with_a_reason(app, services, clock):
    a, b, c_ = three(services, clock)
    lena = logged_in(app, "lena")
    response = bulk(
        lena, {"action": "reject", "reference": [a], "reason": "No account uses this address."}
    )
    assert response.status_code == 303
    bulk(lena, {"action": "duplicate", "reference": [b], "reason": "Same as DEL-1."})
    bulk(lena, {"action": "spam", "reference": [c_, a], "reason": "Advertising."})
    rows = [services.store.get(r) for r in (a, b, c_)]
    assert [(r.status, r.closed_as, r.rejection_reason) for r in rows] == [
        ("rejected", None, "No account uses this address."),
        ("rejected", "duplicate", "Same as DEL-1."),
        ("rejected", "spam", "Advertising."),
    ]
    page = lena.get("/staff/requests").text
    assert "1 of 2 ticked requests closed as spam" in page  # a was closed already
    with transaction(services.store.sessions) as session:
        to = [m.to_address for m in session.execute(select(OutboxMessage)).scalars()]
    assert "correction@example.com" in to  # its confirmation only: spam is not e-mailed
    assert to.count("correction@example.com") == 1 and to.count("deletion@example.com") == 2


def test_a_bulk_action_without_a_reason_or_a_selection_is_explained_and_loses_nothing(
    app, services, clock
):
    a, b, _ = three(services, clock)
    lena = logged_in(app, "lena")
    response = bulk(
        lena, {"action": "reject", "reference": [a, b], "reason": "  ", "kind": "deletion"}
    )
    assert response.status_code == 400
    assert text("web.staff.desk.bulk.reason_required", "en") in response.text
    assert f'value="{a}" id="pick-{a}" aria-label="Tick {a}" checked' in response.text
    assert services.store.get(a).status == "received"
    assert f'data-reference="{b}"' not in response.text  # still the filtered list
    response = bulk(lena, {"action": "spam", "reason": "kept, this"})
    assert response.status_code == 400
    assert text("web.staff.desk.bulk.none_selected", "en") in response.text
    assert 'name="reason" value="kept, this"' in response.text
    response = bulk(lena, {"action": "assign", "assign_to": "sam", "reference": [a]})
    assert response.status_code == 400 and services.store.get(a).assignee is None
    assert text("web.staff.desk.bulk.unknown_assignee", "en") in response.text
    response = bulk(lena, {"action": "assign_me", "reference": [a, "DEL-NOSUCH"]})
    assert response.status_code == 400 and "Nothing was changed" in response.text
    assert services.store.get(a).assignee is None  # all or nothing


def test_bulk_actions_need_the_csrf_token_and_the_permission(app, services, clock):
    a, _, _ = three(services, clock)
    lena = logged_in(app, "lena")
    lena.get("/staff/requests")
    response = lena.post("/staff/requests/bulk", data={"action": "assign_me", "reference": a})
    assert response.status_code == 403 and services.store.get(a).assignee is None
    response = bulk(lena, {"action": "assign_me", "reference": a}, token="forged")
    assert response.status_code == 403 and services.store.get(a).assignee is None
    sam = logged_in(app, "sam")
    response = bulk(sam, {"action": "assign_me", "reference": a})
    assert response.status_code == 403 and services.store.get(a).assignee is None
    assert 'id="bulk-form"' in sam.get("/staff/requests").text
    assert 'name="reference"' not in sam.get("/staff/requests").text  # no boxes to tick
