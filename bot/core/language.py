"""The languages the assistant speaks, the language of a visitor's text, and the forms of it
that understanding should see.

The languages are data (`data/languages.yml`, read once into a `Registry`): adding one is an entry
there plus its data files, not code. Everything here is plain Python (no Rasa, no model), so the
NLU component, the form validators, the web layer and the tests all read a message the same way:

- `to_half_width` folds full-width letters, digits, `＠` and ASCII punctuation typed on a
  CJK keyboard to ASCII, as NFKC does for exactly those characters; CJK punctuation without an
  ASCII twin (。、「」《》) stays, since the sentence splitters rely on it.
- `to_simplified` converts Traditional Han characters to Simplified (OpenCC's t2s tables).
- Both map one character to one character, so offsets found in the normalised text (tokens,
  entities) point at the same characters of what the visitor typed.
- `detect` decides which registered language a text is in, or None when it says nothing about
  one (an e-mail, a reference, digits, a `/payload`, "ok", a name in Latin letters): characters of
  a non-Latin script against Latin words, chosen over langdetect by measurement
  (`python -m bot.devtools.languages`; README, "Languages").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple

import yaml

from bot.core.paths import DATA_DIR
from bot.core.reference_shape import CODE_LENGTH, PREFIX_LENGTH, REFERENCE_ALPHABET
from bot.core.words import STOPWORDS

__all__ = [
    "Language",
    "Registry",
    "registry",
    "script_language",
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

REGISTRY_FILE = DATA_DIR / "languages.yml"

# CJK Unified Ideographs, extension A, compatibility ideographs, extensions B and later.
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")

# The script rules a language may name (`script:` in data/languages.yml).
SCRIPTS: Mapping[str, re.Pattern[str]] = {"latin": _LATIN_WORD, "han": HAN}
TOKENIZERS = ("spacy", "jieba")
MATCHES = ("words", "characters")
_FIELDS = ("name", "html", "script", "tokenizer", "match", "tags", "names")


class LanguageError(ValueError):
    """A registry entry that is missing a field or names an unknown script, tokenizer or match."""


@dataclass(frozen=True)
class Language:
    """One registered language: how it is recognised, tokenised and matched, and named."""

    code: str
    name: str
    html: str
    script: str
    tokenizer: str
    match: str
    tags: Tuple[str, ...]
    names: Tuple[str, ...]

    @property
    def by_characters(self) -> bool:
        """Written without spaces: its words are found as substrings of the normalised text."""
        return self.match == "characters"

    def written_in(self, text: str) -> bool:
        """Whether the text has a character of this language's script."""
        return SCRIPTS[self.script].search(text) is not None

    def script_count(self, text: str) -> int:
        return len(SCRIPTS[self.script].findall(text))


@dataclass(frozen=True)
class Registry:
    """The languages in the order of the file, the default (the policy's own language) first."""

    default: str
    languages: Tuple[Language, ...]

    @property
    def codes(self) -> Tuple[str, ...]:
        return tuple(language.code for language in self.languages)

    def get(self, code: str) -> Language:
        for language in self.languages:
            if language.code == code:
                return language
        raise LanguageError(f"no language {code!r} in the registry ({', '.join(self.codes)})")

    def by_script(self) -> Tuple[Language, ...]:
        """The languages recognised by their own script (not Latin letters), in order."""
        return tuple(language for language in self.languages if language.script != "latin")

    def script_language(self, text: str) -> Optional[Language]:
        """The first language whose non-Latin script the text has characters of."""
        return next((lang for lang in self.by_script() if lang.written_in(text)), None)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Registry:
        entries = data.get("languages") or {}
        if not isinstance(entries, Mapping) or not entries:
            raise LanguageError("the registry needs a `languages` mapping of one entry or more")
        languages = tuple(_language(str(code), entry) for code, entry in entries.items())
        default = str(data.get("default") or "")
        if default not in entries:
            raise LanguageError(f"the default language {default!r} is not registered")
        ordered = sorted(languages, key=lambda language: language.code != default)
        return cls(default, tuple(ordered))

    @classmethod
    def load(cls, path: Path) -> Registry:
        with open(path, encoding="utf-8") as handle:
            return cls.parse(yaml.safe_load(handle) or {})


def _language(code: str, entry: Any) -> Language:
    if not isinstance(entry, Mapping):
        raise LanguageError(f"{code}: an entry is a mapping of {', '.join(_FIELDS)}")
    missing = [field for field in _FIELDS if field not in entry]
    if missing:
        raise LanguageError(f"{code}: missing {', '.join(missing)}")
    for field, known in (("script", SCRIPTS), ("tokenizer", TOKENIZERS), ("match", MATCHES)):
        if entry[field] not in known:
            raise LanguageError(
                f"{code}: {field} {entry[field]!r} is not one of {', '.join(known)}"
            )
    return Language(
        code=code,
        name=str(entry["name"]),
        html=str(entry["html"]),
        script=str(entry["script"]),
        tokenizer=str(entry["tokenizer"]),
        match=str(entry["match"]),
        tags=tuple(str(tag).lower() for tag in entry["tags"]),
        names=tuple(str(name).lower() for name in entry["names"]),
    )


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The registered languages, read once per process."""
    return Registry.load(REGISTRY_FILE)


LANGUAGES: Tuple[str, ...] = registry().codes
DEFAULT: str = registry().default


def script_language(text: str) -> Optional[str]:
    """The code of the language whose own (non-Latin) script the text is written in, or None:
    which language's words read an answer, whatever the conversation's language."""
    found = registry().script_language(text)
    return found.code if found else None


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
    """The code of the language a text is in, or None when it tells nothing about one.

    After removing e-mails, URLs, references, digits and neutral words ("ok", "GDPR"), a language
    with its own script when there are at least as many of its characters as Latin words (so
    "你们的privacy policy什么时候更新" and "GDPR是什么" are Chinese, "My name is 王伟" English);
    English when Latin words win and they are three or more or include a common English word (so
    "no" is English, a name like "Li Wei" or "John Smith" tells nothing)."""
    if not text:
        return None
    rest = strip_neutral(text)
    words = [w for w in latin_words(rest) if w not in NEUTRAL_WORDS]
    for language in registry().by_script():
        count = language.script_count(rest)
        if count and count >= len(words):
            return language.code
    if not words:
        return None
    if len(words) >= 3 or any(w in ENGLISH_WORDS for w in words):
        return _latin_language()
    return None


def _latin_language() -> str:
    """The language Latin words are read as: the first registered one written in Latin."""
    return next(lang.code for lang in registry().languages if lang.script == "latin")


@lru_cache(maxsize=1)
def _names() -> Tuple[re.Pattern[str], Dict[str, str]]:
    """One pattern of every registered language's names (longest first), and name -> code."""
    owner = {name: language.code for language in registry().languages for name in language.names}
    alternatives = "|".join(re.escape(name) for name in sorted(owner, key=len, reverse=True))
    return re.compile(alternatives, re.IGNORECASE), owner


def named_language(text: str) -> Optional[str]:
    """The language a message names ("请用中文", "English please"), the last one if it names
    several ("不要中文，用英文" -> English); None when it names none."""
    pattern, owner = _names()
    found = pattern.findall(to_half_width(text))
    return owner[found[-1].lower()] if found else None


def or_default(language: Optional[str]) -> str:
    """A stored or slot language as one of LANGUAGES: None or anything unknown is the default."""
    return language if language in LANGUAGES else DEFAULT
