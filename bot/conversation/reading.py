"""How a form finds a language's words (its lexicon's `forms.*`) in what a visitor answered.

The language's `match` (data/languages.yml) says how: a language matched by `words` compares
the answer's words (runs of its `forms.word` in the lower-cased text) with an entry's words; one
matched by `characters` compares its plain form (normalised, lower-cased, without `forms.noise`
and trailing `forms.particles`) with the entry as written. Which language reads an answer is the
readers' choice (bot.conversation.flows); nothing here names one.
"""

from __future__ import annotations

from functools import cache
from typing import Dict, FrozenSet, Tuple

from bot.core.language import Language, normalise, registry
from bot.core.lexicon import Lexicon, lexicon


def straight(text: str) -> str:
    """Lower-cased, typographic apostrophes (phone keyboards type ’) as plain ones."""
    return text.replace("\u2019", "'").replace("\u2018", "'").lower()


class Reader:
    """One language's form words, read the way its registry entry says."""

    def __init__(self, language: Language, words: Lexicon) -> None:
        self.language = language
        self.lexicon = words
        self._forms: Dict[str, FrozenSet[str]] = {}

    def plain(self, text: str) -> str:
        """The answer as it is compared: its words joined by a space ("That's right!" ->
        "that s right"), or its plain characters ("好的吧！" -> "好的")."""
        if not self.language.by_characters:
            return " ".join(self.lexicon.pattern("forms.word").findall((text or "").lower()))
        plain = self.lexicon.pattern("forms.noise").sub("", normalise(text or "")).lower()
        particles = self.lexicon.words("forms.particles")
        while True:
            ending = next((p for p in particles if plain.endswith(p) and len(plain) > len(p)), "")
            if not ending:
                return plain
            plain = plain[: -len(ending)]

    def _entries(self, key: str) -> FrozenSet[str]:
        """The entries' own compared forms, once; an entry of no words at all ("-") is none."""
        if key not in self._forms:
            self._forms[key] = frozenset(self.plain(e) for e in self.lexicon.words(key)) - {""}
        return self._forms[key]

    def _needles(self, key: str) -> Tuple[str, ...]:
        return tuple(self._entries(key))

    def is_one_of(self, text: str, key: str) -> bool:
        """The whole answer is one of the entries (or, for an entry without letters or digits,
        the answer as typed is that entry: "-")."""
        return self.plain(text) in self._entries(key) or (
            not self.language.by_characters and text.strip() in self.lexicon.words(key)
        )

    def contains(self, text: str, key: str) -> bool:
        """An entry is in the answer: as whole words, or as characters of the plain form."""
        plain = self.plain(text)
        if self.language.by_characters:
            return bool(plain) and any(entry in plain for entry in self._needles(key))
        spaced = f" {plain} "
        return any(f" {entry} " in spaced for entry in self._needles(key))

    def mentions(self, text: str, key: str) -> bool:
        """An entry is anywhere in the answer, inside a word too ("resending" mentions
        "resend"); for a language matched by characters, the same as `contains`."""
        if self.language.by_characters:
            return self.contains(text, key)
        lowered = straight(text)
        return any(entry in lowered for entry in self.lexicon.words(key))

    def starts_with(self, text: str, key: str) -> bool:
        """The answer begins with an entry (its first words, or its first characters)."""
        plain = self.plain(text)
        if self.language.by_characters:
            return any(plain.startswith(entry) for entry in self._needles(key))
        return any(plain == e or plain.startswith(e + " ") for e in self._needles(key))

    def search(self, text: str, key: str) -> bool:
        """The pattern under `key` is found in the answer: in its lower-cased text (words), or
        in its plain form (characters)."""
        seen = self.plain(text) if self.language.by_characters else straight(text)
        return self.lexicon.pattern(key).search(seen) is not None


@cache
def reader(code: str) -> Reader:
    """A registered language's reader, built once per process."""
    return Reader(registry().get(code), lexicon(code))


def readers() -> Tuple[Reader, ...]:
    """Every registered language's reader, the default language's first."""
    return tuple(reader(code) for code in registry().codes)
