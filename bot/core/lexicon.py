"""The words each language's readers look for, as data: `data/lexicon/<language>/*.yml`.

What a form takes for "yes", "stop" or "the whole account", which words name a correctable item,
how an age or a guardian is said, which words ask for a contact: none of it is code, so a new
language is a folder of files with the same keys as the default language's. Files in a folder are
merged by area (the forms' words, the answers' words); a key defined twice, a language without a
folder and a key one language has and another lacks are errors, never a silent fallback.

A leaf is a list of words or phrases (`words`), a mapping of word to word (`mapping`), or a
regular expression (`pattern`, compiled as written: `(?i)` in the data where case does not
matter). A mapping whose values are all strings is a word mapping, so a group of patterns holds
at least one list beside them. Write `yes`, `no`, `on` and `off` in quotes: YAML reads them as
true and false, which the loader refuses. How the words are found in a text (whole words, or
substrings of the normalised text) is the language's `match` in the registry.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple, Union

import yaml

from bot.core.language import LANGUAGES
from bot.core.paths import DATA_DIR

LEXICON_DIR = DATA_DIR / "lexicon"
Leaf = Union[Tuple[str, ...], Dict[str, str], str]


class LexiconError(LookupError):
    """A missing language, key or file, or a leaf of the wrong shape."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _scalar(item: Any) -> bool:
    """A word as YAML gives it: a string or a number, never a boolean (an unquoted `yes`)."""
    return isinstance(item, (str, int)) and not isinstance(item, bool)


def _leaf(value: Any, where: str) -> Leaf:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(_scalar(item) for item in value):
        return tuple(str(item) for item in value)
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    raise LexiconError(f"{where}: a leaf is a list of words, a word mapping or a pattern")


def _walk(data: Mapping[str, Any], prefix: str, source: str, out: Dict[str, Leaf]) -> None:
    for name, value in data.items():
        if not isinstance(name, str):
            raise LexiconError(f"{source}: the key {name!r} is not a word (quote yes, no, on, off)")
        key = f"{prefix}{name}"
        if isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values()):
            _walk(value, key + ".", source, out)
        elif key in out:
            raise LexiconError(f"{source}: {key} is defined in another file of the language")
        else:
            out[key] = _leaf(value, f"{source}: {key}")


class Lexicon:
    """One language's words, by dotted key (`forms.yes`, `forms.correction_items.phone`)."""

    def __init__(self, language: str, entries: Dict[str, Leaf]) -> None:
        self.language = language
        self.entries = entries

    @classmethod
    def load(cls, language: str, directory: Path = LEXICON_DIR) -> Lexicon:
        paths = sorted((directory / language).glob("*.yml"))
        if not paths:
            raise LexiconError(f"no lexicon for language {language!r} in {directory}")
        entries: Dict[str, Leaf] = {}
        for path in paths:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise LexiconError(f"{path}: a lexicon file is a mapping")
            _walk(data, "", str(path), entries)
        return cls(language, entries)

    def _get(self, key: str) -> Leaf:
        try:
            return self.entries[key]
        except KeyError:
            parent = key.rpartition(".")[0]
            if isinstance(self.entries.get(parent), dict):
                raise LexiconError(
                    f"{self.language}: {parent} is a word mapping (its values are all strings),"
                    f" so {key!r} is not an entry of its own"
                ) from None
            raise LexiconError(f"{self.language}: no lexicon entry {key!r}") from None

    def words(self, key: str) -> Tuple[str, ...]:
        found = self._get(key)
        if not isinstance(found, tuple):
            raise LexiconError(f"{self.language}: {key} is not a list of words")
        return found

    def mapping(self, key: str) -> Dict[str, str]:
        found = self._get(key)
        if not isinstance(found, dict):
            raise LexiconError(f"{self.language}: {key} is not a word mapping")
        return found

    def pattern(self, key: str) -> re.Pattern[str]:
        found = self._get(key)
        if not isinstance(found, str):
            raise LexiconError(f"{self.language}: {key} is not a pattern")
        return _compiled(found)

    def groups(self, prefix: str) -> Dict[str, Tuple[str, ...]]:
        """The word lists under one key, by their last part (`forms.correction_items.*`)."""
        start = prefix + "."
        return {key[len(start) :]: self.words(key) for key in self.entries if key.startswith(start)}


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@cache
def lexicon(language: str) -> Lexicon:
    """A registered language's lexicon, read once per process."""
    return Lexicon.load(language)


def check(languages: Tuple[str, ...] = LANGUAGES, directory: Path = LEXICON_DIR) -> List[str]:
    """Every way a language's lexicon differs in its keys or their shapes from the first's."""
    loaded = [Lexicon.load(language, directory) for language in languages]
    base, problems = loaded[0], []
    for other in loaded[1:]:
        for key in sorted(set(base.entries) - set(other.entries)):
            problems.append(f"{other.language}: no {key} (the {base.language} lexicon has it)")
        for key in sorted(set(other.entries) - set(base.entries)):
            problems.append(f"{other.language}: {key} is not in the {base.language} lexicon")
        for key in sorted(set(base.entries) & set(other.entries)):
            if type(base.entries[key]) is not type(other.entries[key]):
                problems.append(f"{other.language}: {key} is not shaped as in {base.language}")
    return problems
