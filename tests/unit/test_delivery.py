"""Access copies (bot.requests.delivery), on SQLite and PostgreSQL: what may be attached, the
package of what the assistant holds, encryption at rest, the one-time link that also needs a
fresh code, expiry and purge, and the audit of each use."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select

from bot.requests.casework import Casework
from bot.requests.delivery import (
    Deliveries,
    DeliveryError,
    check_file,
    decrypt,
    encrypt,
    purge_expired,
)
from bot.storage.db import transaction
from bot.storage.models import AuditEntry, Delivery, OutboxMessage

SECRET = "test-secret"
BASE = "https://privacy.example.com"


@pytest.fixture
def desk(store, clock, default_rate_limits, set_env):
    set_env(DELIVERY_EXPIRY_DAYS="7", DELIVERY_MAX_BYTES="1000000")
    return Deliveries(store.engine, SECRET, clock=clock)


def access_request(store, email="ann@example.com", conversation="conv-1"):
    return store.submit(
        "access",
        email,
        verified=True,
        details={"scope": "all"},
        conversation_id=conversation,
        transcript=[{"from": "visitor", "text": "I want a copy", "at": "x"}],
    ).reference


def last_mail(store, to="ann@example.com"):
    with transaction(store.sessions) as session:
        return (
            session.execute(
                select(OutboxMessage.body)
                .where(OutboxMessage.to_address == to)
                .order_by(OutboxMessage.id.desc())
            )
            .scalars()
            .first()
        )


def link_token(body):
    return re.search(rf"{re.escape(BASE)}/download/(\S+)", body).group(1)


def code_from(body):
    return re.search(r"code is (\d{6})", body).group(1)


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("export.exe", b"MZ", "only"),
        ("export.zip", b"not a zip", "not a ZIP"),
        ("export.pdf", b"PK\x03\x04", "not a PDF"),
        ("export.csv", b"\xff\xfe\x00", "UTF-8"),
        ("export.json", b"", "empty"),
        ("export.txt", b"x" * 1001, "larger"),
    ],
)
def test_only_real_exports_of_an_allowed_type_and_size_are_accepted(name, content, problem):
    with pytest.raises(DeliveryError, match=problem):
        check_file(name, content, 1000)
    assert check_file("Export.PDF", b"%PDF-1.7 ...", 1000) == "application/pdf"


def test_encryption_is_bound_to_its_secret_and_its_delivery():
    blob = encrypt(b"personal data", SECRET, b"a")
    assert b"personal data" not in blob and decrypt(blob, SECRET, b"a") == b"personal data"
    with pytest.raises(InvalidTag):
        decrypt(blob, SECRET, b"b")
    with pytest.raises(InvalidTag):
        decrypt(blob, "another secret", b"a")


def test_the_package_holds_the_requests_history_messages_and_transcripts(store, desk, clock):
    reference = access_request(store)
    Casework(store.engine, clock).send_message(reference, "legal1", "We are on it.")
    Casework(store.engine, clock).add_note(reference, "legal1", "internal only")
    desk.generate(reference, "legal1", BASE)
    token = link_token(last_mail(store))
    desk.send_code(token)
    name, kind, content = desk.download(token, code_from(last_mail(store)))
    assert name == f"{reference}-privacy-assistant.zip" and kind == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert set(archive.namelist()) == {"README.txt", "privacy-assistant.json", "requests.csv"}
    data = json.loads(archive.read("privacy-assistant.json"))
    [request] = data["requests"]
    assert request["reference"] == reference and request["history"]
    assert request["messages_from_legal"][0]["text"] == "We are on it."
    assert "internal only" not in archive.read("privacy-assistant.json").decode()
    assert request["transcript"][0]["text"] == "I want a copy"


def test_the_link_needs_a_fresh_code_works_once_and_is_audited(store, desk):
    reference = access_request(store)
    prepared = desk.attach(
        reference, "export.csv", b"name,email\nAnn,ann@example.com\n", "legal1", BASE
    )
    mail = last_mail(store)
    assert prepared.token in mail and "works once" in mail
    with transaction(store.sessions) as session:
        stored = session.execute(select(Delivery)).scalar_one()
        assert b"ann@example.com" not in stored.content and prepared.token not in (
            stored.token_hash
        )
    with pytest.raises(DeliveryError, match="not accepted"):
        desk.download(prepared.token, "123456")  # no code sent yet
    assert desk.send_code(prepared.token).startswith("a")
    with pytest.raises(DeliveryError, match="not accepted"):
        desk.download(
            prepared.token, "000000" if code_from(last_mail(store)) != "000000" else "111111"
        )
    desk.send_code(prepared.token)
    name, kind, content = desk.download(prepared.token, code_from(last_mail(store)))
    assert (name, kind) == ("export.csv", "text/csv") and b"Ann" in content
    with pytest.raises(DeliveryError, match="used already"):
        desk.send_code(prepared.token)
    with transaction(store.sessions) as session:
        actions = [
            e.action
            for e in session.execute(
                select(AuditEntry).where(AuditEntry.target == reference)
            ).scalars()
        ]
        assert session.execute(select(Delivery.content)).scalar_one() is None
    assert "delivery_prepared" in actions and "download" in actions


def test_an_expired_link_is_refused_and_purge_deletes_its_file(store, desk, clock):
    reference = access_request(store)
    prepared = desk.attach(reference, "export.txt", b"data", "legal1", BASE)
    clock.now += timedelta(days=7, seconds=1)
    with pytest.raises(DeliveryError, match="expired"):
        desk.send_code(prepared.token)
    with transaction(store.sessions) as session:
        assert purge_expired(session, clock.now) == 1
    with transaction(store.sessions) as session:
        assert purge_expired(session, clock.now) == 0
        row = session.execute(select(Delivery)).scalar_one()
        assert row.content is None and row.size == 4  # the record of the delivery stays


def test_only_an_open_access_request_gets_a_copy(store, desk):
    deletion = store.submit(
        "deletion", "bob@example.com", verified=True, details={"scope": "all"}
    ).reference
    with pytest.raises(DeliveryError, match="only an access"):
        desk.generate(deletion, "legal1", BASE)
    with pytest.raises(DeliveryError, match="no request"):
        desk.attach("ACC-000000", "x.txt", b"x", "legal1", BASE)


def test_wrong_codes_are_counted_and_each_refusal_names_its_case(store, desk, clock):
    reference = access_request(store)
    prepared = desk.attach(reference, "export.txt", b"data", "legal1", BASE)
    with pytest.raises(DeliveryError) as unknown:
        desk.send_code("no-such-token")
    assert unknown.value.reason == "unknown"
    with pytest.raises(DeliveryError) as missing:
        desk.download(prepared.token, "123456")
    assert missing.value.reason == "code_missing"
    desk.send_code(prepared.token)
    right = code_from(last_mail(store))
    wrong = "000000" if right != "000000" else "111111"
    lefts = []
    for _ in range(5):
        with pytest.raises(DeliveryError) as refused:
            desk.download(prepared.token, wrong)
        lefts.append((refused.value.reason, refused.value.attempts_left))
    # Each wrong try is kept although the download is refused: after five the code is dead.
    assert lefts == [
        ("code_wrong", 4),
        ("code_wrong", 3),
        ("code_wrong", 2),
        ("code_wrong", 1),
        ("code_locked", 0),
    ]
    with pytest.raises(DeliveryError) as locked:
        desk.download(prepared.token, right)
    assert locked.value.reason == "code_locked"
    desk.send_code(prepared.token)
    desk.download(prepared.token, code_from(last_mail(store)))
    with pytest.raises(DeliveryError) as used:
        desk.send_code(prepared.token)
    assert used.value.reason == "used"
    other = desk.attach(reference, "export.txt", b"data", "legal1", BASE)
    clock.now += timedelta(days=8)
    with pytest.raises(DeliveryError) as expired:
        desk.send_code(other.token)
    assert expired.value.reason == "expired"
    with transaction(store.sessions) as session:
        purge_expired(session, clock.now)
    with pytest.raises(DeliveryError) as purged:
        desk.send_code(other.token)
    assert purged.value.reason == "expired"


def test_the_download_code_is_mailed_in_the_requests_language(store, desk):
    reference = store.submit(
        "access", "li@example.com", verified=True, details={"scope": "all"}, language="zh"
    ).reference
    prepared = desk.attach(reference, "export.txt", b"data", "legal1", BASE)
    desk.send_code(prepared.token)
    with transaction(store.sessions) as session:
        subject = (
            session.execute(
                select(OutboxMessage.subject)
                .where(OutboxMessage.to_address == "li@example.com")
                .order_by(OutboxMessage.id.desc())
            )
            .scalars()
            .first()
        )
    from bot.core.texts import text

    assert subject == text("email.verification.subject", "zh")


def test_checking_a_link_changes_nothing(store, desk):
    reference = access_request(store)
    prepared = desk.attach(reference, "export.txt", b"data", "legal1", BASE)
    before = last_mail(store)
    masked, expires = desk.check(prepared.token)
    assert masked == "a***@e***.com" and expires == prepared.expires_at
    assert last_mail(store) == before  # no code sent
    with pytest.raises(DeliveryError) as unknown:
        desk.check("nope")
    assert unknown.value.reason == "unknown"
