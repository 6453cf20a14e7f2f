"""The reference account service (bot.devtools.account_service): it keeps the contract of
docs/fulfilment.md as a product's system would, so that the worker and the demos have a far end
whose behaviour is known: signature checked, each task applied once, each kind's effect, and the
three modes, with the callback really POSTed."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.devtools import account_service
from bot.devtools.account_service import NO_ACCOUNT, make_app
from bot.fulfilment import contract, signing
from tests.support.web_server import free_port, serving

SECRET = "accounts-secret"
CALLBACK = "http://127.0.0.1:9/api/fulfilment/callback"  # nothing listens: "now" never calls


def task(kind: str, email: str = "ada@example.com", details=None, **changes: Any) -> bytes:
    order = contract.TaskOrder(
        task_id=changes.pop("task_id", uuid.uuid4().hex),
        reference=changes.pop("reference", "DEL-7K3M9Q"),
        kind=kind,
        email=email,
        details=details or {},
        requested_at=datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc),
        due=datetime(2024, 5, 22, 16, 0, tzinfo=timezone.utc),
        callback_url=changes.pop("callback_url", CALLBACK),
    )
    return contract.request_body(order, datetime(2024, 5, 3, 9, 0, tzinfo=timezone.utc))


def headers(body: bytes, secret: str = SECRET) -> Dict[str, str]:
    return {
        signing.SIGNATURE_HEADER: signing.sign(body, secret),
        signing.IDEMPOTENCY_HEADER: json.loads(body)["task_id"],
        "Content-Type": "application/json",
    }


def send(client: Any, body: bytes, secret: str = SECRET) -> Any:
    return client.post("/privacy", content=body, headers=headers(body, secret))


@pytest.fixture
def app():
    return make_app(SECRET)


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


def accounts(app) -> Dict[str, Dict[str, Any]]:
    return app.state.service.accounts


def outcome_of(answer: Any) -> contract.Outcome:
    """The answer read the way the worker reads it: the service keeps the contract."""
    return contract.read_answer(answer.status_code, answer.content)


# -- the signature and the key ----------------------------------------------------------------


@pytest.mark.parametrize("wrong", ["another-secret", None])
def test_a_task_not_signed_with_the_secret_is_refused_and_changes_nothing(app, client, wrong):
    body = task("deletion")
    sent = headers(body, wrong or SECRET)
    if wrong is None:
        del sent[signing.SIGNATURE_HEADER]
    answer = client.post("/privacy", content=body, headers=sent)
    assert answer.status_code == 401
    assert "ada@example.com" in accounts(app) and app.state.effects == []


def test_a_task_whose_body_was_changed_after_signing_is_refused(app, client):
    body = task("deletion")
    sent = headers(body)
    answer = client.post(
        "/privacy", content=body.replace(b"ada@", b"sam@").replace(b".com", b".org"), headers=sent
    )
    assert answer.status_code == 401
    assert len(accounts(app)) == 3


def test_the_idempotency_key_must_name_the_task(app, client):
    body = task("deletion")
    sent = {**headers(body), signing.IDEMPOTENCY_HEADER: uuid.uuid4().hex}
    assert client.post("/privacy", content=body, headers=sent).status_code == 400
    assert app.state.effects == []


def test_a_signed_body_that_is_no_task_is_refused(client):
    body = json.dumps({"task_id": uuid.uuid4().hex, "kind": "deletion"}).encode()
    assert send(client, body).status_code == 400


def test_a_task_sent_again_is_answered_alike_and_applied_once(app, client):
    body = task("suspension")
    first, second = send(client, body), send(client, body)
    assert first.status_code == second.status_code == 200
    assert (
        first.json() == second.json() == {"status": "done", "detail": "the account was suspended"}
    )
    assert [(e.kind, e.email) for e in app.state.effects] == [("suspension", "ada@example.com")]


def test_a_deletion_sent_again_is_still_done_though_the_account_is_gone(app, client):
    body = task("deletion")
    assert outcome_of(send(client, body)).status == "done"
    assert outcome_of(send(client, body)).status == "done"  # not "no account for that address"
    assert len(app.state.effects) == 1


def test_a_failed_task_is_tried_afresh_when_sent_again(app, client):
    body = task("suspension", email="new@example.com")
    assert outcome_of(send(client, body)) == contract.Outcome("failed", NO_ACCOUNT)
    assert client.post("/admin/accounts", json={"email": "New@Example.com"}).status_code == 201
    assert outcome_of(send(client, body)).status == "done"
    assert accounts(app)["new@example.com"]["suspended"] is True


# -- each kind's effect -----------------------------------------------------------------------


def test_a_deletion_of_everything_removes_the_account(app, client):
    assert outcome_of(send(client, task("deletion", details={"scope": "all"}))).status == "done"
    assert "ada@example.com" not in accounts(app)


def test_a_deletion_of_some_items_keeps_the_account_and_records_them(app, client):
    details = {"scope": "specific", "items": "meeting recordings"}
    assert outcome_of(send(client, task("deletion", details=details))).status == "done"
    assert accounts(app)["ada@example.com"]["erased_items"] == ["meeting recordings"]


def test_a_correction_changes_the_named_field(app, client):
    body = task("correction", details={"item": "name", "new_value": "Ada King", "note": "x"})
    assert outcome_of(send(client, body)).status == "done"
    assert accounts(app)["ada@example.com"]["name"] == "Ada King"


def test_a_correction_of_the_address_moves_the_account(app, client):
    body = task("correction", details={"item": "email", "new_value": "ada@king.example"})
    assert outcome_of(send(client, body)).status == "done"
    assert "ada@example.com" not in accounts(app)
    assert accounts(app)["ada@king.example"]["name"] == "Ada Lovelace"


def test_a_correction_to_another_accounts_address_fails(app, client):
    body = task("correction", details={"item": "email", "new_value": "sam@example.org"})
    outcome = outcome_of(send(client, body))
    assert outcome.status == "failed" and outcome.detail
    assert accounts(app)["sam@example.org"]["name"] == "Sam Taylor"


def test_a_correction_without_a_value_fails(app, client):
    outcome = outcome_of(send(client, task("correction", details={"item": "phone"})))
    assert outcome.status == "failed" and app.state.effects == []


def test_a_suspension_marks_the_account(app, client):
    send(client, task("suspension"))
    assert accounts(app)["ada@example.com"]["suspended"] is True


def test_an_unsubscribe_clears_the_marketing_flag(app, client):
    assert accounts(app)["li.wei@example.cn"]["marketing"] is True
    send(client, task("unsubscribe", email="li.wei@example.cn"))
    assert accounts(app)["li.wei@example.cn"]["marketing"] is False


def test_an_access_export_comes_back_as_a_file(app, client):
    body = task("access", email="li.wei@example.cn", reference="ACC-7K3M9Q")
    outcome = outcome_of(send(client, body))
    assert outcome.status == "done" and outcome.export_file is not None
    assert outcome.export_file.filename == "ACC-7K3M9Q.json"
    exported = json.loads(outcome.export_file.content)
    assert (exported["email"], exported["name"]) == ("li.wei@example.cn", "李伟")


def test_an_access_export_comes_back_as_a_url_the_service_serves():
    with TestClient(make_app(SECRET, export="url")) as client:
        outcome = outcome_of(send(client, task("access", details={"scope": "all"})))
        assert outcome.export_file is None and outcome.export_url
        fetched = client.get(outcome.export_url)
        assert fetched.status_code == 200
        assert fetched.json()["email"] == "ada@example.com"
        assert client.get("/exports/guessed").status_code == 404


def test_an_unknown_address_fails_with_a_detail(app, client):
    outcome = outcome_of(send(client, task("deletion", email="nobody@example.com")))
    assert outcome == contract.Outcome("failed", NO_ACCOUNT)
    assert app.state.effects == []


def test_a_kind_the_service_does_not_handle_fails(app, client):
    outcome = outcome_of(send(client, task("complaint", details={"what_happened": "x"})))
    assert outcome.status == "failed" and "complaint" in outcome.detail


def test_accounts_can_be_given_at_start():
    app = make_app(SECRET, accounts=[{"email": "Only@Example.com", "name": "Only"}])
    assert list(accounts(app)) == ["only@example.com"]


# -- the modes --------------------------------------------------------------------------------


def test_a_service_that_is_down_answers_503_until_it_is_up_again(app, client):
    assert client.post("/admin/mode", json={"mode": "down"}).status_code == 200
    body = task("suspension")
    answer = send(client, body)
    assert answer.status_code == 503
    with pytest.raises(contract.BadAnswer, match="http_503"):
        outcome_of(answer)
    assert app.state.effects == []
    app.state.service.mode = "now"
    assert outcome_of(send(client, body)).status == "done"
    assert len(app.state.effects) == 1


def test_an_unknown_mode_is_refused(app, client):
    assert client.post("/admin/mode", json={"mode": "sideways"}).status_code == 400
    assert app.state.service.mode == "now"
    with pytest.raises(ValueError):
        make_app(SECRET, mode="sideways")


class Receiver:
    """A stand-in for our callback endpoint: keeps each POST's headers and raw body."""

    def __init__(self) -> None:
        self.received: List[Dict[str, Any]] = []

        async def callback(request: Request) -> JSONResponse:
            self.received.append({"headers": dict(request.headers), "body": await request.body()})
            return JSONResponse({"applied": True})

        self.app = Starlette(routes=[Route("/api/fulfilment/callback", callback, methods=["POST"])])

    def wait_for(self, count: int, timeout: float = 10) -> List[Dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


def test_later_answers_202_then_posts_the_signed_outcome_to_the_callback_url():
    receiver = Receiver()
    app = make_app(SECRET, mode="later", callback_secret="callback-secret", callback_delay=0.05)
    with serving(receiver.app) as ours, serving(app) as theirs:
        body = task("suspension", callback_url=f"{ours}/api/fulfilment/callback")
        task_id = json.loads(body)["task_id"]
        answer = httpx.post(f"{theirs}/privacy", content=body, headers=headers(body))
        assert answer.status_code == 202 and outcome_of(answer).status is None
        (received,) = receiver.wait_for(1)
        signature = received["headers"][signing.SIGNATURE_HEADER.lower()]
        assert signing.verify(received["body"], signature, "callback-secret")
        assert not signing.verify(received["body"], signature, SECRET)
        callback = contract.read_callback(received["body"])
        assert callback.task_id == task_id and callback.outcome.status == "done"

        # The same task again: 202, the same outcome called back, nothing applied twice.
        again = httpx.post(f"{theirs}/privacy", content=body, headers=headers(body))
        assert again.status_code == 202
        first, second = receiver.wait_for(2)
        assert first["body"] == second["body"]
        assert len(app.state.effects) == 1
        # The service records a callback once our answer to it is back: wait for the second.
        deadline = time.monotonic() + 10
        while len(app.state.service.callbacks) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [c["status_code"] for c in app.state.service.callbacks] == [200, 200]


def test_later_calls_back_a_failure_too():
    receiver = Receiver()
    app = make_app(SECRET, mode="later", callback_delay=0)
    with serving(receiver.app) as ours, TestClient(app) as client:
        body = task(
            "deletion", email="nobody@example.com", callback_url=f"{ours}/api/fulfilment/callback"
        )
        assert send(client, body).status_code == 202
        (received,) = receiver.wait_for(1)
        assert signing.verify(received["body"], received["headers"]["x-signature-256"], SECRET)
        assert contract.read_callback(received["body"]).outcome == contract.Outcome(
            "failed", NO_ACCOUNT
        )


# -- the command ------------------------------------------------------------------------------


def test_the_command_refuses_to_start_without_its_secret(monkeypatch, capsys):
    monkeypatch.delenv("UNSET_WEBHOOK_SECRET_FOR_TEST", raising=False)
    with pytest.raises(SystemExit) as stopped:
        account_service.main(["--secret-env", "UNSET_WEBHOOK_SECRET_FOR_TEST"])
    assert stopped.value.code == 2
    assert "UNSET_WEBHOOK_SECRET_FOR_TEST is not set" in capsys.readouterr().err


def test_the_command_serves_the_webhook_with_the_secret_from_the_environment():
    port = free_port()
    env = {**os.environ, "ACCOUNTS_WEBHOOK_SECRET": SECRET, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "bot.devtools.account_service", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        body = task("unsubscribe")
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/privacy", content=body, headers=headers(body)
                )
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "the account service did not start"
                time.sleep(0.1)
        assert outcome_of(answer) == contract.Outcome("done", "no more promotional e-mail")
        state = httpx.get(f"http://127.0.0.1:{port}/admin/state").json()
        assert state["accounts"]["ada@example.com"]["marketing"] is False
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_an_export_file_is_valid_base64_of_json(client):
    answer = send(client, task("access", email="sam@example.org")).json()
    content = base64.b64decode(answer["export"]["content_base64"], validate=True)
    assert json.loads(content)["alipay"] == "sam@example.org"
