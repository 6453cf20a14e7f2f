"""The reference translation of the published policy, aligned sentence by sentence.

The published policy is English and the English text prevails. For a visitor who writes Chinese the
assistant still quotes the English verbatim, and gives after each quoted sentence the reference
translation from `data/policy/privacy_policy.zh.yml`, labelled with the file's own label
("参考译文，以英文原文为准"). The translation is data, written by us so that the legal
department can replace it; it is keyed by the English sentence exactly as `bot.policy.document`
parses it, so a change to the English text that is not carried into the translation is found
(`check_alignment`, run by a test) instead of showing the translation of a sentence that no
longer exists.

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
from typing import Dict, List, Optional, Tuple

import yaml

from bot.core.paths import POLICY_DIR
from bot.core.texts import text
from bot.policy.document import Policy, Section, Sentence

log = logging.getLogger(__name__)

TRANSLATED_LANGUAGES = ("zh",)
TRANSLATION_FILES = {"zh": POLICY_DIR / "privacy_policy.zh.yml"}
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")


class TranslationFormatError(ValueError):
    """The translation file is not of the documented shape."""


@dataclass(frozen=True)
class SentencePair:
    en: str
    zh: str


@dataclass(frozen=True)
class SectionTranslation:
    id: str
    heading: str  # the English heading as parsed, to check the alignment
    heading_zh: str
    sentences: Tuple[SentencePair, ...]
    _by_en: Dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_en.update({pair.en: pair.zh for pair in self.sentences})

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
        return found.heading_zh if found else ""

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
    of the wrong type (what the alignment with the English says is `check_alignment`'s)."""
    if not isinstance(data, dict):
        raise TranslationFormatError("the translation must be a mapping")
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
                    _string(pair.get("en"), f"{where}.sentences[{number}].en"),
                    str(pair.get("zh") or ""),
                )
            )
        parsed.append(
            SectionTranslation(
                id=_string(entry.get("id"), f"{where}.id"),
                heading=_string(entry.get("heading"), f"{where}.heading"),
                heading_zh=str(entry.get("heading_zh") or ""),
                sentences=tuple(pairs),
            )
        )
    return Translation(
        language=_string(data.get("language"), "language"),
        label=_string(data.get("label"), "label"),
        title=str(data.get("title_zh") or ""),
        sections=tuple(parsed),
    )


def load_translation_from(path: Path) -> Translation:
    with open(path, encoding="utf-8") as handle:
        return parse_translation(yaml.safe_load(handle))


@functools.lru_cache(maxsize=len(TRANSLATED_LANGUAGES))
def load_translation(language: str = "zh") -> Translation:
    """The project's translation into `language`, read once per process."""
    if language not in TRANSLATION_FILES:
        raise KeyError(f"no reference translation into {language!r}")
    return load_translation_from(TRANSLATION_FILES[language])


def check_alignment(translation: Translation, policy: Policy) -> List[str]:
    """Every way the translation and the parsed English disagree; empty when aligned.

    Aligned: the same sections in the same order, each with the parsed heading and a name of its
    own in the translation's language; the same sentences in the same order, each `en` exactly the
    parsed sentence, each with a translation that has Chinese characters in it."""
    problems: List[str] = []
    if translation.language not in TRANSLATED_LANGUAGES:
        problems.append(
            f"language {translation.language!r} is not one of {', '.join(TRANSLATED_LANGUAGES)}"
        )
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
        if not _HAN.search(found.heading_zh):
            problems.append(f"{section.id}: no Chinese heading (heading_zh)")
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
            if not _HAN.search(pair.zh):
                problems.append(f"{section.id}: {pair.en!r} has no Chinese translation")
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
