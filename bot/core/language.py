"""The language of a visitor's text, and the forms of it that understanding should see.

Two languages, "en" and "zh" (Simplified Chinese). Everything here is plain Python (no Rasa, no
model), so the NLU component, the form validators, the web layer and the tests all read a message
the same way:

- `to_half_width` folds full-width letters, digits, `＠` and ASCII punctuation typed on a
  Chinese keyboard (`ＤＥＬ－７Ｋ３`, `ｗａｎｇ＠ｘ．ｃｎ`, `？`) to ASCII, as NFKC does for
  exactly those characters. Chinese punctuation that has no ASCII twin (。、「」《》“”)
  stays: it is Chinese text, not a wide variant of something else, and the sentence splitters
  rely on it.
- `to_simplified` converts Traditional characters to Simplified (OpenCC's t2s tables, the pure
  Python port), so 刪除我的帳戶 is understood as 删除我的帐户.
- Both are one character for one character (the OpenCC t2s tables map every entry to a string of
  the same length, the width folding is per character), so offsets found in the normalised text
  (tokens, entities) point at the same characters of what the visitor typed.
- `detect` decides "zh", "en" or None (the text says nothing about a language: an e-mail, a phone
  number, a request reference, digits, a `/payload`, "ok", a name in Latin letters). The rule counts
  Han characters against Latin words after removing those; it was chosen over langdetect by
  measurement on a labelled list (`python -m bot.devtools.languages`; README, "Languages").
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, FrozenSet, Optional

from bot.core.reference_shape import CODE_LENGTH, PREFIX_LENGTH, REFERENCE_ALPHABET
from bot.core.words import STOPWORDS

__all__ = [
    "LANGUAGES",
    "DEFAULT",
    "to_half_width",
    "to_simplified",
    "normalise",
    "detect",
    "has_han",
    "han_count",
    "latin_words",
    "strip_neutral",
    "named_language",
    "or_default",
]

LANGUAGES = ("en", "zh")
DEFAULT = "en"

# CJK Unified Ideographs, extension A, compatibility ideographs, extensions B and later.
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")

# U+FF01..U+FF5E are the full-width forms of U+0021..U+007E (！ to ～); U+3000 is the ideographic
# space. This is what NFKC does to them, without NFKC's other foldings (①, ﬁ, ™, superscripts).
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALF_WIDTH[0x3000] = 0x20

# What tells nothing about a language, removed before counting (on half-width text).
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.ASCII)
_URL = re.compile(r"(?:https?://|www\.)[\x21-\x7e]+", re.IGNORECASE)
_PAYLOAD = re.compile(r"^\s*/\w.*$", re.DOTALL)
# A request reference as typed, whatever its prefix: in capitals (`DEL-7K3M9Q`, `DEL 7K3M9Q`), or in
# any case when its code has a digit (`del 7k3m9q`); so "the policy" is not taken for one.
_CODE = f"[{REFERENCE_ALPHABET}ILOU]"
_REFERENCE = re.compile(
    rf"(?<![A-Za-z0-9])(?:[A-Z]{{{PREFIX_LENGTH}}}[\s_\-–—]*{_CODE}{{{CODE_LENGTH}}}"
    rf"|(?i:[a-z]{{{PREFIX_LENGTH}}}[\s_\-–—]*(?=[a-z]*[0-9]){_CODE}{{{CODE_LENGTH}}}))"
    r"(?![A-Za-z0-9])"
)
_DIGITS = re.compile(r"[0-9]+")

# Latin words that a speaker of either language types ("ok", a laugh): they decide nothing.
NEUTRAL_WORDS: FrozenSet[str] = frozenset(
    "ok okay k kk ha haha hahaha lol hmm um emm en mm hi hey pdf app id qq wechat vip gdpr pipl "
    "email e mail url http https www com cn".split()
)
# Words that make a short Latin text English (one or two words are English only with one of
# these); three Latin words or more are English whatever they are.
ENGLISH_WORDS: FrozenSet[str] = (STOPWORDS - NEUTRAL_WORDS) | frozenset(
    """yes yeah yep yup nope nah sure right correct wrong stop cancel quit exit help human agent
    person operator delete erase remove account unsubscribe subscribe suspend freeze pause restore
    access copy export correct fix update change thanks thank thx bye goodbye hello morning evening
    english chinese language confirm continue done send back menu status request reference code
    none nothing share sell cookies cookie consent withdraw complaint contact address phone name
    fine great good bad what why how when where who which""".split()
)


def to_half_width(text: str) -> str:
    """Full-width letters, digits, `＠` and ASCII punctuation, and the ideographic space, as ASCII;
    everything else (Chinese 。、《》 included) as it is. One character for one character."""
    return text.translate(_HALF_WIDTH)


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc  # type: ignore[import-untyped]  # dictionaries load once, on first use

    return opencc.OpenCC("t2s")


def has_han(text: str) -> bool:
    """Whether the text has a Chinese (Han) character."""
    return HAN.search(text) is not None


def han_count(text: str) -> int:
    return len(HAN.findall(text))


@lru_cache(maxsize=4096)
def to_simplified(text: str) -> str:
    """Traditional characters as Simplified (OpenCC t2s); a text without Han is returned as it is
    (no dictionary look-up for English)."""
    if not has_han(text):
        return text
    converted: str = _converter().convert(text)
    # The tables are length-preserving; should a future table not be, keep offsets right.
    return converted if len(converted) == len(text) else text


def normalise(text: str) -> str:
    """What understanding should read: half-width, Simplified. Same length as `text`."""
    return to_simplified(to_half_width(text))


def strip_neutral(text: str) -> str:
    """The text without what tells nothing about a language: e-mail addresses, URLs, request
    references, digits (a `/payload` is entirely neutral)."""
    text = to_half_width(text)
    if _PAYLOAD.match(text):
        return ""
    for pattern in (_EMAIL, _URL, _REFERENCE, _DIGITS):
        text = pattern.sub(" ", text)
    return text


def latin_words(text: str) -> list[str]:
    return [w.lower() for w in _LATIN_WORD.findall(text)]


def detect(text: Optional[str]) -> Optional[str]:
    """ "zh", "en", or None when the text tells nothing about a language.

    After removing e-mails, URLs, references, digits and neutral words ("ok", "GDPR"), Chinese
    when there are at least as many Han characters as Latin words (so "你们的privacy policy什么时候
    更新" and "GDPR是什么" are Chinese, "My name is 王伟" English); English when Latin words win and
    they are three or more or include a common English word (so "no" is English, a name like
    "Li Wei" or "John Smith" tells nothing)."""
    if not text:
        return None
    rest = strip_neutral(text)
    han = han_count(rest)
    words = [w for w in latin_words(rest) if w not in NEUTRAL_WORDS]
    if han and han >= len(words):
        return "zh"
    if not words:
        return None
    if len(words) >= 3 or any(w in ENGLISH_WORDS for w in words):
        return "en"
    return None


# A language named in a message ("请用中文", "说英文", "English please").
_NAMED = re.compile(
    r"中文|汉语|漢語|普通话|国语|华语|简体|繁体|chinese|mandarin|putonghua|"
    r"英文|英语|英語|english",
    re.IGNORECASE,
)


def named_language(text: str) -> Optional[str]:
    """The language a message names, the last one if it names both ("不要中文，用英文" -> "en");
    None when it names neither."""
    found = _NAMED.findall(to_half_width(text))
    if not found:
        return None
    last = found[-1].lower()
    return "en" if last in ("英文", "英语", "英語", "english") else "zh"


def or_default(language: Optional[str]) -> str:
    """A stored or slot language as one of LANGUAGES: None or anything unknown is English."""
    return language if language in LANGUAGES else DEFAULT
