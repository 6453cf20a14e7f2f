"""The catalogue of everything the assistant says, as data (`data/texts/<language>.yml` and
`data/texts/<language>/*.yml`), so that a translation is files, not code. A language never falls
back to another: a missing key, language or value is an error, and `check()` lists them.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union, cast

import yaml

from bot.core.language import DEFAULT
from bot.core.paths import TEXTS_DIR

DEFAULT_LANGUAGE = DEFAULT  # the registry's default language, whose keys every language has
Button = Dict[str, str]

_FORMATTER = string.Formatter()
_KEY_PART = frozenset(string.ascii_letters + string.digits + "_")


class TextError(LookupError):
    """An unknown language or key, a leaf of the wrong type, or a missing value."""

    def __str__(self) -> str:  # LookupError would show the message in quotes, like a KeyError
        return str(self.args[0]) if self.args else ""


class UnknownLanguage(TextError):
    pass


class UnknownText(TextError):
    pass


class MissingValue(TextError):
    pass


@dataclass(frozen=True)
class Entry:
    """One leaf of a catalogue file."""

    key: str
    value: Union[str, Tuple[Button, ...], Button]
    placeholders: Tuple[str, ...]  # every `{name}` of the text or the button titles

    @property
    def kind(self) -> str:
        if isinstance(self.value, str):
            return "text"
        return "buttons" if isinstance(self.value, tuple) else "button"


def placeholders_of(template: str, where: str) -> Tuple[str, ...]:
    """The names a template needs, in order of first use; a bad template fails here, at load."""
    names: List[str] = []
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as error:
        raise TextError(
            f"{where}: not a valid template ({error}); write a literal brace as {{{{ or }}}}"
        ) from None
    for _literal, name, spec, _conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise TextError(
                f"{where}: placeholder {{{name}}} must be a plain name, like {{reference}}"
            )
        if spec and "{" in spec:
            raise TextError(f"{where}: nested placeholders are not supported")
        if name not in names:
            names.append(name)
    return tuple(names)


def _is_button(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"title", "payload"}


def _button(value: Any, where: str) -> Button:
    if not _is_button(value) or not all(isinstance(v, str) for v in value.values()):
        raise TextError(
            f"{where}: a button is a mapping of exactly `title` and `payload`, both strings"
        )
    return {"title": value["title"], "payload": value["payload"]}


def _leaf(key: str, value: Any, where: str) -> Entry:
    if isinstance(value, str):
        return Entry(key, value, placeholders_of(value, where))
    if _is_button(value):
        button = _button(value, where)
        return Entry(key, button, placeholders_of(button["title"], where))
    if isinstance(value, list):
        found = tuple(_button(item, f"{where}[{i}]") for i, item in enumerate(value))
        names: List[str] = []
        for button in found:
            names += [n for n in placeholders_of(button["title"], where) if n not in names]
        return Entry(key, found, tuple(names))
    raise TextError(
        f"{where}: a catalogue leaf is a text, a list of buttons or one button, "
        f"not {type(value).__name__}"
    )


def flatten(data: Mapping[str, Any], source: str) -> Dict[str, Entry]:
    """The leaves of a nested mapping under their dotted keys (`policy.not_covered`), in the
    file's order. A leaf is a `str.format` text, a list of `{title, payload}` buttons (titles are
    templates, payloads kept as written) or one such button."""
    entries: Dict[str, Entry] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for name, value in node.items():
            if not isinstance(name, str) or not name or not set(name) <= _KEY_PART:
                raise TextError(
                    f"{source}: {prefix}{name!r} is not a key (letters, digits and _ only)"
                )
            key = f"{prefix}{name}"
            if isinstance(value, dict) and not _is_button(value):
                walk(value, key + ".")
            else:
                entries[key] = _leaf(key, value, f"{source}: {key}")

    walk(data, "")
    return entries


class Catalogue:
    """The texts of every language found in one directory (`<language>.yml` each)."""

    def __init__(self, directory: Path = TEXTS_DIR) -> None:
        self.directory = Path(directory)
        self._loaded: Dict[str, Dict[str, Entry]] = {}

    @property
    def languages(self) -> Tuple[str, ...]:
        """The languages with a file or a folder, the default first, then the others by name."""
        found = {path.stem for path in self.directory.glob("*.yml")}
        found |= {path.parent.name for path in self.directory.glob("*/*.yml")}
        return tuple(sorted(sorted(found), key=lambda language: language != DEFAULT_LANGUAGE))

    def files(self, language: str) -> List[Path]:
        """A language's files: `<language>.yml`, then `<language>/*.yml` by name (one file per
        area, so that the chat's, the e-mails' and the staff pages' texts can be kept apart)."""
        single = self.directory / f"{language}.yml"
        return ([single] if single.is_file() else []) + sorted(
            (self.directory / language).glob("*.yml")
        )

    def entries(self, language: str = DEFAULT_LANGUAGE) -> Dict[str, Entry]:
        if language not in self._loaded:
            paths = self.files(language)
            if not paths:
                raise UnknownLanguage(
                    f"no texts for language {language!r}: neither {language}.yml nor "
                    f"{language}/ in {self.directory} (languages: "
                    f"{', '.join(self.languages) or 'none'})"
                )
            merged: Dict[str, Entry] = {}
            for path in paths:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                if not isinstance(data, dict):
                    raise TextError(f"{path}: the catalogue must be a mapping")
                for key, entry in flatten(data, str(path)).items():
                    if key in merged:
                        raise TextError(
                            f"{path}: {key} is already defined in another {language!r} file"
                        )
                    merged[key] = entry
            self._loaded[language] = merged
        return self._loaded[language]

    def entry(self, key: str, language: str = DEFAULT_LANGUAGE) -> Entry:
        entries = self.entries(language)
        if key not in entries:
            raise UnknownText(
                f"no text {key!r} in the {language!r} catalogue "
                f"({', '.join(str(p) for p in self.files(language))})"
            )
        return entries[key]

    def has(self, key: str, language: str = DEFAULT_LANGUAGE) -> bool:
        return key in self.entries(language)

    def keys(self, language: str = DEFAULT_LANGUAGE) -> Tuple[str, ...]:
        return tuple(self.entries(language))

    def placeholders(self, key: str, language: str = DEFAULT_LANGUAGE) -> Tuple[str, ...]:
        return self.entry(key, language).placeholders

    def _typed(self, key: str, language: str, kind: str) -> Entry:
        entry = self.entry(key, language)
        if entry.kind != kind:
            raise TextError(f"{key!r} ({language}) is {entry.kind}, not {kind}")
        return entry

    @staticmethod
    def _fill(entry: Entry, template: str, language: str, values: Mapping[str, Any]) -> str:
        missing = [name for name in entry.placeholders if name not in values]
        if missing:
            raise MissingValue(
                f"text {entry.key!r} ({language}) needs a value for {', '.join(missing)}"
            )
        return template.format(**values)

    def text(self, key: str, language: str = DEFAULT_LANGUAGE, **values: Any) -> str:
        entry = self._typed(key, language, "text")  # so its value is a str
        return self._fill(entry, cast(str, entry.value), language, values)

    def buttons(self, key: str, language: str = DEFAULT_LANGUAGE, **values: Any) -> List[Button]:
        entry = self._typed(key, language, "buttons")  # so its value is a tuple of buttons
        return [
            {"title": self._fill(entry, b["title"], language, values), "payload": b["payload"]}
            for b in cast(Tuple[Button, ...], entry.value)
        ]

    def button(self, key: str, language: str = DEFAULT_LANGUAGE, **values: Any) -> Button:
        entry = self._typed(key, language, "button")  # so its value is one button
        button = cast(Button, entry.value)
        return {
            "title": self._fill(entry, button["title"], language, values),
            "payload": button["payload"],
        }

    def check(self) -> List[str]:
        """What each language lacks or adds compared with the default: keys, the kind of a leaf,
        placeholders the default does not supply, and button payloads that are commands (`/...`)
        and so must be the same in every language. Empty when all agree."""
        problems: List[str] = []
        english = self.entries(DEFAULT_LANGUAGE)
        for language in self.languages:
            if language == DEFAULT_LANGUAGE:
                continue
            other = self.entries(language)
            problems += [f"{language}: missing {key}" for key in english if key not in other]
            problems += [
                f"{language}: {key} is not in {DEFAULT_LANGUAGE}.yml"
                for key in other
                if key not in english
            ]
            for key, entry in other.items():
                base = english.get(key)
                if base is None:
                    continue
                if entry.kind != base.kind:
                    problems.append(
                        f"{language}: {key} is {entry.kind}, in {DEFAULT_LANGUAGE}.yml {base.kind}"
                    )
                    continue
                extra = set(entry.placeholders) - set(base.placeholders)
                if extra:
                    problems.append(
                        f"{language}: {key} uses {', '.join(sorted(extra))}, which "
                        f"the {DEFAULT_LANGUAGE} text's callers do not give"
                    )
                if entry.kind != "text" and _commands(entry) != _commands(base):
                    problems.append(
                        f"{language}: {key} has other command payloads than in "
                        f"{DEFAULT_LANGUAGE}.yml"
                    )
        return problems


def _commands(entry: Entry) -> List[str]:
    found = entry.value if isinstance(entry.value, tuple) else (entry.value,)
    return [b["payload"] for b in found if isinstance(b, dict) and b["payload"].startswith("/")]


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The project's catalogue (data/texts/), one per process."""
    return Catalogue(TEXTS_DIR)


def text(key: str, language: str = DEFAULT_LANGUAGE, **values: Any) -> str:
    """The text under `key` in `language`, its `{placeholders}` filled from `values`."""
    return catalogue().text(key, language, **values)


def buttons(key: str, language: str = DEFAULT_LANGUAGE, **values: Any) -> List[Button]:
    """The list of buttons under `key`, as `{"title", "payload"}` dicts (fresh copies)."""
    return catalogue().buttons(key, language, **values)


def button(key: str, language: str = DEFAULT_LANGUAGE, **values: Any) -> Button:
    """The one button under `key`, as a `{"title", "payload"}` dict (a fresh copy)."""
    return catalogue().button(key, language, **values)


def has_text(key: str, language: str = DEFAULT_LANGUAGE) -> bool:
    """Whether `key` exists: for wording a kind of request may or may not have of its own."""
    return catalogue().has(key, language)


def placeholders(key: str, language: str = DEFAULT_LANGUAGE) -> Tuple[str, ...]:
    return catalogue().placeholders(key, language)


def languages() -> Tuple[str, ...]:
    return catalogue().languages


def check(directory: Optional[Path] = None) -> List[str]:
    return (Catalogue(directory) if directory else catalogue()).check()
