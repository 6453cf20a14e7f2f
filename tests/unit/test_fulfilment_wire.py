"""The webhook wire contract: the signature, the request body, and the reading of answers and
callbacks against the published schemas (bot.fulfilment.signing, bot.fulfilment.contract)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.reference_shape import REFERENCE_ALPHABET
from bot.fulfilment import contract, signing
from bot.fulfilment.contract import BadAnswer, BadCallback, read_answer, read_callback
from bot.requests.registry import NAMES

TASK_ID = "3f9c2a7e5b1d4c8a9e0f6b2d7a1c5e94"
SENT = datetime(2024, 5, 3, 9, 0, 0, tzinfo=timezone.utc)


def order(**changes):
    values = dict(
        task_id=TASK_ID,
        reference="COR-7K3M9Q",
        kind="correction",
        email="ada@example.com",
        details={"item": "name", "new_value": "李伟", "note": "typo"},
        requested_at=datetime(2024, 5, 1, 8, 30, 12, 345678, tzinfo=timezone.utc),
        due=datetime(2024, 5, 22, 15, 59, 59, tzinfo=timezone.utc),
        callback_url="https://privacy.example.com/api/fulfilment/callback",
    )
    values.update(changes)
    return contract.TaskOrder(**values)


def as_json(data) -> bytes:
    return json.dumps(data).encode("utf-8")


# -- the signature ----------------------------------------------------------------------------


def test_the_signature_is_the_rfc_4231_hmac_sha256():
    # RFC 4231, test case 2: key "Jefe".
    assert signing.sign(b"what do ya want for nothing?", "Jefe") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=40))
def test_a_signature_verifies_its_body_and_no_other(body, secret):
    header = signing.sign(body, secret)
    assert signing.verify(body, header, secret)
    assert not signing.verify(body + b"x", header, secret)
    assert not signing.verify(body, header, secret + "x")


def test_a_tampered_body_is_refused():
    body = contract.request_body(order(), SENT)
    header = signing.sign(body, "s3cret")
    tampered = body.replace(b"ada@example.com", b"eve@example.com")
    assert tampered != body
    assert not signing.verify(tampered, header, "s3cret")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=zz",
        "b353f71dd9b9f61cc0527e6dabde5603df3e54c5eff17af8b1a4348308812f81",  # no prefix
        "sha256=b353f71dd9b9f61cc0527e6dabde5603",  # cut short
        "sha256=ä" * 3,
    ],
)
def test_a_missing_or_malformed_header_is_refused_not_raised(header):
    assert signing.verify(b"{}", header, "s3cret") is False


def test_another_algorithm_is_refused_even_with_the_right_digest():
    body = b'{"a":1}'
    sha1 = hmac.new(b"s3cret", body, hashlib.sha1).hexdigest()
    sha256 = signing.sign(body, "s3cret").split("=", 1)[1]
    assert not signing.verify(body, f"sha1={sha1}", "s3cret")
    assert not signing.verify(body, f"sha512={sha256}", "s3cret")
    assert signing.verify(body, f"sha256={sha256}", "s3cret")


def test_hex_in_capitals_and_surrounding_spaces_still_verify():
    body = b"{}"
    header = signing.sign(body, "s3cret")
    assert signing.verify(body, f"  sha256={header[7:].upper()} ", "s3cret")


def test_an_empty_secret_neither_signs_nor_verifies():
    with pytest.raises(ValueError):
        signing.sign(b"{}", "")
    assert not signing.verify(b"{}", signing.sign(b"{}", "x"), "")


# -- the request body -------------------------------------------------------------------------


def test_the_request_body_carries_the_task_with_moments_in_utc():
    body = contract.request_body(order(), SENT)
    assert json.loads(body) == {
        "task_id": TASK_ID,
        "reference": "COR-7K3M9Q",
        "kind": "correction",
        "email": "ada@example.com",
        "details": {"item": "name", "new_value": "李伟", "note": "typo"},
        "requested_at": "2024-05-01T08:30:12Z",
        "due": "2024-05-22T15:59:59Z",
        "callback_url": "https://privacy.example.com/api/fulfilment/callback",
        "sent_at": "2024-05-03T09:00:00Z",
    }
    assert "李伟".encode() in body  # UTF-8, not \u escapes


def test_the_request_body_is_the_same_bytes_whatever_the_order_of_the_details():
    one = contract.request_body(order(details={"item": "name", "new_value": "x"}), SENT)
    two = contract.request_body(order(details={"new_value": "x", "item": "name"}), SENT)
    assert one == two
    assert b", " not in one and b": " not in one
    assert list(json.loads(one)) == sorted(json.loads(one))
    assert signing.sign(one, "k") == signing.sign(two, "k")


def test_moments_in_another_zone_or_naive_are_written_in_utc():
    beijing = timezone(timedelta(hours=8))
    body = json.loads(
        contract.request_body(
            order(requested_at=datetime(2024, 5, 1, 16, 30, tzinfo=beijing)),
            datetime(2024, 5, 3, 9, 0),  # naive: the database's UTC
        )
    )
    assert body["requested_at"] == "2024-05-01T08:30:00Z"
    assert body["sent_at"] == "2024-05-03T09:00:00Z"


@pytest.mark.parametrize("kind", NAMES)
def test_the_request_body_follows_the_published_schema(kind):
    schema = contract.load_schema(contract.TASK_REQUEST_SCHEMA)
    data = json.loads(contract.request_body(order(kind=kind, details={}), SENT))
    jsonschema.Draft202012Validator(schema).validate(data)
    data["sent_at"] = "2024-05-03 09:00:00"
    assert not jsonschema.Draft202012Validator(schema).is_valid(data)


def test_the_schemas_are_valid_and_name_every_kind_and_reference_letter():
    for path in (contract.TASK_REQUEST_SCHEMA, contract.CALLBACK_SCHEMA):
        jsonschema.Draft202012Validator.check_schema(contract.load_schema(path))
    properties = contract.load_schema(contract.TASK_REQUEST_SCHEMA)["properties"]
    assert tuple(properties["kind"]["enum"]) == NAMES
    reference = jsonschema.Draft202012Validator(properties["reference"])
    for char in map(chr, range(33, 127)):
        assert reference.is_valid(f"DEL-{char * 6}") is (char in REFERENCE_ALPHABET), char


# -- the answer to the POST -------------------------------------------------------------------


def test_a_done_answer_settles_with_its_detail():
    outcome = read_answer(200, as_json({"status": "done", "detail": " account deleted "}))
    assert outcome == contract.Outcome(status="done", detail="account deleted")


def test_a_failed_answer_settles_with_its_detail():
    outcome = read_answer(200, as_json({"status": "failed", "detail": "no account"}))
    assert (outcome.status, outcome.detail) == ("failed", "no account")


def test_any_2xx_but_202_is_an_answer_and_an_echoed_task_id_is_allowed():
    outcome = read_answer(201, as_json({"status": "done", "task_id": TASK_ID}))
    assert outcome.status == "done"


def test_keys_the_contract_does_not_name_are_ignored_in_answers_and_callbacks():
    """As a receiver ignores the keys of a task it does not know: a system that adds its own
    (a timestamp, its own id) still settles the task."""
    said = {"status": "done", "detail": "deleted", "processed_at": "2026-12-07T00:00:00Z"}
    assert read_answer(200, as_json(said)) == contract.Outcome("done", "deleted")
    callback = read_callback(as_json({"task_id": TASK_ID, **said, "reference": "DEL-7K3M9Q"}))
    assert callback == contract.Callback(TASK_ID, contract.Outcome("done", "deleted"))


@pytest.mark.parametrize("body", [b"", b"{}", b"accepted", as_json({"status": "done"})])
def test_202_means_wait_for_the_callback_whatever_its_body(body):
    assert read_answer(202, body) == contract.Outcome(status=None)


@pytest.mark.parametrize(
    "status_code, body, reason",
    [
        (500, as_json({"status": "done"}), "http_500"),
        (503, b"", "http_503"),
        (401, b"", "http_401"),
        (301, b"", "http_301"),
        (200, b"<html>ok</html>", "not_json"),
        (200, b"", "not_json"),
        (200, b'{"status": "do', "not_json"),
        (200, b"\xff\xfe", "not_json"),
        (200, b'["done"]', "not_an_object"),
        (200, as_json({"status": "maybe"}), "invalid:status:enum"),
        (200, as_json({"status": "DONE"}), "invalid:status:enum"),
        (200, as_json({"detail": "x"}), "missing:status"),
        (200, as_json({"status": "failed"}), "missing:detail"),
        (200, as_json({"status": "failed", "detail": "  "}), "invalid:detail:pattern"),
        (200, as_json({"status": "done", "detail": 5}), "invalid:detail:type"),
        (200, as_json({"status": "done", "export_url": "file:///etc/passwd"}), None),
        (200, as_json({"status": "done", "export": {"filename": "a.json"}}), None),
    ],
)
def test_an_answer_that_settles_nothing_is_refused_with_a_short_reason(status_code, body, reason):
    with pytest.raises(BadAnswer) as refused:
        read_answer(status_code, body)
    if reason is not None:
        assert refused.value.reason == reason


def test_a_reason_never_quotes_the_body():
    with pytest.raises(BadAnswer) as refused:
        read_answer(200, as_json({"status": "ada@example.com", "detail": "13800138000"}))
    assert "ada" not in refused.value.reason and "138" not in refused.value.reason
    with pytest.raises(BadAnswer) as refused:
        export = {"filename": "a.json", "content_base64": "", "ada@example.com": 1}
        read_answer(200, as_json({"status": "done", "export": export}))
    assert "ada" not in refused.value.reason


def test_an_export_file_comes_back_decoded():
    content = json.dumps({"email": "ada@example.com", "name": "李伟"}).encode()
    outcome = read_answer(
        200,
        as_json(
            {
                "status": "done",
                "export": {
                    "filename": "ACC-7K3M9Q.json",
                    "content_base64": base64.b64encode(content).decode(),
                },
            }
        ),
    )
    assert outcome.export_file == contract.ExportFile("ACC-7K3M9Q.json", content)
    assert outcome.export_url is None
    assert "李伟" not in repr(outcome)  # the export's content stays out of logs


def test_an_export_url_comes_back_as_given():
    url = "https://accounts.example.com/exports/Zx81"
    outcome = read_answer(200, as_json({"status": "done", "export_url": url}))
    assert (outcome.export_url, outcome.export_file) == (url, None)


@pytest.mark.parametrize(
    "export, reason",
    [
        ({"filename": "a.json", "content_base64": "not base64!"}, "base64"),
        ({"filename": "../a.json", "content_base64": ""}, "pattern"),
        ({"filename": "dir/a.json", "content_base64": ""}, "pattern"),
        ({"filename": ".env", "content_base64": ""}, "pattern"),
        ({"filename": "a.json\n", "content_base64": ""}, "pattern"),
        ({"filename": "a\x00.json", "content_base64": ""}, "pattern"),
        ({"filename": "a.json", "content_base64": "", "path": "/tmp"}, "unknown_key"),
    ],
)
def test_a_bad_export_file_is_refused(export, reason):
    with pytest.raises(BadAnswer) as refused:
        read_answer(200, as_json({"status": "done", "export": export}))
    assert reason in refused.value.reason


def test_an_export_goes_with_done_only_and_in_one_form():
    export = {"filename": "a.json", "content_base64": "aGk="}
    with pytest.raises(BadAnswer, match="export_and_export_url"):
        read_answer(200, as_json({"status": "done", "export": export, "export_url": "http://x"}))
    with pytest.raises(BadAnswer, match="not_allowed:export"):
        read_answer(200, as_json({"status": "failed", "detail": "x", "export": export}))


def test_a_body_over_the_limit_is_refused_before_it_is_read(monkeypatch):
    body = as_json({"status": "done", "detail": "x" * 50})
    monkeypatch.setattr(contract, "MAX_BODY_BYTES", len(body))
    assert read_answer(200, body).status == "done"
    with pytest.raises(BadAnswer, match="too_large"):
        read_answer(200, body + b" ")
    with pytest.raises(BadCallback, match="too_large"):
        read_callback(body + b" ")


def test_the_limit_leaves_room_for_an_export_of_14_mb():
    assert 14 * 1024 * 1024 * 4 / 3 + 1024 < contract.MAX_BODY_BYTES


# -- the callback -----------------------------------------------------------------------------


def test_a_callback_names_its_task_and_its_outcome():
    callback = read_callback(as_json({"task_id": TASK_ID, "status": "failed", "detail": "gone"}))
    assert callback == contract.Callback(TASK_ID, contract.Outcome("failed", "gone"))


@pytest.mark.parametrize(
    "data, reason",
    [
        ({"status": "done"}, "missing:task_id"),
        ({"task_id": "DEL-7K3M9Q", "status": "done"}, "invalid:task_id:pattern"),
        ({"task_id": TASK_ID}, "missing:status"),
        ({"task_id": TASK_ID, "status": None}, "invalid:status:type"),
        ({"task_id": TASK_ID, "status": "pending"}, "invalid:status:enum"),
        ({"task_id": TASK_ID, "status": "failed"}, "missing:detail"),
    ],
)
def test_a_callback_off_the_schema_is_refused(data, reason):
    with pytest.raises(BadCallback) as refused:
        read_callback(as_json(data))
    assert refused.value.reason == reason


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b"{", b"\xff"])
def test_a_callback_that_is_no_json_object_is_refused(body):
    with pytest.raises(BadCallback):
        read_callback(body)


def test_the_answer_schema_is_the_callback_schema_less_task_id():
    callback = contract.load_schema(contract.CALLBACK_SCHEMA)
    answer = contract._answer_schema(callback)
    assert answer["required"] == ["status"] and "task_id" in callback["required"]
    assert {k: v for k, v in answer.items() if k != "required"} == {
        k: v for k, v in callback.items() if k != "required"
    }
