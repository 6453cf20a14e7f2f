"""The reference translations of the published policy, aligned sentence by sentence.

The published policy is English and the English text prevails. For a visitor who writes another
language the assistant still quotes the English verbatim, and gives after each quoted sentence the
reference translation from `data/policy/privacy_policy.<language>.yml` (one file per translated
language, found by that name), labelled with the file's own label ("参考译文，以英文原文为准").
A translation is data, written by us so that the legal department can replace it; it is keyed by
the English sentence exactly as `bot.policy.document` parses it, so a change to the English text
that is not carried into the translation is found (`check_alignment`, run by a test) instead of
showing the translation of a sentence that no longer exists. This module is the files' one reader.

At run time a sentence whose translation is missing or stale is quoted in English with a note that
it has no reference translation: the reply is then less helpful, never wrong.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import yaml

from bot.core.language import DEFAULT, LanguageError, registry
from bot.core.paths import POLICY_DIR
from bot.core.texts import text
from bot.policy.document import Policy, Section, Sentence

log = logging.getLogger(__name__)
ORIGINAL = DEFAULT  # the language of the published text, each sentence's key in a translation

# privacy_policy.<language>.yml beside the policy: the language is the file's name.
_FILE_NAME = re.compile(r"^privacy_policy\.([^.]+)\.yml$")


def translation_files(directory: Path = POLICY_DIR) -> Dict[str, Path]:
    """Language -> its reference translation, for every `privacy_policy.<language>.yml`."""
    found = (_FILE_NAME.match(path.name) for path in sorted(directory.glob("privacy_policy.*.yml")))
    return {match.group(1): directory / match.group(0) for match in found if match}


TRANSLATION_FILES: Mapping[str, Path] = translation_files()
TRANSLATED_LANGUAGES: Tuple[str, ...] = tuple(TRANSLATION_FILES)


class TranslationFormatError(ValueError):
    """The translation file is not of the documented shape."""


@dataclass(frozen=True)
class SentencePair:
    en: str  # the sentence as parsed from the published text
    translated: str


@dataclass(frozen=True)
class SectionTranslation:
    id: str
    heading: str  # the English heading as parsed, to check the alignment
    translated_heading: str  # the section's name in the translation's language
    sentences: Tuple[SentencePair, ...]
    _by_en: Dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_en.update({pair.en: pair.translated for pair in self.sentences})

    def of(self, english: str) -> Optional[str]:
        return self._by_en.get(english) or None


@dataclass(frozen=True)
class Translation:
    """One language's reference translation of the policy."""

    language: str
    label: str  # how each translated sentence is labelled: "参考译文，以英文原文为准"
    title: str
    sections: Tuple[SectionTranslation, ...]
    _by_id: Dict[str, SectionTranslation] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({s.id: s for s in self.sections})

    def section(self, section_id: str) -> Optional[SectionTranslation]:
        return self._by_id.get(section_id)

    def heading(self, section_id: str) -> str:
        """The section's name in this language; "" when the translation does not have it."""
        found = self.section(section_id)
        return found.translated_heading if found else ""

    def headings(self) -> Dict[str, str]:
        """Section id -> its name in this language, for the sections the translation names."""
        return {s.id: s.translated_heading for s in self.sections if s.translated_heading}

    def cited_heading(self, section_id: str, heading: str) -> str:
        """The published heading as a reader of this language sees it cited: with the section's
        name beside it ("Policy update（政策更新）"); the heading alone where it has none."""
        name = self.heading(section_id)
        if not name:
            return heading
        return text("policy.translation.heading", self.language, heading=heading, translated=name)

    def sentence(self, section_id: str, english: str) -> Optional[str]:
        """The translation of one parsed English sentence of the section, or None."""
        found = self.section(section_id)
        return found.of(english) if found else None


def _string(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TranslationFormatError(f"{where}: must be a non-empty text")
    return value


def parse_translation(data: object) -> Translation:
    """The translation from the file's mapping; TranslationFormatError when a field is missing or
    of the wrong type (what the alignment with the English says is `check_alignment`'s).

    The file's `language` names the keys of what is in it: `title_<language>`, each section's
    `heading_<language>`, and each sentence's `<language>` beside the published text's `en`."""
    if not isinstance(data, dict):
        raise TranslationFormatError("the translation must be a mapping")
    language = _string(data.get("language"), "language")
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        raise TranslationFormatError("the translation lists no sections")
    parsed: List[SectionTranslation] = []
    for index, entry in enumerate(sections):
        where = f"sections[{index}]"
        if not isinstance(entry, dict):
            raise TranslationFormatError(f"{where}: must be a mapping")
        pairs = []
        for number, pair in enumerate(entry.get("sentences") or ()):
            if not isinstance(pair, dict):
                raise TranslationFormatError(f"{where}.sentences[{number}]: must be a mapping")
            pairs.append(
                SentencePair(
                    _string(pair.get(ORIGINAL), f"{where}.sentences[{number}].{ORIGINAL}"),
                    str(pair.get(language) or ""),
                )
            )
        parsed.append(
            SectionTranslation(
                id=_string(entry.get("id"), f"{where}.id"),
                heading=_string(entry.get("heading"), f"{where}.heading"),
                translated_heading=str(entry.get(f"heading_{language}") or ""),
                sentences=tuple(pairs),
            )
        )
    return Translation(
        language=language,
        label=_string(data.get("label"), "label"),
        title=str(data.get(f"title_{language}") or ""),
        sections=tuple(parsed),
    )


def load_translation_from(path: Path) -> Translation:
    with open(path, encoding="utf-8") as handle:
        return parse_translation(yaml.safe_load(handle))


@functools.lru_cache(maxsize=8)
def load_translation(language: str) -> Translation:
    """The project's translation into `language`, read once per process."""
    if language not in TRANSLATION_FILES:
        raise KeyError(f"no reference translation into {language!r}")
    return load_translation_from(TRANSLATION_FILES[language])


def check_alignment(translation: Translation, policy: Policy) -> List[str]:
    """Every way the translation and the parsed English disagree; empty when aligned.

    Aligned: the same sections in the same order, each with the parsed heading and a name of its
    own in the translation's language; the same sentences in the same order, each `en` exactly the
    parsed sentence, each with a translation that has characters of the language's script."""
    problems: List[str] = []
    language = translation.language
    if language not in TRANSLATED_LANGUAGES:
        problems.append(f"language {language!r} is not one of {', '.join(TRANSLATED_LANGUAGES)}")
    written: Callable[[str], bool] = bool
    try:
        written = registry().get(language).written_in
    except LanguageError as error:
        problems.append(str(error))
    ids = [s.id for s in translation.sections]
    if ids != policy.section_ids:
        problems.append(f"sections {ids} are not the policy's {policy.section_ids}")
    for section in policy.sections:
        found = translation.section(section.id)
        if found is None:
            continue
        if found.heading != section.heading:
            problems.append(
                f"{section.id}: heading {found.heading!r} is not the parsed {section.heading!r}"
            )
        if not written(found.translated_heading):
            problems.append(f"{section.id}: no {language} heading (heading_{language})")
        english = [s.text for s in section.sentences]
        given = [pair.en for pair in found.sentences]
        for position, sentence in enumerate(english):
            if position >= len(given):
                problems.append(f"{section.id}: no translation of {sentence!r}")
            elif given[position] != sentence:
                problems.append(
                    f"{section.id}: sentence {position + 1} is {given[position]!r}, "
                    f"the parsed text is {sentence!r}"
                )
        for extra in given[len(english) :]:
            problems.append(f"{section.id}: {extra!r} is not a sentence of the parsed text")
        for pair in found.sentences:
            if not written(pair.translated):
                problems.append(f"{section.id}: {pair.en!r} has no {language} translation")
    return problems


def effective_date_of(policy: Policy) -> Optional[date]:
    """The policy's effective date ("November 25, 2020") as a date; None if it reads otherwise."""
    try:
        return datetime.strptime(policy.effective_date, "%B %d, %Y").date()
    except ValueError:
        return None


def translate(
    policy: Policy, translation: Translation, section: Section, sentence: Sentence
) -> Optional[str]:
    """The reference translation of a sentence an answer quotes from `section`, or None.

    The overview's first candidate is not a sentence of the text but the title block's effective
    date (`answers.candidates`); its translation is written from the catalogue and the date."""
    if sentence.paragraph < 0:
        day = effective_date_of(policy)
        if day is None:
            return None
        return text("policy.translation.effective_date", translation.language, date=day)
    return translation.sentence(section.id, sentence.text)


def paragraph_translation(translation: Translation, section: Section, index: int) -> Optional[str]:
    """A whole paragraph of the section in translation (its sentences' translations joined), or
    None when any of its sentences has none."""
    parts = []
    for sentence in section.sentences:
        if sentence.paragraph != index:
            continue
        found = translation.sentence(section.id, sentence.text)
        if found is None:
            return None
        parts.append(found)
    return "".join(parts) if parts else None


def log_misalignment(translation: Translation, policy: Policy) -> List[str]:
    """The alignment problems, logged once when a translation is first used."""
    problems = check_alignment(translation, policy)
    if problems:
        log.warning(
            "The %s reference translation does not match the policy in %d places "
            "(first: %s); those sentences are quoted without a translation.",
            translation.language,
            len(problems),
            problems[0],
        )
    return problems
