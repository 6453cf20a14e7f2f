"""Each request flow end to end, over the REST channel, against the running assistant: from the
opening line to the reference code, with the code read from the outbox and the row found in the
request database; then the logs of the whole run are searched for personal data."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from sqlalchemy import select

from bot.core.paths import VAR_DIR
from bot.requests.store import RequestStore
from bot.storage.db import make_engine, session_factory, transaction
from bot.storage.models import OutboxMessage, PrivacyRequest
from tests.support.live import latest_code

pytestmark = pytest.mark.live

RUN = uuid.uuid4().hex[:8]
PHONE = "+86 139 1234 5678"


def email_for(kind: str) -> str:
    return f"visitor.{kind}.{RUN}@example.com"


class Visitor:
    def __init__(self, stack):
        self.url = f"{stack.settings.rasa_url}/webhooks/rest/webhook"
        self.sender = f"live-{uuid.uuid4().hex}"

    def say(self, text: str) -> str:
        response = httpx.post(self.url, json={"sender": self.sender, "message": text}, timeout=60)
        response.raise_for_status()
        return "\n".join(m.get("text", "") for m in response.json())


@pytest.fixture(scope="module")
def sessions():
    engine = make_engine()
    yield session_factory(engine)
    engine.dispose()


def stored(sessions, reference: str) -> PrivacyRequest:
    with transaction(sessions) as session:
        return session.execute(
            select(PrivacyRequest).where(PrivacyRequest.reference == reference)
        ).scalar_one()


# kind -> (opening line, answers before the summary)
SCRIPTS = {
    "deletion": (
        "I want my account deleted",
        ["{email}", "only specific data", "my meeting history", "skip"],
    ),
    "correction": (
        "my phone number in your records is wrong",
        ["{email}", "phone number", PHONE, "skip"],
    ),
    "suspension": (
        "please suspend my account",
        ["{email}", "I don't want my data used for surveys"],
    ),
    "access": ("send me a copy of all the data you have about me", ["{email}", "all my data"]),
    "unsubscribe": ("unsubscribe me from your promotional mails", ["{email}"]),
}


@pytest.mark.parametrize("kind", list(SCRIPTS))
def test_a_request_from_opening_line_to_reference(live_stack, sessions, kind):
    visitor = Visitor(live_stack)
    opening, answers = SCRIPTS[kind]
    email = email_for(kind)
    reply = visitor.say(opening)
    assert "The policy section" in reply and "e-mail address" in reply
    for answer in answers:
        reply = visitor.say(answer.format(email=email))
    assert "Is this right?" in reply and email in reply
    reply = visitor.say("yes")
    if kind != "unsubscribe":
        assert "6-digit code" in reply
        reply = visitor.say(latest_code(sessions, email))
    match = re.search(r"\b(DEL|COR|SUS|ACC|UNS)-[0-9A-Z]{6}\b", reply)
    assert match, reply
    row = stored(sessions, match.group(0))
    assert row.kind == kind and row.email == email
    assert row.status == ("completed" if kind == "unsubscribe" else "received")
    if kind == "correction":
        assert row.details == {"item": "phone", "new_value": "+8613912345678"}
    if kind != "unsubscribe":
        assert row.verified_at is not None and "due by" in reply


def test_stop_part_way_stores_nothing(live_stack, sessions):
    visitor = Visitor(live_stack)
    email = f"stopper.{RUN}@example.com"
    visitor.say("delete my account")
    visitor.say(email)
    assert "Nothing was stored" in visitor.say("stop")
    with transaction(sessions) as session:
        assert (
            session.execute(select(PrivacyRequest).where(PrivacyRequest.email == email)).first()
            is None
        )
    # and the assistant is itself again
    assert "Share your personal information" in visitor.say("do you sell my data")


def test_status_of_a_request(live_stack, sessions):
    with transaction(sessions) as session:
        row = session.execute(
            select(PrivacyRequest).where(PrivacyRequest.email == email_for("deletion"))
        ).scalar_one_or_none()
        if row is None:
            pytest.skip("the deletion flow test did not store a request")
        reference = row.reference
    visitor = Visitor(live_stack)
    visitor.say(f"what is the status of {reference}?")
    reply = visitor.say(email_for("deletion"))
    assert reference in reply and "received" in reply
    other = Visitor(live_stack)
    other.say(f"what is the status of {reference}?")
    assert "couldn't find" in other.say(f"someone.else.{RUN}@example.com")


@pytest.mark.parametrize(
    "opening, yes",
    [
        ("I changed my mind, please withdraw my request {reference}", "yes"),
        ("我不想要了，请撤回申请{reference}", "是"),
    ],
)
def test_the_requester_withdraws_an_open_request(live_stack, sessions, opening, yes):
    email = f"withdrawer.{uuid.uuid4().hex[:8]}@example.com"
    reference = RequestStore().submit("suspension", email, verified=True).reference
    visitor = Visitor(live_stack)
    visitor.say(opening.format(reference=reference))
    reply = visitor.say(email)
    assert reference in reply  # what withdrawing means, and the question
    visitor.say(yes)
    assert stored(sessions, reference).status == "received"  # nothing before the code
    reply = visitor.say(latest_code(sessions, email))
    assert reference in reply
    assert stored(sessions, reference).status == "withdrawn"


def test_completing_a_deletion_erases_the_requesters_conversation(live_stack, sessions):
    """The tracker store (SQLite rows, or Rasa's memory) loses the conversation; the request and
    its history stay."""
    from bot.requests.store import RequestStore
    from bot.retention.erasure import erase_requester_conversations

    visitor = Visitor(live_stack)
    email = f"erase.{RUN}@example.com"
    for text in ["please delete my account", email, "the whole account", "skip"]:
        visitor.say(text)
    visitor.say("yes")
    reference = re.search(r"DEL-[0-9A-Z]{6}", visitor.say(latest_code(sessions, email))).group(0)
    tracker_url = f"{live_stack.settings.rasa_url}/conversations/{visitor.sender}/tracker"
    token = {"token": live_stack.settings.rasa_api_token}
    assert email in str(httpx.get(tracker_url, params=token, timeout=30).json()["events"])

    store = RequestStore(eraser=erase_requester_conversations)  # as the staff desk builds it
    store.transition(reference, "in_progress", "legal-test")
    store.transition(reference, "completed", "legal-test", "account and data deleted")
    events = httpx.get(tracker_url, params=token, timeout=30).json()["events"]
    assert email not in str(events) and not [e for e in events if e["event"] == "user"]
    row = stored(sessions, reference)
    assert row.transcript is None and row.conversations_erased_at is not None
    assert row.email == email and row.status == "completed"  # what the audit trail needs
    store.engine.dispose()


def test_with_nobody_from_support_online_the_ticket_waits_and_the_reply_goes_by_email(
    live_stack, sessions
):
    from sqlalchemy import update

    from bot.storage.models import StaffUser
    from bot.support.tickets import Handoffs

    with transaction(sessions) as session:  # nobody has a staff page open
        session.execute(update(StaffUser).values(last_seen_at=None))
    visitor = Visitor(live_stack)
    email = f"offline.{RUN}@example.com"
    reply = visitor.say("can I talk to a human being")
    assert "No one from our support team is online" in reply and "e-mail address" in reply
    assert "will reply to" in visitor.say(email)
    handoffs = Handoffs()
    [ticket] = [t for t in handoffs.list() if t.conversation_id == visitor.sender]
    assert ticket.contact_email == email and ticket.status == "waiting"
    assert [line["text"] for line in ticket.transcript][0] == "can I talk to a human being"
    handoffs.open(ticket.id, "support-test")
    assert handoffs.reply(ticket.id, "support-test", "Sorry for the wait!") == "email"
    with transaction(sessions) as session:
        bodies = [
            m.body
            for m in session.execute(
                select(OutboxMessage).where(OutboxMessage.to_address == email)
            ).scalars()
        ]
    assert any("Sorry for the wait!" in body for body in bodies)
    handoffs.close(ticket.id, "support-test")


def test_no_email_address_or_phone_number_in_any_log(live_stack):
    """Runs last in this module: by now every flow above has written its logs (debug level)."""
    if not getattr(live_stack, "started_here", False):
        pytest.skip("the stack was already running: its logs are not captured by this session")
    logs = {
        path.name: path.read_text(encoding="utf-8", errors="replace")
        for path in (VAR_DIR / "test-logs").glob("*.log")
    }
    assert set(logs) >= {"rasa.log", "actions.log", "web.log"}
    everything = "\n".join(logs.values())
    assert "DEBUG" in everything  # the logs really are verbose
    for kind in SCRIPTS:
        assert email_for(kind) not in everything
    assert f"stopper.{RUN}@example.com" not in everything
    assert f"offline.{RUN}@example.com" not in everything
    for spelling in (PHONE, PHONE.replace(" ", ""), "13912345678"):
        assert spelling not in everything
    assert "v***@e***.com" in everything  # the addresses were logged, masked
    # and no address of any visitor of any test module (faults, hostile input, the burst...)
    raw = {
        a
        for a in re.findall(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", everything)
        if "***" not in a
    }
    assert raw == set(), sorted(raw)[:5]
