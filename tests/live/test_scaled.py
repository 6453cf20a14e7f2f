"""Scale-out on the real engines: two Rasa processes share one conversation through the SQL
tracker store on PostgreSQL and the Redis lock store; the request is stored once, in PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select

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
from bot.storage.models import OutboxMessage, PrivacyRequest
from tests.support.live import drop_databases, httpx_ok, scaled_settings

pytestmark = pytest.mark.live

RASA_PORTS = (5105, 5106)
ACTION_PORT = 5155


@pytest.fixture(scope="module")
def scaled_pair():
    settings = scaled_settings()
    run = uuid.uuid4().hex[:8]
    settings = replace(
        settings, action_port=ACTION_PORT, action_server_url=f"http://127.0.0.1:{ACTION_PORT}"
    )
    env = {
        **scaled_environment(settings, workers=1),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/scale_requests_{run}",
        "TRACKER_DB_NAME": f"scale_tracker_{run}",
        "REDIS_DB": "3",
        "SANIC_WORKERS": "1",
        "ACTION_SERVER_SANIC_WORKERS": "1",
    }
    ensure_database(env["DATABASE_URL"])
    upgrade(env["DATABASE_URL"])
    prepare_tracker_store(env)
    services = [actions_service(settings, ACTION_PORT, name="actions-scaled")] + [
        rasa_service(settings, port, "endpoints.scaled.yml", name=f"rasa-{port}")
        for port in RASA_PORTS
    ]
    log_dir = VAR_DIR / "test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = []
    for service in services:
        log = open(log_dir / f"{service.name}.log", "w", encoding="utf-8")
        processes.append(
            subprocess.Popen(
                service.command,
                cwd=ROOT,
                env=child_environment(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    # The Stack's stop() ends these processes (and their process groups) as it ends its own.
    stack = Stack(settings, echo=False)
    stack.processes = {
        service.name: process for service, process in zip(services, processes, strict=True)
    }
    try:
        pending = {s.name: s.health_url for s in services}
        deadline = time.monotonic() + 300
        while pending and time.monotonic() < deadline:
            for name, url in list(pending.items()):
                if httpx_ok(url):
                    del pending[name]
            time.sleep(1)
        assert not pending, f"not up: {pending}"
        yield env
    finally:
        stack.stop()
        drop_databases(env["DATABASE_URL"].rsplit("/", 1)[1], env["TRACKER_DB_NAME"])


def test_a_form_started_on_one_process_is_finished_on_the_other(scaled_pair):
    env = scaled_pair
    sender = f"scaled-{uuid.uuid4().hex}"
    email = f"scaled.{uuid.uuid4().hex[:6]}@example.com"
    replies = []

    def say(index: int, text: str) -> str:
        port = RASA_PORTS[index % 2]
        response = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=60,
        )
        response.raise_for_status()
        reply = "\n".join(m.get("text", "") for m in response.json())
        replies.append((port, reply))
        return reply

    engine = make_engine(env["DATABASE_URL"])
    sessions = session_factory(engine)
    script = ["please delete my account", email, "the whole account", "skip", "yes"]
    for index, text in enumerate(script):
        say(index, text)
    assert "6-digit code" in replies[-1][1]
    with transaction(sessions) as session:
        body = (
            session.execute(select(OutboxMessage.body).where(OutboxMessage.to_address == email))
            .scalars()
            .first()
        )
    code = re.search(r"code is (\d{6})", body).group(1)
    final = say(len(script), code)
    reference = re.search(r"DEL-[0-9A-Z]{6}", final).group(0)
    # The same confirmation arriving again (a retry through the other process) stores nothing new.
    say(len(script) + 1, code)
    with transaction(sessions) as session:
        rows = (
            session.execute(select(PrivacyRequest).where(PrivacyRequest.email == email))
            .scalars()
            .all()
        )
    assert [(r.reference, r.status, r.conversation_id) for r in rows] == [
        (reference, "received", sender)
    ]
    assert {port for port, _ in replies} == set(RASA_PORTS)
    engine.dispose()
