"""Checks for what visitors type into the request forms.

Each validator returns the value in the form the request database keeps, or raises `Invalid`
with a sentence the assistant can say as it is: what was wrong and what is expected (from the
catalogue of texts, `validation.*`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable, Dict

from bot.core import texts
from bot.requests.references import normalise_reference


class Invalid(ValueError):
    """The value cannot be used; the message tells the visitor what is expected."""


_EMAIL = re.compile(
    r"^(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$"
)
_NAME_PUNCTUATION = frozenset(" '.-\u00b7\u2019")
_WECHAT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{5,19}$")
_CODE = re.compile(r"^[0-9]{6}$")  # ASCII digits only: `\d` also matches ٠-٩ and ०-९


def email(text: str) -> str:
    value = text.strip().strip("<>").strip()
    match = _EMAIL.match(value)
    if not match or len(value) > 254 or len(match.group("local")) > 64:
        raise Invalid(texts.text("validation.email"))
    # Lower-cased whole: mail providers treat local parts case-insensitively, and one spelling
    # per address is what makes duplicate detection and status look-ups reliable.
    return value.lower()


def _plain(text: str) -> str:
    """Full-width digits and letters (typed with a Chinese input method) as ASCII."""
    return unicodedata.normalize("NFKC", text)


def phone(text: str) -> str:
    value = _plain(text).strip()
    if not re.fullmatch(r"\+?[0-9\s().-]+", value):  # ASCII digits: `\d` also matches ٠-٩
        raise Invalid(texts.text("validation.phone_characters"))
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15:
        raise Invalid(texts.text("validation.phone_digits"))
    return f"+{digits}" if value.startswith("+") else digits


def _is_name(value: str) -> bool:
    """Letters of any script (with their combining marks), and a little punctuation."""
    if not value or not unicodedata.category(value[0]).startswith("L"):
        return False
    return all(unicodedata.category(c)[0] in "LM" or c in _NAME_PUNCTUATION for c in value)


def person_name(text: str) -> str:
    value = " ".join(unicodedata.normalize("NFC", text).split())
    if not value or len(value) > 100 or not _is_name(value):
        raise Invalid(texts.text("validation.name"))
    return value


def wechat_id(text: str) -> str:
    value = text.strip()
    if not _WECHAT_ID.match(value):
        raise Invalid(texts.text("validation.wechat"))
    return value


def alipay_account(text: str) -> str:
    """An Alipay account is the e-mail address or mobile number it was registered with."""
    value = text.strip()
    if "@" in value:
        try:
            return email(value)
        except Invalid:
            pass
    else:
        try:
            return phone(value)
        except Invalid:
            pass
    raise Invalid(texts.text("validation.alipay"))


def free_text(text: str, limit: int = 500) -> str:
    value = " ".join(text.split())
    if not value:
        raise Invalid(texts.text("validation.free_text_empty"))
    if len(value) > limit:
        raise Invalid(texts.text("validation.free_text_too_long", limit=limit))
    return value


def verification_code(text: str) -> str:
    value = re.sub(r"[\s-]", "", _plain(text))
    if not _CODE.match(value):
        raise Invalid(texts.text("validation.code"))
    return value


def reference(text: str) -> str:
    value = normalise_reference(text)
    if value is None:
        raise Invalid(texts.text("validation.reference"))
    return value


# What can be corrected, and how its new value is checked.
CORRECTABLE: Dict[str, Callable[[str], str]] = {
    "name": person_name,
    "email": email,
    "phone": phone,
    "wechat": wechat_id,
    "alipay": alipay_account,
    "other": free_text,
}
