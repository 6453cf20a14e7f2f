"""Keeps e-mail addresses and phone numbers out of logs.

A log line is read by more people, and kept longer, than the request database. Everything that
logs through the standard `logging` module goes through `PiiMaskingFilter` once it is installed,
whatever the library; code that wants to name an address on purpose uses `mask_email`.

`mask_free_text` does the same, more thoroughly, for visitors' questions kept for people to read
(bot.policy.gaps): references, long numbers and names as well, and nothing of a value left; how
a name is introduced in each language is its lexicon's `masking.*` (data/lexicon/).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache, partial
from typing import Any, Callable, FrozenSet, List, Tuple

from bot.core.language import registry
from bot.core.lexicon import lexicon
from bot.core.reference_shape import CODE_LENGTH, PREFIX_LENGTH, REFERENCE_ALPHABET, REFERENCE_SHAPE

# The local part takes every character `validators.email` accepts (o'brien, a/b=c), or the part
# before such a character would be left in the log. No look-behind: the leftmost match already
# starts where the local part does, and a longer run before the @ (a URL path) still gets its
# last 64 characters masked instead of nothing.
EMAIL_PATTERN = re.compile(r"([\w.!#$%&'*+/=?^`{|}~-]{1,64})@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# Seven or more digits, optionally grouped by spaces, dashes, dots or parentheses, with a leading +.
# Not inside a Latin word or a longer number, but right next to Chinese ("手机号13800138000谢谢":
# Han characters are word characters for `\w`), so the edges are ASCII letters and digits only.
PHONE_PATTERN = re.compile(r"(?<![A-Za-z0-9_])\+?\(?\d[\d\s().-]{5,}\d(?![A-Za-z0-9_])")


# What of a Chinese keyboard's full-width forms can spell an address or a number (letters, digits,
# ＋＠．－（）＿), as ASCII; its other punctuation (？，！) is left as the visitor typed it.
_PII_WIDTH = {
    code: code - 0xFEE0
    for code in range(0xFF01, 0xFF5F)
    if chr(code - 0xFEE0).isalnum() or chr(code - 0xFEE0) in "+@.-()_"
}


def _pii_half_width(text: str) -> str:
    return text.translate(_PII_WIDTH)


def half_width(text: str) -> str:
    """The full-width letters, digits and `＋＠．－（）＿` of a Chinese keyboard as ASCII, one
    character for one, so that positions in the result are positions in `text`."""
    return _pii_half_width(text)


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
    """E-mail addresses and phone numbers masked, as typed on any keyboard: full-width digits,
    letters, `＋` and `＠` (a Chinese input method) are read as their ASCII twins first."""
    text = _pii_half_width(text)
    text = EMAIL_PATTERN.sub(lambda m: mask_email(m.group(0)), text)
    return PHONE_PATTERN.sub(_mask_phone, text)


class PiiMaskingFilter(logging.Filter):
    """Rewrites each record's final message with e-mail addresses and phone numbers masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not lose the record
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
    logging._privacy_masking_installed = True  # type: ignore[attr-defined]  # our own marker


# -- free text kept for the legal department ------------------------------------------------------
#
# Questions the policy leaves unanswered are kept (bot.policy.gaps) for people to read: what the
# visitor asked matters, who asked does not. So unlike a log line, where the last digits of a number
# tell two apart, nothing of a value is kept: each becomes a placeholder that says what was there.

EMAIL_PLACEHOLDER = "[e-mail]"
PHONE_PLACEHOLDER = "[phone]"
REFERENCE_PLACEHOLDER = "[reference]"
NUMBER_PLACEHOLDER = "[number]"
NAME_PLACEHOLDER = "[name]"
CODE_PLACEHOLDER = "[code]"  # a verification code typed at a code step (bot.requests.code_masking)

# A phone number inside a sentence. Like PHONE_PATTERN, without its word boundaries: Chinese
# text puts no space around a number ("我的手机号是13800138000谢谢"; Han characters are word
# characters for `\w`), and a number glued to a word ("138 0013 8000pm") is a number all the same.
_FREE_PHONE = re.compile(r"(?<!\d)\+?\(?\d[\d\s().-]{5,}\d(?!\d)")
# Any other run of six or more digits: a verification code, an account or ID number.
_DIGIT_RUN = re.compile(r"\d{6,}")


def _reference_pattern() -> re.Pattern[str]:
    """References as visitors type them (bot.core.reference_shape): any three letters for the
    prefix, so that every kind of request is masked without a list of them, in any case, with
    or without the dash, read-alikes of the dropped letters too (`del 7k3m9q`, `DEL7K3M9Q`,
    `DEL-7K3M9O`). `_mask_reference` decides which matches are references."""
    return re.compile(
        rf"(?<![A-Za-z\d])(?P<prefix>[A-Z]{{{PREFIX_LENGTH}}})"
        rf"(?P<joint>[ \t_\-\u2013\u2014]?)"
        rf"(?P<code>[0-9A-Z]{{{CODE_LENGTH}}})(?![A-Za-z\d])",
        re.IGNORECASE,
    )


_REFERENCE = _reference_pattern()


def _mask_reference(match: re.Match[str]) -> str:
    """Only what can be a reference, so that "corrected", "sus really", "two-factor" or "THE
    POLICY" stay words: one as it is made (`DEL-7K3M9Q`); a code of letters and digits, however
    it is joined (`del 7k3m9q`, `COR7K3M9Q`); or a code of the alphabet's characters only,
    typed in capitals or joined by a dash or underscore (`UNS-ABCDEF`, `sus-abcdef`). (A code
    without a digit is one in ten, and those are usually pasted as written.)"""
    text, code = match.group(0), match.group("code").upper()
    letters_and_digits = any(c.isdigit() for c in code) and any(c.isalpha() for c in code)
    of_the_alphabet = all(c in REFERENCE_ALPHABET for c in code)
    if (
        REFERENCE_SHAPE.fullmatch(text)
        or letters_and_digits
        or (of_the_alphabet and (text.isupper() or match.group("joint").strip(" \t")))
    ):
        return REFERENCE_PLACEHOLDER
    return text


def reference_spans(text: str) -> List[Tuple[int, int]]:
    """Where `text` (half-width) holds what `mask_free_text` takes for a request reference:
    what masking of other things (bot.requests.code_masking) must leave alone."""
    return [
        match.span()
        for match in _REFERENCE.finditer(text)
        if _mask_reference(match) == REFERENCE_PLACEHOLDER
    ]


def _mask_free_phone(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 7 or _DATE.match(raw.strip()):
        return raw  # a short number or an ISO date; six-digit runs are caught next
    return PHONE_PLACEHOLDER


def _name_length(words: str, strict: bool, not_a_name: FrozenSet[str]) -> int:
    """How many of the leading words make the name: up to the first that is no name, and with
    `strict` up to the first word without a capital."""
    taken = 0
    for word in words.split():
        if word.lower().replace("\u2019", "'") in not_a_name:
            break
        if strict and not word[:1].isupper():
            break
        taken += 1
    return taken


def _mask_name_words(match: re.Match[str], strict: bool, not_a_name: FrozenSet[str]) -> str:
    """A name in a language matched by words: its leading words, the rest as typed."""
    words = match.group("name")
    taken = _name_length(words, strict, not_a_name)
    if not taken:
        return match.group(0)
    rest = words
    for part in words.split()[:taken]:
        rest = rest[rest.index(part) + len(part) :]  # the words after the name, spacing kept
    lead = match.group(0)[: match.start("name") - match.start(0)]
    return f"{lead}{NAME_PLACEHOLDER}{rest}"


def _mask_name_characters(match: re.Match[str], not_a_name: Tuple[str, ...]) -> str:
    """A name in a language matched by characters: all of it, unless it begins as no name
    does."""
    if match.group("name").startswith(not_a_name):
        return match.group(0)
    return match.group(0)[: match.start("name") - match.start(0)] + NAME_PLACEHOLDER


Masker = Callable[[re.Match[str]], str]


@lru_cache(maxsize=1)
def _name_rules() -> Tuple[Tuple[re.Pattern[str], Masker], ...]:
    """Every registered language's ways of saying a name (its lexicon's `masking.*`), the
    sure one first, with how the name they find is masked."""
    rules: List[Tuple[re.Pattern[str], Masker]] = []
    for language in registry().languages:
        words = lexicon(language.code)
        not_a_name = words.words("masking.not_a_name")
        for key, strict in (("masking.name_said", False), ("masking.name_maybe", True)):
            if language.by_characters:
                mask = partial(_mask_name_characters, not_a_name=not_a_name)
            else:
                mask = partial(_mask_name_words, strict=strict, not_a_name=frozenset(not_a_name))
            rules.append((words.pattern(key), mask))
    return tuple(rules)


MAX_FREE_TEXT_SCAN = 4000  # masking looks at no more than this: the regexes stay fast


def mask_free_text(text: str) -> str:
    """A visitor's sentence with what identifies them replaced by placeholders: e-mail addresses,
    phone numbers, request references, other runs of six or more digits, and names introduced
    as such in any registered language ("my name is Li Wei", "this is Sam", "我叫张伟"). The
    question itself stays readable.

    Over-masking is the safe side: a capitalised word after "I'm" that is not a common word is
    taken for a name. Texts longer than MAX_FREE_TEXT_SCAN characters are cut first (callers keep
    far less; see bot.policy.gaps)."""
    if not isinstance(text, str):
        return ""
    # Full-width digits and ＠ (a Chinese keyboard) as ASCII, so that they are masked too.
    text = _pii_half_width(text[:MAX_FREE_TEXT_SCAN])
    text = EMAIL_PATTERN.sub(EMAIL_PLACEHOLDER, text)
    # Phone numbers before references: a reference has at most six digits, so seven or more
    # are a phone number even right after a word ("abcd12345 67" is not `abc-d12345` and 67).
    text = _FREE_PHONE.sub(_mask_free_phone, text)
    text = _REFERENCE.sub(_mask_reference, text)
    text = _DIGIT_RUN.sub(NUMBER_PLACEHOLDER, text)
    for pattern, mask in _name_rules():
        text = pattern.sub(mask, text)
    return text
