"""docs/fulfilment.md is the contract a product team builds to, so what it shows must be what the
code does: its schemas are the files the code validates with, its example request is signed as
shown, its verification snippet verifies, and its example receiver runs and answers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import httpx
import jsonschema
import pytest

from bot.core.paths import ROOT
from bot.fulfilment import contract, signing
from tests.support.web_server import free_port

DOC = ROOT / "docs" / "fulfilment.md"
MAX_RECEIVER_LINES = 40


def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def block_after(marker: str, language: str) -> str:
    """The first ```language block after the first line that contains `marker`."""
    text = doc()
    start = text.index(marker)
    found = re.compile(rf"^```{language}\n(.*?)\n```$", re.S | re.M).search(text, start)
    assert found, f"no {language} block after {marker!r}"
    return found.group(1)


@pytest.mark.parametrize("path", [contract.TASK_REQUEST_SCHEMA, contract.CALLBACK_SCHEMA])
def test_each_schema_in_the_doc_is_the_file_verbatim(path):
    relative = path.relative_to(ROOT).as_posix()
    shown = block_after(f"File `{relative}`:", "json")
    assert shown == path.read_text(encoding="utf-8").rstrip("\n")


def test_the_example_request_is_a_valid_task_signed_as_shown():
    body = block_after("An example, exactly as sent", "json").encode("utf-8")
    shown = dict(
        line.split(": ", 1) for line in block_after("With the secret", "text").splitlines()
    )
    assert shown[signing.SIGNATURE_HEADER] == signing.sign(body, "example-secret")
    task = json.loads(body)
    assert shown[signing.IDEMPOTENCY_HEADER] == task["task_id"]
    jsonschema.Draft202012Validator(contract.load_schema(contract.TASK_REQUEST_SCHEMA)).validate(
        task
    )
    # Exactly as request_body writes it: compact, keys sorted.
    assert json.dumps(task, sort_keys=True, separators=(",", ":")).encode() == body


def test_the_example_callback_is_one_we_take():
    callback = contract.read_callback(block_after("The body is the answer's", "json").encode())
    assert callback.outcome.status == "done"


def test_the_verification_snippet_verifies_and_refuses():
    namespace: dict = {}
    exec(block_after("## The signature", "python"), namespace)
    verify = namespace["verify"]
    body = b'{"task_id":"x"}'
    assert verify(body, signing.sign(body, "s3cret"), "s3cret")
    assert not verify(body + b" ", signing.sign(body, "s3cret"), "s3cret")
    assert not verify(body, signing.sign(body, "other"), "s3cret")
    assert not verify(body, None, "s3cret")


def test_the_settings_the_doc_names_for_retries_are_there():
    for name in ("FULFILMENT_MAX_ATTEMPTS", "FULFILMENT_RETRY_SECONDS", "SYSTEMS_FILE"):
        assert f"`{name}`" in doc()


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    """The doc's example receiver, run as its own process on a free port."""
    source = block_after("## An example receiver", "python")
    path = tmp_path_factory.mktemp("receiver") / "receiver.py"
    path.write_text(source + "\n", encoding="utf-8")
    port = free_port()
    env = {**os.environ, "ACCOUNTS_WEBHOOK_SECRET": "receiver-secret"}
    process = subprocess.Popen(
        [sys.executable, str(path), str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(base)  # 501: http.server answers a GET it has no handler for
            break
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the example receiver did not start"
            time.sleep(0.05)
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_the_example_receiver_is_short():
    lines = block_after("## An example receiver", "python").splitlines()
    assert len(lines) <= MAX_RECEIVER_LINES


def _task() -> bytes:
    from datetime import datetime, timezone

    order = contract.TaskOrder(
        task_id="0123456789abcdef0123456789abcdef",
        reference="DEL-7K3M9Q",
        kind="deletion",
        email="ada@example.com",
        details={"scope": "all"},
        requested_at=datetime(2024, 5, 1, tzinfo=timezone.utc),
        due=datetime(2024, 5, 22, tzinfo=timezone.utc),
        callback_url="http://127.0.0.1:8000/api/fulfilment/callback",
    )
    return contract.request_body(order, datetime(2024, 5, 3, tzinfo=timezone.utc))


def test_the_example_receiver_answers_a_signed_task_done(receiver):
    body = _task()
    answer = httpx.post(
        receiver,
        content=body,
        headers={
            signing.SIGNATURE_HEADER: signing.sign(body, "receiver-secret"),
            signing.IDEMPOTENCY_HEADER: json.loads(body)["task_id"],
        },
    )
    assert contract.read_answer(answer.status_code, answer.content) == contract.Outcome("done")


@pytest.mark.parametrize("signature", [None, "sha256=00", "wrong-secret"])
def test_the_example_receiver_refuses_a_bad_signature(receiver, signature):
    body = _task()
    headers = {}
    if signature == "wrong-secret":
        headers[signing.SIGNATURE_HEADER] = signing.sign(body, "wrong-secret")
    elif signature is not None:
        headers[signing.SIGNATURE_HEADER] = signature
    answer = httpx.post(receiver, content=body, headers=headers)
    assert answer.status_code == 401
