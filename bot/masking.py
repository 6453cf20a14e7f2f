"""Keeps e-mail addresses and phone numbers out of logs.

A log line is read by more people, and kept longer, than the request database. Everything that
logs through the standard `logging` module goes through `PiiMaskingFilter` once it is installed,
whatever the library; code that wants to name an address on purpose uses `mask_email`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# The local part takes every character `validators.email` accepts (o'brien, a/b=c), or the part
# before such a character would be left in the log. No look-behind: the leftmost match already
# starts where the local part does, and a longer run before the @ (a URL path) still gets its
# last 64 characters masked instead of nothing.
EMAIL_PATTERN = re.compile(r"([\w.!#$%&'*+/=?^`{|}~-]{1,64})@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# Seven or more digits, optionally grouped by spaces, dashes, dots or parentheses, with a leading +.
PHONE_PATTERN = re.compile(r"(?<![\w])\+?\(?\d[\d\s().-]{5,}\d(?![\w])")


def mask_email(address: str) -> str:
    """`jane.doe@example.com` -> `j***@e***.com`: enough to tell two apart, not to write to."""
    local, _, domain = address.partition("@")
    if not domain:
        return "***"
    host, _, tld = domain.rpartition(".")
    return f"{local[:1]}***@{(host or tld)[:1]}***.{tld if host else ''}".rstrip(".")


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _mask_phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) < 7 or _DATE.match(match.group(0).strip()):
        return match.group(0)
    return f"***{digits[-2:]}"


def mask_pii(text: str) -> str:
    text = EMAIL_PATTERN.sub(lambda m: mask_email(m.group(0)), text)
    return PHONE_PATTERN.sub(_mask_phone, text)


class PiiMaskingFilter(logging.Filter):
    """Rewrites each record's final message with e-mail addresses and phone numbers masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        masked = mask_pii(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_text:
            record.exc_text = mask_pii(record.exc_text)
        return True


def install_log_masking() -> None:
    """Mask every log record of this process at creation, whichever library logs it and
    whichever handler writes it. Idempotent."""
    if getattr(logging, "_privacy_masking_installed", False):
        return
    mask = PiiMaskingFilter()
    factory = logging.getLogRecordFactory()

    def masked_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        mask.filter(record)
        return record

    logging.setLogRecordFactory(masked_factory)
    logging._privacy_masking_installed = True  # type: ignore[attr-defined]
