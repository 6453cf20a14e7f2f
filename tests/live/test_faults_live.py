"""Faults injected into a running assistant: the action server goes away or slows down just as a
request is confirmed, and Rasa restarts in the middle of a form.

The stack here is the scaled one (conversations in PostgreSQL, locks in Redis), with one Rasa
and one action server of its own and a proxy between them that the tests can cut or slow down.
Rasa is told to give up on an action after 3 seconds (ACTION_TIMEOUT_SECONDS).
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, Set

import httpx
import pytest
from sqlalchemy import select

from bot.conversation import faults
from bot.core import texts
from bot.core.paths import ROOT, VAR_DIR
from bot.devtools.stack import (
    Stack,
    actions_service,
    child_environment,
    prepare_tracker_store,
    rasa_service,
    scaled_environment,
)
from bot.storage.db import ensure_database, make_engine, session_factory, transaction, upgrade
from bot.storage.models import PrivacyRequest
from tests.support.live import drop_databases, httpx_ok, latest_code, scaled_settings

pytestmark = pytest.mark.live

RASA_PORT = 5205
ACTION_PORT = 5255
PROXY_PORT = 5256
ACTION_TIMEOUT = 3.0
SLOW = 6.0
REFERENCE = re.compile(r"\b(DEL|COR|SUS|ACC|UNS)-[0-9A-Z]{6}\b")


class ActionProxy:
    """Stands between Rasa and the action server: passes calls on, refuses connections
    (`down`), or holds chosen actions for `SLOW` seconds before passing them on (`slow`)."""

    def __init__(self, port: int, target: str) -> None:
        self.port = port
        self.target = target
        self.slow_actions: Set[str] = set()
        self.server: Optional[ThreadingHTTPServer] = None
        self.up()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
                if self.headers.get("Content-Encoding"):
                    headers["Content-Encoding"] = self.headers["Content-Encoding"]
                try:
                    action = json.loads(body).get("next_action")
                except ValueError:
                    action = None
                if action in proxy.slow_actions:
                    time.sleep(SLOW)
                request = urllib.request.Request(
                    proxy.target + self.path, data=body, headers=headers, method="POST"
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        status, payload = response.status, response.read()
                except urllib.error.HTTPError as error:
                    status, payload = error.code, error.read()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # Rasa stopped waiting; the action server did the work all the same

            def log_message(self, *args):
                pass

        return Handler

    def up(self) -> None:
        self.slow_actions = set()
        if self.server is None:
            self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
            threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Connections are refused, as when the action server is not running."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def slow(self, *actions: str) -> None:
        self.up()
        self.slow_actions = set(actions)


class FaultStack:
    def __init__(self, env, settings, services, proxy, log_dir):
        self.env, self.settings, self.proxy, self.log_dir = env, settings, proxy, log_dir
        self.services = {s.name: s for s in services}
        self.runner = Stack(settings, echo=False)
        self.sessions = session_factory(make_engine(env["DATABASE_URL"]))

    def start(self, name: str) -> None:
        service = self.services[name]
        log = open(self.log_dir / f"{name}.log", "a", encoding="utf-8")
        self.runner.processes[name] = subprocess.Popen(
            service.command,
            cwd=ROOT,
            env=child_environment({**self.env, **service.env}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 300
        while not httpx_ok(service.health_url):
            assert self.runner.processes[name].poll() is None, f"{name} exited"
            assert time.monotonic() < deadline, f"{name} did not come up"
            time.sleep(1)

    def restart_rasa(self) -> None:
        import os
        import signal

        process = self.runner.processes.pop("rasa-faults")
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        self.start("rasa-faults")

    def rows(self, email: str):
        with transaction(self.sessions) as session:
            return (
                session.execute(select(PrivacyRequest).where(PrivacyRequest.email == email))
                .scalars()
                .all()
            )

    def code(self, email: str) -> str:
        return latest_code(self.sessions, email)


@pytest.fixture(scope="module")
def faulty():
    settings = scaled_settings()
    run = uuid.uuid4().hex[:8]
    settings = replace(settings, action_port=ACTION_PORT)
    env = {
        **scaled_environment(settings, workers=1),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/fault_requests_{run}",
        "TRACKER_DB_NAME": f"fault_tracker_{run}",
        "REDIS_DB": "4",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{PROXY_PORT}/webhook",
        "ACTION_TIMEOUT_SECONDS": str(ACTION_TIMEOUT),
        "SANIC_WORKERS": "1",
        "ACTION_SERVER_SANIC_WORKERS": "1",
    }
    ensure_database(env["DATABASE_URL"])
    upgrade(env["DATABASE_URL"])
    prepare_tracker_store(env)
    proxy = ActionProxy(PROXY_PORT, f"http://127.0.0.1:{ACTION_PORT}")
    services = [
        actions_service(settings, ACTION_PORT, name="actions-faults"),
        rasa_service(settings, RASA_PORT, "endpoints.scaled.yml", name="rasa-faults"),
    ]
    log_dir = VAR_DIR / "test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = FaultStack(env, settings, services, proxy, log_dir)
    try:
        for service in services:
            stack.start(service.name)
        yield stack
    finally:
        stack.runner.stop()
        proxy.down()
        stack.sessions.kw["bind"].dispose()
        drop_databases(env["DATABASE_URL"].rsplit("/", 1)[1], env["TRACKER_DB_NAME"])


class Visitor:
    def __init__(self) -> None:
        self.sender = f"fault-{uuid.uuid4().hex}"

    def say(self, text: str) -> str:
        response = httpx.post(
            f"http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text},
            timeout=60,
        )
        response.raise_for_status()
        return "\n".join(m.get("text", "") for m in response.json())


def to_the_code(stack: FaultStack, visitor: Visitor, email: str) -> str:
    """A deletion request answered up to the verification code; returns the code."""
    for text in [
        "please delete my account",
        email,
        "only specific data",
        "my meeting history",
        "skip",
    ]:
        reply = visitor.say(text)
    assert "Is this right?" in reply
    assert "6-digit code" in visitor.say("yes")
    return stack.code(email)


def test_action_server_down_when_the_request_is_confirmed(faulty):
    visitor, email = Visitor(), f"down.{uuid.uuid4().hex[:6]}@example.com"
    code = to_the_code(faulty, visitor, email)
    faulty.proxy.down()
    reply = visitor.say(code)
    assert "something went wrong on our side" in reply and "try again" in reply
    assert faulty.rows(email) == []
    reply = visitor.say("try again")  # still down: the same honest answer, nothing lost
    assert "try again" in reply and faulty.rows(email) == []
    faulty.proxy.up()
    reply = visitor.say("try again")
    reference = REFERENCE.search(reply)
    assert reference, reply
    [row] = faulty.rows(email)
    assert row.reference == reference.group(0) and row.status == "received"
    assert row.details == {"scope": "specific", "items": "my meeting history"}
    assert texts.text("fault.nothing_pending") in visitor.say("try again")
    assert len(faulty.rows(email)) == 1


def test_action_server_too_slow_to_answer_the_submit(faulty):
    visitor, email = Visitor(), f"slow.{uuid.uuid4().hex[:6]}@example.com"
    code = to_the_code(faulty, visitor, email)
    faulty.proxy.slow("action_submit_deletion")
    started = time.monotonic()
    reply = visitor.say(code)
    assert time.monotonic() - started < SLOW  # Rasa gave up after ACTION_TIMEOUT
    assert faults.not_saved() in reply
    time.sleep(SLOW)  # meanwhile the action server finished and stored it
    [late] = faulty.rows(email)
    faulty.proxy.up()
    reply = visitor.say("try again")
    assert late.reference in reply and "already" not in reply
    assert [r.reference for r in faulty.rows(email)] == [late.reference]


def test_rasa_restarts_in_the_middle_of_a_form(faulty):
    visitor, email = Visitor(), f"restart.{uuid.uuid4().hex[:6]}@example.com"
    visitor.say("I want my account deleted")
    visitor.say(email)
    assert "Which data" in visitor.say("only specific data")
    faulty.restart_rasa()
    # the same conversation, from the SQL tracker store: the form asks for the next answer
    assert "why" in visitor.say("recordings of my meetings").lower()
    assert "Is this right?" in visitor.say("skip")
    assert "6-digit code" in visitor.say("yes")
    reply = visitor.say(faulty.code(email))
    [row] = faulty.rows(email)
    assert row.reference in reply
    assert row.details == {"scope": "specific", "items": "recordings of my meetings"}
