"""E-mail addresses and phone numbers never reach the logs."""

import logging
import re

import pytest

from bot.core.masking import PiiMaskingFilter, install_log_masking, mask_email, mask_pii

EMAIL = "jane.doe@example.com"
PHONE = "+86 138 0013 8000"


@pytest.mark.parametrize(
    "address, masked",
    [
        ("jane.doe@example.com", "j***@e***.com"),
        ("Bob@Mail.Example.co.uk", "B***@M***.uk"),
        ("x@y.cn", "x***@y***.cn"),
        ("admin@localhost", "a***@l***"),
        ("not an address", "***"),
    ],
)
def test_mask_email(address, masked):
    assert mask_email(address) == masked


def test_mask_email_keeps_neither_the_local_part_nor_the_host():
    masked = mask_email("jane.doe@example.com")
    assert "jane" not in masked and "doe" not in masked and "example" not in masked


@pytest.mark.parametrize(
    "address",
    [
        "jane.doe@example.com",
        "Jane.Doe+privacy@mail.example.co.uk",
        "o_brien-1@sub.example.cn",
        "13800138000@qq.com",
    ],
)
def test_mask_pii_hides_email_addresses(address):
    text = f"Request from {address}, please check."
    masked = mask_pii(text)
    assert address not in masked
    assert address.split("@")[0] not in masked
    assert masked.startswith("Request from ") and masked.endswith(", please check.")
    assert "***@" in masked


@pytest.mark.parametrize(
    "number, digits",
    [
        ("+86 138 0013 8000", "8613800138000"),
        ("+86-138-0013-8000", "8613800138000"),
        ("13800138000", "13800138000"),
        ("138.0013.8000", "13800138000"),
        ("(010) 6552 9988", "01065529988"),
        ("010-6552-9988", "01065529988"),
        ("+1 (555) 010-9999", "15550109999"),
        ("(+86) 138 0013 8000", "8613800138000"),
        ("1234567", "1234567"),
    ],
)
def test_mask_pii_hides_phone_numbers(number, digits):
    masked = mask_pii(f"Caller {number} asked twice.")
    assert number not in masked
    assert digits not in re.sub(r"\D", "", masked)
    assert digits[:-2] not in re.sub(r"\D", "", masked)
    assert masked.startswith("Caller ") and masked.endswith(" asked twice.")
    assert f"***{digits[-2:]}" in masked  # the last two digits tell two numbers apart


def test_mask_pii_handles_several_values_in_one_line():
    text = (
        f"{EMAIL} and ops@example.org called from {PHONE} and 010-6552-9988; fallback 13911112222."
    )
    masked = mask_pii(text)
    for raw in (EMAIL, "ops@example.org", PHONE, "010-6552-9988", "13911112222"):
        assert raw not in masked
    assert masked == (
        "j***@e***.com and o***@e***.org called from ***00 and ***88; fallback ***22."
    )


@pytest.mark.parametrize(
    "text",
    [
        "In 2020 the policy was updated.",
        "We answer within 15 working days.",
        "Request DEL-7K3M9Q is due on 21 March 2024.",
        "The code is valid for 15 minutes, 5 tries.",
        "Version 1.2.3 of 2019 and 2020",
        "Port 5005 and 8080 are open.",
        "123456",  # a verification code has six digits: not a phone number
    ],
)
def test_mask_pii_leaves_ordinary_numbers_alone(text):
    assert mask_pii(text) == text


def test_mask_pii_leaves_text_without_pii_alone():
    text = "Hello! How can I delete my account?"
    assert mask_pii(text) == text


def _record(msg, args=(), exc_text=None):
    record = logging.LogRecord("test", logging.INFO, __file__, 1, msg, args, None)
    record.exc_text = exc_text
    return record


def test_filter_rewrites_the_formatted_message():
    record = _record("user %s phoned %s", (EMAIL, PHONE))
    assert PiiMaskingFilter().filter(record) is True
    assert record.args is None
    message = record.getMessage()
    assert EMAIL not in message and PHONE not in message
    assert message == "user j***@e***.com phoned ***00"


def test_filter_masks_exception_text():
    record = _record("failed", exc_text=f"ValueError: bad address {EMAIL}")
    PiiMaskingFilter().filter(record)
    assert EMAIL not in record.exc_text and "j***@e***.com" in record.exc_text


def test_filter_keeps_a_record_with_a_broken_format_string():
    record = _record("count %d", ("many",))
    assert PiiMaskingFilter().filter(record) is True
    assert record.getMessage() == "count %d"


def test_filter_leaves_clean_records_untouched():
    record = _record("nothing %s here", ("secret-free",))
    PiiMaskingFilter().filter(record)
    assert record.getMessage() == "nothing secret-free here"


@pytest.fixture
def fresh_record_factory(monkeypatch):
    """Start from an unmasked record factory; put the process's own back afterwards."""
    original = logging.getLogRecordFactory()
    monkeypatch.setattr(logging, "_privacy_masking_installed", False, raising=False)
    logging.setLogRecordFactory(logging.LogRecord)
    yield
    logging.setLogRecordFactory(original)


def test_install_log_masking_masks_every_record(fresh_record_factory, caplog):
    logger = logging.getLogger("tests.masking")
    caplog.set_level(logging.INFO, logger="tests.masking")

    logger.info("user %s phoned %s", EMAIL, PHONE)
    assert EMAIL in caplog.text  # without masking the values are there

    caplog.clear()
    install_log_masking()
    logger.info("user %s phoned %s", EMAIL, PHONE)
    logger.warning(f"inline {EMAIL} / {PHONE}")
    assert len(caplog.records) == 2
    for record in caplog.records:
        message = record.getMessage()
        assert EMAIL not in message and PHONE not in message
        assert "13800138000" not in re.sub(r"\D", "", message)
    assert caplog.records[0].getMessage() == "user j***@e***.com phoned ***00"
    assert EMAIL not in caplog.text and PHONE not in caplog.text


def test_install_log_masking_reaches_every_handler(fresh_record_factory, tmp_path):
    install_log_masking()
    path = tmp_path / "app.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    logger = logging.getLogger("tests.masking.file")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.info("user %s phoned %s", EMAIL, PHONE)
    finally:
        logger.removeHandler(handler)
        handler.close()
    written = path.read_text(encoding="utf-8")
    assert "j***@e***.com" in written
    assert EMAIL not in written and PHONE not in written


def test_install_log_masking_is_idempotent(fresh_record_factory):
    install_log_masking()
    factory = logging.getLogRecordFactory()
    assert factory is not logging.LogRecord
    install_log_masking()
    assert logging.getLogRecordFactory() is factory


def test_iso_dates_are_not_taken_for_phone_numbers():
    assert mask_pii("due on 2024-03-15, call 13800138000") == "due on 2024-03-15, call ***00"
