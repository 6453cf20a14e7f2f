"""The coverage map: which privacy topics the published policy addresses, partly, or not at all.

`data/policy/coverage.yml` is written for the legal department as much as for the assistant: it
names the topics privacy policies usually cover (OPP-115) and those a video-meeting service's users
ask about, and says for each where the text addresses it. The assistant reads it to recognise a
question about a topic the policy leaves open, so that it can name that topic and say plainly that
the policy does not address it, instead of quoting the nearest section as if it answered.
`check_against` is the test's view: every claim in the map must hold against the parsed text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from bot.core.language import has_han, normalise
from bot.core.paths import POLICY_DIR
from bot.policy.document import Policy

COVERAGE_FILE = POLICY_DIR / "coverage.yml"
ADDRESSED, PARTLY, SILENT = "addressed", "partly", "silent"
STATUSES = (ADDRESSED, PARTLY, SILENT)
_WORD = re.compile(r"[a-z0-9]+(?:['\u2019.-][a-z0-9]+)*")


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
class Topic:
    id: str
    name: str
    name_zh: str
    category: str
    status: str
    sections: Tuple[str, ...] = ()
    says: str = ""
    says_zh: str = ""
    leaves_out: str = ""
    leaves_out_zh: str = ""
    evidence: Tuple[str, ...] = ()
    absent: Tuple[str, ...] = ()
    cues: Tuple[Cue, ...] = ()
    requires: Tuple[Cue, ...] = ()
    # Chinese: substrings of the question (simplified, half-width), since Chinese is written
    # without spaces; `requires_zh` is to `cues_zh` what `requires` is to `cues`.
    cues_zh: Tuple[str, ...] = ()
    requires_zh: Tuple[str, ...] = ()
    # Words that make a cue mean something else, which the policy addresses: "their parents'
    # permission" is a minor's consent, not the app's device permissions.
    unless: Tuple[Cue, ...] = ()
    unless_zh: Tuple[str, ...] = ()

    @property
    def open(self) -> bool:
        """The visitor asked something the policy does not (fully) answer."""
        return self.status != ADDRESSED

    def strongest_cue(self, words: Sequence[str]) -> Optional[Cue]:
        found = [cue for cue in self.cues if cue.found_in(words)]
        if not found:
            return None
        if self.requires and not any(cue.found_in(words) for cue in self.requires):
            return None
        return max(found, key=lambda cue: cue.weight)

    def _required_in(self, words: Sequence[str], chinese: str) -> bool:
        return any(cue.found_in(words) for cue in self.requires) or any(
            word in chinese for word in self.requires_zh
        )

    def cue_in(self, words: Sequence[str], chinese: str) -> Optional[str]:
        """The strongest cue of this topic in a question: its English words (Latin words of a
        mixed question count too) or, in ``chinese`` (the question normalised, "" for one without
        Chinese characters), its longest Chinese cue. A required word may come in either
        language ("你们会访问我的camera吗")."""
        if not chinese:
            cue = self.strongest_cue(words)
            return " ".join(cue.words) if cue else None
        english = [cue for cue in self.cues if cue.found_in(words)]
        found = [" ".join(cue.words) for cue in sorted(english, key=lambda c: -c.weight)]
        if english and self.requires and not self._required_in(words, chinese):
            found = []
        needs = self.requires or self.requires_zh
        if not (needs and not self._required_in(words, chinese)):
            found += sorted((cue for cue in self.cues_zh if cue in chinese), key=len, reverse=True)
        return found[0] if found else None


@dataclass(frozen=True)
class TopicMatch:
    topic: Topic
    cue: str


@dataclass(frozen=True)
class Coverage:
    topics: Tuple[Topic, ...]

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(f"no coverage topic {topic_id!r}")

    def match(self, question: str) -> Optional[TopicMatch]:
        """The first topic (in the map's order: narrow ones first) that the question cues."""
        words = _words(question)
        chinese = normalise(question).lower() if has_han(question) else ""
        for topic in self.topics:
            if any(cue.found_in(words) for cue in topic.unless) or any(
                word in chinese for word in topic.unless_zh
            ):
                continue
            cue = topic.cue_in(words, chinese)
            if cue is not None:
                return TopicMatch(topic, cue)
        return None

    def by_status(self) -> Dict[str, List[Topic]]:
        out: Dict[str, List[Topic]] = {status: [] for status in STATUSES}
        for topic in self.topics:
            out[topic.status].append(topic)
        return out


def _topic(entry: dict) -> Topic:
    status = entry["status"]
    if status not in STATUSES:
        raise ValueError(f"coverage topic {entry.get('id')!r}: unknown status {status!r}")
    return Topic(
        id=entry["id"],
        name=entry["name"],
        name_zh=entry.get("name_zh", ""),
        category=entry.get("category", ""),
        status=status,
        sections=tuple(entry.get("sections") or ()),
        says=entry.get("says", ""),
        says_zh=entry.get("says_zh", ""),
        leaves_out=entry.get("leaves_out", ""),
        leaves_out_zh=entry.get("leaves_out_zh", ""),
        evidence=tuple(entry.get("evidence") or ()),
        absent=tuple(entry.get("absent") or ()),
        cues=tuple(Cue.parse(c) for c in entry.get("cues") or ()),
        requires=tuple(Cue.parse(c) for c in entry.get("requires") or ()),
        cues_zh=tuple(str(c) for c in entry.get("cues_zh") or ()),
        requires_zh=tuple(str(c) for c in entry.get("requires_zh") or ()),
        unless=tuple(Cue.parse(c) for c in entry.get("unless") or ()),
        unless_zh=tuple(str(c) for c in entry.get("unless_zh") or ()),
    )


def parse_coverage(data: dict) -> Coverage:
    return Coverage(tuple(_topic(entry) for entry in data["topics"]))


def load_coverage_from(path: Path) -> Coverage:
    with open(path, encoding="utf-8") as handle:
        return parse_coverage(yaml.safe_load(handle))


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
        if topic.status == PARTLY and not (topic.says and topic.leaves_out):
            problems.append(f"{topic.id}: partly needs `says` and `leaves_out`")
        if topic.status == PARTLY and not (topic.says_zh and topic.leaves_out_zh):
            problems.append(f"{topic.id}: partly needs `says_zh` and `leaves_out_zh`")
    return problems


def check_chinese(coverage: Coverage) -> List[str]:
    """Every way the map's Chinese falls short: an open topic with English cues and no Chinese
    ones, a topic whose cues need a privacy word in English and not in Chinese, and a Chinese cue
    that could never match (not simplified and half-width, or without a Chinese character:
    Latin words are matched by the English cues, as whole words)."""
    problems: List[str] = []
    for topic in coverage.topics:
        if topic.open and topic.cues and not topic.cues_zh:
            problems.append(f"{topic.id}: English cues but no `cues_zh`")
        if topic.requires and not topic.requires_zh:
            problems.append(f"{topic.id}: `requires` but no `requires_zh`")
        if topic.unless and not topic.unless_zh:
            problems.append(f"{topic.id}: `unless` but no `unless_zh`")
        for cue in (*topic.cues_zh, *topic.requires_zh, *topic.unless_zh):
            if not has_han(cue):
                problems.append(f"{topic.id}: {cue!r} has no Chinese character")
            elif normalise(cue).lower() != cue:
                problems.append(f"{topic.id}: {cue!r} is not simplified, half-width, lower case")
    return problems
