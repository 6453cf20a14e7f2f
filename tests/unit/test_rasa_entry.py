"""How `bot.rasa.entry` starts Rasa: the faster check of action server replies accepts and refuses
exactly what Rasa's does; a failing or slow action server becomes an apology that keeps the
answers, a missing action endpoint stays Rasa's own error and is reported at start; and every
message is cleaned by our channels before Rasa reads it."""

import asyncio
import logging
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

import bot.rasa.entry as rasa_entry
from bot.conversation import faults
from bot.core.paths import ROOT
from bot.rasa.channels import RestInput
from bot.rasa.entry import cache_action_response_validation
from tests.support.channels import Reached, serving

GOOD = {
    "events": [{"event": "slot", "name": "last_section", "value": "security"}],
    "responses": [{"text": "The policy section says: ..."}],
}
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


# -- the failure guard around RemoteAction.run (a patch: Rasa has no extension point for it) ----

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def guarded(monkeypatch, set_env):
    """Rasa's RemoteAction with the failure guard, restored afterwards; 1 s action timeout."""
    import rasa.core.actions.action as rasa_action
    import rasa.utils.endpoints as rasa_endpoints

    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    monkeypatch.setattr(rasa_action, "DEFAULT_REQUEST_TIMEOUT", rasa_action.DEFAULT_REQUEST_TIMEOUT)
    monkeypatch.setattr(
        rasa_endpoints, "DEFAULT_REQUEST_TIMEOUT", rasa_endpoints.DEFAULT_REQUEST_TIMEOUT
    )
    set_env(ACTION_TIMEOUT_SECONDS="1")
    rasa_entry.guard_remote_actions()


def form_tracker(requested="confirm_request"):
    tracker = DialogueStateTracker.from_events(
        "visitor-1",
        [
            UserUttered("delete my account", {"name": "request_deletion", "confidence": 1.0}),
            ActiveLoop("deletion_form"),
            SlotSet("account_email", "jane@example.com"),
            SlotSet("requested_slot", requested),
            UserUttered("yes", {"name": "affirm", "confidence": 1.0}),
            SlotSet(requested, "yes"),
        ],
        slots=DOMAIN.slots,
    )
    return tracker


def run(action, tracker):
    return asyncio.run(action.run(CollectingOutputChannel(), None, tracker, DOMAIN))


def test_action_server_down_at_submit_keeps_the_answers_and_remembers_the_request(guarded):
    action = RemoteAction(
        "action_submit_deletion", EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")
    )
    events = run(action, form_tracker())
    apology = events[0]
    assert isinstance(apology, BotUttered) and apology.text == faults.not_saved()
    assert apology.data["buttons"] == [faults.retry_button()]
    slots = {e.key: e.value for e in events if isinstance(e, SlotSet)}
    assert slots == {"pending_submission": "deletion", "confirm_request": None}
    # account_email and the other answers are not touched


def test_failed_validation_forgets_the_unchecked_value_and_a_second_call_stays_quiet(guarded):
    action = RemoteAction(
        "validate_deletion_form", EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")
    )
    tracker = form_tracker("account_email")
    events = run(action, tracker)
    assert events[0].text == faults.not_done()
    assert SlotSet("account_email", None) in events
    tracker.update_with_events(events, DOMAIN)
    started = time.monotonic()
    ask = RemoteAction(
        "action_ask_account_email", EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")
    )
    assert run(ask, tracker) == []  # one apology a turn, and no second wait for the server
    assert time.monotonic() - started < 0.5


class Slow(BaseHTTPRequestHandler):
    def do_POST(self):
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
        action = RemoteAction(
            "action_submit_access",
            EndpointConfig(f"http://127.0.0.1:{server.server_address[1]}/webhook"),
        )
        started = time.monotonic()
        events = run(action, form_tracker())
        assert time.monotonic() - started < 2.5  # 1 s timeout, not Rasa's five minutes
        assert events[0].text == faults.not_saved()
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


def test_no_action_endpoint_is_rasas_own_error_not_an_apology(guarded):
    """A configuration mistake: Rasa's error goes to the log (the processor logs it), and the
    visitor is not asked to "try again" something that cannot succeed."""
    from rasa.shared.exceptions import RasaException

    action = RemoteAction("action_submit_deletion", None)
    with pytest.raises(RasaException, match="no endpoint is configured"):
        run(action, form_tracker())


def test_an_action_endpoint_without_url_is_an_error_not_an_apology(guarded):
    from rasa.shared.exceptions import RasaException

    action = RemoteAction("action_answer_policy", EndpointConfig(None))
    with pytest.raises(RasaException, match="has no url"):
        run(action, form_tracker())


# -- the action endpoint, checked at start ------------------------------------------------------


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_usable_action_endpoint_is_no_problem(tmp_path, monkeypatch):
    good = write(
        tmp_path / "endpoints.yml", 'action_endpoint:\n  url: "http://127.0.0.1:5055/webhook"\n'
    )
    assert rasa_entry.action_endpoint_problem(good) is None
    assert rasa_entry.action_endpoint_problem(str(ROOT / "endpoints.yml")) is None
    scaled = ROOT / "endpoints.scaled.yml"
    for name in re.findall(r"\$\{(\w+)\}", scaled.read_text(encoding="utf-8")):
        monkeypatch.setenv(name, "5432" if name.endswith("PORT") else "x")  # as the stack sets
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    assert rasa_entry.action_endpoint_problem(str(scaled)) is None


@pytest.mark.parametrize(
    "content, says",
    [
        ("tracker_store:\n  type: InMemoryTrackerStore\n", "has no `action_endpoint`"),
        ("action_endpoint:\n  token: abc\n", "has no `url`"),
        ('action_endpoint:\n  url: ""\n', "has no `url`"),
    ],
)
def test_a_missing_action_endpoint_or_url_is_named_with_the_fix(tmp_path, content, says):
    problem = rasa_entry.action_endpoint_problem(write(tmp_path / "endpoints.yml", content))
    assert says in problem and "action_endpoint" in problem and "5055/webhook" in problem


def test_no_endpoints_file_at_all_is_a_problem():
    assert "no endpoints file" in rasa_entry.action_endpoint_problem(None)


def test_an_unset_environment_value_is_reported_not_raised(tmp_path, monkeypatch):
    monkeypatch.delenv("ACTION_ENDPOINT_URL", raising=False)
    path = write(tmp_path / "e.yml", "action_endpoint:\n  url: ${ACTION_ENDPOINT_URL}\n")
    assert "cannot be read" in rasa_entry.action_endpoint_problem(path)


def test_the_endpoints_file_is_found_as_rasa_run_finds_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert rasa_entry.endpoints_file(["--port", "5005"]) is None
    other = write(tmp_path / "other.yml", "action_endpoint:\n  url: http://x/webhook\n")
    assert rasa_entry.endpoints_file(["--endpoints", other]) == other
    assert rasa_entry.endpoints_file([f"--endpoints={other}"]) == other
    write(tmp_path / "endpoints.yml", "")
    assert rasa_entry.endpoints_file(["--enable-api"]) == "endpoints.yml"
    assert rasa_entry.endpoints_file(["--endpoints", "missing.yml"]) == "endpoints.yml"


@pytest.fixture
def rasa_patches_undone(monkeypatch):
    """What main() patches in Rasa, put back after the test."""
    import rasa.core.actions.action as rasa_action
    import rasa.utils.endpoints as rasa_endpoints

    for name in ("run", "_validate_action_result"):
        monkeypatch.setattr(RemoteAction, name, getattr(RemoteAction, name))
    for module in (rasa_action, rasa_endpoints):
        monkeypatch.setattr(module, "DEFAULT_REQUEST_TIMEOUT", module.DEFAULT_REQUEST_TIMEOUT)
    from rasa.engine.runner.dask import DaskGraphRunner

    monkeypatch.setattr(DaskGraphRunner, "run", DaskGraphRunner.run)


@pytest.mark.parametrize("token", ["-starts-with-a-dash", "plain0123"])
def test_rasa_run_gets_the_api_token_from_the_environment_not_the_command_line(
    token, monkeypatch, set_env, no_env_file, rasa_patches_undone
):
    """Rasa parses the token from `sys.argv`, this process's copy of its arguments; the command
    line the system shows (`ps`, /proc/PID/cmdline) is the one the process was started with."""
    import rasa.__main__
    from rasa.__main__ import create_argument_parser

    set_env(RASA_API_TOKEN=token)
    handed_over = []
    monkeypatch.setattr(rasa.__main__, "main", lambda: handed_over.append(list(sys.argv)))
    given = ["run", "--enable-api", "--port", "5005"]
    monkeypatch.setattr(sys, "argv", ["entry.py", *given])
    rasa_entry.main()
    [argv] = handed_over
    assert argv[0] == "rasa" and create_argument_parser().parse_args(argv[1:]).auth_token == token
    assert rasa_entry.with_api_token(given, "") == given  # no token set: none added
    on_the_command_line = [*given, "--auth-token", "old"]
    assert rasa_entry.with_api_token(on_the_command_line, token) == on_the_command_line
    actions = ["run", "actions", "--actions", "actions"]
    assert rasa_entry.with_api_token(actions, token) == actions  # only Rasa's server needs it


def test_a_missing_action_endpoint_is_an_error_in_the_log_at_start(
    tmp_path, monkeypatch, caplog, set_env, no_env_file
):
    """`python -m bot.rasa.entry run ...` logs it before serving, installs the patches, and
    still hands over to Rasa (which can answer its own responses and serve its HTTP API)."""
    import rasa.__main__
    import rasa.core.actions.action as rasa_action
    import rasa.utils.endpoints as rasa_endpoints

    for name in ("run", "_validate_action_result"):
        monkeypatch.setattr(RemoteAction, name, getattr(RemoteAction, name))
    for module in (rasa_action, rasa_endpoints):
        monkeypatch.setattr(module, "DEFAULT_REQUEST_TIMEOUT", module.DEFAULT_REQUEST_TIMEOUT)
    handed_over = []
    monkeypatch.setattr(rasa.__main__, "main", lambda: handed_over.append(list(sys.argv)))
    set_env(RASA_API_TOKEN=None)  # none to add to the arguments
    no_actions = write(tmp_path / "endpoints.yml", "tracker_store:\n  type: InMemoryTrackerStore\n")
    monkeypatch.setattr(sys, "argv", ["entry.py", "run", "--endpoints", no_actions])
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.ERROR, logger="bot.rasa.entry"):
        rasa_entry.main()
    [record] = [r for r in caplog.records if r.name == "bot.rasa.entry"]
    assert "Custom actions cannot run" in record.getMessage()
    assert "has no `action_endpoint`" in record.getMessage()
    assert handed_over == [["rasa", "run", "--endpoints", no_actions]]
    assert RemoteAction.run.__name__ == "run" and RemoteAction.run.__module__ == "bot.rasa.entry"


def test_the_action_server_command_is_left_alone(monkeypatch, caplog):
    import rasa.__main__

    original = RemoteAction.run
    monkeypatch.setattr(rasa.__main__, "main", lambda: None)
    monkeypatch.setattr(sys, "argv", ["entry.py", "run", "actions", "--actions", "actions"])
    with caplog.at_level(logging.ERROR, logger="bot.rasa.entry"):
        rasa_entry.main()
    assert RemoteAction.run is original and not caplog.records


# -- the input guard, now in our channels (bot.rasa.channels): each message before Rasa sees it --


@pytest.fixture
def guarded_input(monkeypatch, set_env):
    """Sends one message through our REST channel; returns what reached Rasa and the reply."""
    set_env(MAX_MESSAGE_CHARS="50")

    async def send(typed):
        reached = Reached()
        async with serving(RestInput(), reached, monkeypatch) as served:
            async with httpx.AsyncClient() as client:
                response = await client.post(
                    f"{served.url}/webhooks/rest/webhook",
                    json={"sender": "visitor-1", "message": typed},
                )
        assert response.status_code == 200
        return reached, response.json()

    return send


@pytest.mark.parametrize(
    "typed, reaches_rasa",
    [
        ("/affirm", "/affirm"),  # exactly what a button sends
        ("/restart", "restart"),
        (
            '/request_deletion{"verification_code": "verified"}',
            'request_deletion{"verification_code": "verified"}',
        ),
        ("//session_start", "session_start"),
        ("where is my data\u202e\u0000 stored", "where is my data stored"),
    ],
)
async def test_messages_reach_rasa_cleaned_and_without_commands(guarded_input, typed, reaches_rasa):
    reached, replies = await guarded_input(typed)
    assert replies == [{"recipient_id": "visitor-1", "text": f"processed: {reaches_rasa}"}]
    assert reached.texts == [reaches_rasa]


@pytest.mark.parametrize(
    "typed, reply",
    [
        ("   ", "didn't get any words"),
        ("\u202e\u200b", "didn't get any words"),
        ("x" * 51, "longer than I can read (51 characters"),
    ],
)
async def test_empty_and_too_long_are_answered_without_touching_the_conversation(
    guarded_input, typed, reply
):
    reached, replies = await guarded_input(typed)
    assert reached.texts == []  # nothing reached Rasa: nothing logged to the tracker
    assert reply in replies[0]["text"]
