"""The coverage map: which privacy topics the published policy addresses, partly, or not at all.

`data/policy/coverage.yml` is written for the legal department as much as for the assistant: it
names the topics privacy policies usually cover (OPP-115) and those a video-meeting service's users
ask about, and says for each where the text addresses it. The assistant reads it to recognise a
question about a topic the policy leaves open, so that it can name that topic and say plainly that
the policy does not address it, instead of quoting the nearest section as if it answered.

A topic is one entry; what depends on a language (its name, what the policy says and leaves out,
the cues of a question about it) is a map from each registered language to its value, and how a
language's cues are found is its `match` in the registry (`bot.core.language`): whole words, or
substrings of the normalised text. `check_against` is the test's view of the map against the
parsed text, `check_languages` of each language's maps against the others'.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from bot.core.language import Registry, normalise, registry
from bot.core.paths import POLICY_DIR
from bot.policy.document import Policy

COVERAGE_FILE = POLICY_DIR / "coverage.yml"
ADDRESSED, PARTLY, SILENT = "addressed", "partly", "silent"
STATUSES = (ADDRESSED, PARTLY, SILENT)
TEXTS = ("name", "says", "leaves_out")  # one text per language
CUE_LISTS = ("cues", "requires", "unless")  # one list of cues per language
# A Latin word: ASCII letters and digits, and the accented Latin letters (Latin-1, Extended-A
# and -B, Extended Additional), so that "naïve" is one word; Han and other scripts are not.
_LETTER = "a-z0-9\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f\u1e00-\u1eff"
_WORD = re.compile(f"[{_LETTER}]+(?:['\u2019.-][{_LETTER}]+)*")


def _words(text: str) -> List[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


@dataclass(frozen=True)
class Cue:
    """A word or phrase; a trailing `*` on its last word matches any ending ("record*")."""

    words: Tuple[str, ...]
    prefix: bool

    @classmethod
    def parse(cls, text: str) -> Cue:
        prefix = text.endswith("*")
        return cls(tuple(_words(text.rstrip("*"))), prefix)

    def found_in(self, words: Sequence[str]) -> bool:
        n = len(self.words)
        for start in range(len(words) - n + 1):
            window = words[start : start + n]
            if tuple(window[:-1]) != self.words[:-1]:
                continue
            last = window[-1]
            if last == self.words[-1] or (self.prefix and last.startswith(self.words[-1])):
                return True
        return False

    @property
    def weight(self) -> int:
        """More words are more specific: "cloud recording" beats "recording"."""
        return len(self.words)


@dataclass(frozen=True)
class Question:
    """A question as the map reads it: its Latin words (lower case), its normalised lower-case
    text ("" unless a language matched by characters is written in it), and the languages whose
    cues are tried on it, in the registry's order."""

    words: Tuple[str, ...]
    text: str
    languages: Tuple[str, ...]


@dataclass(frozen=True)
class Cues:
    """One language's cues of a topic (or its required or `unless` words): parsed words for a
    language matched by words, substrings of the normalised text for one matched by characters."""

    by_characters: bool
    phrases: Tuple[str, ...] = ()
    parsed: Tuple[Cue, ...] = ()

    @classmethod
    def parse(cls, items: Iterable[Any], by_characters: bool) -> Cues:
        phrases = tuple(str(item) for item in items)
        if by_characters:
            return cls(True, phrases)
        return cls(False, phrases, tuple(Cue.parse(phrase) for phrase in phrases))

    def __bool__(self) -> bool:
        return bool(self.phrases)

    def found(self, question: Question) -> List[str]:
        """The cues in the question, strongest first: more words first (a language matched by
        words, as its words), longer first (one matched by characters); ties in the map's order."""
        if self.by_characters:
            return sorted((p for p in self.phrases if p in question.text), key=len, reverse=True)
        hits = sorted(
            (c for c in self.parsed if c.found_in(question.words)), key=lambda c: -c.weight
        )
        return [" ".join(cue.words) for cue in hits]

    def any_in(self, question: Question) -> bool:
        if self.by_characters:
            return any(p in question.text for p in self.phrases)
        return any(cue.found_in(question.words) for cue in self.parsed)


def _no_texts() -> Dict[str, str]:
    return {}


def _no_cues() -> Dict[str, Cues]:
    return {}


@dataclass(frozen=True)
class Topic:
    """One topic of the map. `name`, `says` and `leaves_out` map a language to its text; `cues`,
    `requires` and `unless` a language to its `Cues`. `requires` (one of them must occur as
    well) keeps "my camera doesn't work" (support) from reading as a camera privacy question;
    `unless` words make a cue mean something else, which the policy addresses ("their parents'
    permission" is a minor's consent, not the app's device permissions)."""

    id: str
    category: str
    status: str
    sections: Tuple[str, ...] = ()
    evidence: Tuple[str, ...] = ()
    absent: Tuple[str, ...] = ()
    name: Mapping[str, str] = field(default_factory=_no_texts, hash=False)
    says: Mapping[str, str] = field(default_factory=_no_texts, hash=False)
    leaves_out: Mapping[str, str] = field(default_factory=_no_texts, hash=False)
    cues: Mapping[str, Cues] = field(default_factory=_no_cues, hash=False)
    requires: Mapping[str, Cues] = field(default_factory=_no_cues, hash=False)
    unless: Mapping[str, Cues] = field(default_factory=_no_cues, hash=False)
    default: str = ""  # the language whose name stands in for a missing one

    @property
    def open(self) -> bool:
        """The visitor asked something the policy does not (fully) answer."""
        return self.status != ADDRESSED

    @property
    def needs_required_word(self) -> bool:
        """Whether a cue of this topic counts only with one of its `requires` words."""
        return any(self.requires.values())

    def name_in(self, language: str) -> str:
        """How a reply in `language` names the topic (the default language's name if the map
        has none in it)."""
        return self.name.get(language) or self.name.get(self.default, "")

    def says_in(self, language: str) -> str:
        """What the policy says of a partly covered topic, in `language` ("" if not given)."""
        return self.says.get(language, "")

    def leaves_out_in(self, language: str) -> str:
        """What the policy leaves out of a partly covered topic, in `language` ("" if not given)."""
        return self.leaves_out.get(language, "")

    def _any_in(self, lists: Mapping[str, Cues], question: Question) -> bool:
        return any(lists[code].any_in(question) for code in question.languages if code in lists)

    def required_in(self, question: Question) -> bool:
        """A `requires` word of a language tried on the question occurs in it."""
        return self._any_in(self.requires, question)

    def excluded_in(self, question: Question) -> bool:
        """An `unless` word of a language tried on the question occurs in it."""
        return self._any_in(self.unless, question)

    def cue_in(self, question: Question) -> Optional[str]:
        """The strongest cue of this topic in a question: of each language tried on it, in the
        registry's order, its cues found (Latin words of a question in another script count
        too). A required word may come in any of those languages ("你们会访问我的camera吗").
        A language matched by words needs one when it has `requires` of its own; one matched by
        characters, whose cues are looser, when any language tried has them."""
        required = self._any_in(self.requires, question)
        any_requires = any(self.requires.get(code) for code in question.languages)
        found: List[str] = []
        for code in question.languages:
            cues = self.cues.get(code)
            if not cues:
                continue
            hits = cues.found(question)
            gated = any_requires if cues.by_characters else bool(self.requires.get(code))
            if hits and gated and not required:
                continue
            found += hits
        return found[0] if found else None


@dataclass(frozen=True)
class TopicMatch:
    topic: Topic
    cue: str


@dataclass(frozen=True)
class CueSignals:
    """What the map's cues find in a question, as evidence for a measured verdict rather than
    as one (`bot.nlu.silence`): the topic `match` would name (silent or partly covered), and,
    over every open topic, whether one of its cues occurs at all, whether a required word of a
    topic so cued occurs, and whether an `unless` word of one does."""

    silent: bool = False
    partly: bool = False
    cued: bool = False
    required: bool = False
    excluded: bool = False

    def as_tuple(self) -> Tuple[bool, ...]:
        """The findings in `CUE_SIGNALS` order (the silence classifier's cue features)."""
        return tuple(getattr(self, name) for name in CUE_SIGNALS)


CUE_SIGNALS = tuple(f.name for f in fields(CueSignals))


@dataclass(frozen=True)
class Coverage:
    topics: Tuple[Topic, ...]
    languages: Registry = field(default_factory=registry, compare=False)

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(f"no coverage topic {topic_id!r}")

    def read(self, question: str) -> Question:
        """The question as the cues read it: every language matched by words is tried on its
        Latin words; a language matched by characters only when the question has characters of
        its script, on the question normalised (half-width, Simplified) and lower-cased."""
        tried = tuple(
            language
            for language in self.languages.languages
            if not language.by_characters or language.written_in(question)
        )
        by_characters = any(language.by_characters for language in tried)
        return Question(
            tuple(_words(question)),
            normalise(question).lower() if by_characters else "",
            tuple(language.code for language in tried),
        )

    def match(self, question: str) -> Optional[TopicMatch]:
        """The first topic (in the map's order: narrow ones first) that the question cues."""
        read = self.read(question)
        for topic in self.topics:
            if topic.excluded_in(read):
                continue
            cue = topic.cue_in(read)
            if cue is not None:
                return TopicMatch(topic, cue)
        return None

    def signals(self, question: str) -> CueSignals:
        """The question's `CueSignals`: the verdict the cues alone would give, and the cue,
        required and `unless` words found on the way."""
        match = self.match(question)
        read = self.read(question)
        cued = [
            topic
            for topic in self.topics
            if topic.open
            and any(topic.cues[code].any_in(read) for code in read.languages if code in topic.cues)
        ]
        return CueSignals(
            silent=bool(match and match.topic.status == SILENT),
            partly=bool(match and match.topic.status == PARTLY),
            cued=bool(cued),
            required=any(t.required_in(read) for t in cued if t.needs_required_word),
            excluded=any(t.excluded_in(read) for t in cued),
        )

    def names_in(self, language: str) -> Dict[str, str]:
        """Topic id -> its name in `language`, for the topics the map names in it."""
        return {topic.id: topic.name[language] for topic in self.topics if topic.name.get(language)}

    def by_status(self) -> Dict[str, List[Topic]]:
        out: Dict[str, List[Topic]] = {status: [] for status in STATUSES}
        for topic in self.topics:
            out[topic.status].append(topic)
        return out


def _per_language(entry: Mapping[str, Any], key: str, languages: Registry) -> Dict[str, Any]:
    """A topic's map of `key` (language -> value) in the registry's order; a language the
    registry does not list is an error, never ignored."""
    value = entry.get(key)
    if value is None:
        return {}
    where = f"coverage topic {entry.get('id')!r}"
    if not isinstance(value, Mapping):
        raise ValueError(
            f"{where}: `{key}` maps each language ({', '.join(languages.codes)}) to it"
        )
    unknown = [str(code) for code in value if code not in languages.codes]
    if unknown:
        raise ValueError(f"{where}: `{key}` for {', '.join(unknown)}, not a registered language")
    return {code: value[code] for code in languages.codes if code in value}


def _topic(entry: Mapping[str, Any], languages: Registry) -> Topic:
    status = entry["status"]
    if status not in STATUSES:
        raise ValueError(f"coverage topic {entry.get('id')!r}: unknown status {status!r}")
    if "name" not in entry:
        raise ValueError(f"coverage topic {entry.get('id')!r}: no `name`")
    texts = {
        key: {code: str(v or "") for code, v in _per_language(entry, key, languages).items()}
        for key in TEXTS
    }
    cues = {
        key: {
            code: Cues.parse(v or (), languages.get(code).by_characters)
            for code, v in _per_language(entry, key, languages).items()
        }
        for key in CUE_LISTS
    }
    return Topic(
        id=entry["id"],
        category=entry.get("category", ""),
        status=status,
        sections=tuple(entry.get("sections") or ()),
        evidence=tuple(entry.get("evidence") or ()),
        absent=tuple(entry.get("absent") or ()),
        name=texts["name"],
        says=texts["says"],
        leaves_out=texts["leaves_out"],
        cues=cues["cues"],
        requires=cues["requires"],
        unless=cues["unless"],
        default=languages.default,
    )


def parse_coverage(data: Mapping[str, Any], languages: Optional[Registry] = None) -> Coverage:
    """The map from its file's mapping, its per-language maps read for `languages` (the
    registered ones unless given)."""
    chosen = languages or registry()
    return Coverage(tuple(_topic(entry, chosen) for entry in data["topics"]), chosen)


def load_coverage_from(path: Path, languages: Optional[Registry] = None) -> Coverage:
    with open(path, encoding="utf-8") as handle:
        return parse_coverage(yaml.safe_load(handle), languages)


@functools.lru_cache(maxsize=1)
def load_coverage() -> Coverage:
    return load_coverage_from(COVERAGE_FILE)


def check_against(coverage: Coverage, policy: Policy) -> List[str]:
    """Every way the map and the parsed text disagree; empty when the map is true."""
    problems: List[str] = []
    whole = " ".join(s.body for s in policy.sections).lower()
    seen = set()
    for topic in coverage.topics:
        if topic.id in seen:
            problems.append(f"{topic.id}: listed twice")
        seen.add(topic.id)
        for section_id in topic.sections:
            if not policy.has_section(section_id):
                problems.append(f"{topic.id}: no section {section_id!r}")
        if topic.status == SILENT:
            if topic.sections or topic.evidence:
                problems.append(f"{topic.id}: silent, yet it names sections or evidence")
            if not topic.absent:
                problems.append(f"{topic.id}: silent needs `absent` words to check")
            for word in topic.absent:
                if re.search(rf"\b{re.escape(word.lower())}", whole):
                    problems.append(f"{topic.id}: silent, but the text has {word!r}")
            continue
        if not topic.sections or not topic.evidence:
            problems.append(f"{topic.id}: {topic.status} needs sections and evidence")
        bodies = [policy.section(s).body for s in topic.sections if policy.has_section(s)]
        for quote in topic.evidence:
            if not any(quote in body for body in bodies):
                problems.append(f"{topic.id}: {quote!r} is not in {', '.join(topic.sections)}")
        if topic.status == PARTLY:
            for code in coverage.languages.codes:
                if not (topic.says_in(code) and topic.leaves_out_in(code)):
                    problems.append(f"{topic.id}: partly needs `says` and `leaves_out` in {code}")
    return problems


def _missing(topic: Topic, key: str, lists: Mapping[str, Cues], codes: Sequence[str]) -> List[str]:
    """A language without `key` where another language of the topic has it."""
    having = [code for code in codes if lists.get(code)]
    if not having:
        return []
    return [
        f"{topic.id}: no `{key}` in {code} (the topic has them in {having[0]})"
        for code in codes
        if not lists.get(code)
    ]


def check_languages(coverage: Coverage) -> List[str]:
    """Every way one language's maps fall short of another's: a topic without a name in a
    registered language, an open topic cued in one language and not in another, `requires` or
    `unless` words in one language and not in another; and a cue that could never match: for a
    language matched by characters, one without a character of its script or not normalised
    (half-width, Simplified) and lower case (Latin words are matched as words); for one matched
    by words, one with no word in it."""
    problems: List[str] = []
    codes = coverage.languages.codes
    for topic in coverage.topics:
        problems += [f"{topic.id}: no name in {code}" for code in codes if not topic.name.get(code)]
        if topic.open:
            problems += _missing(topic, "cues", topic.cues, codes)
        problems += _missing(topic, "requires", topic.requires, codes)
        problems += _missing(topic, "unless", topic.unless, codes)
        for code in codes:
            language = coverage.languages.get(code)
            for lists in (topic.cues, topic.requires, topic.unless):
                cues = lists.get(code)
                for phrase in cues.phrases if cues else ():
                    where = f"{topic.id}: {code} cue {phrase!r}"
                    if not language.by_characters:
                        if not Cue.parse(phrase).words:
                            problems.append(f"{where} has no word")
                    elif not language.written_in(phrase):
                        problems.append(f"{where} has no character of its script")
                    elif normalise(phrase).lower() != phrase:
                        problems.append(f"{where} is not normalised and lower case")
    return problems
