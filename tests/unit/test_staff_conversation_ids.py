"""Staff see a conversation by its ticket numbers and request references, never by its id (the
visitor's key to it): the ticket page and queue, the request page, and new audit entries."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.requests.store import RequestStore
from bot.services import Services
from bot.storage.db import make_engine, transaction
from bot.storage.models import AuditEntry
from tests.support.databases import copy_sqlite
from tests.support.staff import SecondFactors, add_members, seeded_database, staff_app
from tests.support.staff import logged_in as staff_logged_in

PASSWORD = "a long enough password"
SECRET = "staff-ids-test-secret"
SECOND_FACTORS = SecondFactors()
CONVERSATION = "Zq3xV7pL0sT9mW2yB5nC8dF1gH4jK6rU"  # as the web app issues them


@pytest.fixture(autouse=True)
def app_secret(set_env):
    set_env(APP_SECRET=SECRET)


@pytest.fixture(scope="module")
def staff_database(sqlite_template, tmp_path_factory):
    return seeded_database(
        sqlite_template,
        tmp_path_factory.mktemp("staff-ids"),
        lambda made: add_members(
            made.directory,
            (("lena", "legal"), ("sam", "support")),
            PASSWORD,
            SECRET,
            SECOND_FACTORS,
            enrolled=(),
        ),
    )


@pytest.fixture
def services(staff_database, tmp_path):
    services = Services(
        RequestStore(make_engine(copy_sqlite(staff_database, tmp_path / "staff.db")), secret="s")
    )
    yield services
    services.store.engine.dispose()


@pytest.fixture
def app(services):
    return staff_app(services)


def logged_in(app, username):
    return staff_logged_in(app, username, PASSWORD, SECOND_FACTORS)


@pytest.fixture
def conversation(services):
    """A chat in which a deletion was requested and a person was asked for."""
    reference = services.store.submit(
        "deletion", "li.na@example.com", verified=True, conversation_id=CONVERSATION
    ).reference
    ticket = services.handoffs.create(
        CONVERSATION, "asked", [{"from": "visitor", "text": "a person please", "at": ""}], True
    )
    return reference, ticket.id


def test_the_ticket_page_and_queue_name_the_requests_not_the_conversation(app, conversation):
    reference, ticket_id = conversation
    sam = logged_in(app, "sam")
    page = sam.get(f"/staff/handoffs/{ticket_id}")
    assert page.status_code == 200 and CONVERSATION not in page.text
    assert f'href="/staff/requests/{reference}"' in page.text
    for path in ("/staff/handoffs", "/staff/handoffs.json", f"/staff/handoffs/{ticket_id}.json"):
        assert CONVERSATION not in sam.get(path).text, path
    [listed] = sam.get("/staff/handoffs.json").json()["tickets"]
    assert listed["id"] == ticket_id and "conversation_id" not in listed


def test_the_request_page_names_the_ticket_not_the_conversation(app, conversation, services):
    reference, ticket_id = conversation
    lena = logged_in(app, "lena")  # legal: sees the ticket's number, may not open it
    page = lena.get(f"/staff/requests/{reference}")
    assert page.status_code == 200 and CONVERSATION not in page.text
    assert f"#{ticket_id}" in page.text and f'href="/staff/handoffs/{ticket_id}"' not in page.text
    sam = logged_in(app, "sam")  # support: may open it
    page = sam.get(f"/staff/requests/{reference}")
    assert CONVERSATION not in page.text and f'href="/staff/handoffs/{ticket_id}"' in page.text
    for path in ("/staff/requests", "/staff/requests.csv", "/staff/"):
        assert CONVERSATION not in lena.get(path).text, path


def test_a_request_without_a_chat_names_no_ticket(app, services):
    reference = services.store.submit("deletion", "x@example.com", verified=True).reference
    page = logged_in(app, "lena").get(f"/staff/requests/{reference}")
    assert page.status_code == 200 and 'id="request-tickets"><span class="muted">' in page.text


def test_new_audit_entries_hold_the_ticket_number_not_the_conversation(services, conversation):
    _, ticket_id = conversation
    services.handoffs.open(ticket_id, "sam")
    services.handoffs.reply(ticket_id, "sam", "hello")
    services.handoffs.close(ticket_id, "sam")
    with transaction(services.store.sessions) as session:
        entries = list(session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())
        fields = [(e.action, e.target, e.detail) for e in entries]
    assert ("handoff_created", str(ticket_id), "asked") in fields
    assert all(CONVERSATION not in str(field) for field in fields)
