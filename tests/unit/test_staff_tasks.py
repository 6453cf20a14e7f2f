"""The legal desk's view of a request's tasks in the product's systems (bot/web/staff/tasks.py,
case_view.py, dashboard.py, requests.py) with Starlette's test client: the request page lists
each task and its state, a task ticked (a note required) or retried, both only with the
`change_requests` permission and the CSRF token; the queue's column and filter, the overview's
table; completing by hand with open tasks is refused and explained."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.core.texts import text
from bot.requests import lifecycle
from bot.requests import task_states as states
from bot.storage.db import transaction
from bot.storage.models import AuditEntry, OutboxMessage
from tests.support.fulfilment import systems_yaml, use_systems
from tests.support.staff import (
    SecondFactors,
    add_members,
    csrf_of,
    log_in,
    seeded_database,
    staff_app,
)
from tests.support.staff import desk_services as make_services
from tests.support.staff import logged_in as staff_logged_in

PASSWORD = "a long enough password"
SECRET = "tasks-desk-test-secret"
FACTORS = SecondFactors()
ACCOUNTS = (("lena", "legal"), ("sam", "support"))
ADDRESS = "192.0.2.44"


def add_accounts(services):
    add_members(services.directory, ACCOUNTS, PASSWORD, SECRET, FACTORS, enrolled=())


def logged_in(app, username):
    return staff_logged_in(app, username, PASSWORD, FACTORS)


@pytest.fixture(autouse=True)
def app_secret(set_env):
    set_env(APP_SECRET=SECRET)


@pytest.fixture(scope="module")
def staff_database(sqlite_template, tmp_path_factory):
    return seeded_database(sqlite_template, tmp_path_factory.mktemp("tasks"), add_accounts)


@pytest.fixture
def services(database_url, staff_database, tmp_path):
    services = make_services(database_url, staff_database, tmp_path, "s", add_accounts)
    yield services
    services.store.engine.dispose()


@pytest.fixture
def app(services):
    return staff_app(services)


@pytest.fixture
def two_systems(set_env, tmp_path):
    """The account service by webhook (one attempt before it fails) and legal by hand."""
    set_env(FULFILMENT_MAX_ATTEMPTS="1")
    return use_systems(set_env, tmp_path, systems_yaml())


def started(services, kind="deletion", email="jane@example.com"):
    reference = services.store.submit(kind, email, verified=True).reference
    services.store.transition(reference, lifecycle.IN_PROGRESS, "lena")
    return reference


def fail_webhook(services, reference):
    """The account service's delivery fails; with one attempt allowed, its task is failed."""
    [claimed] = [c for c in services.fulfilment.claim_due() if c.reference == reference]
    return services.fulfilment.attempt_failed(claimed.task_id, "no answer (ConnectError)")


def task_ids(services, reference):
    return {view.system: view.id for view in services.fulfilment.tasks(reference)}


def states_of(services, reference):
    return {view.system: view.state for view in services.fulfilment.tasks(reference)}


def plain(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def task_rows(html):
    """system -> (data-state, the row's HTML) of the request page's systems table."""
    return {
        system: (state, row)
        for system, state, row in re.findall(
            r'<tr id="task-([\w-]+)" class="task[^"]*" data-system="[^"]*" '
            r'data-state="(\w+)"(.*?)</tr>',
            html,
            re.S,
        )
    }


def audit_actions(services, reference):
    return [(e.actor, e.action) for e in services.directory.audit_for(reference)]


# -- the request page -------------------------------------------------------------------------


def test_the_request_page_shows_each_task_its_state_and_what_may_be_done(
    app, services, two_systems
):
    reference = started(services)
    fail_webhook(services, reference)
    page = logged_in(app, "lena").get(f"/staff/requests/{reference}").text
    rows = task_rows(page)
    assert set(rows) == {"accounts", "legal"}
    state, accounts = rows["accounts"]
    assert state == "failed" and 'class="badge task-state task-failed"' in accounts
    assert "Account service" in accounts and "by webhook" in accounts
    assert "no answer (ConnectError) (after 1 attempts)" in accounts
    assert f"/tasks/{task_ids(services, reference)['accounts']}/retry" in accounts
    assert "/tick" in accounts and "Record by hand instead" in accounts  # recorded by hand
    assert "Sent" in plain(accounts) and re.search(r'<td class="num">1</td>', accounts)
    state, legal = rows["legal"]
    assert state == "pending" and 'class="badge task-state task-pending"' in legal
    assert "Legal department" in legal and "by hand" in plain(legal) and "waiting" in legal
    assert "/tick" in legal and "/retry" not in legal
    # Completing by hand while they are open needs a reason: the status form says so.
    hint = re.search(r'<p id="tasks-open-hint"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert "2 systems have not finished" in hint


def test_the_systems_are_named_in_the_members_language(app, services, two_systems):
    reference = started(services)
    fail_webhook(services, reference)
    lena = logged_in(app, "lena")
    lena.post(
        "/staff/language",
        data={"language": "zh", "csrf_token": csrf_of(lena.get("/staff/").text), "next": "/staff/"},
    )
    rows = task_rows(lena.get(f"/staff/requests/{reference}").text)
    accounts, legal = rows["accounts"][1], rows["legal"][1]
    assert "账号服务" in accounts and text("fulfilment.state.failed", "zh") in accounts
    assert "法务部" in legal and text("fulfilment.state.pending", "zh") in legal
    assert text("web.staff.tasks.reach.manual", "zh") in legal


def test_before_the_request_is_started_there_are_no_tasks_and_starting_makes_them(
    app, services, two_systems
):
    reference = services.store.submit("deletion", "jane@example.com", verified=True).reference
    lena = logged_in(app, "lena")
    page = lena.get(f"/staff/requests/{reference}").text
    assert task_rows(page) == {} and 'id="no-tasks"' in page
    # The desk's "start" (the status form) goes through the store: the tasks are made.
    response = lena.post(
        f"/staff/requests/{reference}/status",
        data={"status": "in_progress", "csrf_token": csrf_of(page)},
    )
    assert response.status_code == 200
    assert {s: state for s, (state, _) in task_rows(response.text).items()} == {
        "accounts": "pending",
        "legal": "pending",
    }


def tick(c, reference, task_id, note, state="done", token=None):
    token = token or csrf_of(c.get(f"/staff/requests/{reference}").text)
    return c.post(
        f"/staff/requests/{reference}/tasks/{task_id}/tick",
        data={"csrf_token": token, "task_note": note, "task_state": state},
    )


def test_a_tick_needs_a_note_and_then_settles_the_task(app, services, two_systems):
    reference = started(services)
    legal_task = task_ids(services, reference)["legal"]
    lena, response = log_in(app, "lena", PASSWORD, FACTORS, address=ADDRESS)
    response = tick(lena, reference, legal_task, "   ")
    assert response.status_code == 400
    assert text("errors.fulfilment.empty_note", "en") in response.text
    assert states_of(services, reference)["legal"] == states.PENDING
    assert ("lena", "task_ticked") not in audit_actions(services, reference)
    # Refused with the form open as it was sent (here: not applicable chosen).
    response = tick(lena, reference, legal_task, "", state="not_applicable")
    legal = task_rows(response.text)["legal"][1]
    assert 'value="not_applicable" checked' in legal and "form-error" in legal

    response = tick(
        lena, reference, legal_task, "No paper records for this account.", "not_applicable"
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/requests/{reference}#h-systems"
    page = lena.get(f"/staff/requests/{reference}").text
    assert "Legal department: recorded as not applicable." in page
    state, legal = task_rows(page)["legal"]
    assert state == "not_applicable" and "No paper records for this account." in legal
    assert "lena" in legal and "/tick" not in legal
    assert states_of(services, reference)["legal"] == states.NOT_APPLICABLE
    with transaction(services.store.sessions) as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "task_ticked")
        ).scalar_one()
        assert (entry.actor, entry.client, entry.target) == ("lena", ADDRESS, reference)
    assert services.store.get(reference).status == lifecycle.IN_PROGRESS  # accounts is open


def test_the_last_tick_completes_the_request_and_the_page_says_so(app, services, set_env):
    set_env(SYSTEMS_FILE=None)  # the default: legal's one manual task
    reference = started(services, email="li.na@example.com")
    [task] = services.fulfilment.tasks(reference)
    lena = logged_in(app, "lena")
    assert tick(lena, reference, task.id, "Account deleted in the console.").status_code == 303
    page = lena.get(f"/staff/requests/{reference}").text
    assert text(
        "web.staff.tasks.ticked_completed",
        "en",
        system="the legal department",
        state=text("fulfilment.state.done", "en"),
    ) in page.replace("&#39;", "'")
    assert services.store.get(reference).status == lifecycle.COMPLETED
    with transaction(services.store.sessions) as session:
        last = (
            session.execute(
                select(OutboxMessage.body)
                .where(OutboxMessage.to_address == "li.na@example.com")
                .order_by(OutboxMessage.id.desc())
            )
            .scalars()
            .first()
        )
    assert "the legal department: done (Account deleted in the console.)" in last
    assert 'id="tasks-open-hint"' not in page


def test_a_webhook_task_is_ticked_only_once_it_failed(app, services, two_systems):
    reference = started(services)
    accounts = task_ids(services, reference)["accounts"]
    lena = logged_in(app, "lena")
    response = tick(lena, reference, accounts, "done by hand")
    assert response.status_code == 400
    refusal = text("errors.fulfilment.not_tickable", "en", system="Account service")
    assert refusal in response.text.replace("&#39;", "'")
    fail_webhook(services, reference)
    assert tick(lena, reference, accounts, "Deleted in the admin tool").status_code == 303
    assert states_of(services, reference)["accounts"] == states.DONE


def test_a_failed_task_is_retried_and_waits_again(app, services, two_systems):
    reference = started(services)
    fail_webhook(services, reference)
    ids = task_ids(services, reference)
    lena, _ = log_in(app, "lena", PASSWORD, FACTORS, address=ADDRESS)
    token = csrf_of(lena.get(f"/staff/requests/{reference}").text)
    response = lena.post(
        f"/staff/requests/{reference}/tasks/{ids['accounts']}/retry", data={"csrf_token": token}
    )
    assert response.status_code == 303
    page = lena.get(f"/staff/requests/{reference}").text
    assert "Account service: it will be delivered again shortly." in page.replace("&#39;", "'")
    state, accounts = task_rows(page)["accounts"]
    assert state == "pending" and "/retry" not in accounts and "Next attempt" in accounts
    [view] = [v for v in services.fulfilment.tasks(reference) if v.system == "accounts"]
    assert (view.state, view.attempts) == (states.PENDING, 0)
    assert ("lena", "task_retried") in audit_actions(services, reference)
    # Only a webhook task is retried: a failed one, or one accepted whose callback never came.
    [claimed] = services.fulfilment.claim_due()
    services.fulfilment.answered(claimed.task_id, None)  # 202
    state, accounts = task_rows(lena.get(f"/staff/requests/{reference}").text)["accounts"]
    assert state == "sent" and "/retry" in accounts
    response = lena.post(
        f"/staff/requests/{reference}/tasks/{ids['legal']}/retry", data={"csrf_token": token}
    )
    assert response.status_code == 400
    assert text("errors.fulfilment.not_failed", "en") in response.text


def test_a_task_of_another_request_or_no_request_is_refused(app, services, two_systems):
    reference = started(services)
    other = started(services, email="ann@example.com")
    lena = logged_in(app, "lena")
    response = tick(lena, reference, task_ids(services, other)["legal"], "mixed up")
    assert response.status_code == 400
    assert text("errors.fulfilment.no_task", "en") in response.text
    assert states_of(services, other)["legal"] == states.PENDING
    token = csrf_of(lena.get(f"/staff/requests/{reference}").text)
    response = lena.post(
        "/staff/requests/DEL-NOSUCH/tasks/0/tick", data={"csrf_token": token, "task_note": "x"}
    )
    assert response.status_code == 404


def test_ticking_and_retrying_need_the_permission_and_the_csrf_token(app, services, two_systems):
    reference = started(services)
    fail_webhook(services, reference)
    ids = task_ids(services, reference)
    before = services.fulfilment.tasks(reference)
    sam = logged_in(app, "sam")
    page = sam.get(f"/staff/requests/{reference}").text
    assert set(task_rows(page)) == {"accounts", "legal"}  # support reads the tasks
    assert "/tick" not in page and "/retry" not in page  # but has no forms
    token = csrf_of(page)
    assert tick(sam, reference, ids["legal"], "by support", token=token).status_code == 403
    response = sam.post(
        f"/staff/requests/{reference}/tasks/{ids['accounts']}/retry", data={"csrf_token": token}
    )
    assert response.status_code == 403
    lena = logged_in(app, "lena")
    assert tick(lena, reference, ids["legal"], "forged", token="forged").status_code == 403
    response = lena.post(f"/staff/requests/{reference}/tasks/{ids['accounts']}/retry")
    assert response.status_code == 403
    assert services.fulfilment.tasks(reference) == before


def test_completing_by_hand_with_open_tasks_needs_a_reason(app, services, two_systems):
    reference = started(services)
    lena = logged_in(app, "lena")
    token = csrf_of(lena.get(f"/staff/requests/{reference}").text)
    response = lena.post(
        f"/staff/requests/{reference}/status",
        data={"status": "completed", "note": " ", "csrf_token": token},
    )
    assert response.status_code == 400
    assert text("errors.lifecycle.tasks_open", "en") in response.text
    assert 'id="tasks-open-hint"' in response.text
    assert services.store.get(reference).status == lifecycle.IN_PROGRESS
    response = lena.post(
        f"/staff/requests/{reference}/status",
        data={"status": "completed", "note": "Both done in the old tool.", "csrf_token": token},
    )
    assert response.status_code == 200
    assert services.store.get(reference).status == lifecycle.COMPLETED
    # A closed request's tasks can no longer be worked on the page.
    page = lena.get(f"/staff/requests/{reference}").text
    assert "/tick" not in page and 'id="tasks-open-hint"' not in page


# -- the queue and the overview ---------------------------------------------------------------


def queue_tasks(html):
    """reference -> (failed, waiting, the cell's text) of the queue's systems column."""
    return {
        reference: (int(failed), int(waiting), plain(cell))
        for reference, failed, waiting, cell in re.findall(
            r'data-reference="([^"]+)".*?<td class="tasks nowrap" data-failed="(\d+)" '
            r'data-waiting="(\d+)">(.*?)</td>',
            html,
            re.S,
        )
    }


def test_the_queue_shows_failed_and_waiting_tasks_from_one_query(
    app, services, two_systems, monkeypatch
):
    failing = started(services)
    fail_webhook(services, failing)
    waiting = started(services, "correction", "ann@example.com")
    fresh = services.store.submit("deletion", "bob@example.com", verified=True).reference
    calls = []
    real = services.fulfilment.open_by_request

    def counted(references):
        calls.append(list(references))
        return real(references)

    monkeypatch.setattr(services.fulfilment, "open_by_request", counted)
    html = logged_in(app, "lena").get("/staff/requests").text
    assert len(calls) == 1 and set(calls[0]) == {failing, waiting, fresh}
    cells = queue_tasks(html)
    assert cells[failing] == (1, 1, "✖ 1 failed 1 waiting")
    assert cells[waiting] == (0, 1, "1 waiting")
    assert cells[fresh] == (0, 0, "—")
    failing_cell = re.search(
        rf'data-reference="{failing}".*?<td class="tasks nowrap"[^>]*>(.*?)</td>', html, re.S
    ).group(1)
    assert '<span class="badge task-failed">' in failing_cell


def test_the_tasks_failed_filter_lists_requests_in_progress_with_a_failed_task(
    app, services, two_systems
):
    failing = started(services)
    fail_webhook(services, failing)
    waiting = started(services, "correction", "ann@example.com")
    lena = logged_in(app, "lena")
    html = lena.get("/staff/requests", params={"failed_tasks": "1"}).text
    assert set(queue_tasks(html)) == {failing} and waiting not in html
    assert 'id="f-failed-tasks" type="checkbox" name="failed_tasks" value="1" checked' in html
    assert "failed_tasks=1" in html  # the export link keeps the filter
    export = lena.get("/staff/requests.csv", params={"failed_tasks": "1"}).text
    assert failing in export and waiting not in export


def test_the_overview_counts_failed_and_waiting_tasks_per_system(app, services, two_systems):
    failing = started(services)
    fail_webhook(services, failing)
    started(services, "correction", "ann@example.com")
    started(services, "deletion", "bob@example.com")
    done = started(services, "deletion", "dan@example.com")
    services.store.transition(done, lifecycle.COMPLETED, "lena", "closed by hand")  # not counted
    html = logged_in(app, "lena").get("/staff/").text
    table = re.search(r'id="desk-systems-table".*?</table>', html, re.S).group(0)
    rows = {
        system: (plain(name), int(re.sub(r"\D", "", plain(failed))), int(waiting))
        for system, name, failed, waiting in re.findall(
            r'<tr data-system="([\w-]+)"[^>]*>\s*<th scope="row">(.*?)</th>\s*'
            r'<td class="num failed">(.*?)</td>\s*<td class="num waiting">(\d+)</td>',
            table,
            re.S,
        )
    }
    # accounts: failing's failed, ann's and bob's waiting; legal: failing's and bob's waiting.
    assert rows == {
        "accounts": ("Account service accounts", 1, 2),
        "legal": ("Legal department legal", 0, 2),
    }
    assert '<tr data-system="accounts" class="task-row-failed">' in table
    assert 'class="badge task-failed"' in table


def test_bulk_start_makes_each_verified_requests_tasks_and_leaves_the_rest(
    app, services, two_systems
):
    waiting = services.store.submit("deletion", "a@example.com", verified=True).reference
    access = services.store.submit("access", "b@example.com", verified=True).reference
    unverified = services.store.submit("suspension", "c@example.com").reference
    lena = logged_in(app, "lena")
    token = csrf_of(lena.get("/staff/requests").text)
    response = lena.post(
        "/staff/requests/bulk",
        data={"csrf_token": token, "action": "start", "reference": [waiting, access, unverified]},
    )
    assert response.status_code == 303
    assert "2 of 3 ticked requests started" in plain(lena.get(response.headers["location"]).text)
    assert states_of(services, waiting) == {"accounts": "pending", "legal": "pending"}
    assert states_of(services, access) == {"accounts": "pending"}
    assert services.store.get(unverified).status == lifecycle.UNVERIFIED
    assert states_of(services, unverified) == {}
