"""Webhook tasks end to end: the delivery round against the reference account service on a free
port, the callback endpoint of the web app, and what the requester gets. On SQLite and
PostgreSQL (the `store` fixture)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.core.settings import load_settings
from bot.devtools.account_service import make_app as account_service
from bot.fulfilment import signing
from bot.fulfilment.webhooks import deliver_round
from bot.requests import lifecycle
from bot.requests import task_states as states
from bot.services import Services
from bot.storage.db import session_factory
from bot.storage.models import AuditEntry, OutboxMessage
from bot.web.app import create_app
from tests.support.fulfilment import SECRET, systems_yaml, use_systems
from tests.support.web_server import serving

ADA = "ada@example.com"  # an account the reference service holds
CALLBACK = "/api/fulfilment/callback"


@pytest.fixture
def services(store):
    return Services(store)


@pytest.fixture
def accounts():
    return account_service(SECRET, callback_delay=0.05)


@pytest.fixture
def accounts_url(accounts):
    with serving(accounts) as base:
        yield f"{base}/privacy"


@pytest.fixture
def wired(set_env, tmp_path, accounts_url):
    """The account service by webhook, legal by hand for deletions."""
    use_systems(set_env, tmp_path, systems_yaml(accounts_url))


def started(services, kind, email=ADA, details=None):
    reference = services.store.submit(kind, email, details=details, verified=True).reference
    services.fulfilment.start(reference, "lee")
    return reference


def states_of(services, reference):
    return {task.system: task.state for task in services.fulfilment.tasks(reference)}


def web(services):
    settings = replace(load_settings(), rasa_url="http://rasa.test")
    return create_app(settings, services=services, session_secret="s" * 32)


def signed(payload, secret=SECRET):
    body = json.dumps(payload).encode()
    return body, {
        "Content-Type": "application/json",
        signing.SIGNATURE_HEADER: signing.sign(body, secret),
    }


def audit_actions(store):
    with session_factory(store.engine)() as session:
        return [e.action for e in session.execute(select(AuditEntry)).scalars()]


def test_a_suspension_is_carried_out_at_once_and_completes_the_request(services, accounts, wired):
    reference = started(services, "suspension")
    assert str(deliver_round(services.fulfilment)) == "1 done"
    assert accounts.state.service.accounts[ADA]["suspended"] is True
    assert services.store.get(reference).status == lifecycle.COMPLETED
    [task] = services.fulfilment.tasks(reference)
    assert task.attempts == 1 and task.detail and task.settled_by == "system:accounts"
    assert {"task_sent", "task_answer"} <= set(audit_actions(services.store))


def test_a_system_down_then_up_gets_the_task_once(services, accounts, wired, set_env):
    set_env(FULFILMENT_RETRY_SECONDS="60")
    reference = started(services, "suspension")
    accounts.state.service.mode = "down"
    assert str(deliver_round(services.fulfilment)) == "1 retry"
    [task] = services.fulfilment.tasks(reference)
    assert (task.state, task.attempts, task.last_error) == (
        states.PENDING,
        1,
        "answer not understood (http_503)",
    )
    assert str(deliver_round(services.fulfilment)) == "nothing due"  # backing off
    accounts.state.service.mode = "now"
    services.store.clock.now += timedelta(seconds=61)
    assert str(deliver_round(services.fulfilment)) == "1 done"
    assert str(deliver_round(services.fulfilment)) == "nothing due"
    assert [effect.kind for effect in accounts.state.effects] == ["suspension"]
    assert services.store.get(reference).status == lifecycle.COMPLETED


def test_a_task_sent_again_after_a_lost_answer_has_one_effect(services, accounts, wired):
    """The 202 was recorded but no callback came: staff send it again, with the same id."""
    accounts.state.service.mode = "later"
    accounts.state.service.callback_delay = 3600  # the callback never comes in this test
    reference = started(services, "suspension")
    deliver_round(services.fulfilment)
    [task] = services.fulfilment.tasks(reference)
    assert task.state == states.SENT
    accounts.state.service.mode = "now"
    services.fulfilment.retry(reference, task.id, "lee")
    deliver_round(services.fulfilment)
    assert states_of(services, reference) == {"accounts": states.DONE}
    assert len(accounts.state.effects) == 1


def test_a_failed_answer_keeps_the_request_open_and_shows_why(services, accounts, wired):
    reference = started(services, "suspension", email="nobody@example.com")
    assert str(deliver_round(services.fulfilment)) == "1 failed"
    [task] = services.fulfilment.tasks(reference)
    assert task.state == states.FAILED and "no account" in (task.last_error or "").lower()
    assert services.store.get(reference).status == lifecycle.IN_PROGRESS
    assert services.fulfilment.open_by_system() == {"accounts": {"failed": 1, "waiting": 0}}
    accounts.state.service.add({"email": "nobody@example.com"})
    services.fulfilment.retry(reference, task.id, "lee")
    assert str(deliver_round(services.fulfilment)) == "1 done"
    assert services.store.get(reference).status == lifecycle.COMPLETED


def test_a_deletion_completes_when_the_system_and_legal_are_both_done(services, accounts, wired):
    reference = started(services, "deletion", details={"scope": "all"})
    deliver_round(services.fulfilment)
    assert states_of(services, reference) == {"accounts": states.DONE, "legal": states.PENDING}
    assert ADA not in accounts.state.service.accounts
    assert services.store.get(reference).status == lifecycle.IN_PROGRESS
    legal = next(t for t in services.fulfilment.tasks(reference) if t.system == "legal")
    services.fulfilment.tick(reference, legal.id, "lee", "Backups expire within 30 days")
    assert services.store.get(reference).status == lifecycle.COMPLETED
    with session_factory(services.store.engine)() as session:
        last = (
            session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
            .scalars()
            .first()
        )
    assert "Account service: done (the account was deleted)" in last.body
    assert "Legal department: done (Backups expire within 30 days)" in last.body


def test_an_access_export_reaches_the_requester_through_the_download_link(
    services, accounts, wired
):
    reference = started(services, "access")
    assert str(deliver_round(services.fulfilment)) == "1 done"
    assert services.store.get(reference).status == lifecycle.COMPLETED
    with session_factory(services.store.engine)() as session:
        bodies = [m.body for m in session.execute(select(OutboxMessage)).scalars()]
    [token] = [m.group(1) for body in bodies for m in [re.search(r"/download/([\w-]+)", body)] if m]
    with TestClient(web(services)) as client:
        page = client.get(f"/download/{token}")
    assert page.status_code == 200


def test_an_export_by_url_is_fetched_by_the_worker(services, accounts, wired):
    accounts.state.service.export = "url"
    reference = started(services, "access")
    assert str(deliver_round(services.fulfilment)) == "1 sent"  # done, export to fetch
    assert str(deliver_round(services.fulfilment)) == "1 fetched"
    assert services.store.get(reference).status == lifecycle.COMPLETED
    assert [d.filename for d in services.deliveries.for_request(reference)]


def test_a_later_answer_arrives_by_a_signed_callback(services, accounts, wired, set_env):
    accounts.state.service.mode = "later"
    with serving(web(services)) as site:
        set_env(FULFILMENT_CALLBACK_URL=f"{site}{CALLBACK}")
        reference = started(services, "suspension")
        assert str(deliver_round(services.fulfilment)) == "1 sent"

        deadline = time.monotonic() + 10
        # The service notes its callback once our answer is back, after the completion.
        callbacks = accounts.state.service.callbacks
        while services.store.get(reference).status != lifecycle.COMPLETED or not callbacks:
            assert time.monotonic() < deadline, callbacks
            time.sleep(0.05)
    assert callbacks[0]["status_code"] == 200
    assert "task_callback" in audit_actions(services.store)


def test_callbacks_refused_for_a_bad_signature_an_unknown_task_or_a_replay(
    services, accounts, wired, caplog
):
    accounts.state.service.mode = "later"
    accounts.state.service.callback_delay = 3600
    reference = started(services, "suspension")
    deliver_round(services.fulfilment)
    [task] = services.fulfilment.tasks(reference)
    payload = {"task_id": task.id, "status": "done", "detail": "suspended"}
    with TestClient(web(services)) as client:
        body, headers = signed(payload, secret="not-the-secret")
        assert client.post(CALLBACK, content=body, headers=headers).status_code == 401
        body, headers = signed({**payload, "task_id": "0" * 32})
        assert client.post(CALLBACK, content=body, headers=headers).status_code == 404
        body, headers = signed({"task_id": task.id, "status": "finished"})
        assert client.post(CALLBACK, content=body, headers=headers).status_code == 400
        assert states_of(services, reference) == {"accounts": states.SENT}
        body, headers = signed(payload)
        first = client.post(CALLBACK, content=body, headers=headers)
        assert first.status_code == 200 and first.json()["state"] == states.DONE
        settled = services.fulfilment.tasks(reference)
        replay = client.post(CALLBACK, content=body, headers=headers)
        assert replay.status_code == 409
        failed = signed({"task_id": task.id, "status": "failed", "detail": "changed mind"})
        assert client.post(CALLBACK, content=failed[0], headers=failed[1]).status_code == 409
    assert services.fulfilment.tasks(reference) == settled
    assert services.store.get(reference).status == lifecycle.COMPLETED
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 5 and not any(ADA in line for line in refused)


def test_the_cli_starts_delivers_and_shows(services, accounts, wired, capsys, monkeypatch):
    from bot.cli import main as cli

    monkeypatch.setattr("bot.services.Services", lambda: services)
    reference = services.store.submit(
        "deletion", ADA, details={"scope": "all"}, verified=True
    ).reference
    assert cli.main(["fulfilment", "start", reference, "--actor", "lee"]) == 0
    assert cli.main(["fulfilment", "deliver"]) == 0
    capsys.readouterr()
    assert cli.main(["fulfilment", "show", reference, "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {(t["system"], t["state"]) for t in shown} == {
        ("accounts", "done"),
        ("legal", "pending"),
    }
    assert cli.main(["requests", "export", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["status"] == "in_progress" and len(row["tasks"]) == 2
