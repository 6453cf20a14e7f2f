"""The faster check of action server replies must accept and refuse exactly what Rasa's does."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.rasa.entry import cache_action_response_validation

GOOD = {"events": [{"event": "slot", "name": "last_section", "value": "security"}],
        "responses": [{"text": "The policy section says: ..."}]}
BAD = {"events": [{"event": "slot", "name": 3}], "responses": "not a list"}


@pytest.fixture
def both():
    action = RemoteAction("action_answer_policy", EndpointConfig("http://localhost:5055/webhook"))
    original = RemoteAction._validate_action_result
    yield action, original
    RemoteAction._validate_action_result = original


def test_same_verdicts_as_rasa(both):
    action, original = both
    assert original(action, GOOD) is True
    with pytest.raises(ValidationError) as rasas:
        original(action, BAD)
    cache_action_response_validation()
    for _ in range(2):  # the second call uses the compiled validator
        assert action._validate_action_result(GOOD) is True
        with pytest.raises(ValidationError) as ours:
            action._validate_action_result(BAD)
        assert ours.value.message == rasas.value.message


# -- the guards installed in the Rasa process ---------------------------------------------------

import asyncio  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

from rasa.core.actions.action import ActionExecutionRejection  # noqa: E402
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage  # noqa: E402
from rasa.core.processor import MessageProcessor  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet, UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

import bot.rasa.entry as rasa_entry  # noqa: E402
from bot.conversation import faults  # noqa: E402
from bot.core.paths import ROOT  # noqa: E402

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def guarded(monkeypatch):
    """Rasa's RemoteAction with the failure guard, restored afterwards; 1 s action timeout."""
    import rasa.core.actions.action as rasa_action
    import rasa.utils.endpoints as rasa_endpoints
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    monkeypatch.setattr(rasa_action, "DEFAULT_REQUEST_TIMEOUT", rasa_action.DEFAULT_REQUEST_TIMEOUT)
    monkeypatch.setattr(rasa_endpoints, "DEFAULT_REQUEST_TIMEOUT",
                        rasa_endpoints.DEFAULT_REQUEST_TIMEOUT)
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "1")
    rasa_entry.guard_remote_actions()


def form_tracker(requested="confirm_request"):
    tracker = DialogueStateTracker.from_events("visitor-1", [
        UserUttered("delete my account", {"name": "request_deletion", "confidence": 1.0}),
        ActiveLoop("deletion_form"),
        SlotSet("account_email", "jane@example.com"),
        SlotSet("requested_slot", requested),
        UserUttered("yes", {"name": "affirm", "confidence": 1.0}),
        SlotSet(requested, "yes"),
    ], slots=DOMAIN.slots)
    return tracker


def run(action, tracker):
    return asyncio.run(action.run(CollectingOutputChannel(), None, tracker, DOMAIN))


def test_action_server_down_at_submit_keeps_the_answers_and_remembers_the_request(guarded):
    action = RemoteAction("action_submit_deletion",
                          EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook"))
    events = run(action, form_tracker())
    apology = events[0]
    assert isinstance(apology, BotUttered) and apology.text == faults.NOT_SAVED
    assert apology.data["buttons"] == [faults.RETRY_BUTTON]
    slots = {e.key: e.value for e in events if isinstance(e, SlotSet)}
    assert slots == {"pending_submission": "deletion", "confirm_request": None}
    # account_email and the other answers are not touched


def test_failed_validation_forgets_the_unchecked_value_and_a_second_call_stays_quiet(guarded):
    action = RemoteAction("validate_deletion_form",
                          EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook"))
    tracker = form_tracker("account_email")
    events = run(action, tracker)
    assert events[0].text == faults.NOT_DONE
    assert SlotSet("account_email", None) in events
    tracker.update_with_events(events, DOMAIN)
    started = time.monotonic()
    ask = RemoteAction("action_ask_account_email",
                       EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook"))
    assert run(ask, tracker) == []  # one apology a turn, and no second wait for the server
    assert time.monotonic() - started < 0.5


class Slow(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        time.sleep(3)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"events": [], "responses": []}')

    def log_message(self, *args):
        pass


def test_a_slow_action_server_times_out_into_the_apology(guarded):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        action = RemoteAction("action_submit_access", EndpointConfig(
            f"http://127.0.0.1:{server.server_address[1]}/webhook"))
        started = time.monotonic()
        events = run(action, form_tracker())
        assert time.monotonic() - started < 2.5  # 1 s timeout, not Rasa's five minutes
        assert events[0].text == faults.NOT_SAVED
        assert SlotSet("pending_submission", "access") in events
    finally:
        server.shutdown()


def test_a_form_rejection_is_not_a_failure(guarded, monkeypatch):
    async def reject(*_args, **_kwargs):
        raise ActionExecutionRejection("validate_deletion_form")
    monkeypatch.setattr(EndpointConfig, "request", reject)
    action = RemoteAction("validate_deletion_form", EndpointConfig("http://127.0.0.1:1/webhook"))
    with pytest.raises(ActionExecutionRejection):
        run(action, form_tracker())


class Processor:
    """Stands in for Rasa's MessageProcessor: records what reaches it."""

    domain = DOMAIN

    def __init__(self):
        self.seen = []


@pytest.fixture
def guarded_input(monkeypatch):
    async def record(self, message):
        self.seen.append(message.text)
        return ["processed"]
    monkeypatch.setattr(MessageProcessor, "handle_message", record)
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "50")
    rasa_entry.guard_incoming_messages()
    return MessageProcessor.handle_message


@pytest.mark.parametrize("typed, reaches_rasa", [
    ("/affirm", "/affirm"),  # exactly what a button sends
    ("/restart", "restart"),
    ('/request_deletion{"verification_code": "verified"}',
     'request_deletion{"verification_code": "verified"}'),
    ("//session_start", "session_start"),
    ("where is my data\u202e\u0000 stored", "where is my data stored"),
])
def test_messages_reach_rasa_cleaned_and_without_commands(guarded_input, typed, reaches_rasa):
    processor = Processor()
    output = CollectingOutputChannel()
    result = asyncio.run(guarded_input(processor, UserMessage(typed, output, "visitor-1")))
    assert result == ["processed"] and processor.seen == [reaches_rasa]


@pytest.mark.parametrize("typed, reply", [("   ", "didn't get any words"),
                                          ("\u202e\u200b", "didn't get any words"),
                                          ("x" * 51, "longer than I can read (51 characters")])
def test_empty_and_too_long_are_answered_without_touching_the_conversation(guarded_input, typed,
                                                                           reply):
    processor = Processor()
    output = CollectingOutputChannel()
    result = asyncio.run(guarded_input(processor, UserMessage(typed, output, "visitor-1")))
    assert processor.seen == []
    assert reply in result[0]["text"]
