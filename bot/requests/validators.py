"""Checks for what visitors type into the request forms.

Each validator returns the value in the form the request database keeps, or raises `Invalid`
with a sentence the assistant can say as it is, in the conversation's `language`: what was wrong
and what is expected (from the catalogue of texts, `validation.*`). Reading does not depend on
the language: what a Chinese keyboard types (full-width digits, letters and `＠`:
bot.core.language.to_half_width) is read in either.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable, Dict

from bot.core import texts
from bot.core.language import HAN, has_han, to_half_width
from bot.core.texts import DEFAULT_LANGUAGE
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


# Around an address typed in a Chinese sentence: brackets and quotes, and the full stop after it.
_AROUND_ADDRESS = "<>《》〈〉“”‘’「」。"


# An address inside a Chinese sentence ("我的邮箱是wang@example.cn"): the one run of ASCII address
# characters around an @ (Han characters end it on either side).
_EMAIL_IN_CHINESE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


def email(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    value = to_half_width(text).strip().strip(_AROUND_ADDRESS).strip()
    if has_han(value):
        found = _EMAIL_IN_CHINESE.findall(value)
        value = found[0].strip(".") if len(found) == 1 else value
    match = _EMAIL.match(value)
    if not match or len(value) > 254 or len(match.group("local")) > 64:
        raise Invalid(texts.text("validation.email", language))
    # Lower-cased whole: mail providers treat local parts case-insensitively, and one spelling
    # per address is what makes duplicate detection and status look-ups reliable.
    return value.lower()


def _plain(text: str) -> str:
    """Full-width digits, letters and punctuation (typed with a Chinese input method) as ASCII."""
    return to_half_width(text)


# A mainland China mobile number: 11 digits, 1 then 3-9 (13x to 19x).
MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def _mainland_mobile(digits: str, international: bool) -> str | None:
    """The 11 digits of what is written as a mainland mobile number (`+86 1...`, or 11 digits
    starting with 1 without a country code), or None for any other number."""
    if international:
        return digits[2:] if digits.startswith("861") else None
    return digits if len(digits) == 11 and digits.startswith("1") else None


def phone(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    """+86 138 0013 8000, 13800138000, 138-0013-8000, (010) 6552-9988, +1 555 010 9999 ... A
    number written as a mainland mobile must be one (11 digits, 13x-19x)."""
    value = _plain(text).strip()
    if not re.fullmatch(r"\+?[0-9\s().-]+", value):  # ASCII digits: `\d` also matches ٠-٩
        raise Invalid(texts.text("validation.phone_characters", language))
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15:
        raise Invalid(texts.text("validation.phone_digits", language))
    mobile = _mainland_mobile(digits, value.startswith("+"))
    if mobile is not None and not MAINLAND_MOBILE.fullmatch(mobile):
        raise Invalid(texts.text("validation.phone_mobile_cn", language))
    return f"+{digits}" if value.startswith("+") else digits


def _is_name(value: str) -> bool:
    """Letters of any script (with their combining marks), and a little punctuation."""
    if not value or not unicodedata.category(value[0]).startswith("L"):
        return False
    return all(unicodedata.category(c)[0] in "LM" or c in _NAME_PUNCTUATION for c in value)


# Between the parts of a transliterated name in Chinese (玛丽·简), and its look-alikes.
_HAN_NAME_DOTS = frozenset("\u00b7\u2022\u30fb\u2027")
HAN_NAME_LENGTH = (2, 20)  # characters, the dots and spaces not counted


def _han_name(value: str, language: str) -> str:
    """A name written in Chinese characters: 2-20 of them, maybe parted by a dot or a space."""
    characters = [c for c in value if c != " " and c not in _HAN_NAME_DOTS]
    low, high = HAN_NAME_LENGTH
    if (
        not HAN.match(value[0])
        or not HAN.match(value[-1])
        or not all(HAN.match(c) for c in characters)
        or not low <= len(characters) <= high
    ):
        raise Invalid(texts.text("validation.name_han", language))
    return value


def person_name(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    value = " ".join(unicodedata.normalize("NFC", to_half_width(text)).split())
    if (
        value
        and has_han(value)
        and all(HAN.match(c) or c == " " or c in _HAN_NAME_DOTS or c.isdigit() for c in value)
    ):
        return _han_name(value, language)
    if not value or len(value) > 100 or not _is_name(value):
        raise Invalid(texts.text("validation.name", language))
    return value


def wechat_id(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    value = _plain(text).strip()
    if not _WECHAT_ID.match(value):
        raise Invalid(texts.text("validation.wechat", language))
    return value


def alipay_account(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    """An Alipay account is the e-mail address or mobile number it was registered with."""
    value = _plain(text).strip()
    if "@" in value:
        try:
            return email(value, language)
        except Invalid:
            pass
    else:
        try:
            return phone(value, language)
        except Invalid:
            pass
    raise Invalid(texts.text("validation.alipay", language))


def free_text(text: str, language: str = DEFAULT_LANGUAGE, limit: int = 500) -> str:
    value = " ".join(text.split())
    if not value:
        raise Invalid(texts.text("validation.free_text_empty", language))
    if len(value) > limit:
        raise Invalid(texts.text("validation.free_text_too_long", language, limit=limit))
    return value


def verification_code(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    value = re.sub(r"[\s-]", "", _plain(text))
    if not _CODE.match(value):
        raise Invalid(texts.text("validation.code", language))
    return value


# A reference inside a Chinese sentence ("我的编号是DEL-7K3M9Q。"): Han characters are not letters
# here, so the reference is the one run of three letters and six letters or digits.
_REFERENCE_IN_CHINESE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{3}[\s_\-–—]*[A-Za-z0-9]{6}"
    r"(?![A-Za-z0-9])"
)


def reference(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    plain = _plain(text)
    if has_han(plain):
        found = _REFERENCE_IN_CHINESE.findall(plain)
        plain = found[0] if len(found) == 1 else plain
    value = normalise_reference(plain)
    if value is None:
        raise Invalid(texts.text("validation.reference", language))
    return value


# A reference written with its dash inside a sentence ("it's about del-7k3m9q, thanks"). The
# dash is required there: without it any nine-letter word ("accounted") reads as one.
_DASHED_REFERENCE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{3}-[A-Za-z0-9]{6}(?![A-Za-z0-9])")


def mentioned_reference(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A reference given alone (as `reference` reads it), or the one reference with its dash
    in a sentence; `Invalid` (`validation.reference`) when there is none, or more than one."""
    try:
        return reference(text, language)
    except Invalid:
        found = {normalise_reference(m) for m in _DASHED_REFERENCE.findall(_plain(text))}
        found.discard(None)
        if len(found) == 1:
            return str(found.pop())
        raise


# What can be corrected, and how its new value is checked (in the conversation's language).
CORRECTABLE: Dict[str, Callable[[str, str], str]] = {  # (answer, language)
    "name": person_name,
    "email": email,
    "phone": phone,
    "wechat": wechat_id,
    "alipay": alipay_account,
    "other": free_text,
}
